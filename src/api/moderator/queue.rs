//! The moderation queue: listing it, searching all of a site's comments, and claiming items so
//! two moderators don't review the same one.

use actix_web::{HttpResponse, web};
use serde::Deserialize;
use utoipa::ToSchema;
use uuid::Uuid;

use super::comment::{comment_scope, item_json, one_comment};
use super::page::{Page, list};
use crate::auth::moderators::Moderator;
use crate::domain::{CommentStatus, ThreadUri};
use crate::error::{ApiError, ApiResult, ErrorBody, Validation};
use crate::http::Paging;
use crate::http::json::ApiJson;
use crate::http::paging::PageParams;
use crate::moderation::claims;
use crate::moderation::review::{self, ItemView, Queue, Search};
use crate::state::AppState;

#[derive(Deserialize)]
pub struct QueueParams {
    status: Option<String>,
}

/// Lists a moderation queue, oldest first.
///
/// `pending` (held by the pipeline or a moderator), `spam`, or `flagged` (approved or pending
/// comments with at least one reader flag). Each item carries the comment (Markdown and HTML,
/// version), its author with email and IP, the thread, the pipeline's `reasons`, reader
/// `flags`, the author's history on the site and any live claim.
#[utoipa::path(
    get,
    path = "/api/mod/v1/sites/{site}/queue",
    tag = "moderation",
    security(("moderator" = [])),
    params(
        ("site" = String, Path, description = "The site's slug."),
        ("status" = Option<String>, Query, description = "Which queue: `pending` (default), `spam` or `flagged`."),
        PageParams
    ),
    responses(
        (status = 200, description = "One page of the queue.", body = Page<ItemView>),
        (status = 400, description = "`validation_failed`: a bad `status`, `limit` or `cursor`.", body = ErrorBody)
    )
)]
pub async fn list_queue(
    state: web::Data<AppState>,
    moderator: Moderator,
    path: web::Path<String>,
    params: web::Query<QueueParams>,
    paging: Paging,
) -> ApiResult<HttpResponse> {
    let scope = moderator.scope(&path)?;
    let which = match params.status.as_deref() {
        None => Queue::Pending,
        Some(s) => Queue::parse(s)
            .ok_or_else(|| ApiError::validation("status", "must be pending, spam or flagged"))?,
    };
    let pool = &state.db.pool;
    let read = |after, n| review::queue(pool, &scope, which, after, n);
    let (rows, next) = paging.by_time(read, |r| (r.created_at, r.id)).await?;
    let items = review::items(pool, scope.site_id(), &rows).await?;
    Ok(list(items, next))
}

#[derive(Deserialize)]
pub struct SearchParams {
    status: Option<String>,
    author: Option<String>,
    thread: Option<String>,
    q: Option<String>,
}

/// Longest `q`, in characters.
const Q_MAX_CHARS: usize = 200;

/// Searches all of a site's comments, newest first.
///
/// Every filter is optional and they combine; blank ones are ignored.
#[utoipa::path(
    get,
    path = "/api/mod/v1/sites/{site}/comments",
    tag = "moderation",
    security(("moderator" = [])),
    params(
        ("site" = String, Path, description = "The site's slug."),
        ("status" = Option<String>, Query, description = "Only comments with this status: `pending`, `approved`, `spam`, `rejected` or `deleted`."),
        ("author" = Option<String>, Query, description = "Only comments by this user (a user id)."),
        ("thread" = Option<String>, Query, description = "Only comments on this thread: a thread id, or the thread's uri (path)."),
        ("q" = Option<String>, Query, description = "Words the comment's Markdown contains (full-text, simple dictionary); at most 200 characters."),
        PageParams
    ),
    responses(
        (status = 200, description = "One page of matching comments.", body = Page<ItemView>),
        (status = 400, description = "`validation_failed`: a bad `status`, `author`, `thread`, `q`, `limit` or `cursor` (each named in details).", body = ErrorBody)
    )
)]
pub async fn search_comments(
    state: web::Data<AppState>,
    moderator: Moderator,
    path: web::Path<String>,
    params: web::Query<SearchParams>,
    paging: Paging,
) -> ApiResult<HttpResponse> {
    let scope = moderator.scope(&path)?;
    let mut errors = Validation::new();
    let mut filter = Search::default();
    fn given(v: &Option<String>) -> Option<&str> {
        v.as_deref().map(str::trim).filter(|s| !s.is_empty())
    }
    if let Some(s) = given(&params.status) {
        match CommentStatus::parse(s) {
            Ok(s) => filter.status = Some(s.as_str()),
            Err(e) => {
                errors.add("status", e);
            }
        }
    }
    if let Some(a) = given(&params.author) {
        match Uuid::parse_str(a) {
            Ok(id) => filter.author = Some(id),
            Err(_) => {
                errors.add("author", "must be a user id");
            }
        }
    }
    if let Some(t) = given(&params.thread) {
        if let Ok(id) = Uuid::parse_str(t) {
            filter.thread_id = Some(id);
        } else {
            match ThreadUri::parse(t, state.settings.limits.uri_max_chars) {
                Ok(uri) => filter.thread_uri = Some(uri.as_str().to_owned()),
                Err(e) => {
                    errors.add("thread", format!("must be a thread id or uri: {e}"));
                }
            }
        }
    }
    if let Some(q) = given(&params.q) {
        if q.chars().count() > Q_MAX_CHARS {
            errors.add("q", format!("must be at most {Q_MAX_CHARS} characters"));
        } else {
            filter.q = Some(q.to_owned());
        }
    }
    errors.finish()?;
    let pool = &state.db.pool;
    let read = |before, n| review::search(pool, &scope, &filter, before, n);
    let (rows, next) = paging.by_time(read, |r| (r.created_at, r.id)).await?;
    let items = review::items(pool, scope.site_id(), &rows).await?;
    Ok(list(items, next))
}

