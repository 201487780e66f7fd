//! The submit pipeline over HTTP: bans, flood limits, duplicates, site rules, the spam score,
//! the Akismet-compatible check, trust, and that a refused comment leaves nothing behind.

use serde_json::{Value, json};
use wiremock::matchers::{body_string_contains, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::helpers::{SiteOpts, TestApp, assert_error, spawn_app, spawn_app_with};
use colloquy::domain::Policy;

mod akismet;
mod bans;

async fn site_id(app: &TestApp) -> uuid::Uuid {
    sqlx::query_scalar("SELECT id FROM sites WHERE slug = 'blog'")
        .fetch_one(&app.db)
        .await
        .unwrap()
}

async fn rule(app: &TestApp, kind: &str, pattern: &str, action: &str) -> String {
    let id = uuid::Uuid::new_v4();
    sqlx::query(
        "INSERT INTO rules (id, site_id, kind, pattern, action) VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(id)
    .bind(site_id(app).await)
    .bind(kind)
    .bind(pattern)
    .bind(action)
    .execute(&app.db)
    .await
    .unwrap();
    id.to_string()
}

async fn post_from(app: &TestApp, ip: &str, email: &str, body: &str) -> reqwest::Response {
    app.client
        .post(app.url("/api/v1/sites/blog/comments"))
        .header("X-Forwarded-For", ip)
        .json(&json!({ "uri": "/p/", "body": body,
                       "guest": { "name": "Ann", "email": email, "key": crate::helpers::guest_key(email) } }))
        .send()
        .await
        .unwrap()
}

async fn counts(app: &TestApp) -> Vec<i64> {
    let mut out = vec![];
    for t in [
        "comments",
        "users",
        "identities",
        "threads",
        "moderation_events",
    ] {
        out.push(
            sqlx::query_scalar(sqlx::AssertSqlSafe(format!("SELECT count(*) FROM {t}")))
                .fetch_one(&app.db)
                .await
                .unwrap(),
        );
    }
    out
}

async fn trusted_proxy_app() -> TestApp {
    let app =
        spawn_app_with(|s| s.server.trusted_proxies = vec!["127.0.0.1/32".parse().unwrap()]).await;
    app.create_site(SiteOpts::default()).await;
    app
}

#[tokio::test]
async fn flood_limits_answer_429_with_retry_after() {
    let app = spawn_app_with(|s| {
        s.server.trusted_proxies = vec!["127.0.0.1/32".parse().unwrap()];
        s.limits.comment_interval_s = 15;
        s.limits.comments_per_minute_user = 5;
        s.limits.comments_per_minute_ip = 3;
    })
    .await;
    app.create_site(SiteOpts::default()).await;
    assert_eq!(
        post_from(&app, "192.0.2.1", "ann@example.com", "one")
            .await
            .status(),
        201
    );
    let r = post_from(&app, "192.0.2.1", "ann@example.com", "two").await;
    let retry: u64 = r.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=15).contains(&retry), "{retry}");
    let body = assert_error(r, 429, "rate_limited").await;
    assert_eq!(body["error"]["details"]["retry_after_s"], retry);

    // Per IP: other authors from the same address.
    assert_eq!(
        post_from(&app, "192.0.2.9", "b@example.com", "x")
            .await
            .status(),
        201
    );
    assert_eq!(
        post_from(&app, "192.0.2.9", "c@example.com", "y")
            .await
            .status(),
        201
    );
    assert_eq!(
        post_from(&app, "192.0.2.9", "d@example.com", "z")
            .await
            .status(),
        201
    );
    let r = post_from(&app, "192.0.2.9", "e@example.com", "w").await;
    assert!(r.headers().contains_key("retry-after"));
    assert_error(r, 429, "rate_limited").await;
    assert_eq!(app.comment_count().await, 4);
}

#[tokio::test]
async fn per_author_minute_limit_and_site_overrides() {
    let app = spawn_app_with(|s| {
        s.limits.comment_interval_s = 0;
        s.limits.comments_per_minute_user = 2;
    })
    .await;
    app.create_site(SiteOpts::default()).await;
    for text in ["a", "b"] {
        assert_eq!(
            app.post_guest("blog", "/p/", text, "ann@example.com")
                .await
                .0,
            201
        );
    }
    let (status, body) = app.post_guest("blog", "/p/", "c", "ann@example.com").await;
    assert_eq!(status, 429, "{body}");
    // The site raises its own limit.
    sqlx::query("UPDATE sites SET limits = '{\"comments_per_minute_user\": 10}'")
        .execute(&app.db)
        .await
        .unwrap();
    assert_eq!(
        app.post_guest("blog", "/p/", "c", "ann@example.com")
            .await
            .0,
        201
    );
}

