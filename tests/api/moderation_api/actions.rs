//! Actions

use super::*;

#[tokio::test]
async fn every_transition_is_allowed_or_refused_as_the_state_machine_says() {
    let ctx = setup(Policy::Pre).await;
    let app = &ctx.app;
    // (from, action, to or None when refused)
    let cases: &[(&str, &str, Option<&str>)] = &[
        ("pending", "approve", Some("approved")),
        ("spam", "approve", Some("approved")),
        ("rejected", "approve", Some("approved")),
        ("approved", "approve", None),
        ("deleted", "approve", None),
        ("pending", "reject", Some("rejected")),
        ("approved", "reject", Some("rejected")),
        ("spam", "reject", Some("rejected")),
        ("rejected", "reject", None),
        ("pending", "spam", Some("spam")),
        ("approved", "spam", Some("spam")),
        ("rejected", "spam", Some("spam")),
        ("spam", "spam", None),
        ("spam", "not_spam", Some("approved")),
        ("pending", "not_spam", None),
        ("approved", "not_spam", None),
        ("rejected", "not_spam", None),
        ("pending", "delete", Some("deleted")),
        ("approved", "delete", Some("deleted")),
        ("spam", "delete", Some("deleted")),
        ("rejected", "delete", Some("deleted")),
        ("deleted", "delete", None),
        ("pending", "restore", None),
        ("approved", "restore", None),
    ];
    for (i, (from, action, to)) in cases.iter().enumerate() {
        let id = ann(
            &ctx,
            &format!("/t{i}/"),
            &format!("Case {i}: {from} then {action}"),
        )
        .await;
        app.set_status(&id, from).await;
        let (_, version) = status_of(app, &id).await;
        let r = ctx
            .moderator()
            .act(
                &id,
                json!({ "action": action, "note": format!("case {i}") }),
                None,
            )
            .await;
        let events: Vec<EventRow> = sqlx::query_as(
            "SELECT actor_kind, actor_id, from_status, to_status, note FROM moderation_events
             WHERE comment_id = $1::uuid AND actor_kind = 'moderator'",
        )
        .bind(&id)
        .fetch_all(&app.db)
        .await
        .unwrap();
        match to {
            Some(to) => {
                assert_eq!(r.status(), 200, "{from} {action}");
                let body: Value = r.json().await.unwrap();
                assert_eq!(body["comment"]["status"], *to, "{from} {action}");
                assert_eq!(body["comment"]["version"], version + 1);
                assert_eq!(status_of(app, &id).await, (to.to_string(), version + 1));
                assert_eq!(
                    events,
                    [(
                        "moderator".to_owned(),
                        Some(ctx.mod_id),
                        Some(from.to_string()),
                        to.to_string(),
                        Some(format!("case {i}"))
                    )],
                    "{from} {action}"
                );
            }
            None => {
                let body = assert_error(r, 409, "conflict").await;
                assert_eq!(body["error"]["details"]["status"], *from);
                assert_eq!(status_of(app, &id).await, (from.to_string(), version));
                assert!(events.is_empty(), "a refused move writes no audit row");
            }
        }
    }

    // Restore returns a comment to where it was before it was deleted.
    for before in ["approved", "spam", "rejected"] {
        let id = ann(&ctx, "/restore/", &format!("Restore me from {before}")).await;
        let action = match before {
            "approved" => "approve",
            "spam" => "spam",
            _ => "reject",
        };
        act(&ctx, &id, action).await;
        act(&ctx, &id, "delete").await;
        let body = act(&ctx, &id, "restore").await;
        assert_eq!(body["comment"]["status"], before);
        let last: (String, Option<Uuid>, Option<String>, String) = sqlx::query_as(
            "SELECT actor_kind, actor_id, from_status, to_status FROM moderation_events
             WHERE comment_id = $1::uuid ORDER BY id DESC LIMIT 1",
        )
        .bind(&id)
        .fetch_one(&app.db)
        .await
        .unwrap();
        assert_eq!(
            last,
            (
                "moderator".into(),
                Some(ctx.mod_id),
                Some("deleted".into()),
                before.into()
            )
        );
    }

    // Bad actions and notes are 400; an unknown comment is 404.
    let id = ann(&ctx, "/x/", "Something to act on").await;
    let r = ctx
        .moderator()
        .act(&id, json!({ "action": "burn" }), None)
        .await;
    let body = assert_error(r, 400, "validation_failed").await;
    assert!(body["error"]["details"]["action"].is_string(), "{body}");
    let r = ctx
        .moderator()
        .act(
            &id,
            json!({ "action": "approve", "note": "x".repeat(1001) }),
            None,
        )
        .await;
    assert_error(r, 400, "validation_failed").await;
    let r = ctx
        .moderator()
        .act(&id, json!({ "action": "approve", "extra": 1 }), None)
        .await;
    assert_error(r, 400, "validation_failed").await;
    let r = ctx
        .moderator()
        .act(
            &Uuid::now_v7().to_string(),
            json!({ "action": "approve" }),
            None,
        )
        .await;
    assert_error(r, 404, "not_found").await;
    let r = ctx
        .moderator()
        .act("not-a-uuid", json!({ "action": "approve" }), None)
        .await;
    assert_error(r, 404, "not_found").await;
    let r = call(
        app,
        Method::GET,
        &format!("/comments/{id}/actions"),
        &ctx.token,
        None,
    )
    .await;
    assert_eq!(r.status(), 405);
    assert_eq!(r.headers()["allow"], "POST");
}

