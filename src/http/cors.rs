//! CORS for `/api/v1`: exactly the registered origins of the site the matched route names (its
//! `{site}`, or the site of its `{id}` comment).
//!
//! actix-cors decides from a fixed list or a synchronous callback; our origins live per site in
//! Postgres (through the site cache), so the decision is made here. Requests without `Origin`
//! (curl, servers) are not CORS requests and pass through; a state-changing request from a
//! foreign origin is refused outright so a hostile page can't post in a reader's name.

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, HeaderValue};
use actix_web::http::{Method, StatusCode};
use actix_web::middleware::Next;
use actix_web::{HttpResponse, ResponseError, web};

use crate::error::ApiError;
use crate::http::RouteScope;
use crate::state::AppState;

const ALLOW_METHODS: &str = "GET, POST, PUT, PATCH, DELETE";
const ALLOW_HEADERS: &str = "Authorization, Content-Type, Idempotency-Key, If-Match";
const EXPOSE_HEADERS: &str = "Retry-After, ETag, Idempotency-Replayed";
const MAX_AGE_S: &str = "600";

pub async fn cors(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let Some(origin) = req
        .headers()
        .get(header::ORIGIN)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
    else {
        return next
            .call(req)
            .await
            .map(ServiceResponse::map_into_boxed_body);
    };
    let preflight = req.method() == Method::OPTIONS
        && req
            .headers()
            .contains_key(header::ACCESS_CONTROL_REQUEST_METHOD);
    let state = req
        .app_data::<web::Data<AppState>>()
        .cloned()
        .expect("AppState is registered on the App"); // set in app::configure, always present

    // The site comes from the matched route, resolved once by `route::resolve` (which wraps
    // this middleware): the same site the reader extractors check and the handler acts on.
    let route = match RouteScope::of(req.request()) {
        Ok(route) => route,
        Err(e) => return Ok(req.into_response(e.error_response())),
    };
    let allowed = match route {
        RouteScope::Site(site) => Some(site.allows_origin(&origin)),
        RouteScope::Comment(target) => Some(target.site.allows_origin(&origin)),
        // Unknown site: let the route answer 404 (preflight too).
        RouteScope::UnknownSite => None,
        // No one site (or a comment that doesn't exist, whose route answers 404): any
        // registered origin may ask.
        RouteScope::NoSite | RouteScope::UnknownComment => {
            match crate::sites::store::origin_known(&state.db.pool, &origin).await {
                Ok(known) => Some(known),
                Err(e) => return Ok(req.into_response(ApiError::from(e).error_response())),
            }
        }
    };

    match (allowed, preflight) {
        (Some(true), true) => {
            let mut res = HttpResponse::NoContent();
            res.insert_header((header::ACCESS_CONTROL_ALLOW_METHODS, ALLOW_METHODS))
                .insert_header((header::ACCESS_CONTROL_ALLOW_HEADERS, ALLOW_HEADERS))
                .insert_header((header::ACCESS_CONTROL_MAX_AGE, MAX_AGE_S));
            let mut res = req.into_response(res.finish());
            add_allow_origin(res.headers_mut(), &origin);
            Ok(res)
        }
        (Some(false), true) => Ok(req.into_response(refused(&origin).error_response())),
        (None, true) => Ok(req.into_response(ApiError::not_found("Site").error_response())),
        (Some(false), false) if !is_safe(req.method()) => {
            Ok(req.into_response(refused(&origin).error_response()))
        }
        (Some(true), false) => {
            let mut res = next.call(req).await?.map_into_boxed_body();
            add_allow_origin(res.headers_mut(), &origin);
            Ok(res)
        }
        // A foreign origin's GET is answered without CORS headers: the browser won't let that
        // page read it. Unknown sites fall through to the route's 404.
        _ => {
            let mut res = next.call(req).await?.map_into_boxed_body();
            res.headers_mut()
                .insert(header::VARY, HeaderValue::from_static("Origin"));
            Ok(res)
        }
    }
}

fn refused(origin: &str) -> ApiError {
    let _ = origin;
    ApiError::new(
        StatusCode::FORBIDDEN,
        "origin_not_allowed",
        "This origin is not registered for this site.",
    )
}

fn is_safe(m: &Method) -> bool {
    matches!(*m, Method::GET | Method::HEAD)
}

fn add_allow_origin(headers: &mut actix_web::http::header::HeaderMap, origin: &str) {
    if let Ok(v) = HeaderValue::from_str(origin) {
        headers.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, v);
    }
    headers.insert(
        header::ACCESS_CONTROL_EXPOSE_HEADERS,
        HeaderValue::from_static(EXPOSE_HEADERS),
    );
    headers.insert(header::VARY, HeaderValue::from_static("Origin"));
}
