//! Whatever the framework answers by itself (unknown route, wrong method, a panic caught by
//! actix, a malformed path) still gets the contract's JSON error body.

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::{StatusCode, header};
use actix_web::middleware::Next;
use actix_web::{HttpResponse, ResponseError};

use crate::error::ApiError;

pub async fn not_found() -> HttpResponse {
    ApiError::new(StatusCode::NOT_FOUND, "not_found", "No such route.").error_response()
}

pub async fn method_not_allowed(allow: &'static str) -> HttpResponse {
    let mut res = ApiError::method_not_allowed().error_response();
    res.headers_mut()
        .insert(header::ALLOW, header::HeaderValue::from_static(allow));
    res
}

/// Rewrites any non-JSON error response into the JSON error body of its status.
pub async fn json_error_bodies(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    // Postgres text can't hold NUL; no query parameter of ours may carry one.
    if req.query_string().to_ascii_lowercase().contains("%00") {
        let err = ApiError::validation("query", "must not contain NUL characters");
        return Ok(req.into_response(err.error_response()));
    }
    let res = match next.call(req).await {
        Ok(res) => res,
        Err(e) => return Err(e),
    };
    let status = res.status();
    let is_json = res
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    if (status.is_client_error() || status.is_server_error()) && !is_json {
        let (req, old) = res.into_parts();
        let mut fresh: HttpResponse = for_status(status).error_response();
        // Keep headers the framework set for a reason (Allow, Retry-After, CORS).
        for (name, value) in old.headers() {
            if name != header::CONTENT_TYPE && name != header::CONTENT_LENGTH {
                fresh.headers_mut().insert(name.clone(), value.clone());
            }
        }
        return Ok(ServiceResponse::new(req, fresh));
    }
    Ok(res.map_into_boxed_body())
}

fn for_status(status: StatusCode) -> ApiError {
    match status {
        StatusCode::NOT_FOUND => ApiError::new(status, "not_found", "No such route."),
        StatusCode::METHOD_NOT_ALLOWED => ApiError::method_not_allowed(),
        StatusCode::PAYLOAD_TOO_LARGE => ApiError::new(
            status,
            "payload_too_large",
            "The request body is too large.",
        ),
        StatusCode::URI_TOO_LONG => {
            ApiError::new(status, "uri_too_long", "The request URI is too long.")
        }
        StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE => ApiError::new(
            status,
            "headers_too_large",
            "The request headers are too large.",
        ),
        s if s.is_server_error() => {
            ApiError::new(status, "internal", "Something went wrong on our side.")
        }
        _ => ApiError::new(
            status,
            "bad_request",
            "The request could not be understood.",
        ),
    }
}
