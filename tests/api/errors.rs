//! Bad input on every public endpoint answers its documented 4xx with the contract's JSON error
//! body (API.md, "Errors"): never a 500, never HTML, never SQL text or a stack trace, and it
//! loses nothing already stored.

use reqwest::Response;
use reqwest::header::{CONTENT_TYPE, HeaderValue};
use serde_json::{Value, json};

use crate::helpers::{SiteOpts, TestApp, spawn_app, spawn_app_with};

mod nothing_lost;
mod post;
mod reads;
mod routing;

const COMMENTS: &str = "/api/v1/sites/blog/comments";

/// Words that betray an internal failure leaking to the client.
const LEAK_MARKERS: [&str; 7] = [
    "panicked",
    "sqlx",
    "SELECT",
    "stack backtrace",
    "RUST_BACKTRACE",
    "src/",
    ".rs:",
];

/// Everything `helpers::assert_error` checks (status, JSON content type, `error.code`, a
/// non-empty `error.message`), plus: the raw body leaks nothing internal.
async fn assert_clean_error(r: Response, status: u16, code: &str) -> Value {
    let (actual, body) = clean_error_parts(r).await;
    assert_eq!(
        actual, status,
        "unexpected status for expected code {code}: {body}"
    );
    assert_eq!(body["error"]["code"], code, "{body}");
    body
}

/// Status and JSON body of an error response, after checking its content type and that it leaks
/// nothing; for loops that collect every wrong case before failing.
async fn clean_error_parts(r: Response) -> (u16, Value) {
    let status = r.status().as_u16();
    let content_type = r
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned();
    let text = r.text().await.expect("error body is readable");
    assert!(
        content_type.starts_with("application/json"),
        "content-type {content_type:?}: {text}"
    );
    assert_no_leak(&text);
    let body: Value = serde_json::from_str(&text)
        .unwrap_or_else(|e| panic!("error body is not JSON ({e}): {text}"));
    assert!(
        body["error"]["message"]
            .as_str()
            .is_some_and(|m| !m.is_empty()),
        "{body}"
    );
    (status, body)
}

fn assert_no_leak(text: &str) {
    for marker in LEAK_MARKERS {
        assert!(
            !text.contains(marker),
            "error body leaks {marker:?}: {text}"
        );
    }
}

/// Asserts a 400 validation_failed whose details name `field`; `case` says what was sent.
async fn assert_invalid_field(r: Response, field: &str, case: impl std::fmt::Debug) -> Value {
    let (status, body) = clean_error_parts(r).await;
    assert_eq!(status, 400, "{case:?}: {body}");
    assert_eq!(
        body["error"]["code"], "validation_failed",
        "{case:?}: {body}"
    );
    assert!(
        body["error"]["details"][field].is_string(),
        "{case:?}: details should name {field:?}: {body}"
    );
    body
}

fn good_comment() -> Value {
    json!({ "uri": "/p/", "body": "hello", "guest": { "name": "Ann", "email": "ann@example.com" } })
}

/// `good_comment()` with `key` (a top-level field, or `guest.<field>`) replaced by `value`.
fn comment_with(key: &str, value: Value) -> Value {
    let mut c = good_comment();
    match key.strip_prefix("guest.") {
        Some(inner) => c["guest"][inner] = value,
        None => c[key] = value,
    }
    c
}

/// `good_comment()` without `key` (a top-level field, or `guest.<field>`).
fn comment_without(key: &str) -> Value {
    let mut c = good_comment();
    match key.strip_prefix("guest.") {
        Some(inner) => c["guest"].as_object_mut().unwrap().remove(inner),
        None => c.as_object_mut().unwrap().remove(key),
    };
    c
}

/// POSTs raw bytes to the blog's comments with the given Content-Type (none if `None`).
async fn post_bytes(
    app: &TestApp,
    content_type: Option<&str>,
    body: impl Into<reqwest::Body>,
) -> Response {
    let mut req = app.client.post(app.url(COMMENTS)).body(body);
    if let Some(ct) = content_type {
        req = req.header(CONTENT_TYPE, ct);
    }
    req.send().await.unwrap()
}

