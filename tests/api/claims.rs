//! Queue claims over real HTTP: two moderators claiming at once never get the same item;
//! release, leases that run out, decisions ending a claim, another site's items out of reach;
//! the queue's live events (Server-Sent Events) for moderators; and the ETag that carries a
//! comment's version.

use std::collections::HashSet;
use std::time::Duration;

use colloquy::auth::moderators::Role;
use colloquy::domain::Policy;
use colloquy::sites::Site;
use reqwest::Response;
use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;
use uuid::Uuid;

use crate::helpers::moderator::{add_moderator, get, json_of, login, post};
use crate::helpers::{SiteOpts, TestApp, assert_error, spawn_app};

mod live;

async fn pre_site(app: &TestApp, slug: &'static str) -> Site {
    app.create_site(SiteOpts {
        slug,
        policy: Policy::Pre,
        ..Default::default()
    })
    .await
}

/// Adds `n` pending comments to the site, copies of its comment `template`, each a second older
/// than the next (the first one the oldest), all older than the template; answers their ids
/// oldest first.
async fn seed_pending(app: &TestApp, template: &str, n: i32) -> Vec<String> {
    sqlx::query_scalar(
        "WITH g AS (SELECT gen_random_uuid() AS id, n FROM generate_series(1, $2) n),
              ins AS (
                 INSERT INTO comments (id, site_id, thread_id, root_id, depth, user_id,
                                       author_provider, author_name, author_email,
                                       body_markdown, body_html, status, created_at)
                 SELECT g.id, c.site_id, c.thread_id, g.id, 1, c.user_id, c.author_provider,
                        c.author_name, c.author_email, 'Seeded ' || g.n, '<p>Seeded</p>',
                        'pending', c.created_at - make_interval(secs => $2 + 1 - g.n)
                 FROM comments c CROSS JOIN g WHERE c.id = $1::uuid
                 RETURNING id, created_at)
         SELECT id::text FROM ins ORDER BY created_at",
    )
    .bind(template)
    .bind(n)
    .fetch_all(&app.db)
    .await
    .unwrap()
}

async fn claim(app: &TestApp, site: &str, token: &str, limit: i64) -> Vec<String> {
    let page = json_of(
        post(
            app,
            &format!("/sites/{site}/queue/claim"),
            token,
            json!({ "limit": limit }),
        )
        .await,
        200,
    )
    .await;
    assert!(page["next_cursor"].is_null());
    page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["comment"]["id"].as_str().unwrap().to_owned())
        .collect()
}

async fn holders(app: &TestApp) -> Vec<(String, Uuid)> {
    sqlx::query_as(
        "SELECT comment_id::text, moderator_id FROM comment_claims WHERE claimed_until > now()",
    )
    .fetch_all(&app.db)
    .await
    .unwrap()
}

#[tokio::test]
async fn two_moderators_claiming_at_once_never_get_the_same_item() {
    let app = spawn_app().await;
    let site = pre_site(&app, "blog").await;
    let ann_id = add_moderator(&app, "ann@mods.example", &site, Role::Moderator).await;
    let bob_id = add_moderator(&app, "bob@mods.example", &site, Role::Moderator).await;
    let ann = login(&app, "ann@mods.example").await;
    let bob = login(&app, "bob@mods.example").await;
    let template = app.comment("blog", "/p/", "Template").await;
    let mut pending = seed_pending(&app, &template, 99).await;
    pending.push(template);
    assert_eq!(pending.len(), 100);

    // Two passes over the queue: the second after every lease has run out.
    for pass in 0..2 {
        let mut handed: HashSet<String> = HashSet::new();
        for round in 0..10 {
            let (a, b) = tokio::join!(claim(&app, "blog", &ann, 5), claim(&app, "blog", &bob, 5));
            assert!(a.len() <= 5 && b.len() <= 5);
            for id in a.iter().chain(&b) {
                assert!(
                    handed.insert(id.clone()),
                    "pass {pass} round {round}: {id} handed out twice"
                );
            }
            // Who got it is who holds it.
            let held = holders(&app).await;
            for (id, who) in held {
                let expected = if a.contains(&id) {
                    ann_id
                } else if b.contains(&id) {
                    bob_id
                } else {
                    assert!(handed.contains(&id), "{id} is held but was never answered");
                    continue;
                };
                assert_eq!(who, expected, "{id}");
            }
        }
        // Skipped rows make a claim answer fewer, never more: whatever is left is claimable.
        let rest = claim(&app, "blog", &ann, 100).await;
        for id in &rest {
            assert!(handed.insert(id.clone()), "{id} handed out twice");
        }
        assert_eq!(handed.len(), 100, "pass {pass}");
        assert!(claim(&app, "blog", &bob, 5).await.is_empty());
        // Every lease runs out; the items return to the queue with no job to sweep them.
        sqlx::query("UPDATE comment_claims SET claimed_until = now() - interval '1 second'")
            .execute(&app.db)
            .await
            .unwrap();
    }
}

