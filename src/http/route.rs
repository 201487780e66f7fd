//! What a public API request acts on, resolved once from the route that matched.
//!
//! actix routes on the percent-decoded path, so anything that reads the site from the raw
//! `req.path()` can disagree with the route that answers: to the router `/sites/%62logb/...` is
//! `blogb`, to a string split it is an unknown slug, and a check keyed on the split is skipped
//! while the handler acts on `blogb`. So nothing parses the path: [`resolve`], wrapped on every
//! `/api/v1` resource, reads the matched route's decoded parameters (the same decoding
//! `web::Path` applies), looks the site (or the comment and its site) up once, and stores a
//! [`RouteScope`] in the request's extensions. CORS, the reader extractors
//! (`Commenter`/`MaybeCommenter`) and the handlers ([`RouteSite`], [`RouteComment`]) all take
//! that one value.

use std::future::{Ready, ready};
use std::sync::Arc;

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{Payload, ServiceRequest, ServiceResponse};
use actix_web::middleware::Next;
use actix_web::{FromRequest, HttpMessage, HttpRequest, ResponseError, web};
use serde::Deserialize;
use uuid::Uuid;

use crate::comments::target::{Target, unknown_comment};
use crate::error::{ApiError, ApiResult};
use crate::sites::Site;
use crate::sites::unknown_site;
use crate::state::AppState;

/// Which object a public route's path names, decided from its pattern when the route table is
/// built (see [`RouteKind::of`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RouteKind {
    /// About no one site: `/me`, `/logout`, `/me/appeals`, ...
    NoSite,
    /// `/sites/{site}/...`.
    Site,
    /// `/comments/{id}/...`: the comment, and through it its site.
    Comment,
}

impl RouteKind {
    /// The kind of a public route from its pattern (relative to `/api/v1`).
    ///
    /// # Panics
    /// When a pattern names a site or a comment anywhere else (`{site}` not right after
    /// `/sites/`, `{id}` not right after `/comments/`): such a route would act on an object no
    /// one resolved. Teach this function about it instead; the server refuses to start until
    /// then, so a new route can't silently skip the check.
    pub fn of(pattern: &str) -> Self {
        if pattern == "/sites/{site}" || pattern.starts_with("/sites/{site}/") {
            Self::Site
        } else if pattern == "/comments/{id}" || pattern.starts_with("/comments/{id}/") {
            Self::Comment
        } else if pattern.contains("{site}") || pattern.contains("{id}") {
            panic!(
                "public route {pattern} names a site or comment the route resolver does not know \
                 about: extend RouteKind::of (src/http/route.rs)"
            )
        } else {
            Self::NoSite
        }
    }
}

/// The resolved object of a public API request. Unknown and malformed slugs or ids are the
/// same thing: the route answers 404.
#[derive(Clone)]
pub enum RouteScope {
    NoSite,
    Site(Arc<Site>),
    Comment(Arc<Target>),
    UnknownSite,
    UnknownComment,
}

impl RouteScope {
    /// The site the route acts on, if it names one that exists.
    pub fn site(&self) -> Option<&Arc<Site>> {
        match self {
            Self::Site(site) => Some(site),
            Self::Comment(t) => Some(&t.site),
            _ => None,
        }
    }

    /// The route's 404, when its path names a site or comment that doesn't exist.
    pub fn not_found(&self) -> Option<ApiError> {
        match self {
            Self::UnknownSite => Some(unknown_site()),
            Self::UnknownComment => Some(unknown_comment()),
            _ => None,
        }
    }

    /// The request's scope, as [`resolve`] stored it. Missing only when a handler using a
    /// scoped extractor is mounted outside `/api/v1`: a bug, answered 500.
    pub fn of(req: &HttpRequest) -> ApiResult<Self> {
        req.extensions().get::<Self>().cloned().ok_or_else(|| {
            ApiError::internal(anyhow::anyhow!(
                "no RouteScope for {}: the route is not wrapped by http::route::resolve",
                req.match_pattern().unwrap_or_default()
            ))
        })
    }
}

#[derive(Deserialize)]
struct SiteParam {
    site: String,
}

#[derive(Deserialize)]
struct IdParam {
    id: String,
}

