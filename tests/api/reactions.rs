//! Readers' flags (one per reader; the site's threshold sends a comment back to the queue) and
//! votes (one per reader; `score` is their sum; `sort=top` orders by it).

use reqwest::{Method, Response};
use serde_json::{Value, json};

use crate::helpers::reader::dev_app;
use crate::helpers::reader::{Reader, URI, column, ids, public_thread, published, reader, send};
use crate::helpers::{TestApp, assert_error};
use colloquy::domain::Policy;

async fn flag(app: &TestApp, who: Option<&Reader>, id: &str, body: Value) -> Response {
    send(
        app,
        Method::POST,
        &format!("/api/v1/comments/{id}/flags"),
        who,
        Some(body),
    )
    .await
}

async fn vote(app: &TestApp, who: Option<&Reader>, id: &str, value: Value) -> Response {
    send(
        app,
        Method::PUT,
        &format!("/api/v1/comments/{id}/vote"),
        who,
        Some(json!({ "value": value })),
    )
    .await
}

async fn flagged(app: &TestApp, who: &Reader, id: &str) -> i64 {
    let r = flag(
        app,
        Some(who),
        id,
        json!({ "reason": "abuse", "note": "rude" }),
    )
    .await;
    assert_eq!(r.status(), 201);
    r.json::<Value>().await.unwrap()["flags"].as_i64().unwrap()
}

async fn voted(app: &TestApp, who: &Reader, id: &str, value: i64) -> Value {
    let r = vote(app, Some(who), id, json!(value)).await;
    assert_eq!(r.status(), 200);
    r.json().await.unwrap()
}

#[tokio::test]
async fn one_flag_per_reader_and_three_send_a_comment_back_to_the_queue() {
    let app = dev_app(Policy::Post).await;
    let alice = reader(&app, "Alice").await;
    let [bob, carol, dave, erin] = [
        reader(&app, "Bob").await,
        reader(&app, "Carol").await,
        reader(&app, "Dave").await,
        reader(&app, "Erin").await,
    ];
    let id = published(&app, &alice, "A contested opinion", None).await;

    assert_eq!(flagged(&app, &bob, &id).await, 1);
    assert_error(
        flag(&app, Some(&bob), &id, json!({ "reason": "spam" })).await,
        409,
        "already_flagged",
    )
    .await;
    assert_error(
        flag(&app, Some(&alice), &id, json!({ "reason": "spam" })).await,
        403,
        "own_comment",
    )
    .await;
    assert_eq!(flagged(&app, &carol, &id).await, 2);
    assert_eq!(ids(&public_thread(&app).await), vec![id.as_str()], "2 < 3");

    assert_eq!(flagged(&app, &dave, &id).await, 3);
    let (status, reasons): (String, Value) =
        sqlx::query_as("SELECT status, reasons FROM comments WHERE id = $1::uuid")
            .bind(&id)
            .fetch_one(&app.db)
            .await
            .unwrap();
    assert_eq!(status, "pending");
    let last = reasons.as_array().unwrap().last().unwrap();
    assert_eq!(last["rule"], "flags");
    assert_eq!(last["kind"], "flagged");
    assert_eq!(last["matched"], "3 flags");
    assert!(last["message"].as_str().is_some_and(|m| !m.is_empty()));
    let (actor, actor_id, from, to): (String, Option<String>, String, String) = sqlx::query_as(
        "SELECT actor_kind, actor_id::text, from_status, to_status FROM moderation_events
         WHERE comment_id = $1::uuid ORDER BY id DESC LIMIT 1",
    )
    .bind(&id)
    .fetch_one(&app.db)
    .await
    .unwrap();
    assert_eq!(
        (actor.as_str(), actor_id, from.as_str(), to.as_str()),
        ("flags", None, "approved", "pending")
    );
    let stored: i64 = column(
        &app,
        "SELECT count(*) FROM flags WHERE comment_id = $1::uuid",
        &id,
    )
    .await;
    assert_eq!(stored, 3);

    // The cached page is not served again; held comments take no more flags.
    assert!(public_thread(&app).await.is_empty());
    assert_error(
        flag(&app, Some(&erin), &id, json!({ "reason": "spam" })).await,
        404,
        "not_found",
    )
    .await;

    // The author can't edit the flags away: the comment stays held, its flag reason kept.
    let r = send(
        &app,
        Method::PATCH,
        &format!("/api/v1/comments/{id}"),
        Some(&alice),
        Some(json!({ "body": "A contested opinion, toned down" })),
    )
    .await;
    assert_eq!(r.status(), 200);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["status"], "pending", "{body}");
    assert!(
        body["reasons"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r["kind"] == "flagged"),
        "{body}"
    );
}

