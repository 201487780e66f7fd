//! Commenters as a site's moderators see them, and their trust on the site.

use actix_web::{HttpResponse, web};
use uuid::Uuid;

use crate::auth::moderators::Moderator;
use crate::error::{ApiResult, ErrorBody};
use crate::http::json::ApiJson;
use crate::http::private;
use crate::moderation::users;
use crate::state::AppState;

// ---------------------------------------------------------------------------------------------
// Commenters

/// A commenter's standing and history on a site.
///
/// Who they are (with email), whether they are `trusted` or `premoderated`, their comment counts
/// by status and their latest comments. A user who never commented on the site is a 404.
#[utoipa::path(
    get,
    path = "/api/mod/v1/sites/{site}/users/{id}",
    tag = "moderation",
    security(("moderator" = [])),
    params(
        ("site" = String, Path, description = "The site's slug."),
        ("id" = Uuid, Path, description = "The user's id.")
    ),
    responses(
        (status = 200, description = "The commenter.", body = users::UserView),
        (status = 404, description = "`not_found`: no such site (or no role there), or this user never commented on it.", body = ErrorBody)
    )
)]
pub async fn get_user(
    state: web::Data<AppState>,
    moderator: Moderator,
    path: web::Path<(String, Uuid)>,
) -> ApiResult<HttpResponse> {
    let (site, id) = path.into_inner();
    let scope = moderator.scope(&site)?;
    Ok(private(HttpResponse::Ok()).json(users::view(&state.db.pool, &scope, id).await?))
}

/// Sets a commenter's trust on a site: `trusted` or `premoderated`.
///
/// `trusted` comments skip rules, spam checks and the policy; `premoderated` ones always wait
/// for a moderator. A user is never both.
#[utoipa::path(
    patch,
    path = "/api/mod/v1/sites/{site}/users/{id}",
    tag = "moderation",
    security(("moderator" = [])),
    params(
        ("site" = String, Path, description = "The site's slug."),
        ("id" = Uuid, Path, description = "The user's id.")
    ),
    request_body = users::TrustPatch,
    responses(
        (status = 200, description = "The commenter as changed.", body = users::UserView),
        (status = 400, description = "`invalid_json` or `validation_failed` (`premoderated`: a user can't be both trusted and premoderated).", body = ErrorBody),
        (status = 404, description = "`not_found`: no such site (or no role there), or this user never commented on it.", body = ErrorBody)
    )
)]
pub async fn patch_user(
    state: web::Data<AppState>,
    moderator: Moderator,
    path: web::Path<(String, Uuid)>,
    body: ApiJson<users::TrustPatch>,
) -> ApiResult<HttpResponse> {
    let (site, id) = path.into_inner();
    let scope = moderator.scope(&site)?;
    let view = users::change_trust(&state.db.pool, &scope, moderator.id, id, body.0).await?;
    Ok(private(HttpResponse::Ok()).json(view))
}