/// Middleware for one public resource of kind `kind`: resolves its object from the matched,
/// decoded path parameters and stores the [`RouteScope`]. It never answers 404 itself (the
/// extractors do, in the handler's order, so e.g. a missing session still answers 401 first).
pub async fn resolve(
    kind: RouteKind,
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let scope = match scope_of(kind, &req).await {
        Ok(scope) => scope,
        Err(e) => return Ok(req.into_response(e.error_response())),
    };
    req.extensions_mut().insert(scope);
    next.call(req)
        .await
        .map(ServiceResponse::map_into_boxed_body)
}

async fn scope_of(kind: RouteKind, req: &ServiceRequest) -> ApiResult<RouteScope> {
    let state = req
        .app_data::<web::Data<AppState>>()
        .ok_or_else(|| ApiError::internal(anyhow::anyhow!("AppState missing")))?;
    // `load` deserializes through actix's full percent-decoding, exactly as `web::Path` does.
    let params = req.match_info();
    match kind {
        RouteKind::NoSite => Ok(RouteScope::NoSite),
        RouteKind::Site => {
            let SiteParam { site } = params.load().map_err(|e| missing_param("site", e))?;
            match state.site(&site).await {
                Ok(site) => Ok(RouteScope::Site(site)),
                Err(e) if e.code() == "not_found" => Ok(RouteScope::UnknownSite),
                Err(e) => Err(e),
            }
        }
        RouteKind::Comment => {
            let IdParam { id } = params.load().map_err(|e| missing_param("id", e))?;
            let Ok(id) = Uuid::parse_str(&id) else {
                return Ok(RouteScope::UnknownComment);
            };
            match Target::load(&state.db.pool, &state.sites, id).await {
                Ok(t) => Ok(RouteScope::Comment(Arc::new(t))),
                Err(e) if e.code() == "not_found" => Ok(RouteScope::UnknownComment),
                Err(e) => Err(e),
            }
        }
    }
}

fn missing_param(name: &str, e: impl std::fmt::Display) -> ApiError {
    ApiError::internal(anyhow::anyhow!("route parameter {{{name}}}: {e}"))
}

/// The site of a `/sites/{site}/...` or `/comments/{id}/...` route; 404 when it doesn't exist.
#[derive(Clone)]
pub struct RouteSite(pub Arc<Site>);

impl FromRequest for RouteSite {
    type Error = ApiError;
    type Future = Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(RouteScope::of(req).and_then(|scope| {
            if let Some(e) = scope.not_found() {
                return Err(e);
            }
            scope.site().cloned().map(RouteSite).ok_or_else(|| {
                ApiError::internal(anyhow::anyhow!("RouteSite on a route without a site"))
            })
        }))
    }
}

/// The comment of a `/comments/{id}/...` route, with its site; 404 when it doesn't exist.
#[derive(Clone)]
pub struct RouteComment(pub Arc<Target>);

impl FromRequest for RouteComment {
    type Error = ApiError;
    type Future = Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(RouteScope::of(req).and_then(|scope| match scope {
            RouteScope::Comment(t) => Ok(RouteComment(t)),
            RouteScope::UnknownComment => Err(unknown_comment()),
            _ => Err(ApiError::internal(anyhow::anyhow!(
                "RouteComment on a route without a comment"
            ))),
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::RouteKind;

    #[test]
    fn kinds_come_from_the_pattern() {
        assert_eq!(RouteKind::of("/sites/{site}"), RouteKind::Site);
        assert_eq!(RouteKind::of("/sites/{site}/thread"), RouteKind::Site);
        assert_eq!(RouteKind::of("/comments/{id}"), RouteKind::Comment);
        assert_eq!(RouteKind::of("/comments/{id}/vote"), RouteKind::Comment);
        assert_eq!(RouteKind::of("/me"), RouteKind::NoSite);
        assert_eq!(
            RouteKind::of("/me/identities/{provider}"),
            RouteKind::NoSite
        );
    }

    #[test]
    #[should_panic(expected = "extend RouteKind::of")]
    fn a_site_named_elsewhere_stops_the_server() {
        RouteKind::of("/threads/{id}");
    }
}
