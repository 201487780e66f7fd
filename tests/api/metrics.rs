//! `/metrics`: Prometheus text with request, queue, decision and login series after real
//! traffic, labelled by route templates, slugs and kinds — never by ids, paths or emails.

use std::collections::HashMap;

use colloquy::auth::moderators::Role;
use colloquy::domain::Policy;
use serde_json::{Value, json};

use crate::helpers::moderator::{add_moderator, json_of, login as mod_login, post};
use crate::helpers::{SiteOpts, TestApp, spawn_app_with};

/// Every sample of a metric in a scrape: (labels, value).
fn series(body: &str, name: &str) -> Vec<(HashMap<String, String>, f64)> {
    body.lines()
        .filter(|l| !l.starts_with('#'))
        .filter_map(|l| {
            let rest = l.strip_prefix(name)?;
            let (labels, value) = if let Some(rest) = rest.strip_prefix('{') {
                let end = rest.rfind('}')?;
                (&rest[..end], rest[end + 1..].trim())
            } else if rest.starts_with(' ') {
                ("", rest.trim())
            } else {
                return None;
            };
            let labels = labels
                .split("\",")
                .filter(|p| !p.is_empty())
                .filter_map(|p| {
                    let (k, v) = p.split_once('=')?;
                    Some((k.to_owned(), v.trim_matches('"').to_owned()))
                })
                .collect();
            Some((labels, value.parse().ok()?))
        })
        .collect()
}

/// The value of the one sample of `name` whose labels include all of `want`.
fn value(body: &str, name: &str, want: &[(&str, &str)]) -> Option<f64> {
    series(body, name)
        .into_iter()
        .find(|(labels, _)| {
            want.iter()
                .all(|(k, v)| labels.get(*k).map(String::as_str) == Some(*v))
        })
        .map(|(_, v)| v)
}

async fn scrape(app: &TestApp) -> String {
    let r = app.get("/metrics").await;
    assert_eq!(r.status(), 200);
    let ct = r.headers()["content-type"].to_str().unwrap().to_owned();
    assert!(ct.starts_with("text/plain; version=0.0.4"), "{ct}");
    r.text().await.unwrap()
}

