//! Liveness and readiness probes.

use actix_web::{HttpResponse, web};
use serde_json::json;

use crate::app::AppState;
use crate::error::{ApiError, ApiResult};

/// The process is up and serving HTTP.
pub async fn live() -> HttpResponse {
    HttpResponse::Ok().json(json!({ "status": "ok" }))
}

/// The database answers and the schema is migrated: this node can take traffic.
pub async fn ready(state: web::Data<AppState>) -> ApiResult<HttpResponse> {
    if !state.db.is_migrated() {
        return Err(ApiError::unavailable(anyhow::anyhow!(
            "migrations not applied yet"
        )));
    }
    state.db.ping().await.map_err(ApiError::unavailable)?;
    Ok(HttpResponse::Ok().json(json!({ "status": "ready" })))
}
