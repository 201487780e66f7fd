//! One site's rules can't stall the others (issue 10, point 4): a per-site rule cap that holds
//! under concurrent creates, patterns bounded when they are written, a rule set compiled once
//! per version, and matching that runs off the async workers.

use std::time::Duration;

use colloquy::auth::moderators::Role;
use colloquy::domain::Policy;
use serde_json::{Value, json};

use crate::helpers::{SiteOpts, TestApp, assert_error, spawn_app_with};
use crate::moderators::{add_moderator, login, post};

/// A near-limit pattern: Unicode `\w` four times compiles to most of the 256 KiB bound.
fn heavy(i: usize) -> String {
    format!(r"\w{{4}}q{i}z")
}

async fn metric(app: &TestApp, name: &str) -> u64 {
    let text = app.get("/metrics").await.text().await.unwrap();
    text.lines()
        .find_map(|l| l.strip_prefix(&format!("{name} ")))
        .unwrap_or_else(|| panic!("{name} not in /metrics"))
        .trim()
        .parse()
        .unwrap()
}

#[tokio::test]
async fn rules_are_capped_per_site_even_under_concurrent_creates_and_bounded_when_written() {
    let app = spawn_app_with(|s| s.moderation.max_rules_per_site = 5).await;
    let site = app.create_site(SiteOpts::default()).await;
    add_moderator(&app, "mod@example.com", &site, Role::Moderator).await;
    let token = login(&app, "mod@example.com").await;

    // Bounds: a pattern over the compiled-size or the length limit is a 400 when it is written.
    for pattern in [r"\w{50}".to_owned(), "a".repeat(501)] {
        let r = post(
            &app,
            "/sites/blog/rules",
            &token,
            json!({ "kind": "regex", "pattern": pattern, "action": "hold" }),
        )
        .await;
        let body = assert_error(r, 400, "validation_failed").await;
        assert!(body["error"]["details"]["pattern"].is_string(), "{body}");
    }
    let r = post(
        &app,
        "/sites/blog/rules",
        &token,
        json!({ "kind": "regex", "pattern": heavy(0), "action": "hold" }),
    )
    .await;
    assert_eq!(r.status(), 201, "a near-limit pattern is fine");

    // Ten concurrent creates on a site with one rule and room for four more.
    let mut tasks = vec![];
    for i in 1..=10 {
        let client = app.client.clone();
        let url = app.url("/api/mod/v1/sites/blog/rules");
        let token = token.clone();
        tasks.push(tokio::spawn(async move {
            client
                .post(url)
                .bearer_auth(token)
                .json(&json!({ "kind": "word", "pattern": format!("spam{i}"), "action": "hold" }))
                .send()
                .await
                .unwrap()
        }));
    }
    let (mut created, mut refused) = (0, 0);
    for t in tasks {
        let r = t.await.unwrap();
        match r.status().as_u16() {
            201 => created += 1,
            409 => {
                let body = assert_error(r, 409, "too_many_rules").await;
                assert_eq!(body["error"]["details"]["max_rules"], 5, "{body}");
                refused += 1;
            }
            s => panic!("unexpected {s}"),
        }
    }
    assert_eq!((created, refused), (4, 6));
    let stored: i64 = sqlx::query_scalar("SELECT count(*) FROM rules")
        .fetch_one(&app.db)
        .await
        .unwrap();
    assert_eq!(stored, 5, "the cap holds in the database");

    // Deleting one makes room again.
    let id: uuid::Uuid = sqlx::query_scalar("SELECT id FROM rules LIMIT 1")
        .fetch_one(&app.db)
        .await
        .unwrap();
    let r = crate::moderators::delete(&app, &format!("/sites/blog/rules/{id}"), &token).await;
    assert_eq!(r.status(), 204);
    let r = post(
        &app,
        "/sites/blog/rules",
        &token,
        json!({ "kind": "word", "pattern": "again", "action": "hold" }),
    )
    .await;
    assert_eq!(r.status(), 201);
}

