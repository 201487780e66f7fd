//! One error type for every HTTP path, rendered as the JSON body of API.md:
//! `{"error": {"code", "message", "details"}}`.

use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpResponse, ResponseError};
use serde::Serialize;
use serde_json::{Map, Value, json};
use utoipa::ToSchema;

use crate::domain::Invalid;

/// Seconds a client is told to wait when the database is unreachable.
const UNAVAILABLE_RETRY_AFTER_S: u64 = 5;

pub struct ApiError {
    status: StatusCode,
    code: &'static str,
    message: String,
    details: Option<Value>,
    retry_after: Option<u64>,
    /// The cause, for the log only; never sent to the client.
    source: Option<anyhow::Error>,
}

pub type ApiResult<T> = Result<T, ApiError>;

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            code,
            message: message.into(),
            details: None,
            retry_after: None,
            source: None,
        }
    }

    /// Tells the client how many seconds to wait before trying again (`Retry-After`).
    pub fn with_retry_after(mut self, seconds: u64) -> Self {
        self.retry_after = Some(seconds.max(1));
        self
    }

    pub fn with_details(mut self, details: Value) -> Self {
        self.details = Some(details);
        self
    }

    pub fn invalid_json(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "invalid_json", message)
    }

    /// One field failed validation.
    pub fn validation(field: &str, reason: impl std::fmt::Display) -> Self {
        Self::validation_many([(field.to_owned(), reason.to_string())])
    }

    /// Several fields failed validation; details map field -> reason.
    pub fn validation_many(fields: impl IntoIterator<Item = (String, String)>) -> Self {
        let details: Map<String, Value> = fields
            .into_iter()
            .map(|(k, v)| (k, Value::String(v)))
            .collect();
        Self::new(
            StatusCode::BAD_REQUEST,
            "validation_failed",
            "Some fields are missing or invalid.",
        )
        .with_details(Value::Object(details))
    }

    pub fn unauthenticated(message: impl Into<String>) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, "unauthenticated", message)
    }

    pub fn forbidden(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, code, message)
    }

    pub fn not_found(what: &str) -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "not_found",
            format!("{what} not found."),
        )
    }

    pub fn conflict(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::CONFLICT, code, message)
    }

    /// 429: too many attempts; the client may try again after `retry_after_s` seconds.
    pub fn rate_limited(message: impl Into<String>, retry_after_s: u64) -> Self {
        let mut e = Self::new(StatusCode::TOO_MANY_REQUESTS, "rate_limited", message);
        e.retry_after = Some(retry_after_s.max(1));
        e.details = Some(json!({ "retry_after_s": retry_after_s.max(1) }));
        e
    }

    pub fn payload_too_large(limit: usize) -> Self {
        Self::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "payload_too_large",
            format!("The request body is larger than {limit} bytes."),
        )
        .with_details(json!({ "limit_bytes": limit }))
    }

    pub fn method_not_allowed() -> Self {
        Self::new(
            StatusCode::METHOD_NOT_ALLOWED,
            "method_not_allowed",
            "This method is not allowed on this resource.",
        )
    }

    pub fn unavailable(cause: impl Into<anyhow::Error>) -> Self {
        let mut e = Self::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "unavailable",
            "The service is temporarily unavailable; try again shortly.",
        );
        e.retry_after = Some(UNAVAILABLE_RETRY_AFTER_S);
        e.source = Some(cause.into());
        e
    }

    pub fn internal(cause: impl Into<anyhow::Error>) -> Self {
        let mut e = Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "Something went wrong on our side.",
        );
        e.source = Some(cause.into());
        e
    }

    pub fn code(&self) -> &'static str {
        self.code
    }

    pub fn body(&self) -> Value {
        let body = ErrorBody {
            error: ErrorDetail {
                code: self.code.to_owned(),
                message: self.message.clone(),
                details: self.details.clone(),
            },
        };
        // A struct of strings and a Value always serializes.
        serde_json::to_value(body).unwrap_or(Value::Null)
    }
}

/// Collects every field's problem so the client learns them all in one answer, instead of
/// fixing one field per round trip. `finish` turns what was collected into one
/// `validation_failed` error.
#[derive(Debug, Default)]
pub struct Validation(Vec<(String, String)>);

