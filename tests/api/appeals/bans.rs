use super::*;

#[tokio::test]
async fn an_overturned_ban_appeal_lifts_the_ban_and_an_upheld_one_keeps_it() {
    let ctx = setup().await;
    let app = &ctx.app;
    let ann = reader(app, "Ann").await;
    let bob = reader(app, "Bob").await;
    post_as(app, &ann, "Before the ban", None).await;
    post_as(app, &bob, "Bob before the ban", None).await;
    for who in [&ann, &bob] {
        let r = post(
            app,
            "/sites/blog/bans",
            &ctx.token,
            json!({ "user_id": who.id, "reason": "rude" }),
        )
        .await;
        assert_eq!(r.status(), 201);
        let (status, body) = post_as(app, who, "Still here?", None).await;
        assert_eq!(status, 403, "{body}");
    }

    let a = json_of(appeal_ban(app, &ann, "blog").await, 201).await;
    assert_eq!(a["kind"], "ban");
    let ann_appeal = a["id"].as_str().unwrap().to_owned();
    assert_error(appeal_ban(app, &ann, "blog").await, 409, "appeal_exists").await;
    let bob_appeal = json_of(appeal_ban(app, &bob, "blog").await, 201).await["id"]
        .as_str()
        .unwrap()
        .to_owned();

    let queue = json_of(get(app, "/sites/blog/appeals", &ctx.token).await, 200).await;
    let first = &queue["items"][0];
    assert_eq!(first["id"], ann_appeal.as_str());
    assert_eq!(first["kind"], "ban");
    assert_eq!(first["ban_active"], true);
    assert_eq!(first["ban_reason"], "rude");
    let ban_id = first["ban_id"].as_str().unwrap().to_owned();

    // Overturn: the ban ends, audited, in one go; Ann can post again.
    let decided = json_of(
        decide(
            &ctx,
            &ann_appeal,
            json!({ "action": "overturn", "note": "Fair enough" }),
        )
        .await,
        200,
    )
    .await;
    assert_eq!(decided["status"], "overturned");
    assert_eq!(decided["ban_active"], false);
    let (status, body) = post_as(app, &ann, "Thanks for having me back", None).await;
    assert_eq!(status, 201, "{body}");
    assert_error(appeal_ban(app, &ann, "blog").await, 409, "not_banned").await;
    let ban = json_of(
        get(app, &format!("/sites/blog/bans/{ban_id}"), &ctx.token).await,
        200,
    )
    .await;
    assert_eq!(ban["active"], false);

    // Uphold: Bob stays banned.
    let decided = json_of(
        decide(&ctx, &bob_appeal, json!({ "action": "uphold" })).await,
        200,
    )
    .await;
    assert_eq!(decided["status"], "upheld");
    assert_eq!(decided["ban_active"], true);
    let (status, _) = post_as(app, &bob, "Let me in", None).await;
    assert_eq!(status, 403);

    let events: Vec<(String, String, Option<String>, Option<Uuid>)> =
        sqlx::query_as("SELECT action, actor_kind, note, appeal_id FROM ban_events ORDER BY id")
            .fetch_all(&app.db)
            .await
            .unwrap();
    assert_eq!(
        events,
        [
            (
                "appeal_overturned".to_owned(),
                "moderator".to_owned(),
                Some("Fair enough".to_owned()),
                Some(Uuid::parse_str(&ann_appeal).unwrap())
            ),
            (
                "appeal_upheld".to_owned(),
                "moderator".to_owned(),
                None,
                Some(Uuid::parse_str(&bob_appeal).unwrap())
            ),
        ]
    );
    let mine = my_appeals(app, &ann).await;
    assert_eq!(mine[0]["status"], "overturned");
    assert_eq!(mine[0]["note"], "Fair enough");
    assert_eq!(mine[0]["kind"], "ban");
}

#[tokio::test]
async fn another_sites_moderator_finds_no_appeals_and_can_decide_none() {
    let ctx = setup().await;
    let app = &ctx.app;
    let other = app
        .create_site(SiteOpts {
            slug: "other",
            ..Default::default()
        })
        .await;
    add_moderator(app, "other@example.com", &other, Role::Owner).await;
    let intruder = mod_login(app, "other@example.com").await;

    let ann = reader(app, "Ann").await;
    let (_, c) = post_as(app, &ann, "Soon rejected", None).await;
    let id = c["comment"]["id"].as_str().unwrap().to_owned();
    mod_act(&ctx, &id, "reject").await;
    let a = json_of(appeal(app, Some(&ann), &id, "Please").await, 201).await;
    let a = a["id"].as_str().unwrap().to_owned();

    assert_error(
        get(app, "/sites/blog/appeals", &intruder).await,
        404,
        "not_found",
    )
    .await;
    for action in ["uphold", "overturn"] {
        let r = post(
            app,
            &format!("/appeals/{a}/actions"),
            &intruder,
            json!({ "action": action }),
        )
        .await;
        assert_error(r, 404, "not_found").await;
    }
    let r = post(
        app,
        "/sites/blog/rules/dry-run",
        &intruder,
        json!({ "rules": [] }),
    )
    .await;
    assert_error(r, 404, "not_found").await;
    let r = post(
        app,
        "/appeals/not-an-id/actions",
        &ctx.token,
        json!({ "action": "uphold" }),
    )
    .await;
    assert_error(r, 404, "not_found").await;
    // Their own site has no appeals.
    let theirs = json_of(get(app, "/sites/other/appeals", &intruder).await, 200).await;
    assert_eq!(theirs["items"], json!([]));

    assert_eq!(status_of(app, &id).await, "rejected");
    let open: String = sqlx::query_scalar("SELECT status FROM appeals WHERE id = $1::uuid")
        .bind(&a)
        .fetch_one(&app.db)
        .await
        .unwrap();
    assert_eq!(open, "open");
    let _ = &ctx.site;
}