async fn post_comment(
    client: reqwest::Client,
    url: String,
    uri: &str,
    body: String,
    email: &str,
) -> (u16, Value) {
    let r = client
        .post(url)
        .timeout(Duration::from_secs(300))
        .json(&json!({ "uri": uri, "body": body, "guest": { "name": "Ann", "email": email } }))
        .send()
        .await
        .unwrap();
    let status = r.status().as_u16();
    (status, r.json().await.unwrap())
}

#[tokio::test]
async fn a_site_at_the_cap_of_heavy_rules_stalls_no_other_site() {
    // One actix worker: if rule work ran on it, nothing else could be answered meanwhile.
    let app = spawn_app_with(|s| s.server.workers = 1).await;
    let cap = app.settings.moderation.max_rules_per_site as usize;
    let heavy_site = app
        .create_site(SiteOpts {
            slug: "heavy",
            policy: Policy::Post,
            ..Default::default()
        })
        .await;
    app.create_site(SiteOpts {
        slug: "light",
        ..Default::default()
    })
    .await;
    assert_eq!(app.comment("light", "/p/", "first").await.len(), 36);
    // The cap's worth of near-limit patterns (each one accepted by the rule API's check).
    for i in 0..cap {
        assert!(colloquy::moderation::matcher::validate_rule("regex", &heavy(i)).is_ok());
        sqlx::query(
            "INSERT INTO rules (id, site_id, kind, pattern, action) VALUES (gen_random_uuid(), $1, 'regex', $2, 'hold')",
        )
        .bind(heavy_site.id)
        .bind(heavy(i))
        .execute(&app.db)
        .await
        .unwrap();
    }
    let compiles_before = metric(&app, "colloquy_rule_compiles_total").await;
    let long = "lorem ipsum dolor sit amet ".repeat(350);

    let mut overlapped = false;
    for attempt in 0..5 {
        // A new version each attempt (the trigger bumps it), so the first posts compile again.
        sqlx::query("UPDATE rules SET note = $1 WHERE site_id = $2")
            .bind(format!("attempt {attempt}"))
            .bind(heavy_site.id)
            .execute(&app.db)
            .await
            .unwrap();
        let heavy_posts: Vec<_> = (0..24)
            .map(|i| {
                tokio::spawn(post_comment(
                    app.client.clone(),
                    app.url("/api/v1/sites/heavy/comments"),
                    "/heavy/",
                    format!("{long} {attempt}-{i}"),
                    "heavy@example.com",
                ))
            })
            .collect();
        // Wait until a heavy rule job runs. The scrape that sees it is answered by the only
        // worker while the job runs: the job is not on that worker.
        let mut seen = false;
        for _ in 0..2000 {
            if metric(&app, "colloquy_rule_jobs_running").await >= 1 {
                seen = true;
                break;
            }
            if heavy_posts.iter().all(|h| h.is_finished()) {
                break;
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        if seen {
            // The other site's read and post are answered while the heavy site's posts are
            // still in flight.
            let (status, thread) = app.get_json("/api/v1/sites/light/thread?uri=/p/").await;
            assert_eq!(status, 200, "{thread}");
            let (status, posted) = post_comment(
                app.client.clone(),
                app.url("/api/v1/sites/light/comments"),
                "/p/",
                format!("light during heavy {attempt}"),
                "light@example.com",
            )
            .await;
            assert_eq!(status, 201, "{posted}");
            let busy = metric(&app, "colloquy_rule_jobs_running").await
                + metric(&app, "colloquy_rule_jobs_waiting").await;
            if busy >= 1 && heavy_posts.iter().any(|h| !h.is_finished()) {
                overlapped = true;
            }
        }
        for h in heavy_posts {
            let (status, body) = h.await.unwrap();
            assert_eq!(status, 201, "{body}");
        }
        // Once per version, however many posts asked for it at once.
        assert_eq!(
            metric(&app, "colloquy_rule_compiles_total").await,
            compiles_before + attempt + 1
        );
        if overlapped {
            break;
        }
    }
    assert!(
        overlapped,
        "the light site was never served while heavy rule jobs were in flight"
    );
}