impl Validation {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn add(&mut self, field: &str, reason: impl std::fmt::Display) -> &mut Self {
        self.0.push((field.to_owned(), reason.to_string()));
        self
    }

    /// The value when `r` is Ok; otherwise records the field's reason and answers None.
    pub fn check<T, E: std::fmt::Display>(&mut self, field: &str, r: Result<T, E>) -> Option<T> {
        r.map_err(|e| {
            self.add(field, e);
        })
        .ok()
    }

    /// For optional fields: `Some(None)` when absent, `None` when present but invalid.
    pub fn check_opt<T, E: std::fmt::Display>(
        &mut self,
        field: &str,
        r: Option<Result<T, E>>,
    ) -> Option<Option<T>> {
        match r {
            None => Some(None),
            Some(r) => self.check(field, r).map(Some),
        }
    }

    pub fn finish(self) -> ApiResult<()> {
        if self.0.is_empty() {
            Ok(())
        } else {
            Err(self.into())
        }
    }
}

/// The collected `(field, reason)` pairs, in the order found.
impl std::ops::Deref for Validation {
    type Target = [(String, String)];

    fn deref(&self) -> &Self::Target {
        &self.0
    }
}

impl IntoIterator for Validation {
    type Item = (String, String);
    type IntoIter = std::vec::IntoIter<(String, String)>;

    fn into_iter(self) -> Self::IntoIter {
        self.0.into_iter()
    }
}

impl Extend<(String, String)> for Validation {
    fn extend<I: IntoIterator<Item = (String, String)>>(&mut self, fields: I) {
        self.0.extend(fields);
    }
}

impl From<Validation> for ApiError {
    fn from(v: Validation) -> Self {
        Self::validation_many(v.0)
    }
}

/// The body of every error answer. The OpenAPI document describes this same struct, so the
/// schema can't drift from what is sent.
#[derive(Serialize, ToSchema)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

#[derive(Serialize, ToSchema)]
pub struct ErrorDetail {
    /// Stable, machine-readable: `validation_failed`, `not_found`, `rate_limited`, …
    #[schema(example = "validation_failed")]
    pub code: String,
    /// For people; may change between releases.
    #[schema(example = "Some fields are missing or invalid.")]
    pub message: String,
    /// Per code: field -> reason for `validation_failed`, `retry_after_s` for `rate_limited`,
    /// the pipeline's reasons for `comment_rejected`, …
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub details: Option<Value>,
}

impl std::fmt::Debug for ApiError {
    // The whole cause chain, for the log line written where the error is handled.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} {}: {}",
            self.status.as_u16(),
            self.code,
            self.message
        )?;
        if let Some(src) = &self.source {
            write!(f, "; caused by: {src:#}")?;
        }
        Ok(())
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        self.status
    }

    fn error_response(&self) -> HttpResponse {
        if self.status == StatusCode::SERVICE_UNAVAILABLE {
            // Expected while the database is down or starting; the supervisor logs the cause.
            tracing::warn!(error = ?self, "request answered 503");
        } else if self.status.is_server_error() {
            tracing::error!(error = ?self, "request failed");
        }
        let mut res = HttpResponse::build(self.status);
        if let Some(s) = self.retry_after {
            res.insert_header((header::RETRY_AFTER, HeaderValue::from(s)));
        }
        res.insert_header((header::CACHE_CONTROL, HeaderValue::from_static("no-store")));
        res.json(self.body())
    }
}

impl From<Invalid> for ApiError {
    fn from(e: Invalid) -> Self {
        Self::validation("value", e)
    }
}

impl From<sqlx::Error> for ApiError {
    fn from(e: sqlx::Error) -> Self {
        if crate::db::is_unavailable(&e) {
            Self::unavailable(e)
        } else {
            Self::internal(e)
        }
    }
}

impl From<anyhow::Error> for ApiError {
    fn from(e: anyhow::Error) -> Self {
        match e.downcast::<sqlx::Error>() {
            Ok(sqlx) => sqlx.into(),
            Err(other) => Self::internal(other),
        }
    }
}

/// A site that doesn't exist, or that the caller may not know of: one answer for both, so a 404
/// never tells which.
pub fn unknown_site() -> ApiError {
    ApiError::not_found("Site")
}

/// A comment that doesn't exist, or that the caller may not see.
pub fn unknown_comment() -> ApiError {
    ApiError::not_found("Comment")
}
