//! Appeals over HTTP. Commenters (`/api/v1`): contest a rejected comment or a ban, and list their
//! own appeals with the outcome. Moderators (`/api/mod/v1`): the appeals queue of a site, and a
//! decision per appeal: `uphold` (nothing changes) or `overturn` (the comment is approved through
//! the state machine, or the ban is lifted). A decision, the change it makes and its audit row
//! (`moderation_events` for a comment, `ban_events` for a ban) commit in one transaction.

use actix_web::{HttpResponse, web};
use serde::Deserialize;
use serde_json::{Value, json};
use uuid::Uuid;

use super::Reason;
use super::appeals::{self, AppealRow, AppealView, Created, Decision, Kind, NewAppeal, Status};
use super::audit::{self, Actor, BanChange, Change};
use super::bans;
use super::state::{self, ModAction, Move};
use crate::app::AppState;
use crate::auth::Commenter;
use crate::auth::moderators::routes::{
    decode_time_cursor, encode_time_cursor, page_parts, private, split_page,
};
use crate::auth::moderators::{Moderator, SiteScope};
use crate::comments::target::{self, Target};
use crate::domain::CommentStatus;
use crate::error::{ApiError, ApiResult};
use crate::http::json::ApiJson;

fn appeal_not_found() -> ApiError {
    ApiError::not_found("Appeal")
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AppealBody {
    message: String,
}

/// What the author is told about their appeal.
fn author_json(a: &AppealRow) -> Value {
    json!({
        "id": a.id,
        "kind": a.kind,
        "status": a.status,
        "message": a.message,
        "comment_id": a.comment_id,
        "ban_id": a.ban_id,
        "created_at": rfc3339(a.created_at),
    })
}

fn created(outcome: Created) -> ApiResult<HttpResponse> {
    match outcome {
        Created::Created(row) => Ok(private(HttpResponse::Created()).json(author_json(&row))),
        Created::AlreadyOpen => Err(ApiError::conflict(
            "appeal_exists",
            "You already have an open appeal about this; a moderator will look at it.",
        )),
    }
}

/// `POST /api/v1/comments/{id}/appeal`: the author contests the rejection of their comment
/// (rejected, or filed as spam). Someone else's comment is 404 (403 if it is published, as for
/// edits), a comment that isn't rejected is 409.
pub async fn appeal_comment(
    state: web::Data<AppState>,
    path: web::Path<String>,
    Commenter(user): Commenter,
    ApiJson(body): ApiJson<AppealBody>,
) -> ApiResult<HttpResponse> {
    let id = target::parse_id(&path)?;
    let message =
        appeals::message(&body.message).map_err(|e| ApiError::validation("message", e))?;
    let t = Target::load(&state, id).await?;
    if t.row.user_id != user.user_id {
        return Err(if t.status == CommentStatus::Approved {
            ApiError::forbidden("forbidden", "Only its author can appeal this comment.")
        } else {
            target::unknown_comment()
        });
    }
    // A shadow-banned author sees their comment as published: nothing to appeal, and the
    // answer must not give the shadow ban away.
    let shown = if t.shadowed() {
        CommentStatus::Approved
    } else {
        t.status
    };
    if !matches!(shown, CommentStatus::Rejected | CommentStatus::Spam) {
        return Err(ApiError::conflict(
            "not_appealable",
            format!(
                "This comment is {}; only a rejected comment can be appealed.",
                shown.as_str()
            ),
        )
        .with_details(json!({ "status": shown.as_str() })));
    }
    let outcome = appeals::create(
        &state.db.pool,
        &NewAppeal {
            site_id: t.site.id,
            kind: Kind::Comment,
            comment_id: Some(id),
            ban_id: None,
            user_id: user.user_id,
            message: &message,
        },
    )
    .await?;
    if let Created::Created(a) = &outcome {
        tracing::info!(appeal.id = %a.id, comment.id = %id, "comment appealed");
    }
    created(outcome)
}

/// `POST /api/v1/sites/{site}/appeal`: a banned commenter contests their ban on the site.
pub async fn appeal_ban(
    state: web::Data<AppState>,
    path: web::Path<String>,
    Commenter(user): Commenter,
    ApiJson(body): ApiJson<AppealBody>,
) -> ApiResult<HttpResponse> {
    let site = state.site(&path).await?;
    let message =
        appeals::message(&body.message).map_err(|e| ApiError::validation("message", e))?;
    let pool = &state.db.pool;
    let Some(ban_id) = appeals::current_user_ban(pool, site.id, user.user_id).await? else {
        return Err(ApiError::conflict(
            "not_banned",
            "You aren't banned on this site; there is nothing to appeal.",
        ));
    };
    let outcome = appeals::create(
        pool,
        &NewAppeal {
            site_id: site.id,
            kind: Kind::Ban,
            comment_id: None,
            ban_id: Some(ban_id),
            user_id: user.user_id,
            message: &message,
        },
    )
    .await?;
    if let Created::Created(a) = &outcome {
        tracing::info!(appeal.id = %a.id, ban.id = %ban_id, site.slug = %site.slug, "ban appealed");
    }
    created(outcome)
}

#[derive(Deserialize)]
pub struct PageParams {
    limit: Option<String>,
    cursor: Option<String>,
}

/// `GET /api/v1/me/appeals`: the caller's appeals on every site, newest first, with outcomes.
pub async fn my_appeals(
    state: web::Data<AppState>,
    Commenter(user): Commenter,
    params: web::Query<PageParams>,
) -> ApiResult<HttpResponse> {
    let (limit, cursor) = page_parts(&state, params.limit.as_deref(), params.cursor.as_deref())?;
    let before = decode_time_cursor(cursor)?;
    let rows =
        appeals::list_for_user(&state.db.pool, user.user_id, before, i64::from(limit) + 1).await?;
    let (rows, next) = split_page(rows, limit, |a| encode_time_cursor(a.created_at, a.id));
    // The author's view: the outcome and the note meant for them, not who decided.
    let items: Vec<Value> = rows
        .iter()
        .map(|a| {
            json!({
                "id": a.id,
                "site": a.site,
                "kind": a.kind,
                "status": a.status,
                "message": a.message,
                "note": a.note,
                "comment_id": a.comment_id,
                "ban_id": a.ban_id,
                "created_at": rfc3339(a.created_at),
                "decided_at": a.decided_at.map(rfc3339),
            })
        })
        .collect();
    Ok(private(HttpResponse::Ok()).json(json!({ "items": items, "next_cursor": next })))
}

fn rfc3339(t: time::OffsetDateTime) -> Option<String> {
    t.format(&time::format_description::well_known::Rfc3339)
        .ok()
}

// ---------------------------------------------------------------------------------------------
// Moderators

#[derive(Deserialize)]
pub struct QueueParams {
    status: Option<String>,
    limit: Option<String>,
    cursor: Option<String>,
}

/// `GET /api/mod/v1/sites/{site}/appeals?status=open|upheld|overturned`: open ones oldest first,
/// decided ones newest first.
pub async fn list_appeals(
    state: web::Data<AppState>,
    moderator: Moderator,
    path: web::Path<String>,
    params: web::Query<QueueParams>,
) -> ApiResult<HttpResponse> {
    let scope = moderator.scope(&path)?;
    let status = match params.status.as_deref() {
        None => Status::Open,
        Some(s) => Status::parse(s)
            .ok_or_else(|| ApiError::validation("status", "must be open, upheld or overturned"))?,
    };
    let (limit, cursor) = page_parts(&state, params.limit.as_deref(), params.cursor.as_deref())?;
    let key = decode_time_cursor(cursor)?;
    let rows =
        appeals::list_for_site(&state.db.pool, &scope, status, key, i64::from(limit) + 1).await?;
    let (rows, next) = split_page(rows, limit, |a| encode_time_cursor(a.created_at, a.id));
    Ok(private(HttpResponse::Ok()).json(json!({ "items": rows, "next_cursor": next })))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DecisionBody {
    action: Decision,
    #[serde(default)]
    note: Option<String>,
}

/// The scope of the site an appeal belongs to, if the caller holds a role there; else 404.
async fn appeal_scope(state: &AppState, moderator: &Moderator, id: Uuid) -> ApiResult<SiteScope> {
    let site_id = appeals::appeal_site(&state.db.pool, id, &moderator.site_ids())
        .await?
        .ok_or_else(appeal_not_found)?;
    moderator
        .scope_by_id(site_id)
        .map_err(|_| appeal_not_found())
}

/// `POST /api/mod/v1/appeals/{id}/actions {action: uphold|overturn, note?}`.
pub async fn decide_appeal(
    state: web::Data<AppState>,
    moderator: Moderator,
    path: web::Path<Uuid>,
    ApiJson(body): ApiJson<DecisionBody>,
) -> ApiResult<HttpResponse> {
    let id = path.into_inner();
    let note = appeals::note(body.note.as_deref()).map_err(|e| ApiError::validation("note", e))?;
    let scope = appeal_scope(&state, &moderator, id).await?;
    let decision = body.action;
    let status = decision.status();
    let actor = Actor::Moderator(moderator.id);

    let mut tx = state.db.pool.begin().await?;
    let appeal = appeals::lock(&mut tx, &scope, id)
        .await?
        .ok_or_else(appeal_not_found)?;
    if appeal.status != Status::Open.as_str() {
        return Err(ApiError::conflict(
            "appeal_decided",
            format!("This appeal was already {}.", appeal.status),
        )
        .with_details(json!({ "status": appeal.status })));
    }
    let mut changed_thread = None;
    match (appeal.comment_id, appeal.ban_id) {
        (Some(comment_id), _) => {
            let reasons = [Reason {
                rule: "appeal".to_owned(),
                kind: format!("appeal_{}", status.as_str()),
                matched: Some(appeal.id.to_string()),
                message: match decision {
                    Decision::Uphold => "Appeal upheld: the decision stands.".to_owned(),
                    Decision::Overturn => "Appeal accepted: the comment is published.".to_owned(),
                },
            }];
            match decision {
                Decision::Overturn => {
                    let changed = state::transition(
                        &mut tx,
                        &state::Request {
                            site_id: scope.site_id(),
                            comment_id,
                            m: Move::Moderator(ModAction::Approve),
                            actor,
                            reasons: &reasons,
                            note: note.as_deref(),
                            if_match: None,
                        },
                    )
                    .await?;
                    changed_thread = Some(changed.thread_id);
                }
                Decision::Uphold => {
                    // No status change, but the decision is on the comment's record all the same.
                    let current = appeals::lock_comment_status(&mut tx, &scope, comment_id)
                        .await?
                        .ok_or_else(target::unknown_comment)?;
                    let current = CommentStatus::parse(&current)
                        .map_err(|e| ApiError::internal(anyhow::anyhow!("stored status: {e}")))?;
                    audit::record(
                        &mut tx,
                        &Change {
                            site_id: scope.site_id(),
                            comment_id,
                            actor,
                            from: Some(current),
                            to: current,
                            reasons: &reasons,
                            note: note.as_deref(),
                        },
                    )
                    .await?;
                }
            }
        }
        (None, ban_id) => {
            // A ban deleted meanwhile (ban_id null) has nothing left to lift or to audit.
            if let Some(ban_id) = ban_id {
                if decision == Decision::Overturn {
                    bans::expire(&mut tx, &scope, ban_id).await?;
                }
                audit::record_ban(
                    &mut tx,
                    &BanChange {
                        site_id: scope.site_id(),
                        ban_id,
                        appeal_id: Some(appeal.id),
                        action: match decision {
                            Decision::Uphold => "appeal_upheld",
                            Decision::Overturn => "appeal_overturned",
                        },
                        actor,
                        note: note.as_deref(),
                    },
                )
                .await?;
            }
        }
    }
    appeals::decide(&mut tx, &scope, id, status, moderator.id, note.as_deref()).await?;
    tx.commit().await?;
    if let Some(thread_id) = changed_thread {
        // The trigger tells every node; this one needn't wait for its own notification.
        state.threads.invalidate(thread_id);
    }
    tracing::info!(
        moderator.id = %moderator.id,
        appeal.id = %id,
        appeal.kind = %appeal.kind,
        appeal.status = status.as_str(),
        site.slug = scope.slug(),
        "appeal decided"
    );
    let view: AppealView = appeals::view(&state.db.pool, &scope, id)
        .await?
        .ok_or_else(appeal_not_found)?;
    Ok(private(HttpResponse::Ok()).json(view))
}