#[tokio::test]
async fn claims_are_oldest_first_shown_in_the_queue_released_expired_and_ended_by_decisions() {
    let app = spawn_app().await;
    let site = pre_site(&app, "blog").await;
    let ann_id = add_moderator(&app, "ann@mods.example", &site, Role::Moderator).await;
    add_moderator(&app, "bob@mods.example", &site, Role::Moderator).await;
    let ann = login(&app, "ann@mods.example").await;
    let bob = login(&app, "bob@mods.example").await;
    let template = app.comment("blog", "/p/", "Template").await;
    let mut ids = seed_pending(&app, &template, 4).await;
    ids.push(template);

    // Bad limits are 400, not a default and not a 500.
    for body in [
        json!({ "limit": 0 }),
        json!({ "limit": 101 }),
        json!({ "limit": "5" }),
        json!({ "limit": 5, "extra": true }),
    ] {
        let r = post(&app, "/sites/blog/queue/claim", &ann, body).await;
        assert_error(r, 400, "validation_failed").await;
    }

    let page = json_of(
        post(&app, "/sites/blog/queue/claim", &ann, json!({ "limit": 2 })).await,
        200,
    )
    .await;
    let mine: Vec<&str> = page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["comment"]["id"].as_str().unwrap())
        .collect();
    assert_eq!(mine, [ids[0].as_str(), ids[1].as_str()], "oldest first");
    let item = &page["items"][0];
    assert_eq!(item["claimed_by"]["id"], ann_id.to_string());
    assert_eq!(item["claimed_by"]["email"], "ann@mods.example");
    let until = time::OffsetDateTime::parse(
        item["claimed_until"].as_str().unwrap(),
        &time::format_description::well_known::Rfc3339,
    )
    .unwrap();
    let left = until - time::OffsetDateTime::now_utc();
    assert!(
        left > time::Duration::minutes(4) && left <= time::Duration::minutes(5),
        "{left}"
    );
    assert!(
        item["author"]["email"].is_string(),
        "same shape as the queue"
    );

    // The queue shows who holds what.
    let queue = json_of(get(&app, "/sites/blog/queue", &bob).await, 200).await;
    let items = queue["items"].as_array().unwrap();
    assert_eq!(items.len(), 5);
    assert_eq!(items[0]["claimed_by"]["email"], "ann@mods.example");
    assert_eq!(items[1]["claimed_by"]["email"], "ann@mods.example");
    assert!(items[2]["claimed_by"].is_null() && items[2]["claimed_until"].is_null());

    // Only the holder releases; the answer is the comment, no longer held, with its ETag.
    let r = post(
        &app,
        &format!("/comments/{}/release", ids[0]),
        &bob,
        json!({}),
    )
    .await;
    assert_error(r, 409, "conflict").await;
    let r = post(
        &app,
        &format!("/comments/{}/release", ids[0]),
        &ann,
        json!({}),
    )
    .await;
    assert_eq!(r.headers()["etag"], "\"1\"");
    let released = json_of(r, 200).await;
    assert!(released["claimed_by"].is_null());
    assert_eq!(released["comment"]["status"], "pending");
    let r = post(
        &app,
        &format!("/comments/{}/release", ids[0]),
        &ann,
        json!({}),
    )
    .await;
    assert_error(r, 409, "conflict").await;
    let r = post(&app, "/comments/not-a-uuid/release", &ann, json!({})).await;
    assert_error(r, 404, "not_found").await;

    // Bob gets the released one (oldest unclaimed), never ann's held one.
    assert_eq!(
        claim(&app, "blog", &bob, 2).await,
        [ids[0].clone(), ids[2].clone()]
    );

    // Ann's lease on ids[1] runs out: it is back in the queue, claimable, and hers no more.
    sqlx::query(
        "UPDATE comment_claims SET claimed_until = now() - interval '1 second' WHERE comment_id = $1::uuid",
    )
    .bind(&ids[1])
    .execute(&app.db)
    .await
    .unwrap();
    let queue = json_of(get(&app, "/sites/blog/queue", &bob).await, 200).await;
    assert!(queue["items"][1]["claimed_by"].is_null());
    let r = post(
        &app,
        &format!("/comments/{}/release", ids[1]),
        &ann,
        json!({}),
    )
    .await;
    assert_error(r, 409, "conflict").await;
    assert_eq!(claim(&app, "blog", &bob, 1).await, [ids[1].clone()]);

    // A decision ends the claim (whoever makes it); a comment that stays pending keeps it.
    let r = post(
        &app,
        &format!("/comments/{}/actions", ids[0]),
        &ann,
        json!({ "action": "approve" }),
    )
    .await;
    let approved = json_of(r, 200).await;
    assert_eq!(approved["comment"]["status"], "approved");
    assert!(approved["claimed_by"].is_null());
    let left: Vec<String> = holders(&app).await.into_iter().map(|(id, _)| id).collect();
    assert!(!left.contains(&ids[0]));
    assert!(left.contains(&ids[1]) && left.contains(&ids[2]));
    // Approved items aren't claimable: only ids[3] and ids[4] remain.
    assert_eq!(
        claim(&app, "blog", &ann, 10).await,
        [ids[3].clone(), ids[4].clone()]
    );
    assert!(claim(&app, "blog", &ann, 10).await.is_empty());
}

