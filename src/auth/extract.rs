//! `Commenter` and `MaybeCommenter`: who is calling the public API.
//!
//! A request without `Authorization` is anonymous. A request *with* one whose token is unknown,
//! expired or revoked is refused with 401 — never quietly treated as anonymous, or a reader
//! whose session ended would post as a guest without noticing.

use std::future::Future;
use std::pin::Pin;

use actix_web::dev::Payload;
use actix_web::http::header;
use actix_web::{FromRequest, HttpRequest, web};

use super::sessions::{self, SessionUser};
use crate::app::AppState;
use crate::error::ApiError;

/// A caller with a valid commenter session.
#[derive(Debug, Clone)]
pub struct Commenter(pub SessionUser);

/// A caller who may or may not be logged in.
#[derive(Debug, Clone)]
pub struct MaybeCommenter(pub Option<SessionUser>);

impl MaybeCommenter {
    pub fn user_id(&self) -> Option<uuid::Uuid> {
        self.0.as_ref().map(|s| s.user_id)
    }
}

/// The bearer secret of `Authorization`, if the header is there; a malformed one is 401.
pub(crate) fn bearer(req: &HttpRequest) -> Result<Option<String>, ApiError> {
    let Some(value) = req.headers().get(header::AUTHORIZATION) else {
        return Ok(None);
    };
    let token = value
        .to_str()
        .ok()
        .and_then(|v| {
            v.strip_prefix("Bearer ")
                .or_else(|| v.strip_prefix("bearer "))
        })
        .map(str::trim)
        .filter(|t| !t.is_empty() && t.len() <= 128)
        .ok_or_else(|| {
            ApiError::unauthenticated("The Authorization header must be `Bearer <token>`.")
        })?;
    Ok(Some(token.to_owned()))
}

async fn resolve(req: HttpRequest) -> Result<Option<SessionUser>, ApiError> {
    let Some(token) = bearer(&req)? else {
        return Ok(None);
    };
    let state = req
        .app_data::<web::Data<AppState>>()
        .cloned()
        .ok_or_else(|| ApiError::internal(anyhow::anyhow!("AppState missing")))?;
    let Some(user) = sessions::find(&state.db.pool, &token).await? else {
        return Err(ApiError::unauthenticated(
            "Your session has expired or was ended; please log in again.",
        ));
    };
    // A session acts only on the site it was opened on: the blog that holds the token can't
    // use it on another blog of the same server.
    if let Some(own) = user.site_id
        && let Some(target) = request_site(&state, req.path()).await?
        && target != own
    {
        return Err(ApiError::unauthenticated(
            "This login belongs to another site; please log in on this one.",
        ));
    }
    Ok(Some(user))
}

/// The site a public API request acts on: the `{site}` of `/api/v1/sites/{site}/...` (through
/// the site cache), or the site of the comment in `/api/v1/comments/{id}/...`. None for
/// requests about no one site, and for unknown sites and comments (the handler answers 404).
async fn request_site(state: &AppState, path: &str) -> Result<Option<uuid::Uuid>, ApiError> {
    if let Some(rest) = path.strip_prefix("/api/v1/sites/") {
        let slug = rest.split('/').next().unwrap_or("");
        if crate::domain::SiteSlug::parse(slug).is_err() {
            return Ok(None);
        }
        return Ok(state.sites.get(&state.db.pool, slug).await?.map(|s| s.id));
    }
    if let Some(rest) = path.strip_prefix("/api/v1/comments/") {
        let Ok(id) = uuid::Uuid::parse_str(rest.split('/').next().unwrap_or("")) else {
            return Ok(None);
        };
        return Ok(crate::comments::store::find_target(&state.db.pool, id)
            .await?
            .map(|t| t.site_id));
    }
    Ok(None)
}

impl FromRequest for MaybeCommenter {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ApiError>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let req = req.clone();
        Box::pin(async move { resolve(req).await.map(MaybeCommenter) })
    }
}

impl FromRequest for Commenter {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ApiError>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let req = req.clone();
        Box::pin(async move {
            resolve(req)
                .await?
                .map(Commenter)
                .ok_or_else(|| ApiError::unauthenticated("Log in first."))
        })
    }
}
