//! The appeals queue of a site (`/api/mod/v1`) and a decision per appeal: `uphold` (nothing
//! changes) or `overturn` (the comment is approved through the state machine, or the ban is
//! lifted). The decision, the change it makes and its audit rows commit in one transaction, in
//! `moderation::appeal_decision`. Readers file appeals in `api/public/appeals.rs`.

use actix_web::{HttpResponse, web};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::auth::moderators::{Moderator, SiteScope};
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::http::json::ApiJson;
use crate::http::{Paging, private};
use crate::moderation::appeal_decision;
use crate::moderation::appeals::{self, AppealView, Decision, Status};
use crate::state::AppState;

use appeals::not_found as appeal_not_found;

#[derive(Deserialize)]
pub struct QueueParams {
    status: Option<String>,
}

/// A page of a site's appeals.
#[derive(Serialize, ToSchema)]
pub struct AppealsPage {
    items: Vec<AppealView>,
    /// Pass as `cursor` for the next page; null on the last page.
    next_cursor: Option<String>,
}

/// A site's appeals queue.
///
/// The appeals of one status, with what is needed to judge them (the comment and its current
/// status, or the ban): open ones oldest first (a queue: the longest waiting comes first),
/// decided ones newest first.
#[utoipa::path(
    get,
    path = "/api/mod/v1/sites/{site}/appeals",
    tag = "appeals",
    params(
        ("site" = String, Path, description = "The site's slug."),
        ("status" = Option<Status>, Query, description = "`open` (default), `upheld` or `overturned`."),
        ("limit" = Option<u32>, Query, description = "Appeals per page, 1 to 200 (default 50; both configurable)."),
        ("cursor" = Option<String>, Query, description = "The previous page's `next_cursor` (with the same `status`).")
    ),
    security(("moderator" = [])),
    responses(
        (status = 200, description = "A page of the site's appeals.", body = AppealsPage),
        (status = 400, description = "`validation_failed` on `status`, `limit` or `cursor`.", body = ErrorBody),
        (status = 404, description = "Unknown site, or one the caller holds no role on (`not_found`).", body = ErrorBody)
    )
)]
pub async fn list_appeals(
    state: web::Data<AppState>,
    moderator: Moderator,
    path: web::Path<String>,
    params: web::Query<QueueParams>,
    paging: Paging,
) -> ApiResult<HttpResponse> {
    let scope = moderator.scope(&path)?;
    let status = match params.status.as_deref() {
        None => Status::Open,
        Some(s) => Status::parse(s)
            .ok_or_else(|| ApiError::validation("status", "must be open, upheld or overturned"))?,
    };
    let read = |after, n| appeals::list_for_site(&state.db.pool, &scope, status, after, n);
    let (rows, next) = paging.by_time(read, |a| (a.created_at, a.id)).await?;
    Ok(private(HttpResponse::Ok()).json(AppealsPage {
        items: rows,
        next_cursor: next,
    }))
}

/// A moderator's decision on an appeal. Unknown fields are refused.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DecisionBody {
    action: Decision,
    /// A note for the record, also shown to the appeal's author (trimmed, at most 1000
    /// characters).
    #[serde(default)]
    #[schema(max_length = 1000)]
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

/// Decides an appeal.
///
/// `uphold` changes nothing; `overturn` publishes the comment (through the moderation state
/// machine) or lifts the ban. The decision, the change and its audit entry commit together;
/// the author sees the outcome and the note.
#[utoipa::path(
    post,
    path = "/api/mod/v1/appeals/{id}/actions",
    tag = "appeals",
    params(("id" = Uuid, Path, description = "The appeal's id.")),
    request_body = DecisionBody,
    security(("moderator" = [])),
    responses(
        (status = 200, description = "The decided appeal.", body = AppealView),
        (status = 400, description = "`invalid_json`, or `validation_failed` on `action` or `note`.", body = ErrorBody),
        (status = 404, description = "No such appeal on the caller's sites, or its comment is gone (`not_found`).", body = ErrorBody),
        (status = 409, description = "`appeal_decided` (already decided; details: `status`), or `conflict` (the comment can't be approved from its current status).", body = ErrorBody)
    )
)]
pub async fn decide_appeal(
    state: web::Data<AppState>,
    moderator: Moderator,
    path: web::Path<Uuid>,
    ApiJson(body): ApiJson<DecisionBody>,
) -> ApiResult<HttpResponse> {
    let id = path.into_inner();
    let note = appeals::note(body.note.as_deref()).map_err(|e| ApiError::validation("note", e))?;
    let scope = appeal_scope(&state, &moderator, id).await?;
    let pool = &state.db.pool;
    let decided = (body.action, note.as_deref());
    let view =
        appeal_decision::decide(pool, &state.threads, &scope, moderator.id, id, decided).await?;
    Ok(private(HttpResponse::Ok()).json(view))
}
