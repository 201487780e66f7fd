//! `POST /api/v1/me/identities/{provider}`, `GET /api/v1/me/export`, `DELETE /api/v1/me`, and
//! the end of a linking popup.

use actix_web::http::header;
use actix_web::{HttpResponse, web};
use serde::Deserialize;
use serde_json::{Value, json};
use time::format_description::well_known::Rfc3339;

use super::store::{self, Link};
use crate::app::AppState;
use crate::auth::routes::{begin, offers};
use crate::auth::users::Profile;
use crate::auth::{Commenter, popup};
use crate::domain::Origin;
use crate::error::{ApiError, ApiResult};
use crate::http::json::ApiJson;
use crate::moderation::audit::Actor;
use crate::moderation::state::{self, Move, Request};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LinkBody {
    /// The site whose widget asks (its enabled providers apply).
    site: String,
    /// The blog page's origin: the popup posts its result there, as a login popup does.
    origin: String,
}

/// Starts linking a provider to the caller's user: answers `{url}`, where the widget sends its
/// login popup. The attempt behind that URL is bound, on the server, to this user.
pub async fn link_identity(
    state: web::Data<AppState>,
    Commenter(user): Commenter,
    path: web::Path<String>,
    body: ApiJson<LinkBody>,
) -> ApiResult<HttpResponse> {
    let provider = path.into_inner();
    let site = state.site(&body.0.site).await?;
    let origin = Origin::parse(&body.0.origin).map_err(|e| ApiError::validation("origin", e))?;
    if !site.allows_origin(origin.as_str()) {
        return Err(ApiError::forbidden(
            "origin_not_allowed",
            "This origin is not registered for this site.",
        ));
    }
    if !offers(&state, &site, &provider) {
        return Err(ApiError::not_found("Provider"));
    }
    let url = match begin(
        &state,
        &provider,
        site.id,
        origin.as_str(),
        Some(user.user_id),
    )
    .await?
    {
        Ok(url) if url.starts_with('/') => {
            format!(
                "{}{url}",
                state.settings.server.public_url.trim_end_matches('/')
            )
        }
        Ok(url) => url,
        Err(code) => {
            return Err(ApiError::unavailable(anyhow::anyhow!(
                "linking could not start: {code}"
            )));
        }
    };
    Ok(HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(json!({ "url": url })))
}

/// The callback of a linking attempt: attaches the identity to the user who started it and
/// answers the popup with `colloquy:linked`, or `colloquy:login-error` with `identity_in_use`.
pub async fn complete_link(
    state: &AppState,
    origin: &str,
    profile: &Profile,
    user_id: uuid::Uuid,
) -> ApiResult<HttpResponse> {
    let mut tx = state.db.pool.begin().await?;
    let outcome = store::link(&mut tx, user_id, profile).await?;
    let provider = profile.provider.as_str();
    match outcome {
        Link::Linked(user) => {
            tx.commit().await?;
            tracing::info!(user.id = %user_id, provider = %provider, "identity linked");
            crate::metrics::login_outcome(provider, "linked");
            Ok(popup::linked(
                origin,
                provider,
                json!({
                    "id": user.id,
                    "name": user.name,
                    "avatar_url": user.avatar_url,
                    "profile_url": user.profile_url,
                    "provider": provider,
                }),
            ))
        }
        Link::InUse => {
            tx.rollback().await?;
            crate::metrics::login_outcome(provider, "identity_in_use");
            Ok(popup::failure(
                Some(origin),
                "identity_in_use",
                "That account already belongs to another commenter with comments here; it was not linked.",
            ))
        }
        Link::UserGone => {
            tx.rollback().await?;
            crate::metrics::login_outcome(provider, "invalid_state");
            Ok(popup::failure(
                Some(origin),
                "invalid_state",
                "The account this login was meant to link no longer exists.",
            ))
        }
    }
}

fn time(t: time::OffsetDateTime) -> Value {
    t.format(&Rfc3339).map(Value::String).unwrap_or(Value::Null)
}