#[tokio::test]
async fn a_scrape_after_traffic_has_every_series_and_no_ids_or_emails_in_labels() {
    let app = spawn_app_with(|s| s.auth.dev_provider = true).await;
    let site = app
        .create_site(SiteOpts {
            slug: "metered",
            policy: Policy::Pre,
            ..Default::default()
        })
        .await;
    sqlx::query("UPDATE sites SET providers = '{dev}'")
        .execute(&app.db)
        .await
        .unwrap();

    // Two guests' comments wait in the queue; one of them an hour old.
    let mut ids = vec![];
    for (body, email) in [
        ("first", "secret.person@example.com"),
        ("second", "other@example.com"),
    ] {
        let (status, json) = app.post_guest("metered", "/post/", body, email).await;
        assert_eq!(status, 201, "{json}");
        assert_eq!(json["status"], "pending");
        ids.push(json["comment"]["id"].as_str().unwrap().to_owned());
    }
    sqlx::query("UPDATE comments SET created_at = now() - interval '1 hour' WHERE id = $1::uuid")
        .bind(&ids[0])
        .execute(&app.db)
        .await
        .unwrap();
    // A refused one (a reply to a comment that doesn't exist is no pipeline decision, a
    // duplicate is).
    let (status, _) = app
        .post_guest("metered", "/post/", "second", "other@example.com")
        .await;
    assert_eq!(status, 409);

    // A dev login that works and a callback with a forged state.
    let r = app
        .get("/auth/dev/login?site=metered&origin=https://blog.example")
        .await;
    assert_eq!(r.status(), 302);
    let state = r.headers()["location"]
        .to_str()
        .unwrap()
        .rsplit_once('=')
        .unwrap()
        .1
        .to_owned();
    let page = app
        .client
        .post(app.url("/auth/dev/callback"))
        .form(&[("state", state.as_str()), ("name", "Ann")])
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let token = crate::helpers::reader::posted(&page)["message"]["token"]
        .as_str()
        .unwrap()
        .to_owned();
    app.client
        .post(app.url("/auth/dev/callback"))
        .form(&[("state", "forged"), ("name", "Mallory")])
        .send()
        .await
        .unwrap();
    // Junk providers named in URLs must not become label values.
    app.get("/auth/evil-provider-1234/callback?state=x&code=y")
        .await;

    // A moderator approves the hour-old comment.
    add_moderator(&app, "mod@example.com", &site, Role::Moderator).await;
    let mod_token = mod_login(&app, "mod@example.com").await;
    json_of(
        post(
            &app,
            &format!("/comments/{}/actions", ids[0]),
            &mod_token,
            json!({ "action": "approve" }),
        )
        .await,
        200,
    )
    .await;

    // Reads and misses, with ids in their paths.
    let (status, _): (u16, Value) = app
        .get_json("/api/v1/sites/metered/thread?uri=/post/")
        .await;
    assert_eq!(status, 200);
    assert_eq!(app.get(&format!("/no/such/{}", ids[1])).await.status(), 404);
    let r = app
        .client
        .patch(app.url(&format!("/api/v1/comments/{}", ids[1])))
        .bearer_auth(&token)
        .json(&json!({ "body": "not mine" }))
        .send()
        .await
        .unwrap();
    // Someone else's pending comment: hidden.
    assert_eq!(r.status(), 404);

    let body = scrape(&app).await;

    // Requests, by route template and status.
    let thread = [
        ("method", "GET"),
        ("route", "/api/v1/sites/{site}/thread"),
        ("status", "200"),
    ];
    assert!(
        value(&body, "colloquy_http_requests_total", &thread).unwrap() >= 1.0,
        "{body}"
    );
    assert!(
        value(
            &body,
            "colloquy_http_request_duration_seconds_count",
            &thread
        )
        .unwrap()
            >= 1.0
    );
    assert!(
        value(
            &body,
            "colloquy_http_request_duration_seconds_bucket",
            &[("route", "/api/v1/sites/{site}/thread"), ("le", "+Inf")]
        )
        .is_some(),
        "{body}"
    );
    assert!(
        value(
            &body,
            "colloquy_http_requests_total",
            &[
                ("method", "PATCH"),
                ("route", "/api/v1/comments/{id}"),
                ("status", "404")
            ]
        )
        .is_some(),
        "{body}"
    );
    assert!(
        value(
            &body,
            "colloquy_http_requests_total",
            &[("route", "unmatched"), ("status", "404")]
        )
        .is_some()
    );

    // The queue, computed at scrape time.
    assert_eq!(
        value(&body, "colloquy_queue_pending", &[("site", "metered")]),
        Some(1.0)
    );
    let age = value(
        &body,
        "colloquy_queue_oldest_pending_age_seconds",
        &[("site", "metered")],
    )
    .unwrap();
    assert!(
        (0.0..600.0).contains(&age),
        "the hour-old one left the queue: {age}"
    );

    // Decisions: the pipeline's, by status and reason kind; the moderator's, with its wait.
    let m = "metered";
    assert_eq!(
        value(
            &body,
            "colloquy_decisions_total",
            &[("site", m), ("actor", "pipeline"), ("action", "pending")]
        ),
        Some(2.0),
        "{body}"
    );
    assert_eq!(
        value(
            &body,
            "colloquy_decisions_total",
            &[("site", m), ("actor", "pipeline"), ("action", "refused")]
        ),
        Some(1.0)
    );
    assert_eq!(
        value(
            &body,
            "colloquy_decision_reasons_total",
            &[("site", m), ("kind", "duplicate_comment")]
        ),
        Some(1.0)
    );
    assert!(
        series(&body, "colloquy_decision_reasons_total")
            .iter()
            .any(|(l, _)| l.get("site").map(String::as_str) == Some(m)
                && l.get("kind").is_some_and(|k| k.starts_with("policy"))),
        "{body}"
    );
    assert_eq!(
        value(
            &body,
            "colloquy_decisions_total",
            &[("site", m), ("actor", "moderator"), ("action", "approve")]
        ),
        Some(1.0)
    );
    let waited = value(
        &body,
        "colloquy_decision_latency_seconds_sum",
        &[("site", m), ("action", "approve")],
    )
    .unwrap();
    assert!(
        (3500.0..3700.0).contains(&waited),
        "submit-to-decision {waited}"
    );
    assert_eq!(
        value(
            &body,
            "colloquy_decision_latency_seconds_bucket",
            &[("site", m), ("action", "approve"), ("le", "3600")]
        ),
        Some(0.0)
    );

    // Logins by provider and outcome.
    assert!(
        value(
            &body,
            "colloquy_logins_total",
            &[("provider", "dev"), ("outcome", "success")]
        )
        .unwrap()
            >= 1.0
    );
    assert!(
        value(
            &body,
            "colloquy_logins_total",
            &[("provider", "dev"), ("outcome", "invalid_state")]
        )
        .unwrap()
            >= 1.0
    );
    assert!(
        value(
            &body,
            "colloquy_logins_total",
            &[("provider", "unknown"), ("outcome", "invalid_state")]
        )
        .is_some()
    );

    // Nothing personal or unbounded in any label (of any app in this process).
    let uuid =
        regex::Regex::new(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}").unwrap();
    assert!(!uuid.is_match(&body), "an id in a label: {body}");
    for secret in [
        &token,
        "@",
        "127.0.0.1",
        "evil-provider",
        "/no/such",
        "Mallory",
    ] {
        assert!(!body.contains(secret), "{secret} in the scrape");
    }
    assert!(
        series(&body, "colloquy_http_requests_total")
            .iter()
            .all(|(l, _)| l["route"] == "unmatched" || l["route"].starts_with('/'))
    );
}

#[tokio::test]
async fn metrics_can_be_turned_off() {
    let app = spawn_app_with(|s| s.metrics.enabled = false).await;
    assert_eq!(app.get("/metrics").await.status(), 404);
}