#[tokio::test]
async fn the_same_text_twice_in_a_thread_is_a_duplicate() {
    let app = spawn_app().await;
    app.create_site(SiteOpts::default()).await;
    assert_eq!(
        app.post_guest("blog", "/p/", "Same words", "ann@example.com")
            .await
            .0,
        201
    );
    let (status, body) = app
        .post_guest("blog", "/p/", "Same words", "ann@example.com")
        .await;
    assert_eq!(status, 409);
    assert_eq!(body["error"]["code"], "duplicate_comment");
    // Another page, or another author: not a duplicate.
    assert_eq!(
        app.post_guest("blog", "/q/", "Same words", "ann@example.com")
            .await
            .0,
        201
    );
    assert_eq!(
        app.post_guest("blog", "/p/", "Same words", "bob@example.com")
            .await
            .0,
        201
    );
    assert_eq!(app.comment_count().await, 3);
}

#[tokio::test]
async fn word_and_regex_rules_hold_file_as_spam_or_reject() {
    let app = spawn_app().await;
    app.create_site(SiteOpts::default()).await;
    let held = rule(&app, "word", "darn", "hold").await;
    let spam = rule(&app, "regex", r"free\s+money", "spam").await;
    let reject = rule(&app, "word", "slur", "reject").await;

    let (s, b) = app
        .post_guest("blog", "/p/", "Well DARN it.", "a@example.com")
        .await;
    assert_eq!((s, b["status"].as_str()), (201, Some("pending")), "{b}");
    assert_eq!(b["reasons"][0]["rule"], held);
    assert_eq!(b["reasons"][0]["kind"], "word");
    assert_eq!(b["reasons"][0]["matched"], "DARN");
    assert!(
        b["reasons"][0]["message"]
            .as_str()
            .unwrap()
            .starts_with("Held for review")
    );

    // Whole words only: "darned" is not "darn".
    let (_, b) = app
        .post_guest("blog", "/p/", "A darned fine post.", "a@example.com")
        .await;
    assert_eq!(b["status"], "approved", "{b}");

    let (_, b) = app
        .post_guest("blog", "/p/", "Get FREE   money now", "b@example.com")
        .await;
    assert_eq!(b["status"], "spam", "{b}");
    assert_eq!(b["reasons"][0]["rule"], spam);

    let before = counts(&app).await;
    let (s, b) = app
        .post_guest("blog", "/new-page/", "you slur", "new-guest@example.com")
        .await;
    assert_eq!(s, 422, "{b}");
    assert_eq!(b["error"]["code"], "rejected");
    assert_eq!(b["error"]["details"]["rule"], reject);
    assert_eq!(
        counts(&app).await,
        before,
        "no thread, user or comment from a rejected post"
    );
}

#[tokio::test]
async fn links_are_held_past_the_default_limit_or_the_sites_own() {
    let app = spawn_app().await;
    app.create_site(SiteOpts::default()).await;
    let two = "See [a](https://a.example) and [b](https://b.example).";
    let three = "See [a](https://a.example), [b](https://b.example) and [c](https://c.example).";
    let (_, b) = app.post_guest("blog", "/p/", two, "a@example.com").await;
    assert_eq!(b["status"], "approved", "{b}");
    let (_, b) = app.post_guest("blog", "/p/", three, "a@example.com").await;
    assert_eq!(b["status"], "pending", "{b}");
    let reason = b["reasons"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["kind"] == "max_links")
        .unwrap()
        .clone();
    assert_eq!(reason["matched"], "3 links");
    assert_eq!(reason["message"], "Held for review: 3 links.");

    // The site's own rule replaces the default.
    rule(&app, "max_links", "5", "hold").await;
    assert_eq!(
        app.post_guest("blog", "/q/", three, "a@example.com")
            .await
            .1["status"],
        "approved"
    );
}

