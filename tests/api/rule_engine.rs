//! One site's rules can't stall the others (issue 10, point 4): a per-site rule cap that holds
//! under concurrent creates, patterns bounded when they are written, a rule set compiled once
//! per version, and matching that runs off the async workers.

use std::time::Duration;

use colloquy::auth::moderators::Role;
use colloquy::domain::Policy;
use serde_json::{Value, json};

use colloquy::moderation::matcher::{RULES_COMPILED_MAX_BYTES, check_budget};

use crate::helpers::moderator::{add_moderator, login, patch, post};
use crate::helpers::{SiteOpts, TestApp, assert_error, spawn_app, spawn_app_with};

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
    let r =
        crate::helpers::moderator::delete(&app, &format!("/sites/blog/rules/{id}"), &token).await;
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

/// The review's rules: each one accepted alone (500 characters, 256 KiB), 200 of them together
/// were 705 MB of per-thread caches and 5.4 s per post.
fn pathological(i: usize) -> String {
    format!("a[ab]{{450}}c{{1,{i}}}")
}

/// How many of the first `pathological` rules fit the site budget next to `others`.
fn fitting(others: &[(&str, &str)]) -> usize {
    let all: Vec<String> = (1..=200).map(pathological).collect();
    (1..=200)
        .take_while(|&n| {
            check_budget(
                others
                    .iter()
                    .copied()
                    .chain(all[..n].iter().map(|p| ("regex", p.as_str()))),
            )
            .is_ok()
        })
        .last()
        .unwrap_or(0)
}

async fn insert_rule(app: &TestApp, site: uuid::Uuid, kind: &str, pattern: &str) {
    sqlx::query(
        "INSERT INTO rules (id, site_id, kind, pattern, action) VALUES (gen_random_uuid(), $1, $2, $3, 'hold')",
    )
    .bind(site)
    .bind(kind)
    .bind(pattern)
    .execute(&app.db)
    .await
    .unwrap();
}

async fn stored_rules(app: &TestApp) -> Vec<(String, String)> {
    sqlx::query_as("SELECT kind, pattern FROM rules ORDER BY created_at, id")
        .fetch_all(&app.db)
        .await
        .unwrap()
}

#[tokio::test]
async fn a_site_rule_set_over_the_compiled_budget_is_refused_and_what_was_stored_stays() {
    let app = spawn_app().await;
    let site = app.create_site(SiteOpts::default()).await;
    add_moderator(&app, "mod@example.com", &site, Role::Moderator).await;
    let token = login(&app, "mod@example.com").await;

    let r = post(
        &app,
        "/sites/blog/rules",
        &token,
        json!({ "kind": "word", "pattern": "fine", "action": "hold" }),
    )
    .await;
    assert_eq!(r.status(), 201);
    let fine: Value = r.json().await.unwrap();
    // As many of the review's patterns as fit next to it: all but the last written by hand,
    // the last through the API (accepted), and one more (refused).
    let k = fitting(&[("word", "fine")]);
    assert!((2..200).contains(&k), "{k} of the 200 fit");
    for i in 1..k {
        insert_rule(&app, site.id, "regex", &pathological(i)).await;
    }
    let r = post(
        &app,
        "/sites/blog/rules",
        &token,
        json!({ "kind": "regex", "pattern": pathological(k), "action": "hold" }),
    )
    .await;
    assert_eq!(r.status(), 201, "the set still fits");
    let before = stored_rules(&app).await;
    assert_eq!(before.len(), k + 1);

    let r = post(
        &app,
        "/sites/blog/rules",
        &token,
        json!({ "kind": "regex", "pattern": pathological(k + 1), "action": "hold" }),
    )
    .await;
    let body = assert_error(r, 409, "rules_too_complex").await;
    assert_eq!(
        body["error"]["details"]["budget_bytes"], RULES_COMPILED_MAX_BYTES,
        "{body}"
    );
    // A change that makes the set too big is refused too; one that keeps it is fine.
    let fine_path = format!("/sites/blog/rules/{}", fine["id"].as_str().unwrap());
    let r = patch(
        &app,
        &fine_path,
        &token,
        json!({ "kind": "regex", "pattern": pathological(150) }),
    )
    .await;
    assert_error(r, 409, "rules_too_complex").await;
    assert_eq!(stored_rules(&app).await, before, "nothing was written");
    let r = patch(&app, &fine_path, &token, json!({ "action": "spam" })).await;
    assert_eq!(r.status(), 200);
    assert_eq!(stored_rules(&app).await, before);

    // The whole review set as a dry-run's proposal: the same budget.
    let rules: Vec<Value> = (1..=200)
        .map(|i| json!({ "kind": "regex", "pattern": pathological(i), "action": "hold" }))
        .collect();
    let r = post(
        &app,
        "/sites/blog/rules/dry-run",
        &token,
        json!({ "rules": rules, "sample": 1 }),
    )
    .await;
    let body = assert_error(r, 409, "rules_too_complex").await;
    assert_eq!(
        body["error"]["details"]["budget_bytes"],
        RULES_COMPILED_MAX_BYTES
    );
}

