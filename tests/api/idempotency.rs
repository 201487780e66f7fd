use serde_json::{Value, json};

use crate::helpers::{SiteOpts, TestApp, spawn_app};

async fn post_with_key(app: &TestApp, key: &str, body: &Value) -> (u16, Option<String>, Value) {
    let r = app
        .client
        .post(app.url("/api/v1/sites/blog/comments"))
        .header("Idempotency-Key", key)
        .json(body)
        .send()
        .await
        .unwrap();
    let status = r.status().as_u16();
    let replayed = r
        .headers()
        .get("idempotency-replayed")
        .map(|v| v.to_str().unwrap().to_owned());
    (status, replayed, r.json().await.unwrap())
}

fn guest_comment(email: &str, text: &str) -> Value {
    json!({ "uri": "/i/", "body": text, "guest": { "name": "Ann", "email": email } })
}

#[tokio::test]
async fn a_retried_post_returns_the_first_result_and_stores_once() {
    let app = spawn_app().await;
    app.create_site(SiteOpts::default()).await;
    let body = guest_comment("ann@example.com", "only once");
    let (s1, r1, first) = post_with_key(&app, "key-1", &body).await;
    let (s2, r2, second) = post_with_key(&app, "key-1", &body).await;
    assert_eq!((s1, s2), (201, 201));
    assert_eq!(r1, None);
    assert_eq!(r2.as_deref(), Some("true"));
    assert_eq!(first, second);
    assert_eq!(app.comment_count().await, 1);
}

#[tokio::test]
async fn the_same_key_for_a_different_request_is_refused() {
    let app = spawn_app().await;
    app.create_site(SiteOpts::default()).await;
    post_with_key(&app, "key-1", &guest_comment("ann@example.com", "one")).await;
    let (status, _, body) =
        post_with_key(&app, "key-1", &guest_comment("ann@example.com", "two")).await;
    assert_eq!(status, 409, "{body}");
    assert_eq!(body["error"]["code"], "idempotency_key_reused");
    assert_eq!(app.comment_count().await, 1);
}

#[tokio::test]
async fn keys_are_scoped_to_their_author() {
    let app = spawn_app().await;
    app.create_site(SiteOpts::default()).await;
    let (_, _, a) = post_with_key(
        &app,
        "shared",
        &guest_comment("ann@example.com", "same text"),
    )
    .await;
    let (_, _, b) = post_with_key(
        &app,
        "shared",
        &guest_comment("bob@example.com", "same text"),
    )
    .await;
    assert_ne!(a["comment"]["id"], b["comment"]["id"]);
    assert_eq!(app.comment_count().await, 2);
}

#[tokio::test]
async fn concurrent_retries_store_exactly_one_comment() {
    let app = spawn_app().await;
    app.create_site(SiteOpts::default()).await;
    let body = guest_comment("ann@example.com", "raced");
    let results =
        futures_util::future::join_all((0..8).map(|_| post_with_key(&app, "race", &body))).await;
    let ids: std::collections::HashSet<String> = results
        .iter()
        .map(|(status, _, json)| {
            assert_eq!(*status, 201, "{json}");
            json["comment"]["id"].as_str().unwrap().to_owned()
        })
        .collect();
    assert_eq!(ids.len(), 1, "every retry answers the same comment");
    assert_eq!(app.comment_count().await, 1);
}

#[tokio::test]
async fn a_failed_request_does_not_burn_its_key() {
    let app = spawn_app().await;
    app.create_site(SiteOpts::default()).await;
    let mut bad = guest_comment("ann@example.com", "fixed later");
    bad["guest"]["email"] = json!("not-an-email");
    let (status, _, _) = post_with_key(&app, "k", &bad).await;
    assert_eq!(status, 400);
    let (status, replayed, _) =
        post_with_key(&app, "k", &guest_comment("ann@example.com", "fixed later")).await;
    assert_eq!(status, 201);
    assert_eq!(replayed, None);
}
