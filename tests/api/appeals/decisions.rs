use super::*;

#[tokio::test]
async fn an_appealed_rejection_is_upheld_or_overturned_audited_and_shown_to_its_author() {
    let ctx = setup().await;
    let app = &ctx.app;
    let ann = reader(app, "Ann").await;
    let bob = reader(app, "Bob").await;
    let (_, first) = post_as(app, &ann, "A first thought", None).await;
    let first = first["comment"]["id"].as_str().unwrap().to_owned();
    let (_, second) = post_as(app, &ann, "A second thought", None).await;
    let second = second["comment"]["id"].as_str().unwrap().to_owned();
    mod_act(&ctx, &first, "reject").await;
    mod_act(&ctx, &second, "spam").await;

    // Only the author; a rejected comment of someone else isn't even confirmed to exist.
    assert_error(
        appeal(app, Some(&bob), &first, "Let it in").await,
        404,
        "not_found",
    )
    .await;
    assert_error(
        appeal(app, None, &first, "Let it in").await,
        401,
        "unauthenticated",
    )
    .await;
    let body = assert_error(
        appeal(app, Some(&ann), &first, "   ").await,
        400,
        "validation_failed",
    )
    .await;
    assert!(body["error"]["details"]["message"].is_string());

    let r = appeal(app, Some(&ann), &first, "It was on topic, really").await;
    let a1 = json_of(r, 201).await;
    assert_eq!(a1["status"], "open");
    assert_eq!(a1["kind"], "comment");
    let a1 = a1["id"].as_str().unwrap().to_owned();
    // One open appeal per comment.
    assert_error(
        appeal(app, Some(&ann), &first, "Again").await,
        409,
        "appeal_exists",
    )
    .await;
    let a2 = json_of(appeal(app, Some(&ann), &second, "Not spam").await, 201).await;
    let a2 = a2["id"].as_str().unwrap().to_owned();

    // The queue: open ones oldest first, with the comment as it stands.
    let queue = json_of(get(app, "/sites/blog/appeals", &ctx.token).await, 200).await;
    let items = queue["items"].as_array().unwrap();
    assert_eq!(items.len(), 2, "{queue}");
    assert_eq!(items[0]["id"], a1.as_str());
    assert_eq!(items[0]["comment_id"], first.as_str());
    assert_eq!(items[0]["comment_status"], "rejected");
    assert_eq!(items[0]["message"], "It was on topic, really");
    assert_eq!(items[0]["user_id"], ann.id.as_str());
    assert_eq!(items[1]["id"], a2.as_str());
    let page = json_of(
        get(app, "/sites/blog/appeals?limit=1", &ctx.token).await,
        200,
    )
    .await;
    assert_eq!(page["items"][0]["id"], a1.as_str());
    let cursor = page["next_cursor"].as_str().unwrap();
    let page = json_of(
        get(
            app,
            &format!("/sites/blog/appeals?limit=1&cursor={cursor}"),
            &ctx.token,
        )
        .await,
        200,
    )
    .await;
    assert_eq!(page["items"][0]["id"], a2.as_str());
    assert_error(
        get(app, "/sites/blog/appeals?status=closed", &ctx.token).await,
        400,
        "validation_failed",
    )
    .await;
    assert_error(
        decide(&ctx, &a1, json!({ "action": "maybe" })).await,
        400,
        "validation_failed",
    )
    .await;

    // Uphold: the comment stays rejected; the decision is on its record.
    let decided = json_of(
        decide(
            &ctx,
            &a1,
            json!({ "action": "uphold", "note": "Off topic for this post" }),
        )
        .await,
        200,
    )
    .await;
    assert_eq!(decided["status"], "upheld");
    assert_eq!(decided["note"], "Off topic for this post");
    assert_eq!(status_of(app, &first).await, "rejected");
    let (actor, from, to, note, reasons) = last_event(app, &first).await;
    assert_eq!(
        (
            actor.as_str(),
            from.as_deref(),
            to.as_str(),
            note.as_deref()
        ),
        (
            "moderator",
            Some("rejected"),
            "rejected",
            Some("Off topic for this post")
        )
    );
    assert_eq!(reasons[0]["kind"], "appeal_upheld");
    assert_eq!(reasons[0]["matched"], a1.as_str());
    assert_error(
        decide(&ctx, &a1, json!({ "action": "overturn" })).await,
        409,
        "appeal_decided",
    )
    .await;

    // Overturn: the comment is approved through the state machine, audited.
    let decided = json_of(
        decide(&ctx, &a2, json!({ "action": "overturn" })).await,
        200,
    )
    .await;
    assert_eq!(decided["status"], "overturned");
    assert_eq!(decided["comment_status"], "approved");
    assert_eq!(status_of(app, &second).await, "approved");
    let (actor, from, to, note, reasons) = last_event(app, &second).await;
    assert_eq!(
        (actor.as_str(), from.as_deref(), to.as_str(), note),
        ("moderator", Some("spam"), "approved", None)
    );
    assert_eq!(reasons[0]["kind"], "appeal_overturned");

    // The author sees the outcome on their comment; nobody else does.
    let mine = thread_as(app, &ann).await;
    let c = find(&mine, &second).expect("the restored comment is in the thread");
    assert_eq!(c["status"], "approved");
    assert_eq!(c["appeal"], json!({ "status": "overturned" }));
    let theirs = thread_as(app, &bob).await;
    assert!(find(&theirs, &second).unwrap().get("appeal").is_none());
    let public = public_thread(app).await;
    assert!(find(&public, &second).unwrap().get("appeal").is_none());
    assert!(find(&public, &first).is_none());

    // ... and every appeal, with the note meant for them, in /me/appeals (newest first).
    let list = my_appeals(app, &ann).await;
    assert_eq!(list.len(), 2);
    assert_eq!(list[0]["id"], a2.as_str());
    assert_eq!(list[0]["status"], "overturned");
    assert_eq!(list[1]["id"], a1.as_str());
    assert_eq!(list[1]["status"], "upheld");
    assert_eq!(list[1]["note"], "Off topic for this post");
    assert_eq!(list[1]["site"], "blog");
    assert!(list[1].get("decided_by").is_none());
    assert!(my_appeals(app, &bob).await.is_empty());

    let upheld = json_of(
        get(app, "/sites/blog/appeals?status=upheld", &ctx.token).await,
        200,
    )
    .await;
    assert_eq!(upheld["items"][0]["id"], a1.as_str());
    let open = json_of(get(app, "/sites/blog/appeals", &ctx.token).await, 200).await;
    assert_eq!(open["items"], json!([]));

    // A decided appeal doesn't stop a new one; an approved comment has nothing to appeal.
    assert_eq!(
        appeal(app, Some(&ann), &first, "Please look again")
            .await
            .status(),
        201
    );
    let body = assert_error(
        appeal(app, Some(&ann), &second, "Huh").await,
        409,
        "not_appealable",
    )
    .await;
    assert_eq!(body["error"]["details"]["status"], "approved");
}

