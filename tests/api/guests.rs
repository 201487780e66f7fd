//! A guest is known by email *and* the secret key their browser keeps: typing an approved
//! guest's email borrows neither their identity (author id) nor their trust (history under
//! `first_time`). Email bans still match whoever types the email.

use colloquy::domain::Policy;
use reqwest::Response;
use serde_json::{Value, json};

use crate::helpers::{SiteOpts, TestApp, assert_error, spawn_app};

const EMAIL: &str = "ann@example.com";
const KEY: &str = "ann-browser-key-0123456789abcdef";

/// Posts exactly this guest (no key added by the helpers).
async fn post_as(app: &TestApp, body: &str, guest: Value, idem: Option<&str>) -> Response {
    let mut req = app
        .client
        .post(app.url("/api/v1/sites/blog/comments"))
        .json(&json!({ "uri": "/post/", "body": body, "guest": guest }));
    if let Some(k) = idem {
        req = req.header("Idempotency-Key", k);
    }
    req.send().await.unwrap()
}

async fn posted(r: Response) -> (String, String, String) {
    assert_eq!(r.status(), 201);
    let v: Value = r.json().await.unwrap();
    (
        v["status"].as_str().unwrap().to_owned(),
        v["comment"]["id"].as_str().unwrap().to_owned(),
        v["comment"]["author"]["id"].as_str().unwrap().to_owned(),
    )
}

fn ann(key: Option<&str>) -> Value {
    let mut g = json!({ "name": "Ann", "email": EMAIL });
    if let Some(k) = key {
        g["key"] = json!(k);
    }
    g
}

/// A `first_time` site where Ann (with her key) has one approved comment.
async fn site_with_approved_ann() -> (TestApp, String) {
    let app = spawn_app().await;
    app.create_site(SiteOpts {
        policy: Policy::FirstTime,
        ..Default::default()
    })
    .await;
    let (status, id, author) =
        posted(post_as(&app, "My first words.", ann(Some(KEY)), None).await).await;
    assert_eq!(status, "pending", "a new guest's first comment waits");
    app.set_status(&id, "approved").await;
    let (status, _, again) =
        posted(post_as(&app, "Trusted now.", ann(Some(KEY)), None).await).await;
    assert_eq!(
        status, "approved",
        "an approved guest with her key is published"
    );
    assert_eq!(again, author, "the same email and key are the same guest");
    (app, author)
}

#[tokio::test]
async fn typing_an_approved_guests_email_borrows_neither_identity_nor_trust() {
    let (app, ann_id) = site_with_approved_ann().await;

    // A stranger types Ann's email (any case), without her key: held, another author.
    let stranger = json!({ "name": "Ann", "email": "ANN@example.com" });
    let (status, _, s1) =
        posted(post_as(&app, "Impostor one.", stranger.clone(), None).await).await;
    assert_eq!(status, "pending");
    assert_ne!(s1, ann_id);
    // Keyless comments are one-off guests: not even each other.
    let (status, _, s2) = posted(post_as(&app, "Impostor two.", stranger, None).await).await;
    assert_eq!(status, "pending");
    assert_ne!(s2, ann_id);
    assert_ne!(s2, s1);
    // With a key of their own: held, another author again, and that key's guest from then on.
    let other = "stranger-key-abcdefghijklmnop";
    let (status, _, s3) =
        posted(post_as(&app, "Impostor three.", ann(Some(other)), None).await).await;
    assert_eq!(status, "pending");
    assert_ne!(s3, ann_id);
    let (_, _, s3b) = posted(post_as(&app, "Impostor four.", ann(Some(other)), None).await).await;
    assert_eq!(s3b, s3);

    // Ann with her key is still trusted, still herself.
    let (status, _, again) = posted(post_as(&app, "Still me.", ann(Some(KEY)), None).await).await;
    assert_eq!(status, "approved");
    assert_eq!(again, ann_id);

    // The public thread shows only Ann's comments, under her id; moderators still see the
    // email on every comment, whoever typed it.
    let thread = app.thread("blog", "uri=/post/").await;
    let authors: Vec<&str> = thread["comments"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["author"]["id"].as_str().unwrap())
        .collect();
    assert_eq!(authors, vec![ann_id.as_str(); 3]);
    let emails: Vec<String> =
        sqlx::query_scalar("SELECT DISTINCT lower(author_email) FROM comments")
            .fetch_all(&app.db)
            .await
            .unwrap();
    assert_eq!(emails, vec![EMAIL.to_owned()]);
    // Only a hash of a key is stored.
    let leaked: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM identities WHERE subject LIKE '%' || $1 || '%' OR subject LIKE '%' || $2 || '%'",
    )
    .bind(KEY)
    .bind(other)
    .fetch_one(&app.db)
    .await
    .unwrap();
    assert_eq!(leaked, 0);
}

#[tokio::test]
async fn an_email_ban_applies_with_and_without_the_key() {
    let (app, _) = site_with_approved_ann().await;
    sqlx::query("INSERT INTO bans (id, site_id, kind, email) SELECT gen_random_uuid(), id, 'email', $1 FROM sites")
        .bind(EMAIL)
        .execute(&app.db)
        .await
        .unwrap();
    for (i, guest) in [
        ann(Some(KEY)),
        ann(None),
        ann(Some("stranger-key-abcdefghijklmnop")),
    ]
    .into_iter()
    .enumerate()
    {
        let r = post_as(&app, &format!("Banned words {i}."), guest, None).await;
        assert_error(r, 403, "banned").await;
    }
}

#[tokio::test]
async fn an_idempotency_key_replays_only_for_the_guest_who_used_it() {
    let (app, ann_id) = site_with_approved_ann().await;
    let first = post_as(&app, "Once only.", ann(Some(KEY)), Some("idem-1")).await;
    let (_, id, _) = posted(first).await;
    // Ann's retry replays her answer.
    let retry = post_as(&app, "Once only.", ann(Some(KEY)), Some("idem-1")).await;
    assert_eq!(retry.headers()["idempotency-replayed"], "true");
    let (_, rid, _) = posted(retry).await;
    assert_eq!(rid, id);
    // A stranger with her email, the same Idempotency-Key and body gets no copy of her answer.
    let theirs = post_as(&app, "Once only.", ann(None), Some("idem-1")).await;
    assert!(theirs.headers().get("idempotency-replayed").is_none());
    let (status, tid, tauthor) = posted(theirs).await;
    assert_eq!(status, "pending");
    assert_ne!(tid, id);
    assert_ne!(tauthor, ann_id);
}

#[tokio::test]
async fn a_malformed_guest_key_is_refused() {
    let app = spawn_app().await;
    app.create_site(SiteOpts::default()).await;
    for bad in [
        json!("short"),
        json!("has spaces in it, quite a few"),
        json!(42),
        json!("x".repeat(129)),
    ] {
        let r = post_as(
            &app,
            "Hello.",
            json!({ "name": "Ann", "email": EMAIL, "key": bad }),
            None,
        )
        .await;
        let body = assert_error(r, 400, "validation_failed").await;
        let d = &body["error"]["details"];
        assert!(d.get("guest.key").is_some(), "{body}");
    }
}