/// `GET /api/v1/me/export`: everything stored about the caller, as JSON.
pub async fn export(
    state: web::Data<AppState>,
    Commenter(session): Commenter,
) -> ApiResult<HttpResponse> {
    let Some(x) = store::export(&state.db.pool, session.user_id).await? else {
        return Err(ApiError::unauthenticated("Log in first."));
    };
    let u = &x.user;
    let body = json!({
        "exported_at": time(time::OffsetDateTime::now_utc()),
        "user": {
            "id": u.id, "name": u.name, "email": u.email, "avatar_url": u.avatar_url,
            "profile_url": u.profile_url, "created_at": time(u.created_at),
        },
        "identities": x.identities.iter().map(|i| json!({
            "provider": i.provider, "subject": i.subject, "email": i.email,
            "email_verified": i.email_verified, "profile": i.profile, "created_at": time(i.created_at),
        })).collect::<Vec<_>>(),
        "sessions": x.sessions.iter().map(|s| json!({
            "id": s.id, "provider": s.provider, "created_at": time(s.created_at),
            "expires_at": time(s.expires_at),
        })).collect::<Vec<_>>(),
        "comments": x.comments.iter().map(|c| json!({
            "id": c.id, "site": c.site, "uri": c.thread_uri, "parent_id": c.parent_id,
            "status": c.status, "author_name": c.author_name, "author_url": c.author_url,
            "author_email": c.author_email, "author_ip": c.author_ip,
            "author_user_agent": c.author_user_agent, "body": c.body_markdown, "html": c.body_html,
            "score": c.score, "created_at": time(c.created_at), "edited_at": c.edited_at.map(time),
        })).collect::<Vec<_>>(),
        "flags": x.flags.iter().map(|f| json!({
            "comment_id": f.comment_id, "site": f.site, "reason": f.reason, "note": f.note,
            "created_at": time(f.created_at),
        })).collect::<Vec<_>>(),
        "votes": x.votes.iter().map(|v| json!({
            "comment_id": v.comment_id, "site": v.site, "value": v.value,
            "created_at": time(v.created_at),
        })).collect::<Vec<_>>(),
        "appeals": x.appeals.unwrap_or_default(),
    });
    Ok(HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .insert_header((
            header::CONTENT_DISPOSITION,
            "attachment; filename=\"colloquy-export.json\"",
        ))
        .json(body))
}

#[derive(Deserialize)]
pub struct EraseParams {
    comments: Option<String>,
}

/// `DELETE /api/v1/me?comments=keep|remove`: erases the caller's account in one transaction.
/// `keep` (default) leaves their comments up as "deleted user"; `remove` deletes them through
/// the state machine (audited as the author's) and blanks their text.
pub async fn erase(
    state: web::Data<AppState>,
    Commenter(session): Commenter,
    params: web::Query<EraseParams>,
) -> ApiResult<HttpResponse> {
    let remove = match params.comments.as_deref() {
        None | Some("keep") => false,
        Some("remove") => true,
        Some(_) => return Err(ApiError::validation("comments", "must be keep or remove")),
    };
    let user_id = session.user_id;
    let mut tx = state.db.pool.begin().await?;
    if !store::lock_user(&mut tx, user_id).await? {
        return Err(ApiError::unauthenticated("Log in first."));
    }
    if remove {
        for c in store::live_comments(&mut tx, user_id).await? {
            state::transition(
                &mut tx,
                &Request {
                    site_id: c.site_id,
                    comment_id: c.id,
                    m: Move::AuthorDelete,
                    actor: Actor::Author(user_id),
                    reasons: &[],
                    note: Some("account erased"),
                    if_match: None,
                },
            )
            .await?;
        }
        store::blank_comments(&mut tx, user_id).await?;
    }
    let threads = store::erase(&mut tx, user_id).await?;
    tx.commit().await?;
    // The trigger tells every node; this one needn't wait for its own notification.
    for t in threads {
        state.threads.invalidate(t);
    }
    tracing::info!(user.id = %user_id, remove, "commenter account erased");
    Ok(HttpResponse::NoContent().finish())
}
