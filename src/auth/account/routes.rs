//! `POST /api/v1/me/identities/{provider}` and `.../confirm`, `GET /api/v1/me/export`,
//! `DELETE /api/v1/me`, and the end of a linking popup.

use actix_web::http::header;
use actix_web::{HttpResponse, web};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;

use super::store::{
    self, CommentRow, FlagRow, IdentityRow, Link, PublicUser, SessionRow, UserRow, VoteRow,
};
use crate::app::AppState;
use crate::auth::routes::{begin, offers};
use crate::auth::users::Profile;
use crate::auth::{Commenter, popup};
use crate::domain::Origin;
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::http::json::ApiJson;
use crate::moderation::audit::Actor;
use crate::moderation::state::{self, Move, Request};

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LinkBody {
    /// The site whose widget asks (its enabled providers apply).
    #[schema(example = "my-blog")]
    site: String,
    /// The blog page's origin: the popup posts its result there, as a login popup does.
    #[schema(example = "https://blog.example")]
    origin: String,
}

#[derive(Serialize, ToSchema)]
pub struct LinkStart {
    /// Where the widget opens its popup: the provider's consent page (or our dev form).
    url: String,
}

/// Start linking another login to the signed-in reader.
///
/// Answers `{url}`, where the widget sends a login popup. The attempt behind that URL is bound,
/// on the server, to this user. The popup ends by posting
/// `{type: "colloquy:link-code", provider, code}` to `origin`; nothing is linked until the widget
/// confirms that code with this same session (`POST .../{provider}/confirm`), so a link URL sent
/// to someone else can never attach their account to the sender's.
#[utoipa::path(
    post,
    path = "/api/v1/me/identities/{provider}",
    tag = "account",
    params(("provider" = String, Path, description = "A provider this site offers: `google`, `twitter`, `facebook`, `wordpress`, an `[auth.oidc.NAME]`, or `dev` in development.")),
    request_body = LinkBody,
    security(("commenter" = [])),
    responses(
        (status = 200, description = "Open the popup at `url`.", body = LinkStart),
        (status = 400, description = "`validation_failed` or `invalid_json`.", body = ErrorBody),
        (status = 401, description = "No valid session.", body = ErrorBody),
        (status = 403, description = "`origin_not_allowed`: the origin isn't registered for the site.", body = ErrorBody),
        (status = 404, description = "Unknown site, or a provider this site doesn't offer.", body = ErrorBody),
        (status = 503, description = "The provider can't be reached, or the database is down.", body = ErrorBody)
    )
)]
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
        .json(LinkStart { url }))
}

/// The callback of a linking attempt: parks the profile under a one-time code and posts the
/// code to the widget that opened the popup (`colloquy:link-code`). Linking happens when that
/// widget confirms with the linking user's session ([`confirm_link`]).
pub async fn complete_link(
    state: &AppState,
    origin: &str,
    profile: &Profile,
    user_id: uuid::Uuid,
) -> ApiResult<HttpResponse> {
    let code = store::park(&state.db.pool, user_id, profile).await?;
    Ok(popup::link_code(origin, &profile.provider, &code))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ConfirmBody {
    /// The code the linking popup posted (`colloquy:link-code`).
    code: String,
}

#[derive(Serialize, ToSchema)]
pub struct Linked {
    #[schema(example = "google")]
    provider: String,
    /// The signed-in user, who now also logs in with `provider`.
    user: PublicUser,
}

/// Confirm a finished linking popup with the code it posted.
///
/// The code is spent by the first attempt, accepted or not, and lives 5 minutes. It must come
/// with the session of the user who started the link: any other session, an unknown code, or
/// one for another provider answers 404 and links nothing. An identity that already belongs
/// to another commenter with comments or a ban is never merged (409 `identity_in_use`); one
/// without history moves here, and its old sessions end.
#[utoipa::path(
    post,
    path = "/api/v1/me/identities/{provider}/confirm",
    tag = "account",
    params(("provider" = String, Path, description = "The provider the popup signed in with.")),
    request_body = ConfirmBody,
    security(("commenter" = [])),
    responses(
        (status = 200, description = "Linked (or already linked).", body = Linked),
        (status = 400, description = "`validation_failed` or `invalid_json`.", body = ErrorBody),
        (status = 401, description = "No valid session, or the account was erased meanwhile.", body = ErrorBody),
        (status = 404, description = "Unknown, spent or expired code, or not this user's.", body = ErrorBody),
        (status = 409, description = "`identity_in_use`: that login belongs to another commenter with history.", body = ErrorBody),
        (status = 503, description = "The database is down.", body = ErrorBody)
    )
)]
pub async fn confirm_link(
    state: web::Data<AppState>,
    Commenter(session): Commenter,
    path: web::Path<String>,
    body: ApiJson<ConfirmBody>,
) -> ApiResult<HttpResponse> {
    let code = body.0.code;
    if code.is_empty() || code.len() > 128 {
        return Err(ApiError::validation(
            "code",
            "must be the code the popup posted",
        ));
    }
    let parked = store::take_parked(&state.db.pool, &code).await?;
    let Some((user_id, profile)) =
        parked.filter(|(user_id, p)| *user_id == session.user_id && p.provider == path.as_str())
    else {
        return Err(ApiError::not_found("Link code"));
    };
    let provider = profile.provider.as_str();
    let mut tx = state.db.pool.begin().await?;
    match store::link(&mut tx, user_id, &profile).await? {
        Link::Linked(user) => {
            tx.commit().await?;
            tracing::info!(user.id = %user_id, provider = %provider, "identity linked");
            crate::metrics::login_outcome(provider, "linked");
            Ok(HttpResponse::Ok()
                .insert_header((header::CACHE_CONTROL, "no-store"))
                .json(Linked {
                    provider: provider.to_owned(),
                    user,
                }))
        }
        Link::InUse => {
            tx.rollback().await?;
            crate::metrics::login_outcome(provider, "identity_in_use");
            Err(ApiError::conflict(
                "identity_in_use",
                "That account already belongs to another commenter with comments here; it was not linked.",
            ))
        }
        Link::UserGone => {
            tx.rollback().await?;
            Err(ApiError::unauthenticated("This account no longer exists."))
        }
    }
}

