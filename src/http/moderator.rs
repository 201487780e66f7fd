//! The `Moderator` extractor: `Authorization: Bearer <secret>` where the secret is a moderator
//! session (from password login) or a named API token; both are looked up by their SHA-256. No
//! header, or an unknown, expired or revoked secret: 401.

use std::future::Future;
use std::pin::Pin;

use actix_web::dev::Payload;
use actix_web::{FromRequest, HttpRequest, web};

use super::commenter::bearer;
use crate::auth::moderators::scope::{Moderator, authenticate};
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

async fn resolve(req: HttpRequest) -> ApiResult<Moderator> {
    let Some(secret) = bearer(&req)? else {
        return Err(ApiError::unauthenticated(
            "Log in first: send Authorization: Bearer <session or API token>.",
        ));
    };
    let state = req
        .app_data::<web::Data<AppState>>()
        .cloned()
        .ok_or_else(|| ApiError::internal(anyhow::anyhow!("AppState missing")))?;
    authenticate(&state.db.pool, &secret).await
}

/// The caller, when the request carries a bearer token: for endpoints anyone may call that
/// do more for a logged-in moderator. A present but unknown, expired or revoked token is 401,
/// never silently anonymous.
pub async fn maybe_moderator(req: &HttpRequest) -> ApiResult<Option<Moderator>> {
    if bearer(req)?.is_none() {
        return Ok(None);
    }
    resolve(req.clone()).await.map(Some)
}

impl FromRequest for Moderator {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ApiError>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let req = req.clone();
        Box::pin(resolve(req))
    }
}