// Queue claims

/// Most items one claim takes.
const CLAIM_MAX: i64 = 100;
/// Items a claim takes when it doesn't say.
const CLAIM_DEFAULT: i64 = 10;

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ClaimBody {
    /// How many items to take, 1 to 100; 10 when absent.
    #[serde(default)]
    #[schema(minimum = 1, maximum = 100, example = 10)]
    limit: Option<i64>,
}

/// Claims up to `limit` of the oldest unclaimed pending items for five minutes.
///
/// The items are leased to the caller (no two moderators get the same item) and answered,
/// oldest first; `next_cursor` is always `null`. Fewer (or none) when the queue runs short.
#[utoipa::path(
    post,
    path = "/api/mod/v1/sites/{site}/queue/claim",
    tag = "moderation",
    security(("moderator" = [])),
    params(
        ("site" = String, Path, description = "The site's slug.")
    ),
    request_body = ClaimBody,
    responses(
        (status = 200, description = "The claimed items, oldest first.", body = Page<ItemView>),
        (status = 400, description = "`invalid_json` or `validation_failed` (`limit`).", body = ErrorBody)
    )
)]
pub async fn claim_queue(
    state: web::Data<AppState>,
    moderator: Moderator,
    path: web::Path<String>,
    body: ApiJson<ClaimBody>,
) -> ApiResult<HttpResponse> {
    let scope = moderator.scope(&path)?;
    let limit = body.0.limit.unwrap_or(CLAIM_DEFAULT);
    if !(1..=CLAIM_MAX).contains(&limit) {
        return Err(ApiError::validation(
            "limit",
            format!("must be between 1 and {CLAIM_MAX}"),
        ));
    }
    let pool = &state.db.pool;
    let ids = claims::claim(pool, &scope, moderator.id, limit).await?;
    let rows = review::many(pool, &scope, &ids).await?;
    let items = review::items(pool, scope.site_id(), &rows).await?;
    Ok(list(items, None))
}

/// Gives back the caller's claim on a comment.
///
/// 409 if the caller doesn't hold it (someone else does, nobody does, or the lease ran out).
/// Answers the comment, now unclaimed.
#[utoipa::path(
    post,
    path = "/api/mod/v1/comments/{id}/release",
    tag = "moderation",
    security(("moderator" = [])),
    params(
        ("id" = Uuid, Path, description = "The comment's id.")
    ),
    responses(
        (status = 200, description = "The comment, no longer claimed.", body = ItemView, headers(("ETag" = String, description = "The comment's `version`, quoted: send it back as `If-Match`."))),
        (status = 404, description = "`not_found`: no such comment on a site where the caller holds a role.", body = ErrorBody),
        (status = 409, description = "`conflict`: the caller holds no live claim on this comment.", body = ErrorBody)
    )
)]
pub async fn release_claim(
    state: web::Data<AppState>,
    moderator: Moderator,
    path: web::Path<Uuid>,
) -> ApiResult<HttpResponse> {
    let id = path.into_inner();
    let scope = comment_scope(&state, &moderator, id).await?;
    match claims::release(&state.db.pool, &scope, moderator.id, id).await? {
        claims::Released::Released => {}
        claims::Released::NotHeld => {
            return Err(ApiError::conflict(
                "conflict",
                "You don't hold a claim on this comment (nobody does, someone else does, or it ran out).",
            ));
        }
    }
    tracing::info!(moderator.id = %moderator.id, comment.id = %id, "claim released");
    Ok(one_comment(item_json(&state, &scope, id).await?))
}
