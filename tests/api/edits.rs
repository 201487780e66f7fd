//! Authors editing and deleting their own comments: the edit window, the pipeline re-run on
//! every edit, kept revisions, placeholders for deleted comments with replies, and that each
//! change shows in the next (cached) thread read.
//!
//! Someone else's comment: 403 `forbidden` when it is published (the caller can see it), 404
//! when it isn't (its existence is not confirmed). No session: 401.

use reqwest::Response;
use serde_json::{Value, json};

use crate::helpers::reader::{
    Reader, URI, column, dev_app, ids, public_thread, published, reader, send, thread_as,
};
use crate::helpers::{ORIGIN, TestApp, assert_error};
use colloquy::domain::Policy;

async fn patch(app: &TestApp, who: Option<&Reader>, id: &str, body: &str) -> Response {
    send(
        app,
        reqwest::Method::PATCH,
        &format!("/api/v1/comments/{id}"),
        who,
        Some(json!({ "body": body })),
    )
    .await
}

async fn delete(app: &TestApp, who: Option<&Reader>, id: &str) -> Response {
    send(
        app,
        reqwest::Method::DELETE,
        &format!("/api/v1/comments/{id}"),
        who,
        None,
    )
    .await
}

async fn add_rule(app: &TestApp, word: &str, action: &str) -> String {
    sqlx::query_scalar(
        "INSERT INTO rules (id, site_id, kind, pattern, action)
         SELECT gen_random_uuid(), id, 'word', $1, $2 FROM sites WHERE slug = 'blog'
         RETURNING id::text",
    )
    .bind(word)
    .bind(action)
    .fetch_one(&app.db)
    .await
    .unwrap()
}

#[tokio::test]
async fn authors_edit_within_the_window_and_the_old_text_is_kept() {
    let app = dev_app(Policy::Post).await;
    let alice = reader(&app, "Alice").await;
    let id = published(&app, &alice, "First *draft*", None).await;
    assert!(
        public_thread(&app).await[0]["html"]
            .as_str()
            .unwrap()
            .contains("<em>draft</em>")
    );

    let r = patch(&app, Some(&alice), &id, "Second **take**").await;
    assert_eq!(r.status(), 200);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["status"], "approved", "{body}");
    assert_eq!(body["reasons"], json!([]));
    assert_eq!(body["comment"]["id"], id.as_str());
    assert_eq!(body["comment"]["status"], "approved");
    assert!(
        body["comment"]["html"]
            .as_str()
            .unwrap()
            .contains("<strong>take</strong>")
    );
    assert!(body["comment"]["edited_at"].is_string(), "{body}");

    let (kind, editor, old): (String, String, String) = sqlx::query_as(
        "SELECT editor_kind, editor_id::text, body_markdown FROM comment_revisions WHERE comment_id = $1::uuid",
    )
    .bind(&id)
    .fetch_one(&app.db)
    .await
    .unwrap();
    assert_eq!(
        (kind.as_str(), editor.as_str(), old.as_str()),
        ("author", alice.id.as_str(), "First *draft*")
    );
    let version: i32 = column(
        &app,
        "SELECT version FROM comments WHERE id = $1::uuid",
        &id,
    )
    .await;
    assert_eq!(version, 2);

    // The cached page computed before the edit is not served again.
    let thread = public_thread(&app).await;
    assert!(
        thread[0]["html"]
            .as_str()
            .unwrap()
            .contains("<strong>take</strong>")
    );
    assert!(thread[0]["edited_at"].is_string());

    // The same text again changes nothing.
    let r = patch(&app, Some(&alice), &id, "Second **take**").await;
    assert_eq!(r.status(), 200);
    let revisions: i64 = column(
        &app,
        "SELECT count(*) FROM comment_revisions WHERE comment_id = $1::uuid",
        &id,
    )
    .await;
    assert_eq!(revisions, 1);
}