#[tokio::test]
async fn a_dry_run_over_the_work_cap_is_refused_and_the_default_sample_fits_it() {
    let app = spawn_app().await;
    let site = app.create_site(SiteOpts::default()).await;
    add_moderator(&app, "mod@example.com", &site, Role::Moderator).await;
    let token = login(&app, "mod@example.com").await;
    app.comment("blog", "/p/", "hello").await;
    let words: Vec<Value> = (0..200)
        .map(|i| json!({ "kind": "word", "pattern": format!("w{i}"), "action": "hold" }))
        .collect();
    let dry_run = |body: Value| post(&app, "/sites/blog/rules/dry-run", &token, body);

    // 200 rules × 1000 comments is over 100000.
    let r = dry_run(json!({ "rules": words, "sample": 1000 })).await;
    let body = assert_error(r, 400, "validation_failed").await;
    let why = body["error"]["details"]["sample"].as_str().unwrap();
    assert!(
        why.contains("at most 500") && why.contains("100000"),
        "{why}"
    );
    // At the cap: fine; without a sample, as many as the cap allows.
    let r = dry_run(json!({ "rules": words, "sample": 500 })).await;
    assert_eq!(r.status(), 200);
    let r = dry_run(json!({ "rules": words })).await;
    assert_eq!(r.status(), 200);
    let r = dry_run(json!({ "rules": [], "sample": 5000 })).await;
    assert_eq!(r.status(), 200);
    let answer: Value = r.json().await.unwrap();
    assert_eq!(
        (answer["sampled"].as_u64(), answer["complete"].as_bool()),
        (Some(1), Some(true))
    );
}

/// A site with 1000 comments that are slow to replay under the review's rules (as many of
/// them as fit the budget): the app, a moderator's token, the proposed rules and the sample.
async fn slow_dry_run_site() -> (TestApp, String, Vec<Value>, usize) {
    let app = spawn_app().await;
    let site = app
        .create_site(SiteOpts {
            policy: Policy::Post,
            ..Default::default()
        })
        .await;
    add_moderator(&app, "mod@example.com", &site, Role::Moderator).await;
    let token = login(&app, "mod@example.com").await;
    // Comments that are slow to replay under the review's rules (as many as fit the budget),
    // many of them.
    let mut x: u64 = 12345;
    let body: String = (0..5000)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            if x & 1 == 0 { 'a' } else { 'b' }
        })
        .collect();
    let (status, posted) = app
        .post_guest("blog", "/p/", &body, "ann@example.com")
        .await;
    assert!(status == 201 || status == 202, "{posted}");
    let id = posted["comment"]["id"].as_str().unwrap().to_owned();
    sqlx::query(
        "INSERT INTO comments
         SELECT (jsonb_populate_record(c, jsonb_build_object('id', n.id, 'root_id', n.id))).*
         FROM comments c, (SELECT gen_random_uuid() AS id FROM generate_series(1, 999)) n
         WHERE c.id = $1::uuid",
    )
    .bind(&id)
    .execute(&app.db)
    .await
    .unwrap();
    let k = fitting(&[]);
    let rules: Vec<Value> = (1..=k)
        .map(|i| json!({ "kind": "regex", "pattern": pathological(i), "action": "hold" }))
        .collect();
    let sample = (100_000 / k).min(1000);
    (app, token, rules, sample)
}