#[tokio::test]
async fn a_moderator_approval_resets_the_flag_count() {
    let app = dev_app(Policy::Post).await;
    let alice = reader(&app, "Alice").await;
    let mut readers = vec![];
    for name in ["Bob", "Carol", "Dave", "Erin"] {
        readers.push(reader(&app, name).await);
    }
    let id = published(&app, &alice, "Kept by a moderator", None).await;
    for r in &readers[..3] {
        flagged(&app, r, &id).await;
    }
    // A moderator looks and keeps it.
    sqlx::query(
        "WITH c AS (UPDATE comments SET status = 'approved' WHERE id = $1::uuid RETURNING site_id)
         INSERT INTO moderation_events (site_id, comment_id, actor_kind, from_status, to_status, created_at)
         SELECT site_id, $1::uuid, 'moderator', 'pending', 'approved', now() + interval '1 second' FROM c",
    )
    .bind(&id)
    .execute(&app.db)
    .await
    .unwrap();
    sqlx::query("UPDATE flags SET created_at = now() - interval '1 minute'")
        .execute(&app.db)
        .await
        .unwrap();
    assert_eq!(flagged(&app, &readers[3], &id).await, 4);
    let status: String = column(&app, "SELECT status FROM comments WHERE id = $1::uuid", &id).await;
    assert_eq!(
        status, "approved",
        "one new flag after the approval is not three"
    );
}

#[tokio::test]
async fn flags_need_a_session_a_known_reason_and_a_published_comment() {
    let app = dev_app(Policy::Post).await;
    let alice = reader(&app, "Alice").await;
    let bob = reader(&app, "Bob").await;
    let id = published(&app, &alice, "Flag me", None).await;

    assert_error(
        flag(&app, None, &id, json!({ "reason": "spam" })).await,
        401,
        "unauthenticated",
    )
    .await;
    for bad in [
        json!({ "reason": "meh" }),
        json!({ "reason": 3 }),
        json!({}),
        json!({ "reason": "spam", "note": "x".repeat(1001) }),
        json!({ "reason": "spam", "note": "bell\u{7}" }),
        json!({ "reason": "spam", "extra": true }),
    ] {
        assert_error(
            flag(&app, Some(&bob), &id, bad).await,
            400,
            "validation_failed",
        )
        .await;
    }
    let unknown = uuid::Uuid::now_v7().to_string();
    assert_error(
        flag(&app, Some(&bob), &unknown, json!({ "reason": "spam" })).await,
        404,
        "not_found",
    )
    .await;
    assert_error(
        flag(&app, Some(&bob), "nope", json!({ "reason": "spam" })).await,
        404,
        "not_found",
    )
    .await;
    app.set_status(&id, "pending").await;
    assert_error(
        flag(&app, Some(&bob), &id, json!({ "reason": "spam" })).await,
        404,
        "not_found",
    )
    .await;
    let stored: i64 = column(
        &app,
        "SELECT count(*) FROM flags WHERE comment_id = $1::uuid",
        &id,
    )
    .await;
    assert_eq!(stored, 0);
}

/// (id, score) of the thread's comments, `sort=top`, as an anonymous (cached) reader sees them.
async fn top(app: &TestApp) -> Vec<(String, i64)> {
    let t = app.thread("blog", &format!("uri={URI}&sort=top")).await;
    t["comments"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["id"].as_str().unwrap().to_owned(),
                c["score"].as_i64().unwrap(),
            )
        })
        .collect()
}

