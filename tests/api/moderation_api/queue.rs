//! Queue

use super::*;

#[tokio::test]
async fn the_queue_lists_each_status_with_reasons_flags_and_the_authors_history() {
    let ctx = setup(Policy::Pre).await;
    let app = &ctx.app;
    let c1 = ann(&ctx, "/p/", "First comment of Ann").await;
    let c2 = ann(&ctx, "/p/", "Buy cheap watches").await;
    let (c3, bob) = comment_by(app, "blog", "/q/", "Bob says hi", "bob@example.com").await;
    let c4 = ann(&ctx, "/p/", "A fine post").await;
    act(&ctx, &c2, "spam").await;
    act(&ctx, &c4, "approve").await;
    flag(app, &c4, &bob, "abuse", Some("rude")).await;
    flag(app, &c1, &bob, "off_topic", None).await;

    let pending = json_of(
        get(app, "/sites/blog/queue?status=pending", &ctx.token).await,
        200,
    )
    .await;
    assert_eq!(ids_of(&pending), [c1.clone(), c3.clone()], "oldest first");
    assert!(pending["next_cursor"].is_null());
    let first = &pending["items"][0];
    assert_eq!(first["comment"]["status"], "pending");
    assert_eq!(first["comment"]["body_markdown"], "First comment of Ann");
    assert_eq!(first["comment"]["html"], "<p>First comment of Ann</p>\n");
    assert_eq!(first["comment"]["thread"]["uri"], "/p/");
    assert_eq!(first["comment"]["version"], 1);
    assert!(first["comment"]["created_at"].is_string());
    assert_eq!(first["author"]["email"], "ann@example.com");
    assert_eq!(first["author"]["ip"], "127.0.0.1");
    assert_eq!(first["author"]["provider"], "guest");
    assert_eq!(first["reasons"][0]["kind"], "policy_pre");
    assert_eq!(first["flags_count"], 1);
    assert_eq!(first["flags"][0]["reason"], "off_topic");
    assert!(first["flags"][0]["created_at"].is_string());
    assert_eq!(
        first["author_history"],
        json!({ "approved": 1, "pending": 1, "spam": 1, "rejected": 0, "deleted": 0 })
    );
    assert_eq!(
        pending["items"][1]["author_history"],
        json!({ "approved": 0, "pending": 1, "spam": 0, "rejected": 0, "deleted": 0 })
    );
    assert_eq!(pending["items"][1]["flags"], json!([]));

    let spam = json_of(
        get(app, "/sites/blog/queue?status=spam", &ctx.token).await,
        200,
    )
    .await;
    assert_eq!(ids_of(&spam), [c2.as_str()]);

    let flagged = json_of(
        get(app, "/sites/blog/queue?status=flagged", &ctx.token).await,
        200,
    )
    .await;
    assert_eq!(ids_of(&flagged), [c1.clone(), c4.clone()]);
    let c4_item = &flagged["items"][1];
    assert_eq!(c4_item["comment"]["status"], "approved");
    assert_eq!(
        c4_item["flags"][0],
        json!({ "reason": "abuse", "note": "rude", "created_at": c4_item["flags"][0]["created_at"] })
    );

    // A flagged comment that is no longer approved or pending leaves the flagged queue.
    act(&ctx, &c4, "reject").await;
    let flagged = json_of(
        get(app, "/sites/blog/queue?status=flagged", &ctx.token).await,
        200,
    )
    .await;
    assert_eq!(ids_of(&flagged), [c1]);

    let r = get(app, "/sites/blog/queue?status=approved", &ctx.token).await;
    let body = assert_error(r, 400, "validation_failed").await;
    assert!(body["error"]["details"]["status"].is_string());
    assert_error(
        get(app, "/sites/blog/queue?cursor=%%%", &ctx.token).await,
        400,
        "validation_failed",
    )
    .await;
    assert_error(
        get(app, "/sites/blog/queue?limit=0", &ctx.token).await,
        400,
        "validation_failed",
    )
    .await;
    // Without a token: 401.
    let r = app
        .client
        .get(app.url("/api/mod/v1/sites/blog/queue"))
        .send()
        .await
        .unwrap();
    assert_error(r, 401, "unauthenticated").await;
}

#[tokio::test]
async fn queue_pages_cover_every_item_exactly_once() {
    let ctx = setup(Policy::Pre).await;
    let mut expected = Vec::new();
    for i in 0..7 {
        expected.push(ann(&ctx, "/p/", &format!("Comment number {i}")).await);
    }
    // One of them leaves the queue; the rest stay in posting order.
    act(&ctx, &expected.remove(3), "approve").await;
    let (ids, pages) = all_pages(&ctx, "/sites/blog/queue?status=pending", 2).await;
    assert_eq!(ids, expected);
    assert_eq!(pages, 3);
    let (ids, _) = all_pages(&ctx, "/sites/blog/queue", 200).await;
    assert_eq!(ids, expected, "pending is the default queue");
}
