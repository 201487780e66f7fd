//! CORS on the public API allows exactly the registered origins of the site in the path
//! (API.md, "Public API"): a foreign page can neither post in a reader's name nor read answers.

use reqwest::header::{
    ACCESS_CONTROL_ALLOW_HEADERS, ACCESS_CONTROL_ALLOW_METHODS, ACCESS_CONTROL_ALLOW_ORIGIN,
    HeaderMap, ORIGIN, VARY,
};
use reqwest::{Method, Response};
use serde_json::{Value, json};

use crate::helpers::{ORIGIN as BLOG_ORIGIN, SiteOpts, TestApp, assert_error, spawn_app};

const COMMENTS: &str = "/api/v1/sites/blog/comments";
const THREAD: &str = "/api/v1/sites/blog/thread?uri=/p/";
const EVIL: &str = "https://evil.example";
const OTHER_ORIGIN: &str = "https://other.example";

/// The blog (origin https://blog.example) and a second site with an origin of its own.
async fn two_sites() -> TestApp {
    let app = spawn_app().await;
    app.create_site(SiteOpts::default()).await;
    app.create_site(SiteOpts {
        slug: "other",
        origins: vec![OTHER_ORIGIN],
        ..Default::default()
    })
    .await;
    app
}

async fn preflight(app: &TestApp, path: &str, origin: &str) -> Response {
    app.client
        .request(Method::OPTIONS, app.url(path))
        .header(ORIGIN, origin)
        .header("Access-Control-Request-Method", "POST")
        .header(
            "Access-Control-Request-Headers",
            "content-type, idempotency-key",
        )
        .send()
        .await
        .unwrap()
}

async fn post_from(app: &TestApp, origin: &str, body: &Value) -> Response {
    app.client
        .post(app.url(COMMENTS))
        .header(ORIGIN, origin)
        .json(body)
        .send()
        .await
        .unwrap()
}

async fn get_from(app: &TestApp, path: &str, origin: Option<&str>) -> Response {
    let mut req = app.client.get(app.url(path));
    if let Some(o) = origin {
        req = req.header(ORIGIN, o);
    }
    req.send().await.unwrap()
}

fn guest_comment(body: &str) -> Value {
    json!({ "uri": "/p/", "body": body, "guest": { "name": "Ann", "email": "ann@example.com" } })
}

fn header(headers: &HeaderMap, name: impl reqwest::header::AsHeaderName) -> Option<&str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

/// True when the comma-separated header `name` lists `item` (case-insensitively).
fn lists(headers: &HeaderMap, name: impl reqwest::header::AsHeaderName, item: &str) -> bool {
    headers
        .get_all(name)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|part| part.trim().eq_ignore_ascii_case(item))
}

fn assert_no_allow_origin(headers: &HeaderMap) {
    assert!(
        headers.get(ACCESS_CONTROL_ALLOW_ORIGIN).is_none(),
        "no Access-Control-Allow-Origin expected, got {headers:?}"
    );
}

// ---------------------------------------------------------------------------------------------
// Preflight
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn preflight_from_the_registered_origin_allows_exactly_that_origin() {
    let app = two_sites().await;

    let r = preflight(&app, COMMENTS, BLOG_ORIGIN).await;

    assert_eq!(r.status(), 204);
    let h = r.headers();
    assert_eq!(
        header(h, ACCESS_CONTROL_ALLOW_ORIGIN),
        Some(BLOG_ORIGIN),
        "{h:?}"
    );
    assert!(lists(h, ACCESS_CONTROL_ALLOW_METHODS, "POST"), "{h:?}");
    assert!(
        lists(h, ACCESS_CONTROL_ALLOW_HEADERS, "Idempotency-Key"),
        "{h:?}"
    );
    assert!(
        lists(h, ACCESS_CONTROL_ALLOW_HEADERS, "Content-Type"),
        "{h:?}"
    );
    assert!(lists(h, VARY, "Origin"), "{h:?}");
    assert_eq!(app.comment_count().await, 0, "a preflight stores nothing");
}

#[tokio::test]
async fn preflight_is_allowed_on_every_public_resource_of_the_site() {
    let app = two_sites().await;

    for path in [
        "/api/v1/sites/blog",
        THREAD,
        "/api/v1/sites/blog/counts?uri=/p/",
        COMMENTS,
    ] {
        let r = preflight(&app, path, BLOG_ORIGIN).await;
        assert_eq!(r.status(), 204, "{path}");
        assert_eq!(
            header(r.headers(), ACCESS_CONTROL_ALLOW_ORIGIN),
            Some(BLOG_ORIGIN),
            "{path}"
        );
    }
    let r = preflight(&app, "/api/v1/sites/other/comments", OTHER_ORIGIN).await;
    assert_eq!(r.status(), 204);
    assert_eq!(
        header(r.headers(), ACCESS_CONTROL_ALLOW_ORIGIN),
        Some(OTHER_ORIGIN)
    );
}

#[tokio::test]
async fn preflight_from_a_foreign_origin_is_refused() {
    let app = two_sites().await;

    let r = preflight(&app, COMMENTS, EVIL).await;

    assert_no_allow_origin(r.headers());
    assert_error(r, 403, "origin_not_allowed").await;
}