#[tokio::test]
async fn email_domain_and_ip_list_rules() {
    let app = trusted_proxy_app().await;
    rule(&app, "email_domain", "spammy.example", "spam").await;
    rule(&app, "ip", "203.0.113.0/24", "hold").await;
    let b: Value = post_from(&app, "192.0.2.1", "x@mail.spammy.example", "hello")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(b["status"], "spam", "subdomains count: {b}");
    assert_eq!(b["reasons"][0]["kind"], "email_domain");
    let b: Value = post_from(&app, "203.0.113.50", "y@example.com", "hello")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(b["status"], "pending", "{b}");
    assert_eq!(b["reasons"][0]["kind"], "ip");
    let b: Value = post_from(&app, "192.0.2.2", "z@example.com", "hello")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(b["status"], "approved");
}

#[tokio::test]
async fn the_spam_score_files_obvious_spam() {
    let app = spawn_app().await;
    app.create_site(SiteOpts::default()).await;
    let spam = "CHEAP VIAGRA AND CASINO BONUS https://a.example https://b.example https://c.example https://d.example";
    let (_, b) = app.post_guest("blog", "/p/", spam, "s@example.com").await;
    assert_eq!(b["status"], "spam", "{b}");
    let reason = b["reasons"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["kind"] == "spam_score")
        .unwrap()
        .clone();
    assert!(
        reason["matched"].as_str().unwrap().contains("viagra"),
        "{reason}"
    );
}

#[tokio::test]
async fn trusted_users_skip_rules_and_policy_and_premoderated_users_always_wait() {
    let app = spawn_app_with(|s| s.auth.dev_provider = true).await;
    app.create_site(SiteOpts {
        policy: Policy::Pre,
        ..Default::default()
    })
    .await;
    sqlx::query("UPDATE sites SET providers = '{dev}'")
        .execute(&app.db)
        .await
        .unwrap();
    rule(&app, "word", "darn", "hold").await;
    let token = crate::helpers::reader::login(&app, "Trusty").await;
    let post = |text: &'static str| {
        app.client
            .post(app.url("/api/v1/sites/blog/comments"))
            .bearer_auth(&token)
            .json(&json!({ "uri": "/p/", "body": text }))
            .send()
    };
    let first: Value = post("first").await.unwrap().json().await.unwrap();
    assert_eq!(first["status"], "pending");
    let site = site_id(&app).await;
    let trust = |user: String| {
        sqlx::query(
            "INSERT INTO site_users (site_id, user_id, trusted) VALUES ($1, $2::uuid, true)",
        )
        .bind(site)
        .bind(user)
        .execute(&app.db)
    };
    trust(
        first["comment"]["author"]["id"]
            .as_str()
            .unwrap()
            .to_owned(),
    )
    .await
    .unwrap();
    let b: Value = post("darn, trusted").await.unwrap().json().await.unwrap();
    assert_eq!(b["status"], "approved", "{b}");
    assert_eq!(b["reasons"], json!([]));

    // A guest is whoever types the address: marking one trusted gives a forger nothing.
    let (_, guest) = app
        .post_guest("blog", "/p/", "guest first", "g@example.com")
        .await;
    trust(
        guest["comment"]["author"]["id"]
            .as_str()
            .unwrap()
            .to_owned(),
    )
    .await
    .unwrap();
    let (_, forged) = app
        .post_guest("blog", "/p/", "darn, forged", "g@example.com")
        .await;
    assert_eq!(forged["status"], "pending", "{forged}");

    let app = spawn_app().await;
    app.create_site(SiteOpts::default()).await;
    let (_, first) = app
        .post_guest("blog", "/p/", "first", "p@example.com")
        .await;
    assert_eq!(first["status"], "approved");
    sqlx::query(
        "INSERT INTO site_users (site_id, user_id, premoderated) VALUES ($1, $2::uuid, true)",
    )
    .bind(site_id(&app).await)
    .bind(first["comment"]["author"]["id"].as_str().unwrap())
    .execute(&app.db)
    .await
    .unwrap();
    let (_, b) = app
        .post_guest("blog", "/p/", "second", "p@example.com")
        .await;
    assert_eq!(b["status"], "pending");
    assert_eq!(b["reasons"][0]["kind"], "premoderated");
}
