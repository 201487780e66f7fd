//! What every handler of one comment shares: the caller's scope on the comment's site, the
//! `If-Match` precondition and the answer that carries the comment's version as its `ETag`.

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse};
use serde_json::Value;
use uuid::Uuid;

use crate::auth::moderators::{Moderator, SiteScope};
use crate::error::{ApiError, ApiResult};
use crate::http::private;
use crate::moderation::review;
use crate::state::AppState;

pub(super) fn comment_not_found() -> ApiError {
    ApiError::not_found("Comment")
}

/// The scope of the site a comment belongs to, if the caller holds a role there; else 404, the
/// same as for a comment that doesn't exist.
pub(super) async fn comment_scope(
    state: &AppState,
    moderator: &Moderator,
    id: Uuid,
) -> ApiResult<SiteScope> {
    let site_id = review::comment_site(&state.db.pool, id, &moderator.site_ids())
        .await?
        .ok_or_else(comment_not_found)?;
    moderator
        .scope_by_id(site_id)
        .map_err(|_| comment_not_found())
}

/// `If-Match: <version>` (quotes and `W/` tolerated; `*` matches any version).
pub(super) fn if_match(req: &HttpRequest) -> ApiResult<Option<i32>> {
    let Some(v) = req.headers().get(header::IF_MATCH) else {
        return Ok(None);
    };
    let bad = || ApiError::validation("If-Match", "must be the comment's version (a number)");
    let s = v.to_str().map_err(|_| bad())?.trim();
    if s == "*" {
        return Ok(None);
    }
    let s = s.strip_prefix("W/").unwrap_or(s).trim_matches('"');
    s.parse::<i32>().map(Some).map_err(|_| bad())
}

/// An answer holding one comment: its version is also the `ETag`, so a client can send it back
/// as `If-Match` without reading the body.
pub(super) fn one_comment(item: Value) -> HttpResponse {
    let mut res = private(HttpResponse::Ok());
    if let Some(version) = item["comment"]["version"].as_i64() {
        res.insert_header((header::ETAG, format!("\"{version}\"")));
    }
    res.json(item)
}

/// One comment as moderators see it (the shape of a queue item).
pub(super) async fn item_json(state: &AppState, scope: &SiteScope, id: Uuid) -> ApiResult<Value> {
    let row = review::one(&state.db.pool, scope, id)
        .await?
        .ok_or_else(comment_not_found)?;
    let rows = [row];
    let mut views = review::items(&state.db.pool, scope.site_id(), &rows).await?;
    let view = views.pop().ok_or_else(comment_not_found)?;
    serde_json::to_value(view).map_err(ApiError::internal)
}