#[tokio::test]
async fn refused_appeals_change_nothing() {
    let ctx = setup().await;
    let app = &ctx.app;
    let ann = reader(app, "Ann").await;
    let bob = reader(app, "Bob").await;
    let (_, c) = post_as(app, &ann, "Published and fine", None).await;
    let published = c["comment"]["id"].as_str().unwrap().to_owned();

    // Someone else's published comment: 403; one's own published comment: 409.
    assert_error(
        appeal(app, Some(&bob), &published, "Hmm").await,
        403,
        "forbidden",
    )
    .await;
    assert_error(
        appeal(app, Some(&ann), &published, "Hmm").await,
        409,
        "not_appealable",
    )
    .await;
    // Pending is not a rejection either.
    let (_, c) = post_as(app, &ann, "A pending one", None).await;
    let pending = c["comment"]["id"].as_str().unwrap().to_owned();
    app.set_status(&pending, "pending").await;
    assert_error(
        appeal(app, Some(&ann), &pending, "Hmm").await,
        409,
        "not_appealable",
    )
    .await;
    // Unknown and malformed ids.
    let unknown = Uuid::now_v7();
    assert_error(
        appeal(app, Some(&ann), &unknown.to_string(), "Hmm").await,
        404,
        "not_found",
    )
    .await;
    assert_error(
        appeal(app, Some(&ann), "not-an-id", "Hmm").await,
        404,
        "not_found",
    )
    .await;
    let r = send(
        app,
        Method::POST,
        &format!("/api/v1/comments/{published}/appeal"),
        Some(&ann),
        Some(json!({ "message": "x", "urgent": true })),
    )
    .await;
    assert_eq!(r.status(), 400);

    // Not banned: nothing to appeal; an unknown site is 404.
    assert_error(appeal_ban(app, &ann, "blog").await, 409, "not_banned").await;
    assert_error(appeal_ban(app, &ann, "nowhere").await, 404, "not_found").await;

    // A shadow ban is never revealed by an appeal.
    let r = post(
        app,
        "/sites/blog/bans",
        &ctx.token,
        json!({ "user_id": ann.id, "shadow": true }),
    )
    .await;
    assert_eq!(r.status(), 201);
    assert_error(appeal_ban(app, &ann, "blog").await, 409, "not_banned").await;
    let (_, c) = post_as(app, &ann, "Shadowed comment", None).await;
    let shadowed = c["comment"]["id"].as_str().unwrap().to_owned();
    assert_eq!(status_of(app, &shadowed).await, "spam");
    let body = assert_error(
        appeal(app, Some(&ann), &shadowed, "Hmm").await,
        409,
        "not_appealable",
    )
    .await;
    assert_eq!(body["error"]["details"]["status"], "approved");

    let n: i64 = sqlx::query_scalar("SELECT count(*) FROM appeals")
        .fetch_one(&app.db)
        .await
        .unwrap();
    assert_eq!(n, 0);
}
