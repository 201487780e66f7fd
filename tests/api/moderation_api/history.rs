//! Edits and history

use super::*;

#[tokio::test]
async fn a_moderators_edit_is_kept_in_history_with_the_status_changes() {
    let ctx = setup(Policy::Pre).await;
    let app = &ctx.app;
    let id = ann(&ctx, "/p/", "Original <b>words</b>").await;
    ctx.moderator()
        .act(&id, json!({ "action": "approve", "note": "fine" }), None)
        .await;
    let (_, v) = status_of(app, &id).await;

    let r = ctx
        .moderator()
        .edit_comment(
            &id,
            json!({ "body": "Cleaned **words**" }),
            Some(&v.to_string()),
        )
        .await;
    let body = json_of(r, 200).await;
    assert_eq!(body["comment"]["body_markdown"], "Cleaned **words**");
    assert_eq!(
        body["comment"]["html"],
        "<p>Cleaned <strong>words</strong></p>\n"
    );
    assert_eq!(
        body["comment"]["status"], "approved",
        "no pipeline re-run for moderators"
    );
    assert_eq!(body["comment"]["version"], v + 1);
    assert!(body["comment"]["edited_at"].is_string());
    // The public thread shows the new text at once.
    let thread = app.thread("blog", "uri=/p/").await;
    assert_eq!(
        thread["comments"][0]["html"],
        "<p>Cleaned <strong>words</strong></p>\n"
    );

    // Stale, empty, unknown fields.
    let r = ctx
        .moderator()
        .edit_comment(&id, json!({ "body": "Again" }), Some(&v.to_string()))
        .await;
    assert_error(r, 412, "precondition_failed").await;
    let r = ctx
        .moderator()
        .edit_comment(&id, json!({ "body": "   " }), None)
        .await;
    let e = assert_error(r, 400, "validation_failed").await;
    assert!(e["error"]["details"]["body"].is_string());
    let r = ctx
        .moderator()
        .edit_comment(&id, json!({ "body": "x", "status": "approved" }), None)
        .await;
    assert_error(r, 400, "validation_failed").await;

    let revisions: Vec<(String, Option<Uuid>, String)> = sqlx::query_as(
        "SELECT editor_kind, editor_id, body_markdown FROM comment_revisions WHERE comment_id = $1::uuid",
    )
    .bind(&id)
    .fetch_all(&app.db)
    .await
    .unwrap();
    assert_eq!(
        revisions,
        [(
            "moderator".into(),
            Some(ctx.mod_id),
            "Original <b>words</b>".into()
        )]
    );

    act(&ctx, &id, "reject").await;
    let history = json_of(
        get(app, &format!("/comments/{id}/history"), &ctx.token).await,
        200,
    )
    .await;
    let items = history["items"].as_array().unwrap();
    let kinds: Vec<(&str, &str)> = items
        .iter()
        .map(|i| {
            (
                i["type"].as_str().unwrap(),
                i["actor"]["kind"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        kinds,
        [
            ("status", "pipeline"),
            ("status", "moderator"),
            ("edit", "moderator"),
            ("status", "moderator")
        ]
    );
    assert_eq!(items[0]["from"], Value::Null);
    assert_eq!(items[0]["to"], "pending");
    assert_eq!(items[0]["reasons"][0]["kind"], "policy_pre");
    assert_eq!(items[1]["from"], "pending");
    assert_eq!(items[1]["to"], "approved");
    assert_eq!(items[1]["note"], "fine");
    assert_eq!(items[1]["actor"]["id"], ctx.mod_id.to_string());
    assert_eq!(items[1]["actor"]["email"], "mod@example.com");
    assert_eq!(items[2]["previous_body_markdown"], "Original <b>words</b>");
    assert_eq!(items[3]["to"], "rejected");
    assert!(history["next_cursor"].is_null());
    let times: Vec<&str> = items
        .iter()
        .map(|i| i["created_at"].as_str().unwrap())
        .collect();
    let mut sorted = times.clone();
    sorted.sort();
    assert_eq!(times, sorted);
}

#[tokio::test]
async fn the_audit_log_is_the_sites_status_changes_newest_first() {
    let ctx = setup(Policy::Pre).await;
    let a = ann(&ctx, "/p/", "Comment a").await;
    let b = ann(&ctx, "/p/", "Comment b").await;
    act(&ctx, &a, "approve").await;
    act(&ctx, &b, "spam").await;
    act(&ctx, &a, "delete").await;
    // 2 pipeline rows + 3 moderator rows.
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let mut path = "/sites/blog/audit?limit=2".to_owned();
        if let Some(c) = &cursor {
            path.push_str(&format!("&cursor={c}"));
        }
        let page = json_of(get(&ctx.app, &path, &ctx.token).await, 200).await;
        for i in page["items"].as_array().unwrap() {
            seen.push((
                i["comment_id"].as_str().unwrap().to_owned(),
                i["actor"]["kind"].as_str().unwrap().to_owned(),
                i["to"].as_str().unwrap().to_owned(),
            ));
        }
        match page["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_owned()),
            None => break,
        }
    }
    let s = |c: &str, k: &str, t: &str| (c.to_owned(), k.to_owned(), t.to_owned());
    assert_eq!(
        seen,
        [
            s(&a, "moderator", "deleted"),
            s(&b, "moderator", "spam"),
            s(&a, "moderator", "approved"),
            s(&b, "pipeline", "pending"),
            s(&a, "pipeline", "pending"),
        ]
    );
    let r = get(&ctx.app, "/sites/blog/audit?cursor=bm9wZQ", &ctx.token).await;
    assert_error(r, 400, "validation_failed").await;
}
