//! `Commenter` and `MaybeCommenter`: who is calling the public API.
//!
//! A request without `Authorization` is anonymous. A request *with* one whose token is unknown,
//! expired or revoked is refused with 401 — never quietly treated as anonymous, or a reader
//! whose session ended would post as a guest without noticing. So is a session of another site
//! than the one the matched route names (`http::route::RouteScope`), and a session bound to no
//! site at all. These extractors serve `/api/v1` only: they need the route scope its resources
//! resolve.

use std::future::Future;
use std::pin::Pin;

use actix_web::dev::Payload;
use actix_web::http::header;
use actix_web::{FromRequest, HttpRequest, web};

use crate::auth::sessions::{self, SessionUser};
use crate::error::ApiError;
use crate::http::RouteScope;
use crate::state::AppState;

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
    let route = RouteScope::of(&req)?;
    if let Some(unknown) = route.not_found() {
        return Err(unknown);
    }
    let state = req
        .app_data::<web::Data<AppState>>()
        .cloned()
        .ok_or_else(|| ApiError::internal(anyhow::anyhow!("AppState missing")))?;
    let Some(user) = sessions::find(&state.db.pool, &token).await? else {
        return Err(ApiError::unauthenticated(
            "Your session has expired or was ended; please log in again.",
        ));
    };
    // A reader session acts only on the site it was opened on: the blog that holds the token
    // can't use it on another blog of the same server. The route's site is the one resolved
    // from the matched route (never the raw path), the same value the handler acts on. A
    // session bound to no site is not a blog's session at all (first-party account sessions
    // are used under /account/ only) and is never accepted here.
    let Some(own) = user.site_id else {
        return Err(ApiError::unauthenticated(
            "This login can't be used by a site's comments; log in on the site.",
        ));
    };
    if let Some(site) = route.site()
        && site.id != own
    {
        return Err(ApiError::unauthenticated(
            "This login belongs to another site; please log in on this one.",
        ));
    }
    Ok(Some(user))
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
