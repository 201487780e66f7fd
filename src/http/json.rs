//! `ApiJson<T>`: a JSON body extractor whose every failure is the contract's error body, with the
//! path of the offending field (`guest.email`) in `details`.

use std::future::Future;
use std::pin::Pin;

use actix_web::dev::Payload;
use actix_web::http::header;
use actix_web::{FromRequest, HttpRequest, web};
use serde::de::DeserializeOwned;

use crate::error::ApiError;

pub struct ApiJson<T>(pub T);

/// Largest accepted JSON body, in bytes (from `limits.json_max_bytes`).
#[derive(Clone, Copy)]
pub struct JsonLimit(pub usize);

impl<T: DeserializeOwned + 'static> FromRequest for ApiJson<T> {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ApiError>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let limit = req
            .app_data::<JsonLimit>()
            .map(|l| l.0)
            .unwrap_or(64 * 1024);
        let content_type_ok = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(';').next())
            .map(|m| {
                let m = m.trim().to_ascii_lowercase();
                m == "application/json" || (m.starts_with("application/") && m.ends_with("+json"))
            })
            .unwrap_or(false);
        // A declared length over the limit is refused before a byte is read.
        let declared_too_large = req
            .headers()
            .get(header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<usize>().ok())
            .is_some_and(|n| n > limit);
        let mut payload = payload.take();
        let req = req.clone();
        Box::pin(async move {
            if declared_too_large {
                return Err(ApiError::payload_too_large(limit));
            }
            if !content_type_ok {
                return Err(ApiError::new(
                    actix_web::http::StatusCode::UNSUPPORTED_MEDIA_TYPE,
                    "unsupported_media_type",
                    "The request body must be JSON with Content-Type: application/json.",
                ));
            }
            let bytes = read_limited(&req, &mut payload, limit).await?;
            parse(&bytes).map(ApiJson)
        })
    }
}

async fn read_limited(
    req: &HttpRequest,
    payload: &mut Payload,
    limit: usize,
) -> Result<web::Bytes, ApiError> {
    use futures_util::StreamExt;
    let _ = req;
    let mut body = web::BytesMut::new();
    while let Some(chunk) = payload.next().await {
        let chunk = chunk
            .map_err(|e| ApiError::invalid_json(format!("Could not read the request body: {e}")))?;
        if body.len() + chunk.len() > limit {
            return Err(ApiError::payload_too_large(limit));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body.freeze())
}

/// Parses a JSON document into `T`, naming the failing field on a type or shape error.
pub fn parse<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(ApiError::invalid_json(
            "The request body is empty; a JSON object is required.",
        ));
    }
    // Syntax first, so `[1,2` or `{} x` is called malformed rather than a field error.
    serde_json::from_slice::<serde::de::IgnoredAny>(bytes)
        .map_err(|e| ApiError::invalid_json(format!("Malformed JSON: {e}")))?;
    // Postgres text can't hold NUL: refuse it here, for every field of every endpoint, rather
    // than fail at the database. (A raw NUL byte in a string is already malformed JSON.)
    if bytes.windows(6).any(|w| w == b"\\u0000")
        && let Ok(doc) = serde_json::from_slice::<serde_json::Value>(bytes)
        && let Some(field) = nul_field(&doc, "")
    {
        return Err(ApiError::validation(
            &field,
            "must not contain NUL characters",
        ));
    }
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let value: Result<T, _> = serde_path_to_error::deserialize(&mut de);
    match value {
        Ok(v) => {
            de.end()
                .map_err(|e| ApiError::invalid_json(format!("Malformed JSON: {e}")))?;
            Ok(v)
        }
        Err(e) => {
            let path = e.path().to_string();
            let inner = e.into_inner();
            match inner.classify() {
                serde_json::error::Category::Data => {
                    let mut message = strip_position(&inner.to_string());
                    // At the root serde names our Rust type ("expected struct PostCommentBody").
                    if message.contains("expected struct") {
                        message = "must be a JSON object with the documented fields".to_owned();
                    }
                    Err(ApiError::validation(&field_of(&path, &message), message))
                }
                _ => Err(ApiError::invalid_json(format!("Malformed JSON: {inner}"))),
            }
        }
    }
}

/// The dotted path of the first string (key or value) holding a NUL character.
fn nul_field(v: &serde_json::Value, path: &str) -> Option<String> {
    let join = |key: &str| {
        if path.is_empty() {
            key.to_owned()
        } else {
            format!("{path}.{key}")
        }
    };
    match v {
        serde_json::Value::String(s) if s.contains('\0') => Some(if path.is_empty() {
            "$".to_owned()
        } else {
            path.to_owned()
        }),
        serde_json::Value::Array(items) => items
            .iter()
            .enumerate()
            .find_map(|(i, x)| nul_field(x, &format!("{path}[{i}]"))),
        serde_json::Value::Object(map) => map.iter().find_map(|(k, x)| {
            if k.contains('\0') {
                Some(join("$key"))
            } else {
                nul_field(x, &join(k))
            }
        }),
        _ => None,
    }
}

/// The dotted path of the field an error is about. serde reports a missing field at its
/// parent's path, so the field's own name is taken from the message.
fn field_of(path: &str, message: &str) -> String {
    let parent = if path == "." { "" } else { path };
    let missing = message
        .strip_prefix("missing field `")
        .and_then(|rest| rest.split('`').next());
    match (parent, missing) {
        ("", Some(field)) => field.to_owned(),
        (p, Some(field)) => format!("{p}.{field}"),
        // The document itself (not its `body` field, which comments have).
        ("", None) => "$".to_owned(),
        (p, None) => p.to_owned(),
    }
}

/// serde_json appends " at line 1 column 12" to data errors; the field path says more.
fn strip_position(msg: &str) -> String {
    match msg.rfind(" at line ") {
        Some(i) => msg[..i].to_owned(),
        None => msg.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(serde::Deserialize, Debug)]
    #[allow(dead_code)]
    struct Inner {
        name: String,
    }

    #[derive(serde::Deserialize, Debug)]
    #[allow(dead_code)]
    struct Outer {
        uri: String,
        guest: Option<Inner>,
    }

    fn details(json: &str) -> serde_json::Value {
        parse::<Outer>(json.as_bytes()).unwrap_err().body()["error"]["details"].clone()
    }

    #[test]
    fn missing_fields_are_named_by_their_own_path() {
        assert!(details(r#"{}"#)["uri"].is_string(), "{}", details("{}"));
        let d = details(r#"{"uri": "/", "guest": {}}"#);
        assert!(d["guest.name"].is_string(), "{d}");
        let d = details(r#"{"uri": 5}"#);
        assert!(d["uri"].is_string(), "{d}");
    }

    #[test]
    fn syntax_errors_come_before_shape_errors() {
        for bad in ["[1,2", "{} x", "{", "\u{0}"] {
            let e = parse::<Outer>(bad.as_bytes()).unwrap_err();
            assert_eq!(e.code(), "invalid_json", "{bad:?}");
        }
    }
}
