//! Liveness and readiness probes.

use actix_web::{HttpResponse, web};
use serde::Serialize;
use utoipa::ToSchema;

use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::state::AppState;

#[derive(Serialize, ToSchema)]
pub struct Status {
    /// `ok` from `/health/live`, `ready` from `/health/ready`.
    #[schema(example = "ok")]
    status: &'static str,
}

/// The process is up and serving HTTP.
#[utoipa::path(
    get,
    path = "/health/live",
    tag = "ops",
    responses((status = 200, description = "The process serves HTTP.", body = Status))
)]
pub async fn live() -> HttpResponse {
    HttpResponse::Ok().json(Status { status: "ok" })
}

/// The database answers and the schema is migrated: this node can take traffic.
#[utoipa::path(
    get,
    path = "/health/ready",
    tag = "ops",
    responses(
        (status = 200, description = "This node can take traffic.", body = Status),
        (status = 503, description = "The database is down or not migrated yet; `Retry-After` says when to try again.", body = ErrorBody)
    )
)]
pub async fn ready(state: web::Data<AppState>) -> ApiResult<HttpResponse> {
    if !state.db.is_migrated() {
        return Err(ApiError::unavailable(anyhow::anyhow!(
            "migrations not applied yet"
        )));
    }
    state.db.ping().await.map_err(ApiError::unavailable)?;
    Ok(HttpResponse::Ok().json(Status { status: "ready" }))
}