#[tokio::test]
async fn another_sites_items_can_be_neither_claimed_nor_released() {
    let app = spawn_app().await;
    let alpha = pre_site(&app, "alpha").await;
    let beta = pre_site(&app, "beta").await;
    add_moderator(&app, "alice@mods.example", &alpha, Role::Owner).await;
    add_moderator(&app, "bob@mods.example", &beta, Role::Owner).await;
    let alice = login(&app, "alice@mods.example").await;
    let bob = login(&app, "bob@mods.example").await;
    let a = app.comment("alpha", "/p/", "Alpha's").await;
    let b = app.comment("beta", "/p/", "Beta's").await;

    let r = post(
        &app,
        "/sites/beta/queue/claim",
        &alice,
        json!({ "limit": 5 }),
    )
    .await;
    assert_error(r, 404, "not_found").await;
    let r = post(
        &app,
        "/sites/nowhere/queue/claim",
        &alice,
        json!({ "limit": 5 }),
    )
    .await;
    assert_error(r, 404, "not_found").await;
    assert!(holders(&app).await.is_empty());
    // Alice's claim on her own site takes only her site's items.
    assert_eq!(
        claim(&app, "alpha", &alice, 100).await,
        std::slice::from_ref(&a)
    );
    // Bob holds beta's item: alice can't release it (404 like a comment that doesn't exist,
    // not 409, which would tell her it exists); neither can she release an unclaimed one.
    assert_eq!(
        claim(&app, "beta", &bob, 100).await,
        std::slice::from_ref(&b)
    );
    let r = post(&app, &format!("/comments/{b}/release"), &alice, json!({})).await;
    assert_error(r, 404, "not_found").await;
    let r = post(&app, &format!("/comments/{a}/release"), &bob, json!({})).await;
    assert_error(r, 404, "not_found").await;
    let mut held = holders(&app).await;
    held.sort();
    let mut expected = vec![a, b];
    expected.sort();
    assert_eq!(
        held.into_iter().map(|(id, _)| id).collect::<Vec<_>>(),
        expected
    );
}

#[tokio::test]
async fn one_comment_answers_carry_the_version_as_etag_and_take_it_back_as_if_match() {
    let app = spawn_app().await;
    let site = pre_site(&app, "blog").await;
    add_moderator(&app, "ann@mods.example", &site, Role::Moderator).await;
    let ann = login(&app, "ann@mods.example").await;
    let id = app.comment("blog", "/p/", "Versioned").await;

    let send = |method: reqwest::Method, path: String, body: Value, if_match: Option<String>| {
        let mut req = app
            .client
            .request(method, app.url(&format!("/api/mod/v1{path}")))
            .bearer_auth(&ann)
            .json(&body);
        if let Some(v) = if_match {
            req = req.header("If-Match", v);
        }
        req.send()
    };
    let etag = |r: &Response| r.headers()["etag"].to_str().unwrap().to_owned();

    let r = send(
        reqwest::Method::POST,
        format!("/comments/{id}/actions"),
        json!({ "action": "approve" }),
        None,
    )
    .await
    .unwrap();
    assert_eq!(etag(&r), "\"2\"");
    let v2 = etag(&r);
    assert_eq!(json_of(r, 200).await["comment"]["version"], 2);

    // The ETag, quoted as it came, is a good If-Match for an edit.
    let r = send(
        reqwest::Method::PATCH,
        format!("/comments/{id}"),
        json!({ "body": "Edited" }),
        Some(v2.clone()),
    )
    .await
    .unwrap();
    assert_eq!(etag(&r), "\"3\"");
    assert_eq!(json_of(r, 200).await["comment"]["version"], 3);
    // Now it is stale, for an edit and for an action alike; nothing changes.
    let r = send(
        reqwest::Method::PATCH,
        format!("/comments/{id}"),
        json!({ "body": "Again" }),
        Some(v2.clone()),
    )
    .await
    .unwrap();
    let e = assert_error(r, 412, "precondition_failed").await;
    assert_eq!(e["error"]["details"]["version"], 3);
    let r = send(
        reqwest::Method::POST,
        format!("/comments/{id}/actions"),
        json!({ "action": "reject" }),
        Some(v2),
    )
    .await
    .unwrap();
    assert_error(r, 412, "precondition_failed").await;
    let (status, version): (String, i32) =
        sqlx::query_as("SELECT status, version FROM comments WHERE id = $1::uuid")
            .bind(&id)
            .fetch_one(&app.db)
            .await
            .unwrap();
    assert_eq!((status.as_str(), version), ("approved", 3));
    // Unquoted works too.
    let r = send(
        reqwest::Method::POST,
        format!("/comments/{id}/actions"),
        json!({ "action": "reject" }),
        Some("3".into()),
    )
    .await
    .unwrap();
    assert_eq!(etag(&r), "\"4\"");
}
