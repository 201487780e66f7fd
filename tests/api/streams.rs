//! Event streams are bounded: per client IP (IPv6 by /64) and per node, each with a maximum
//! lifetime, and a closed stream frees its slot. Driven over real HTTP; the client IP is picked
//! with X-Forwarded-For from a trusted proxy (the test client).

use std::time::Duration;

use colloquy::config::Settings;
use reqwest::Response;

use crate::helpers::{SiteOpts, TestApp, assert_error, spawn_app_with};

const EVENTS: &str = "/api/v1/sites/blog/events?uri=/live/";

async fn app_with(customize: impl FnOnce(&mut Settings)) -> TestApp {
    let app = spawn_app_with(|s| {
        s.server.trusted_proxies = vec!["127.0.0.1/32".parse().unwrap()];
        customize(s);
    })
    .await;
    app.create_site(SiteOpts::default()).await;
    app
}

/// Opens a stream as client `ip`; the answer's body is left unread (the stream stays open
/// while the response is held).
async fn open(app: &TestApp, path: &str, ip: &str) -> Response {
    app.client
        .get(app.url(path))
        .header("X-Forwarded-For", ip)
        .header("Origin", "https://blog.example")
        .header("Accept", "text/event-stream")
        .send()
        .await
        .unwrap()
}

async fn open_ok(app: &TestApp, ip: &str) -> Response {
    let r = open(app, EVENTS, ip).await;
    assert_eq!(r.status(), 200, "stream from {ip}");
    assert_eq!(
        r.headers()["content-type"].to_str().unwrap(),
        "text/event-stream"
    );
    r
}

/// The refusal is the contract's JSON error with a Retry-After.
async fn assert_refused(r: Response, status: u16, code: &str) {
    let retry_after: u64 = r
        .headers()
        .get("retry-after")
        .expect("Retry-After")
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(retry_after >= 1);
    assert_error(r, status, code).await;
}

/// Opens streams from `ip` until one is answered 200 again (a closed stream's slot is freed
/// once the server notices the close); gives up after many attempts.
async fn reopen_eventually(app: &TestApp, ip: &str) -> Response {
    for _ in 0..200 {
        let r = open(app, EVENTS, ip).await;
        if r.status() == 200 {
            return r;
        }
        assert_eq!(r.status(), 429);
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the closed stream's slot was never freed");
}

#[tokio::test]
async fn one_client_ip_holds_at_most_per_ip_streams() {
    let app = app_with(|s| s.streams.per_ip = 3).await;
    let mut held = vec![];
    for _ in 0..3 {
        held.push(open_ok(&app, "203.0.113.5").await);
    }
    assert_refused(open(&app, EVENTS, "203.0.113.5").await, 429, "rate_limited").await;
    // Moderators' queue streams count against the same cap (refused before any login check).
    assert_refused(
        open(&app, "/api/mod/v1/sites/blog/events", "203.0.113.5").await,
        429,
        "rate_limited",
    )
    .await;
    // Another client is unaffected.
    held.push(open_ok(&app, "203.0.113.6").await);
    // The moderator stream is still authenticated when the client has room.
    assert_error(
        open(&app, "/api/mod/v1/sites/blog/events", "203.0.113.7").await,
        401,
        "unauthenticated",
    )
    .await;
}

#[tokio::test]
async fn an_ipv6_slash_64_is_one_client() {
    let app = app_with(|s| s.streams.per_ip = 2).await;
    let _a = open_ok(&app, "2001:db8:1:2::1").await;
    let _b = open_ok(&app, "2001:db8:1:2:ffff:ffff:ffff:9").await;
    // A neighbour in the same /64 shares the cap...
    assert_refused(
        open(&app, EVENTS, "2001:db8:1:2::abcd").await,
        429,
        "rate_limited",
    )
    .await;
    // ...the next /64 doesn't.
    let _c = open_ok(&app, "2001:db8:1:3::1").await;
}

#[tokio::test]
async fn closing_a_stream_frees_its_slot() {
    // A vanished client is noticed when its stream next writes: keepalives each second.
    let app = app_with(|s| {
        s.streams.per_ip = 1;
        s.streams.keepalive_s = 1;
    })
    .await;
    let first = open_ok(&app, "198.51.100.20").await;
    assert_refused(
        open(&app, EVENTS, "198.51.100.20").await,
        429,
        "rate_limited",
    )
    .await;
    drop(first);
    let _again = reopen_eventually(&app, "198.51.100.20").await;
    assert_refused(
        open(&app, EVENTS, "198.51.100.20").await,
        429,
        "rate_limited",
    )
    .await;
}

#[tokio::test]
async fn a_full_node_answers_503_and_health_still_answers() {
    let app = app_with(|s| {
        s.streams.per_ip = 100;
        s.streams.per_node = 3;
        s.streams.keepalive_s = 1;
    })
    .await;
    let mut held = vec![];
    for i in 1..=3 {
        held.push(open_ok(&app, &format!("192.0.2.{i}")).await);
    }
    assert_refused(open(&app, EVENTS, "192.0.2.99").await, 503, "unavailable").await;
    // The node still answers everything else, its readiness check first.
    let r = app.get("/health/ready").await;
    assert_eq!(r.status(), 200);
    let r = app.get("/api/v1/sites/blog/thread?uri=/live/").await;
    assert_eq!(r.status(), 200);
    // One closes: a newcomer gets its place.
    held.pop();
    let _n = reopen_node_eventually(&app, "192.0.2.100").await;
}

async fn reopen_node_eventually(app: &TestApp, ip: &str) -> Response {
    for _ in 0..200 {
        let r = open(app, EVENTS, ip).await;
        if r.status() == 200 {
            return r;
        }
        assert_eq!(r.status(), 503);
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the closed stream's slot was never freed");
}

#[tokio::test]
async fn a_stream_ends_after_its_lifetime_with_a_retry_hint() {
    let app = app_with(|s| {
        s.streams.per_ip = 1;
        s.streams.max_lifetime_s = 1;
        s.streams.reconnect_ms = 4321;
    })
    .await;
    let r = open_ok(&app, "198.51.100.30").await;
    // The whole body: the stream ends by itself.
    let body = tokio::time::timeout(Duration::from_secs(30), r.text())
        .await
        .expect("the stream ends")
        .unwrap();
    assert!(
        body.starts_with("retry: 4321\n\n"),
        "the first hint is the configured one: {body:?}"
    );
    assert!(body.ends_with("retry: 4321\n\n"), "{body:?}");
    // Its slot is free again: the client reconnects.
    let _again = open_ok(&app, "198.51.100.30").await;
}