#[tokio::test]
async fn votes_keep_the_score_and_sort_top_uses_it() {
    let app = dev_app(Policy::Post).await;
    let alice = reader(&app, "Alice").await;
    let bob = reader(&app, "Bob").await;
    let carol = reader(&app, "Carol").await;
    let first = published(&app, &alice, "First comment", None).await;
    let second = published(&app, &alice, "Second comment", None).await;
    assert_eq!(
        top(&app).await,
        vec![(first.clone(), 0), (second.clone(), 0)]
    );

    assert_eq!(
        voted(&app, &bob, &second, 1).await,
        json!({ "score": 1, "value": 1 })
    );
    assert_eq!(
        top(&app).await,
        vec![(second.clone(), 1), (first.clone(), 0)],
        "the cached page follows the vote"
    );
    assert_eq!(
        voted(&app, &carol, &second, 1).await,
        json!({ "score": 2, "value": 1 })
    );
    assert_eq!(
        voted(&app, &bob, &second, -1).await,
        json!({ "score": 0, "value": -1 })
    );
    assert_eq!(
        voted(&app, &bob, &second, -1).await,
        json!({ "score": 0, "value": -1 }),
        "one vote per reader"
    );
    assert_eq!(
        voted(&app, &bob, &second, 0).await,
        json!({ "score": 1, "value": 0 })
    );
    assert_eq!(
        voted(&app, &bob, &second, 0).await,
        json!({ "score": 1, "value": 0 })
    );
    assert_eq!(
        voted(&app, &bob, &first, -1).await,
        json!({ "score": -1, "value": -1 })
    );
    assert_eq!(
        top(&app).await,
        vec![(second.clone(), 1), (first.clone(), -1)]
    );

    let (score, sum): (i32, i64) = sqlx::query_as(
        "SELECT c.score, (SELECT coalesce(sum(value), 0) FROM votes v WHERE v.comment_id = c.id)
         FROM comments c WHERE c.id = $1::uuid",
    )
    .bind(&second)
    .fetch_one(&app.db)
    .await
    .unwrap();
    assert_eq!((score, sum), (1, 1));
    let votes: i64 = column(
        &app,
        "SELECT count(*) FROM votes WHERE comment_id = $1::uuid",
        &second,
    )
    .await;
    assert_eq!(votes, 1, "Bob's vote was removed, Carol's stays");
}

#[tokio::test]
async fn votes_are_refused_on_own_unpublished_and_unknown_comments() {
    let app = dev_app(Policy::Post).await;
    let alice = reader(&app, "Alice").await;
    let bob = reader(&app, "Bob").await;
    let id = published(&app, &alice, "Vote on me", None).await;

    assert_error(
        vote(&app, Some(&alice), &id, json!(1)).await,
        403,
        "own_comment",
    )
    .await;
    assert_error(
        vote(&app, None, &id, json!(1)).await,
        401,
        "unauthenticated",
    )
    .await;
    for bad in [json!(2), json!(-2), json!("1"), json!(1.5), json!(null)] {
        assert_error(
            vote(&app, Some(&bob), &id, bad).await,
            400,
            "validation_failed",
        )
        .await;
    }
    let r = send(
        &app,
        Method::PUT,
        &format!("/api/v1/comments/{id}/vote"),
        Some(&bob),
        Some(json!({})),
    )
    .await;
    assert_error(r, 400, "validation_failed").await;
    let r = send(
        &app,
        Method::POST,
        &format!("/api/v1/comments/{id}/vote"),
        Some(&bob),
        Some(json!({ "value": 1 })),
    )
    .await;
    assert_eq!(r.status(), 405);
    assert_error(
        vote(&app, Some(&bob), "nope", json!(1)).await,
        404,
        "not_found",
    )
    .await;
    let unknown = uuid::Uuid::now_v7().to_string();
    assert_error(
        vote(&app, Some(&bob), &unknown, json!(1)).await,
        404,
        "not_found",
    )
    .await;
    for status in ["pending", "deleted", "spam"] {
        app.set_status(&id, status).await;
        assert_error(
            vote(&app, Some(&bob), &id, json!(1)).await,
            404,
            "not_found",
        )
        .await;
    }
    let score: i32 = column(&app, "SELECT score FROM comments WHERE id = $1::uuid", &id).await;
    assert_eq!(score, 0);
}