#[tokio::test]
async fn edits_and_deletes_after_the_window_are_refused() {
    let app = dev_app(Policy::Post).await;
    let alice = reader(&app, "Alice").await;
    let id = published(&app, &alice, "Posted a while ago", None).await;
    sqlx::query(
        "UPDATE comments SET created_at = now() - interval '901 seconds' WHERE id = $1::uuid",
    )
    .bind(&id)
    .execute(&app.db)
    .await
    .unwrap();

    let body = assert_error(
        patch(&app, Some(&alice), &id, "Too late").await,
        403,
        "edit_window_closed",
    )
    .await;
    assert_eq!(body["error"]["details"]["edit_window_s"], 900);
    assert_error(
        delete(&app, Some(&alice), &id).await,
        403,
        "edit_window_closed",
    )
    .await;
    let text: String = column(
        &app,
        "SELECT body_markdown FROM comments WHERE id = $1::uuid",
        &id,
    )
    .await;
    assert_eq!(text, "Posted a while ago");
    assert_eq!(ids(&public_thread(&app).await), vec![id.as_str()]);
}

#[tokio::test]
async fn only_the_author_edits_or_deletes() {
    let app = dev_app(Policy::Post).await;
    let alice = reader(&app, "Alice").await;
    let bob = reader(&app, "Bob").await;
    let id = published(&app, &alice, "Alice's words", None).await;

    assert_error(
        patch(&app, None, &id, "Guest edit").await,
        401,
        "unauthenticated",
    )
    .await;
    assert_error(delete(&app, None, &id).await, 401, "unauthenticated").await;
    assert_error(
        patch(&app, Some(&bob), &id, "Bob's edit").await,
        403,
        "forbidden",
    )
    .await;
    assert_error(delete(&app, Some(&bob), &id).await, 403, "forbidden").await;
    let unknown = uuid::Uuid::now_v7().to_string();
    assert_error(
        patch(&app, Some(&alice), &unknown, "x").await,
        404,
        "not_found",
    )
    .await;
    assert_error(
        delete(&app, Some(&alice), "not-an-id").await,
        404,
        "not_found",
    )
    .await;
    assert_error(
        patch(&app, Some(&alice), "not-an-id", "x").await,
        404,
        "not_found",
    )
    .await;

    // A comment Bob can't see is not confirmed to him.
    app.set_status(&id, "pending").await;
    assert_error(
        patch(&app, Some(&bob), &id, "Bob's edit").await,
        404,
        "not_found",
    )
    .await;
    assert_error(delete(&app, Some(&bob), &id).await, 404, "not_found").await;

    // Bad input.
    assert_error(
        patch(&app, Some(&alice), &id, "   ").await,
        400,
        "validation_failed",
    )
    .await;
    let r = send(
        &app,
        reqwest::Method::PATCH,
        &format!("/api/v1/comments/{id}"),
        Some(&alice),
        Some(json!({ "body": "ok", "status": "approved" })),
    )
    .await;
    assert_error(r, 400, "validation_failed").await;
    let r = app
        .client
        .patch(app.url(&format!("/api/v1/comments/{id}")))
        .bearer_auth(&alice.token)
        .header("content-type", "application/json")
        .body("{\"body\": ")
        .send()
        .await
        .unwrap();
    assert_error(r, 400, "invalid_json").await;
    let huge = "x".repeat(20_000);
    let r = patch(&app, Some(&alice), &id, &huge).await;
    assert!(
        matches!(r.status().as_u16(), 400 | 413),
        "oversized body: {}",
        r.status()
    );
    let r = send(
        &app,
        reqwest::Method::GET,
        &format!("/api/v1/comments/{id}"),
        None,
        None,
    )
    .await;
    assert_eq!(r.status(), 405);
    assert_eq!(r.headers()["allow"], "PATCH, DELETE");

    let text: String = column(
        &app,
        "SELECT body_markdown FROM comments WHERE id = $1::uuid",
        &id,
    )
    .await;
    assert_eq!(text, "Alice's words");
}