#[tokio::test]
async fn preflight_from_another_sites_origin_is_refused() {
    let app = two_sites().await;

    let r = preflight(&app, COMMENTS, OTHER_ORIGIN).await;

    assert_no_allow_origin(r.headers());
    assert_error(r, 403, "origin_not_allowed").await;
}

#[tokio::test]
async fn preflight_for_an_unknown_site_is_not_found() {
    let app = two_sites().await;

    for path in [
        "/api/v1/sites/nosuchsite/comments",
        "/api/v1/sites/nosuchsite/thread?uri=/p/",
    ] {
        let r = preflight(&app, path, BLOG_ORIGIN).await;
        assert_no_allow_origin(r.headers());
        assert_error(r, 404, "not_found").await;
    }
}

// ---------------------------------------------------------------------------------------------
// State-changing requests
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn post_from_a_foreign_origin_is_refused_and_stores_nothing() {
    let app = two_sites().await;

    for origin in [EVIL, OTHER_ORIGIN] {
        let r = post_from(&app, origin, &guest_comment("from elsewhere")).await;
        assert_no_allow_origin(r.headers());
        assert_error(r, 403, "origin_not_allowed").await;
    }

    assert_eq!(app.comment_count().await, 0);
}

#[tokio::test]
async fn post_from_the_registered_origin_is_created_and_readable() {
    let app = two_sites().await;

    let r = post_from(&app, BLOG_ORIGIN, &guest_comment("from the blog")).await;

    assert_eq!(r.status(), 201);
    assert_eq!(
        header(r.headers(), ACCESS_CONTROL_ALLOW_ORIGIN),
        Some(BLOG_ORIGIN)
    );
    assert!(lists(r.headers(), VARY, "Origin"), "{:?}", r.headers());
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["status"], "approved", "{body}");
    assert_eq!(app.comment_count().await, 1);
}

#[tokio::test]
async fn errors_answered_to_the_registered_origin_are_readable_by_the_widget() {
    let app = two_sites().await;

    let r = post_from(&app, BLOG_ORIGIN, &json!({ "uri": "nope", "body": "" })).await;

    assert_eq!(
        header(r.headers(), ACCESS_CONTROL_ALLOW_ORIGIN),
        Some(BLOG_ORIGIN)
    );
    assert_error(r, 400, "validation_failed").await;
    assert_eq!(app.comment_count().await, 0);
}

#[tokio::test]
async fn origin_comparison_is_exact() {
    let app = two_sites().await;
    let lookalikes = [
        "https://blog.example.evil.com",
        "http://blog.example",
        "https://blog.example:8443",
        "https://sub.blog.example",
        "https://blog.exampl",
        "null",
    ];

    for origin in lookalikes {
        let r = post_from(&app, origin, &guest_comment("lookalike")).await;
        assert_eq!(r.status(), 403, "{origin}");
        assert_no_allow_origin(r.headers());
        assert_error(r, 403, "origin_not_allowed").await;
    }

    assert_eq!(app.comment_count().await, 0);
}

// ---------------------------------------------------------------------------------------------
// Reads
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn thread_read_from_the_registered_origin_carries_the_allow_origin_header() {
    let app = two_sites().await;
    app.comment("blog", "/p/", "visible").await;

    let r = get_from(&app, THREAD, Some(BLOG_ORIGIN)).await;

    assert_eq!(r.status(), 200);
    assert_eq!(
        header(r.headers(), ACCESS_CONTROL_ALLOW_ORIGIN),
        Some(BLOG_ORIGIN)
    );
    assert!(lists(r.headers(), VARY, "Origin"), "{:?}", r.headers());
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["comments"].as_array().unwrap().len(), 1, "{body}");
}

#[tokio::test]
async fn thread_read_from_a_foreign_origin_is_answered_without_allow_origin() {
    let app = two_sites().await;
    app.comment("blog", "/p/", "visible").await;

    for origin in [EVIL, OTHER_ORIGIN] {
        let r = get_from(&app, THREAD, Some(origin)).await;
        assert_eq!(r.status(), 200, "{origin}");
        assert_no_allow_origin(r.headers());
        // A cache must not hand this answer to the blog's page, nor the blog's to this one.
        assert!(
            lists(r.headers(), VARY, "Origin"),
            "{origin}: {:?}",
            r.headers()
        );
    }
}

#[tokio::test]
async fn thread_read_without_an_origin_is_a_plain_request() {
    let app = two_sites().await;
    app.comment("blog", "/p/", "visible").await;

    let r = get_from(&app, THREAD, None).await;

    assert_eq!(r.status(), 200);
    assert_no_allow_origin(r.headers());
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["comments"].as_array().unwrap().len(), 1, "{body}");
}

#[tokio::test]
async fn site_and_counts_reads_follow_the_same_rule() {
    let app = two_sites().await;

    for path in ["/api/v1/sites/blog", "/api/v1/sites/blog/counts?uri=/p/"] {
        let r = get_from(&app, path, Some(BLOG_ORIGIN)).await;
        assert_eq!(r.status(), 200, "{path}");
        assert_eq!(
            header(r.headers(), ACCESS_CONTROL_ALLOW_ORIGIN),
            Some(BLOG_ORIGIN),
            "{path}"
        );

        let r = get_from(&app, path, Some(EVIL)).await;
        assert_eq!(r.status(), 200, "{path}");
        assert_no_allow_origin(r.headers());
    }
}