#[tokio::test]
async fn a_dry_run_that_outlasts_its_time_limit_answers_for_what_it_replayed() {
    let (app, token, rules, sample) = slow_dry_run_site().await;
    let r = app
        .client
        .post(app.url("/api/mod/v1/sites/blog/rules/dry-run"))
        .bearer_auth(&token)
        .timeout(Duration::from_secs(300))
        .json(&json!({ "rules": rules, "sample": sample }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let answer: Value = r.json().await.unwrap();
    assert_eq!(answer["complete"], false, "{}", answer["sampled"]);
    let replayed = answer["sampled"].as_u64().unwrap();
    assert!(replayed < sample as u64, "{replayed} of {sample}");
    assert_eq!(
        answer["unchanged"], replayed,
        "nothing matches: every verdict stays"
    );
}

#[tokio::test]
async fn a_dry_run_whose_client_went_away_stops_and_frees_the_sites_job() {
    let (app, token, rules, sample) = slow_dry_run_site().await;

    let replayed_before = metric(&app, "colloquy_rule_dry_run_replayed_total").await;
    let cancelled_before = metric(&app, "colloquy_rule_dry_runs_cancelled_total").await;
    // The client gives up once the replay has begun.
    let request = app
        .client
        .post(app.url("/api/mod/v1/sites/blog/rules/dry-run"))
        .bearer_auth(&token)
        .json(&json!({ "rules": rules, "sample": sample }))
        .send();
    let replay_started = async {
        loop {
            if metric(&app, "colloquy_rule_dry_run_replayed_total").await > replayed_before {
                break;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    };
    tokio::select! {
        r = request => panic!("the dry-run of {sample} slow comments answered: {:?}", r.map(|r| r.status())),
        _ = tokio::time::timeout(Duration::from_secs(120), replay_started) => {}
    }
    // The request future (and its connection) is dropped here.

    // The replay notices at the next comment: the cancelled count goes up, the replayed count
    // stops well short of the sample, and the site's job permit is free again.
    let mut stopped = false;
    for _ in 0..1200 {
        if metric(&app, "colloquy_rule_dry_runs_cancelled_total").await > cancelled_before {
            stopped = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(stopped, "the dry-run never stopped");
    let replayed = metric(&app, "colloquy_rule_dry_run_replayed_total").await - replayed_before;
    assert!(
        replayed < sample as u64,
        "stopped after {replayed} of {sample}"
    );
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(
        metric(&app, "colloquy_rule_dry_run_replayed_total").await - replayed_before,
        replayed,
        "nothing replayed after it stopped"
    );
    let mut free = false;
    for _ in 0..600 {
        if metric(&app, "colloquy_rule_jobs_running").await == 0 {
            free = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(free, "the site's rule job still runs");
    // The site answers a small dry-run at once (its permit isn't held by the abandoned one).
    let r = tokio::time::timeout(
        Duration::from_secs(60),
        post(
            &app,
            "/sites/blog/rules/dry-run",
            &token,
            json!({ "rules": [], "sample": 1 }),
        ),
    )
    .await
    .expect("the site's dry-run waited on the abandoned one");
    assert_eq!(r.status(), 200);
}