#[tokio::test]
async fn an_edit_reruns_the_pipeline() {
    let app = dev_app(Policy::Post).await;
    let alice = reader(&app, "Alice").await;
    let id = published(&app, &alice, "A harmless remark", None).await;
    assert_eq!(public_thread(&app).await.len(), 1);

    // A held word sends the edited comment back to the queue, saying why.
    let hold = add_rule(&app, "forbidden", "hold").await;
    let r = patch(&app, Some(&alice), &id, "Now with a forbidden word").await;
    assert_eq!(r.status(), 200);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["status"], "pending", "{body}");
    assert_eq!(body["reasons"][0]["rule"], hold.as_str());
    assert_eq!(body["reasons"][0]["kind"], "word");
    assert_eq!(body["reasons"][0]["matched"], "forbidden");
    let (status, reasons): (String, Value) =
        sqlx::query_as("SELECT status, reasons FROM comments WHERE id = $1::uuid")
            .bind(&id)
            .fetch_one(&app.db)
            .await
            .unwrap();
    assert_eq!(status, "pending");
    assert_eq!(reasons[0]["rule"], hold.as_str());
    let (actor, actor_id, from, to): (String, String, String, String) = sqlx::query_as(
        "SELECT actor_kind, actor_id::text, from_status, to_status FROM moderation_events
         WHERE comment_id = $1::uuid ORDER BY id DESC LIMIT 1",
    )
    .bind(&id)
    .fetch_one(&app.db)
    .await
    .unwrap();
    assert_eq!(
        (
            actor.as_str(),
            actor_id.as_str(),
            from.as_str(),
            to.as_str()
        ),
        ("author", alice.id.as_str(), "approved", "pending")
    );
    assert!(
        public_thread(&app).await.is_empty(),
        "held: gone for readers"
    );
    let own = thread_as(&app, &alice).await;
    assert_eq!(own[0]["status"], "pending", "the author still sees it");

    // A rejecting rule refuses the edit outright; nothing changes.
    add_rule(&app, "verboten", "reject").await;
    let body = assert_error(
        patch(&app, Some(&alice), &id, "Something verboten").await,
        422,
        "rejected",
    )
    .await;
    assert_eq!(body["error"]["details"]["kind"], "word");
    let text: String = column(
        &app,
        "SELECT body_markdown FROM comments WHERE id = $1::uuid",
        &id,
    )
    .await;
    assert_eq!(text, "Now with a forbidden word");
    let revisions: i64 = column(
        &app,
        "SELECT count(*) FROM comment_revisions WHERE comment_id = $1::uuid",
        &id,
    )
    .await;
    assert_eq!(revisions, 1);

    // Editing the held word away publishes it again.
    let r = patch(&app, Some(&alice), &id, "A harmless remark, reworded").await;
    assert_eq!(r.status(), 200);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["status"], "approved", "{body}");
    assert_eq!(body["reasons"], json!([]));
    assert_eq!(ids(&public_thread(&app).await), vec![id.as_str()]);
}

#[tokio::test]
async fn refused_or_deleted_comments_cant_be_edited() {
    let app = dev_app(Policy::Post).await;
    let alice = reader(&app, "Alice").await;
    let id = published(&app, &alice, "Soon rejected", None).await;
    for status in ["rejected", "spam", "deleted"] {
        app.set_status(&id, status).await;
        let body = assert_error(
            patch(&app, Some(&alice), &id, "Let me fix it").await,
            409,
            "conflict",
        )
        .await;
        assert_eq!(body["error"]["details"]["status"], status);
    }
}

#[tokio::test]
async fn a_comment_deleted_without_replies_leaves_the_thread() {
    let app = dev_app(Policy::Post).await;
    let alice = reader(&app, "Alice").await;
    let keep = published(&app, &alice, "Staying", None).await;
    let id = published(&app, &alice, "Regretted", None).await;
    assert_eq!(public_thread(&app).await.len(), 2);

    let r = delete(&app, Some(&alice), &id).await;
    assert_eq!(r.status(), 204);
    assert_eq!(ids(&public_thread(&app).await), vec![keep.as_str()]);
    assert_eq!(ids(&thread_as(&app, &alice).await), vec![keep.as_str()]);
    let thread = app.thread("blog", &format!("uri={URI}")).await;
    assert_eq!(thread["thread"]["comment_count"], 1);

    let (status, actor): (String, String) = sqlx::query_as(
        "SELECT c.status, e.actor_kind FROM comments c JOIN moderation_events e ON e.comment_id = c.id
         WHERE c.id = $1::uuid ORDER BY e.id DESC LIMIT 1",
    )
    .bind(&id)
    .fetch_one(&app.db)
    .await
    .unwrap();
    assert_eq!((status.as_str(), actor.as_str()), ("deleted", "author"));
    assert_error(delete(&app, Some(&alice), &id).await, 409, "conflict").await;
}

