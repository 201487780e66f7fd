//! A site's bans: list, create, read, lift.

use actix_web::{HttpResponse, web};
use uuid::Uuid;

use super::page::{Page, list};
use crate::auth::moderators::Moderator;
use crate::error::{ApiResult, ErrorBody};
use crate::http::json::ApiJson;
use crate::http::paging::PageParams;
use crate::http::{Paging, private};
use crate::moderation::bans;
use crate::state::AppState;

// Bans

/// Lists a site's bans (active and expired), oldest first.
#[utoipa::path(
    get,
    path = "/api/mod/v1/sites/{site}/bans",
    tag = "moderation",
    security(("moderator" = [])),
    params(
        ("site" = String, Path, description = "The site's slug."),
        PageParams
    ),
    responses(
        (status = 200, description = "One page of bans.", body = Page<bans::BanRow>)
    )
)]
pub async fn list_bans(
    state: web::Data<AppState>,
    moderator: Moderator,
    path: web::Path<String>,
    paging: Paging,
) -> ApiResult<HttpResponse> {
    let scope = moderator.scope(&path)?;
    let read = |after, n| bans::list(&state.db.pool, &scope, after, n);
    let (rows, next) = paging.by_time(read, |b| (b.created_at, b.id)).await?;
    Ok(list(rows, next))
}

/// Bans a commenter, an email address or an IP network from a site.
///
/// Exactly one of `user_id`, `email` or `ip` (an address or CIDR); optional `until` and
/// `shadow` (the author's comments are filed as spam but look published to them).
#[utoipa::path(
    post,
    path = "/api/mod/v1/sites/{site}/bans",
    tag = "moderation",
    security(("moderator" = [])),
    params(
        ("site" = String, Path, description = "The site's slug.")
    ),
    request_body = bans::NewBanBody,
    responses(
        (status = 201, description = "The ban.", body = bans::BanRow),
        (status = 400, description = "`invalid_json` or `validation_failed` (`target`: not exactly one of user_id/email/ip; `user_id`, `email`, `ip`, `until`, `reason`).", body = ErrorBody),
        (status = 404, description = "`not_found`: no such site (or no role there), or `user_id` never commented on this site.", body = ErrorBody)
    )
)]
pub async fn create_ban(
    state: web::Data<AppState>,
    moderator: Moderator,
    path: web::Path<String>,
    body: ApiJson<bans::NewBanBody>,
) -> ApiResult<HttpResponse> {
    let scope = moderator.scope(&path)?;
    let ban = bans::NewBan::check(&body.0, moderator.id)?;
    let row = bans::impose(&state.db.pool, &scope, &ban).await?;
    Ok(private(HttpResponse::Created()).json(row))
}

/// One ban of a site.
#[utoipa::path(
    get,
    path = "/api/mod/v1/sites/{site}/bans/{id}",
    tag = "moderation",
    security(("moderator" = [])),
    params(
        ("site" = String, Path, description = "The site's slug."),
        ("id" = Uuid, Path, description = "The ban's id.")
    ),
    responses(
        (status = 200, description = "The ban.", body = bans::BanRow),
        (status = 404, description = "`not_found`: no such site (or no role there) or no such ban on it.", body = ErrorBody)
    )
)]
pub async fn get_ban(
    state: web::Data<AppState>,
    moderator: Moderator,
    path: web::Path<(String, Uuid)>,
) -> ApiResult<HttpResponse> {
    let (site, id) = path.into_inner();
    let scope = moderator.scope(&site)?;
    let row = bans::get(&state.db.pool, &scope, id)
        .await?
        .ok_or_else(bans::ban_not_found)?;
    Ok(private(HttpResponse::Ok()).json(row))
}

/// Lifts a ban (deletes it).
#[utoipa::path(
    delete,
    path = "/api/mod/v1/sites/{site}/bans/{id}",
    tag = "moderation",
    security(("moderator" = [])),
    params(
        ("site" = String, Path, description = "The site's slug."),
        ("id" = Uuid, Path, description = "The ban's id.")
    ),
    responses(
        (status = 204, description = "The ban is gone."),
        (status = 404, description = "`not_found`: no such site (or no role there) or no such ban on it.", body = ErrorBody)
    )
)]
pub async fn delete_ban(
    state: web::Data<AppState>,
    moderator: Moderator,
    path: web::Path<(String, Uuid)>,
) -> ApiResult<HttpResponse> {
    let (site, id) = path.into_inner();
    let scope = moderator.scope(&site)?;
    bans::lift(&state.db.pool, &scope, moderator.id, id).await?;
    Ok(private(HttpResponse::NoContent()).finish())
}