async fn post_json_bytes(app: &TestApp, body: impl Into<reqwest::Body>) -> Response {
    post_bytes(app, Some("application/json"), body).await
}

async fn post_with_idempotency_key(app: &TestApp, key: HeaderValue) -> Response {
    app.client
        .post(app.url(COMMENTS))
        .header("Idempotency-Key", key)
        .json(&good_comment())
        .send()
        .await
        .unwrap()
}

async fn blog_app() -> TestApp {
    let app = spawn_app().await;
    app.create_site(SiteOpts::default()).await;
    app
}

// ---------------------------------------------------------------------------------------------
// Support
// ---------------------------------------------------------------------------------------------

/// A valid guest comment serialized to exactly `len` bytes (JSON whitespace pads it).
fn padded_comment(len: usize) -> Vec<u8> {
    let mut bytes = serde_json::to_vec(&good_comment()).unwrap();
    assert!(bytes.len() < len, "padding target {len} too small");
    let close = bytes.pop().unwrap(); // the final '}'
    bytes.resize(len - 1, b' ');
    bytes.push(close);
    bytes
}

struct RawResponse {
    status: u16,
    content_type: String,
    body: String,
}

/// POSTs a JSON body with `Transfer-Encoding: chunked` (no Content-Length) over a plain TCP
/// connection: reqwest can't stream a body without its `stream` feature.
async fn post_chunked(app: &TestApp, path: &str, chunks: &[&[u8]]) -> RawResponse {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    let host = app.address.trim_start_matches("http://");
    let mut stream = tokio::net::TcpStream::connect(host).await.unwrap();
    let head = format!(
        "POST {path} HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\n\
         Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    for chunk in chunks {
        let mut frame = format!("{:x}\r\n", chunk.len()).into_bytes();
        frame.extend_from_slice(chunk);
        frame.extend_from_slice(b"\r\n");
        // The server may answer 413 and stop reading before the last chunk.
        if stream.write_all(&frame).await.is_err() {
            break;
        }
    }
    let _ = stream.write_all(b"0\r\n\r\n").await;
    let mut raw = Vec::new();
    let _ = stream.read_to_end(&mut raw).await;
    parse_raw_response(&raw)
}

fn parse_raw_response(raw: &[u8]) -> RawResponse {
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .unwrap_or_else(|| {
            panic!(
                "no HTTP response head in {:?}",
                String::from_utf8_lossy(raw)
            )
        });
    let head = String::from_utf8_lossy(&raw[..split]).into_owned();
    let rest = &raw[split + 4..];
    let mut lines = head.split("\r\n");
    let status: u16 = lines
        .next()
        .and_then(|l| l.split(' ').nth(1))
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("bad status line in {head:?}"));
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    let header = |name: &str| {
        headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
    };
    let body = match header("content-length").and_then(|v| v.parse::<usize>().ok()) {
        Some(n) => rest[..n.min(rest.len())].to_vec(),
        None if header("transfer-encoding").is_some_and(|v| v.eq_ignore_ascii_case("chunked")) => {
            dechunk(rest)
        }
        None => rest.to_vec(),
    };
    RawResponse {
        status,
        content_type: header("content-type").unwrap_or_default(),
        body: String::from_utf8_lossy(&body).into_owned(),
    }
}

fn dechunk(mut rest: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    while let Some(eol) = rest.windows(2).position(|w| w == b"\r\n") {
        let size_line = String::from_utf8_lossy(&rest[..eol]);
        let size =
            usize::from_str_radix(size_line.split(';').next().unwrap().trim(), 16).unwrap_or(0);
        if size == 0 {
            break;
        }
        let start = eol + 2;
        let end = (start + size).min(rest.len());
        out.extend_from_slice(&rest[start..end]);
        rest = &rest[(end + 2).min(rest.len())..];
    }
    out
}
