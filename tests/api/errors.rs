//! Bad input on every public endpoint answers its documented 4xx with the contract's JSON error
//! body (API.md, "Errors"): never a 500, never HTML, never SQL text or a stack trace, and it
//! loses nothing already stored.

use reqwest::Response;
use reqwest::header::{CONTENT_TYPE, HeaderValue};
use serde_json::{Value, json};

use crate::helpers::{SiteOpts, TestApp, spawn_app, spawn_app_with};

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
// POST /api/v1/sites/{site}/comments
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn post_malformed_json_is_invalid_json() {
    let app = blog_app().await;
    let valid = serde_json::to_string(&good_comment()).unwrap();
    let cases: Vec<(&str, Vec<u8>)> = vec![
        ("unclosed object", b"{".to_vec()),
        ("unclosed array", b"[1,2".to_vec()),
        ("trailing garbage after an empty object", b"{} x".to_vec()),
        ("trailing garbage after a valid comment", format!("{valid} x").into_bytes()),
        ("two documents", format!("{valid}{valid}").into_bytes()),
        ("trailing comma", br#"{"uri": "/p/", "body": "hi",}"#.to_vec()),
        ("single quotes", b"{'uri': '/p/'}".to_vec()),
        ("empty body", b"".to_vec()),
        ("only whitespace", b"  \n ".to_vec()),
        ("non-UTF-8 bytes", b"\xff\xfe\xfd".to_vec()),
        (
            "non-UTF-8 inside a string",
            b"{\"uri\": \"/p/\", \"body\": \"caf\xe9\", \"guest\": {\"name\": \"Ann\", \"email\": \"ann@example.com\"}}".to_vec(),
        ),
    ];

    let mut wrong = Vec::new();
    for (case, bytes) in cases {
        let r = post_json_bytes(&app, bytes).await;
        let (status, body) = clean_error_parts(r).await;
        if status != 400 || body["error"]["code"] != "invalid_json" {
            wrong.push(format!("{case}: {status} {body}"));
        }
    }
    assert!(
        wrong.is_empty(),
        "expected 400 invalid_json for:\n{}",
        wrong.join("\n")
    );
    assert_eq!(app.comment_count().await, 0);
}

#[tokio::test]
async fn post_fields_of_the_wrong_type_name_the_field_path() {
    let app = blog_app().await;
    let cases = [
        ("body", json!(42)),
        ("body", json!(null)),
        ("uri", json!(["/p/"])),
        ("title", json!({ "text": "x" })),
        ("url", json!(true)),
        ("parent_id", json!(12345)),
        ("guest", json!("ann@example.com")),
        ("guest.email", json!(7)),
        ("guest.name", json!(["Ann"])),
        ("guest.website", json!(1.5)),
    ];

    for (field, value) in cases {
        let r = app
            .post_raw("blog", &comment_with(field, value.clone()))
            .await;
        let body = assert_clean_error(r, 400, "validation_failed").await;
        assert!(
            body["error"]["details"][field].is_string(),
            "{field} = {value}: details should name {field:?}: {body}"
        );
    }
    assert_eq!(app.comment_count().await, 0);
}

#[tokio::test]
async fn post_a_json_document_that_is_not_an_object_is_refused() {
    let app = blog_app().await;

    for doc in [
        json!(42),
        json!("hello"),
        json!(null),
        json!([]),
        json!(["/p/", "hi"]),
    ] {
        let r = app.post_raw("blog", &doc).await;
        assert_clean_error(r, 400, "validation_failed").await;
    }
    assert_eq!(app.comment_count().await, 0);
}

#[tokio::test]
async fn post_unknown_fields_are_refused_at_top_level_and_inside_guest() {
    let app = blog_app().await;

    let r = app
        .post_raw("blog", &comment_with("admin", json!(true)))
        .await;
    let body = assert_clean_error(r, 400, "validation_failed").await;
    assert!(
        body["error"]["details"]["admin"].is_string(),
        "details should name the field: {body}"
    );

    let r = app
        .post_raw("blog", &comment_with("guest.role", json!("moderator")))
        .await;
    let body = assert_clean_error(r, 400, "validation_failed").await;
    assert!(
        body["error"]["details"]["guest.role"].is_string(),
        "details should name the field path: {body}"
    );

    assert_eq!(app.comment_count().await, 0);
}

#[tokio::test]
async fn post_missing_required_fields_are_named() {
    let app = blog_app().await;

    let mut wrong = Vec::new();
    for field in ["uri", "body", "guest.name", "guest.email"] {
        let r = app.post_raw("blog", &comment_without(field)).await;
        let (status, body) = clean_error_parts(r).await;
        if status != 400
            || body["error"]["code"] != "validation_failed"
            || !body["error"]["details"][field].is_string()
        {
            wrong.push(format!("without {field}: {status} {body}"));
        }
    }
    assert!(
        wrong.is_empty(),
        "expected 400 validation_failed naming the missing field:\n{}",
        wrong.join("\n")
    );

    let r = app.post_raw("blog", &json!({})).await;
    assert_clean_error(r, 400, "validation_failed").await;
    assert_eq!(app.comment_count().await, 0);
}

#[tokio::test]
async fn post_body_length_is_counted_in_characters_not_bytes() {
    let app = spawn_app_with(|s| s.limits.body_max_chars = 50).await;
    app.create_site(SiteOpts::default()).await;

    // 50 characters of 2, 3 and 4 bytes: at the limit, accepted although well over 50 bytes.
    for ch in ["é", "€", "🦀"] {
        let r = app
            .post_raw("blog", &comment_with("body", json!(ch.repeat(50))))
            .await;
        assert_eq!(r.status(), 201, "50 × {ch}: {}", r.text().await.unwrap());
    }
    let r = app
        .post_raw("blog", &comment_with("body", json!("a".repeat(50))))
        .await;
    assert_eq!(r.status(), 201);

    // One character more is refused, whatever its width.
    for ch in ["a", "é", "€", "🦀"] {
        let r = app
            .post_raw("blog", &comment_with("body", json!(ch.repeat(51))))
            .await;
        assert_invalid_field(r, "body", format!("51 × {ch}")).await;
    }
    assert_eq!(app.comment_count().await, 4);
}

#[tokio::test]
async fn post_larger_than_json_max_bytes_is_payload_too_large() {
    let app = spawn_app_with(|s| s.limits.json_max_bytes = 1024).await;
    app.create_site(SiteOpts::default()).await;
    let exactly_at_limit = padded_comment(1024);
    let one_byte_over = padded_comment(1025);
    let far_over = padded_comment(8 * 1024);

    let r = post_json_bytes(&app, exactly_at_limit).await;
    assert_eq!(r.status(), 201, "{}", r.text().await.unwrap());

    let r = post_json_bytes(&app, one_byte_over).await;
    assert_clean_error(r, 413, "payload_too_large").await;
    let r = post_json_bytes(&app, far_over).await;
    assert_clean_error(r, 413, "payload_too_large").await;
    assert_eq!(app.comment_count().await, 1);
}

#[tokio::test]
async fn post_chunked_body_larger_than_json_max_bytes_is_payload_too_large() {
    let app = spawn_app_with(|s| s.limits.json_max_bytes = 1024).await;
    app.create_site(SiteOpts::default()).await;
    let small = padded_comment(600);
    let large = padded_comment(2048);

    // Without Content-Length the limit must hold while reading.
    let r = post_chunked(&app, COMMENTS, &small.chunks(100).collect::<Vec<_>>()).await;
    assert_eq!(r.status, 201, "{}", r.body);

    let r = post_chunked(&app, COMMENTS, &large.chunks(256).collect::<Vec<_>>()).await;
    assert_eq!(r.status, 413, "{}", r.body);
    assert!(
        r.content_type.starts_with("application/json"),
        "content-type {:?}",
        r.content_type
    );
    assert_no_leak(&r.body);
    let body: Value = serde_json::from_str(&r.body).expect("error body is JSON");
    assert_eq!(body["error"]["code"], "payload_too_large", "{body}");
    assert_eq!(app.comment_count().await, 1);
}

#[tokio::test]
async fn post_without_a_json_content_type_is_unsupported_media_type() {
    let app = blog_app().await;
    let valid = serde_json::to_string(&good_comment()).unwrap();

    for ct in [
        Some("text/plain"),
        Some("application/x-www-form-urlencoded"),
        Some("text/json"),
        None,
    ] {
        let r = post_bytes(&app, ct, valid.clone()).await;
        assert_clean_error(r, 415, "unsupported_media_type").await;
    }

    // Parameters and +json types are still JSON.
    let r = post_bytes(&app, Some("application/json; charset=utf-8"), valid.clone()).await;
    assert_eq!(r.status(), 201);
    assert_eq!(app.comment_count().await, 1);
}

#[tokio::test]
async fn post_invalid_uris_are_refused() {
    let app = blog_app().await;
    let longest = format!("/{}", "a".repeat(1023));
    let too_long = format!("/{}", "a".repeat(1024));
    let bad = [
        "",
        "p/",
        "https://blog.example/p/",
        "//evil.example/x",
        "/a b",
        "/a\tb",
        "/a\nb",
        "/a\u{7}b",
        "/a\u{0}b",
        "/a\u{202e}b",
        "/a#comments",
        too_long.as_str(),
    ];

    for uri in bad {
        let r = app.post_raw("blog", &comment_with("uri", json!(uri))).await;
        assert_invalid_field(r, "uri", uri).await;
    }
    assert_eq!(app.comment_count().await, 0);

    let r = app
        .post_raw("blog", &comment_with("uri", json!(longest)))
        .await;
    assert_eq!(r.status(), 201, "a uri of exactly uri_max_chars is fine");
}

#[tokio::test]
async fn post_invalid_idempotency_keys_are_refused() {
    let app = blog_app().await;
    let bad = [
        HeaderValue::from_static(""),
        HeaderValue::from_str(&"k".repeat(256)).unwrap(),
        HeaderValue::from_static("two words"),
        HeaderValue::from_static("tab\there"),
        HeaderValue::from_bytes(b"caf\xe9").unwrap(),
    ];

    for key in bad {
        let r = post_with_idempotency_key(&app, key.clone()).await;
        assert_invalid_field(r, "Idempotency-Key", &key).await;
    }
    assert_eq!(app.comment_count().await, 0);

    let r = post_with_idempotency_key(&app, HeaderValue::from_str(&"k".repeat(255)).unwrap()).await;
    assert_eq!(r.status(), 201, "a 255-character key is fine");
}

#[tokio::test]
async fn post_to_an_unknown_or_malformed_site_is_not_found() {
    let app = blog_app().await;
    let too_long = "a".repeat(65);

    for site in [
        "nosuchsite",
        "BLOG",
        "Blog",
        "my_blog",
        "b",
        too_long.as_str(),
        "bl%C3%B6g",
    ] {
        let r = app.post_raw(site, &good_comment()).await;
        assert_clean_error(r, 404, "not_found").await;
    }
    assert_eq!(app.comment_count().await, 0);
}

// ---------------------------------------------------------------------------------------------
// GET /api/v1/sites/{site}
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn get_site_unknown_or_malformed_is_not_found() {
    let app = blog_app().await;
    let too_long = "a".repeat(65);

    for site in ["nosuchsite", "BLOG", "my_blog", "b", too_long.as_str()] {
        let r = app.get(&format!("/api/v1/sites/{site}")).await;
        assert_clean_error(r, 404, "not_found").await;
    }
    let (status, _) = app.get_json("/api/v1/sites/blog").await;
    assert_eq!(status, 200);
}

// ---------------------------------------------------------------------------------------------
// GET /api/v1/sites/{site}/thread
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn thread_without_or_with_an_invalid_uri_names_uri() {
    let app = blog_app().await;
    let too_long = format!("/{}", "a".repeat(1024));

    for query in [
        "".to_owned(),
        "uri=".to_owned(),
        "sort=oldest".to_owned(),
        "uri=p/".to_owned(),
        "uri=//evil.example/x".to_owned(),
        "uri=/a%20b".to_owned(),
        "uri=/a%0Ab".to_owned(),
        "uri=/a%23frag".to_owned(),
        format!("uri={too_long}"),
    ] {
        let r = app.get(&format!("/api/v1/sites/blog/thread?{query}")).await;
        assert_invalid_field(r, "uri", &query).await;
    }
}

#[tokio::test]
async fn thread_bad_sort_and_limit_name_the_parameter() {
    let app = blog_app().await;

    for sort in ["bogus", "", "OLDEST", "best"] {
        let r = app
            .get(&format!("/api/v1/sites/blog/thread?uri=/p/&sort={sort}"))
            .await;
        assert_invalid_field(r, "sort", sort).await;
    }
    for limit in ["0", "201", "-1", "abc", "1.5", "", "99999999999999999999"] {
        let r = app
            .get(&format!("/api/v1/sites/blog/thread?uri=/p/&limit={limit}"))
            .await;
        assert_invalid_field(r, "limit", limit).await;
    }

    for ok in ["sort=oldest&limit=1", "sort=newest&limit=200", "sort=top"] {
        app.thread("blog", &format!("uri=/p/&{ok}")).await;
    }
}

#[tokio::test]
async fn thread_reports_every_bad_parameter_at_once() {
    let app = blog_app().await;

    let r = app
        .get("/api/v1/sites/blog/thread?uri=nope&sort=bogus&limit=0")
        .await;

    let body = assert_clean_error(r, 400, "validation_failed").await;
    for field in ["uri", "sort", "limit"] {
        assert!(
            body["error"]["details"][field].is_string(),
            "{field} missing in {body}"
        );
    }
}

#[tokio::test]
async fn thread_garbage_cursors_are_refused() {
    let app = blog_app().await;
    let too_long = "a".repeat(300);

    for cursor in [
        "garbage",
        "!!!",
        "bw",
        "o.1.x.0",
        too_long.as_str(),
        "%FF%FE",
    ] {
        let r = app
            .get(&format!(
                "/api/v1/sites/blog/thread?uri=/p/&cursor={cursor}"
            ))
            .await;
        assert_invalid_field(r, "cursor", cursor).await;
    }
}

#[tokio::test]
async fn thread_cursor_issued_for_another_sort_is_refused() {
    let app = blog_app().await;
    for body in ["one", "two", "three"] {
        app.comment("blog", "/p/", body).await;
    }
    let first_page = app.thread("blog", "uri=/p/&limit=1").await;
    let cursor = first_page["next_cursor"]
        .as_str()
        .expect("a next page exists")
        .to_owned();

    let r = app
        .get(&format!(
            "/api/v1/sites/blog/thread?uri=/p/&limit=1&sort=newest&cursor={cursor}"
        ))
        .await;
    assert_invalid_field(r, "cursor", "an oldest cursor").await;
    let r = app
        .get(&format!(
            "/api/v1/sites/blog/thread?uri=/p/&limit=1&sort=top&cursor={cursor}"
        ))
        .await;
    assert_invalid_field(r, "cursor", "an oldest cursor").await;

    // The same cursor with its own sort still works.
    let second_page = app
        .thread(
            "blog",
            &format!("uri=/p/&limit=1&sort=oldest&cursor={cursor}"),
        )
        .await;
    assert_eq!(
        second_page["comments"].as_array().unwrap().len(),
        1,
        "{second_page}"
    );
    assert_ne!(
        second_page["comments"][0]["id"],
        first_page["comments"][0]["id"]
    );
}

#[tokio::test]
async fn thread_with_a_repeated_parameter_is_a_validation_error() {
    let app = blog_app().await;

    let r = app.get("/api/v1/sites/blog/thread?uri=/a/&uri=/b/").await;

    assert_clean_error(r, 400, "validation_failed").await;
}

#[tokio::test]
async fn thread_of_an_unknown_or_malformed_site_is_not_found() {
    let app = blog_app().await;

    for site in ["nosuchsite", "BLOG", "my_blog"] {
        let r = app
            .get(&format!("/api/v1/sites/{site}/thread?uri=/p/"))
            .await;
        assert_clean_error(r, 404, "not_found").await;
    }
}

// ---------------------------------------------------------------------------------------------
// GET /api/v1/sites/{site}/counts
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn counts_without_uris_is_a_validation_error() {
    let app = blog_app().await;

    for query in ["", "?", "?url=/p/", "?uris=/p/"] {
        let r = app.get(&format!("/api/v1/sites/blog/counts{query}")).await;
        assert_invalid_field(r, "uri", query).await;
    }
}

#[tokio::test]
async fn counts_accepts_100_uris_and_refuses_101() {
    let app = blog_app().await;
    let query = |n: usize| {
        (0..n)
            .map(|i| format!("uri=/p/{i}/"))
            .collect::<Vec<_>>()
            .join("&")
    };

    let (status, counts) = app
        .get_json(&format!("/api/v1/sites/blog/counts?{}", query(100)))
        .await;
    assert_eq!(status, 200, "{counts}");
    assert_eq!(counts.as_object().unwrap().len(), 100, "{counts}");
    assert_eq!(counts["/p/99/"], 0);

    let r = app
        .get(&format!("/api/v1/sites/blog/counts?{}", query(101)))
        .await;
    assert_invalid_field(r, "uri", "101 uris").await;
}

#[tokio::test]
async fn counts_with_an_invalid_uri_names_it() {
    let app = blog_app().await;

    for bad in ["p/", "//evil.example/x", "/a%20b", "/a%23frag", ""] {
        let r = app
            .get(&format!("/api/v1/sites/blog/counts?uri=/ok/&uri={bad}"))
            .await;
        let body = assert_clean_error(r, 400, "validation_failed").await;
        let details = body["error"]["details"]
            .as_object()
            .expect("details is an object");
        assert!(
            details.keys().any(|k| k.starts_with("uri")),
            "{bad:?}: details should name the uri: {body}"
        );
    }
}

#[tokio::test]
async fn counts_of_an_unknown_or_malformed_site_is_not_found() {
    let app = blog_app().await;

    for site in ["nosuchsite", "BLOG", "my_blog"] {
        let r = app
            .get(&format!("/api/v1/sites/{site}/counts?uri=/p/"))
            .await;
        assert_clean_error(r, 404, "not_found").await;
    }
}

// ---------------------------------------------------------------------------------------------
// Routing
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn unknown_paths_are_not_found_json() {
    let app = blog_app().await;

    for path in [
        "/api/v1/nope",
        "/api/v1/sites",
        "/api/v1/sites/",
        "/api/v1/sites/blog/nope",
        "/api/v1/sites/blog/thread/extra",
        "/api/v1/sites/blog/comments/123",
        "/api/v1",
        "/api/v2/sites/blog",
        "/api",
        "/nope",
        "/",
        "/wp-login.php",
    ] {
        let r = app.get(path).await;
        assert_clean_error(r, 404, "not_found").await;
    }
    let r = app
        .client
        .post(app.url("/api/v1/nope"))
        .json(&good_comment())
        .send()
        .await
        .unwrap();
    assert_clean_error(r, 404, "not_found").await;
}

#[tokio::test]
async fn wrong_methods_are_method_not_allowed_json() {
    let app = blog_app().await;
    use reqwest::Method;
    let cases = [
        (Method::DELETE, "/api/v1/sites/blog"),
        (Method::POST, "/api/v1/sites/blog"),
        (Method::PUT, "/api/v1/sites/blog/thread"),
        (Method::POST, "/api/v1/sites/blog/thread"),
        (Method::PATCH, "/api/v1/sites/blog/counts"),
        (Method::GET, "/api/v1/sites/blog/comments"),
        (Method::PUT, "/api/v1/sites/blog/comments"),
        (Method::DELETE, "/api/v1/sites/blog/comments"),
    ];

    for (method, path) in cases {
        let r = app
            .client
            .request(method.clone(), app.url(path))
            .send()
            .await
            .unwrap();
        assert_clean_error(r, 405, "method_not_allowed").await;
    }
}

// ---------------------------------------------------------------------------------------------
// Nothing lost
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn a_barrage_of_bad_requests_loses_nothing_stored() {
    let app = spawn_app_with(|s| s.limits.json_max_bytes = 1024).await;
    app.create_site(SiteOpts::default()).await;
    let id = app.comment("blog", "/p/", "A *good* comment").await;
    let thread_before = app.thread("blog", "uri=/p/").await;
    let count_before = app.comment_count().await;

    let bad_bodies: Vec<Vec<u8>> = vec![
        b"{".to_vec(),
        b"[1,2".to_vec(),
        b"".to_vec(),
        b"\xff\xfe".to_vec(),
        padded_comment(4096),
        serde_json::to_vec(&comment_with("body", json!(42))).unwrap(),
        serde_json::to_vec(&comment_with("uri", json!("//evil.example/p/"))).unwrap(),
        serde_json::to_vec(&comment_with(
            "parent_id",
            json!("01a220f8-71aa-77a6-9621-3512f3f20107"),
        ))
        .unwrap(),
        serde_json::to_vec(&comment_with("parent_id", json!("not-a-uuid"))).unwrap(),
        serde_json::to_vec(&comment_with("admin", json!(true))).unwrap(),
        serde_json::to_vec(&comment_without("guest")).unwrap(),
    ];
    for bytes in bad_bodies {
        let r = post_json_bytes(&app, bytes).await;
        assert!(r.status().is_client_error(), "{}", r.status());
    }
    let r = post_bytes(
        &app,
        Some("text/plain"),
        serde_json::to_string(&good_comment()).unwrap(),
    )
    .await;
    assert!(r.status().is_client_error());
    let r = post_with_idempotency_key(&app, HeaderValue::from_static("bad key")).await;
    assert!(r.status().is_client_error());
    let r = app.post_raw("nosuchsite", &good_comment()).await;
    assert!(r.status().is_client_error());
    for path in [
        "/api/v1/sites/blog/thread?uri=/p/&limit=0",
        "/api/v1/sites/blog/thread?uri=/p/&cursor=garbage",
        "/api/v1/sites/blog/counts",
        &format!(
            "/api/v1/sites/blog/counts?{}",
            vec!["uri=/p/"; 101].join("&")
        ),
    ] {
        assert!(app.get(path).await.status().is_client_error(), "{path}");
    }
    let r = app
        .client
        .delete(app.url("/api/v1/sites/blog"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 405);

    assert_eq!(app.comment_count().await, count_before);
    let thread_after = app.thread("blog", "uri=/p/").await;
    assert_eq!(
        thread_after, thread_before,
        "the stored comment is served unchanged"
    );
    assert_eq!(thread_after["comments"][0]["id"], id.as_str());
    assert_eq!(
        thread_after["comments"][0]["html"],
        "<p>A <em>good</em> comment</p>\n"
    );
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

#[tokio::test]
async fn method_errors_name_the_allowed_methods_and_head_works() {
    let app = blog_app().await;
    let r = app
        .client
        .delete(app.url("/api/v1/sites/blog/thread?uri=/a/"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.headers()["allow"], "GET, HEAD");
    assert_clean_error(r, 405, "method_not_allowed").await;
    let r = app
        .client
        .get(app.url("/api/v1/sites/blog/comments"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.headers()["allow"], "POST");
    let r = app
        .client
        .head(app.url("/api/v1/sites/blog"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
}

#[tokio::test]
async fn nul_characters_are_refused_in_json_and_query_strings() {
    let app = blog_app().await;
    let r = app
        .client
        .post(app.url("/api/v1/sites/blog/comments"))
        .header("content-type", "application/json")
        .body(r#"{"uri":"/p/","body":"a\u0000b","guest":{"name":"A","email":"a@b.co"}}"#)
        .send()
        .await
        .unwrap();
    assert_clean_error(r, 400, "validation_failed").await;
    let r = app.get("/api/v1/sites/blog/thread?uri=/p/%00").await;
    assert_clean_error(r, 400, "validation_failed").await;
    let r = app.get("/api/mod/v1/sites/blog/comments?q=%00").await;
    assert_clean_error(r, 400, "validation_failed").await;
    assert_eq!(app.comment_count().await, 0);
}