#[tokio::test]
async fn a_comment_deleted_with_replies_stays_as_a_placeholder() {
    let app = dev_app(Policy::Post).await;
    let alice = reader(&app, "Alice").await;
    let bob = reader(&app, "Bob").await;
    let root = published(&app, &alice, "Opening words", None).await;
    let reply = published(&app, &bob, "A reply", Some(&root)).await;
    let nested = published(&app, &alice, "A nested reply", Some(&reply)).await;
    assert_eq!(public_thread(&app).await.len(), 3);

    assert_eq!(delete(&app, Some(&alice), &root).await.status(), 204);
    let thread = public_thread(&app).await;
    assert_eq!(
        ids(&thread),
        vec![root.as_str(), reply.as_str(), nested.as_str()]
    );
    let placeholder = &thread[0];
    assert_eq!(placeholder["deleted"], true);
    assert_eq!(placeholder["html"], "");
    assert_eq!(placeholder["author"]["name"], "deleted");
    assert!(placeholder["author"]["id"].is_null());
    assert!(placeholder.get("status").is_none(), "{placeholder}");
    assert!(!placeholder.to_string().contains("Opening words"));
    assert!(!placeholder.to_string().contains("Alice"));
    assert_eq!(placeholder["replies_count"], 1);
    assert_eq!(thread[1]["parent_id"], root.as_str());
    assert_eq!(thread[1]["deleted"], false);
    let as_bob = thread_as(&app, &bob).await;
    assert!(as_bob[0].get("status").is_none(), "status-free for others");
    let counts = app
        .get_json(&format!("/api/v1/sites/blog/counts?uri={URI}"))
        .await
        .1;
    assert_eq!(counts[URI], 2, "placeholders aren't counted");

    // A deleted reply with a visible reply below it stays too.
    assert_eq!(delete(&app, Some(&bob), &reply).await.status(), 204);
    let thread = public_thread(&app).await;
    assert_eq!(
        ids(&thread),
        vec![root.as_str(), reply.as_str(), nested.as_str()]
    );
    assert_eq!(thread[1]["deleted"], true);

    // Once nothing visible hangs below them, the placeholders go.
    assert_eq!(delete(&app, Some(&alice), &nested).await.status(), 204);
    assert!(public_thread(&app).await.is_empty());
    assert!(thread_as(&app, &alice).await.is_empty());
}

#[tokio::test]
async fn a_placeholder_needs_a_reply_the_reader_can_see() {
    let app = dev_app(Policy::Post).await;
    let alice = reader(&app, "Alice").await;
    let bob = reader(&app, "Bob").await;
    let root = published(&app, &alice, "Opening words", None).await;
    let reply = published(&app, &bob, "Bob answers", Some(&root)).await;
    app.set_status(&reply, "pending").await;
    assert_eq!(delete(&app, Some(&alice), &root).await.status(), 204);

    assert!(
        public_thread(&app).await.is_empty(),
        "nothing visible below it"
    );
    let as_bob = thread_as(&app, &bob).await;
    assert_eq!(
        ids(&as_bob),
        vec![root.as_str(), reply.as_str()],
        "Bob sees his pending reply, under its placeholder"
    );
    assert_eq!(as_bob[0]["deleted"], true);
    assert_eq!(as_bob[1]["status"], "pending");
}

#[tokio::test]
async fn cross_origin_edits_need_a_registered_origin() {
    let app = dev_app(Policy::Post).await;
    let alice = reader(&app, "Alice").await;
    let id = published(&app, &alice, "Original", None).await;
    let r = app
        .client
        .patch(app.url(&format!("/api/v1/comments/{id}")))
        .bearer_auth(&alice.token)
        .header("origin", "https://evil.example")
        .json(&json!({ "body": "Hijacked" }))
        .send()
        .await
        .unwrap();
    assert_error(r, 403, "origin_not_allowed").await;
    let r = app
        .client
        .patch(app.url(&format!("/api/v1/comments/{id}")))
        .bearer_auth(&alice.token)
        .header("origin", ORIGIN)
        .json(&json!({ "body": "Edited from the blog" }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["access-control-allow-origin"], ORIGIN);
}