#[tokio::test]
async fn a_stale_if_match_is_412_and_changes_nothing() {
    let ctx = setup(Policy::Pre).await;
    let id = ann(&ctx, "/p/", "Versioned comment").await;
    let (_, v) = status_of(&ctx.app, &id).await;
    let approved = json_of(
        ctx.moderator()
            .act(&id, json!({ "action": "approve" }), Some(&v.to_string()))
            .await,
        200,
    )
    .await;
    assert_eq!(approved["comment"]["version"], v + 1);
    // The old version is stale now.
    let r = ctx
        .moderator()
        .act(&id, json!({ "action": "reject" }), Some(&v.to_string()))
        .await;
    let body = assert_error(r, 412, "precondition_failed").await;
    assert_eq!(body["error"]["details"]["version"], v + 1);
    assert_eq!(status_of(&ctx.app, &id).await, ("approved".into(), v + 1));
    // Quoted, as an ETag would be, it matches.
    let r = ctx
        .moderator()
        .act(
            &id,
            json!({ "action": "reject" }),
            Some(&format!("\"{}\"", v + 1)),
        )
        .await;
    assert_eq!(json_of(r, 200).await["comment"]["status"], "rejected");
    let r = ctx
        .moderator()
        .act(&id, json!({ "action": "approve" }), Some("yesterday"))
        .await;
    assert_error(r, 400, "validation_failed").await;
}

#[tokio::test]
async fn bulk_actions_answer_each_id_and_change_only_what_they_may() {
    let ctx = setup(Policy::Pre).await;
    let app = &ctx.app;
    let other = app
        .create_site(SiteOpts {
            slug: "other",
            policy: Policy::Pre,
            ..Default::default()
        })
        .await;
    let pending = ann(&ctx, "/p/", "Waiting one").await;
    let approved = ann(&ctx, "/p/", "Already approved").await;
    act(&ctx, &approved, "approve").await;
    let (elsewhere, _) = comment_by(app, &other.slug, "/p/", "Other site", "ann@example.com").await;
    let before_approved = status_of(app, &approved).await;

    let r = post(
        app,
        "/sites/blog/actions",
        &ctx.token,
        json!({ "ids": [pending, approved, elsewhere, "garbage"], "action": "approve", "note": "bulk" }),
    )
    .await;
    let body = json_of(r, 200).await;
    let results = body["results"].as_array().unwrap();
    assert_eq!(results.len(), 4);
    assert_eq!(
        results[0],
        json!({ "id": pending, "ok": true, "status": "approved", "version": 2 })
    );
    assert_eq!(results[1]["id"], approved);
    assert_eq!(results[1]["ok"], false);
    assert_eq!(results[1]["error"]["code"], "conflict");
    assert_eq!(results[2]["ok"], false);
    assert_eq!(results[2]["error"]["code"], "not_found");
    assert_eq!(results[3]["error"]["code"], "not_found");

    assert_eq!(status_of(app, &pending).await, ("approved".into(), 2));
    assert_eq!(status_of(app, &approved).await, before_approved);
    assert_eq!(status_of(app, &elsewhere).await, ("pending".into(), 1));
    let bulk_events: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM moderation_events WHERE note = 'bulk' AND actor_kind = 'moderator' AND actor_id = $1",
    )
    .bind(ctx.mod_id)
    .fetch_one(&app.db)
    .await
    .unwrap();
    assert_eq!(bulk_events, 1);

    // An id listed twice moves once; its second mention answers from the status the first left.
    let twice = ann(&ctx, "/p/", "Listed twice").await;
    let bulk = |ids: Value, action: &'static str| {
        post(
            app,
            "/sites/blog/actions",
            &ctx.token,
            json!({ "ids": ids, "action": action }),
        )
    };
    let body = json_of(bulk(json!([twice, twice, pending]), "delete").await, 200).await;
    let results = body["results"].as_array().unwrap();
    assert_eq!(results[0]["status"], "deleted", "{body}");
    assert_eq!(results[1]["error"]["code"], "conflict", "{body}");
    assert_eq!(results[1]["error"]["details"]["status"], "deleted");
    assert_eq!(results[2]["status"], "deleted", "{body}");
    // A bulk restore returns each comment to where it was before its delete.
    let body = json_of(bulk(json!([pending, twice]), "restore").await, 200).await;
    assert_eq!(body["results"][0]["status"], "approved", "{body}");
    assert_eq!(body["results"][1]["status"], "pending", "{body}");
    assert_eq!(status_of(app, &twice).await, ("pending".into(), 3));
    let audit: Vec<(String, String)> = sqlx::query_as(
        "SELECT from_status, to_status FROM moderation_events
         WHERE comment_id = $1::uuid AND actor_kind = 'moderator' ORDER BY id",
    )
    .bind(&twice)
    .fetch_all(&app.db)
    .await
    .unwrap();
    assert_eq!(
        audit,
        [
            ("pending".to_owned(), "deleted".to_owned()),
            ("deleted".to_owned(), "pending".to_owned())
        ]
    );

    let too_many: Vec<String> = (0..201).map(|_| Uuid::now_v7().to_string()).collect();
    for ids in [json!([]), json!(too_many)] {
        let r = post(
            app,
            "/sites/blog/actions",
            &ctx.token,
            json!({ "ids": ids, "action": "approve" }),
        )
        .await;
        let body = assert_error(r, 400, "validation_failed").await;
        assert!(body["error"]["details"]["ids"].is_string());
    }
    // The moderator has no role on `other`.
    let r = post(
        app,
        "/sites/other/actions",
        &ctx.token,
        json!({ "ids": [elsewhere], "action": "approve" }),
    )
    .await;
    assert_error(r, 404, "not_found").await;
}