/// Everything stored about a reader (`GET /api/v1/me/export`).
#[derive(Serialize, ToSchema)]
pub struct ExportBody {
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    exported_at: time::OffsetDateTime,
    user: UserRow,
    identities: Vec<IdentityRow>,
    sessions: Vec<SessionRow>,
    comments: Vec<CommentRow>,
    flags: Vec<FlagRow>,
    votes: Vec<VoteRow>,
    /// The reader's appeals and their outcomes.
    #[schema(value_type = Vec<Object>)]
    appeals: Vec<Value>,
}

/// Download everything stored about the signed-in reader, as JSON.
///
/// The account, every linked identity with the profile the provider sent, sessions (never
/// their tokens), comments with the email/IP/user agent recorded with them, flags, votes and
/// appeals. Served as an attachment, never cached.
#[utoipa::path(
    get,
    path = "/api/v1/me/export",
    tag = "account",
    security(("commenter" = [])),
    responses(
        (status = 200, description = "The export.", body = ExportBody,
         headers(("Content-Disposition" = String, description = "`attachment; filename=\"colloquy-export.json\"`"))),
        (status = 401, description = "No valid session.", body = ErrorBody),
        (status = 503, description = "The database is down.", body = ErrorBody)
    )
)]
pub async fn export(
    state: web::Data<AppState>,
    Commenter(session): Commenter,
) -> ApiResult<HttpResponse> {
    let Some(x) = store::export(&state.db.pool, session.user_id).await? else {
        return Err(ApiError::unauthenticated("Log in first."));
    };
    let body = ExportBody {
        exported_at: time::OffsetDateTime::now_utc(),
        user: x.user,
        identities: x.identities,
        sessions: x.sessions,
        comments: x.comments,
        flags: x.flags,
        votes: x.votes,
        appeals: x.appeals.unwrap_or_default(),
    };
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

/// Erase the signed-in reader's account.
///
/// One transaction: identities, sessions, flags, pending links and the profile go. With
/// `comments=keep` (default) the comments stay up as "deleted user" without email, IP or user
/// agent; with `comments=remove` each is deleted through the moderation state machine (audited
/// as the author's) and its text blanked. Erasing doesn't lift a ban: while one stands, a
/// SHA-256 of each `provider:subject` is kept with it, and a new account with (or linking) that
/// login inherits the ban.
#[utoipa::path(
    delete,
    path = "/api/v1/me",
    tag = "account",
    params(("comments" = Option<String>, Query, description = "`keep` (default) or `remove`.")),
    security(("commenter" = [])),
    responses(
        (status = 204, description = "Erased; the session has ended."),
        (status = 400, description = "`comments` is neither keep nor remove.", body = ErrorBody),
        (status = 401, description = "No valid session.", body = ErrorBody),
        (status = 503, description = "The database is down.", body = ErrorBody)
    )
)]
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
