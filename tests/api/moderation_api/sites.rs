//! Site settings and rights

use super::*;

#[tokio::test]
async fn site_settings_are_changed_by_owners_only_and_validated() {
    // A cache that would outlive the test, so only invalidation can show the change.
    let app = spawn_app_with(|s| s.cache.site_ttl_ms = 600_000).await;
    let ctx = with_app(app, Policy::Post).await;
    let app = &ctx.app;
    add_moderator(app, "owner@example.com", &ctx.site, Role::Owner).await;
    let owner = login(app, "owner@example.com").await;
    // Warm the public site cache, so the change must invalidate it.
    let (_, before) = app.get_json("/api/v1/sites/blog").await;
    assert_eq!(before["policy"], "post");

    let change = json!({
        "name": "Renamed blog",
        "policy": "pre",
        "providers": ["google", "oidc-corp"],
        "guests": true,
        "origins": ["https://blog.example", "https://www.blog.example"],
        "limits": { "comments_per_minute_user": 5, "comment_interval_s": 0 },
        "flags_to_hold": 2,
        "max_depth": 3,
        "edit_window_s": 60,
        "closed": false,
    });
    let r = call(app, Method::PATCH, "/sites/blog", &owner, Some(change)).await;
    let site = json_of(r, 200).await;
    assert_eq!(site["name"], "Renamed blog");
    assert_eq!(site["policy"], "pre");
    assert_eq!(site["providers"], json!(["google", "oidc-corp"]));
    assert_eq!(
        site["origins"],
        json!(["https://blog.example", "https://www.blog.example"])
    );
    assert_eq!(
        site["limits"],
        json!({ "comments_per_minute_user": 5, "comment_interval_s": 0 })
    );
    assert_eq!(
        (
            site["flags_to_hold"].clone(),
            site["max_depth"].clone(),
            site["edit_window_s"].clone()
        ),
        (json!(2), json!(3), json!(60))
    );
    assert_eq!(site["role"], "owner");
    let got = json_of(get(app, "/sites/blog", &ctx.token).await, 200).await;
    assert_eq!(got["limits"], site["limits"]);
    assert_eq!(got["role"], "moderator");

    // Right away, on this node: the public config and the pipeline follow.
    let (_, public) = app.get_json("/api/v1/sites/blog").await;
    assert_eq!(public["policy"], "pre");
    assert_eq!(public["max_depth"], 3);
    let (_, json) = app
        .post_guest("blog", "/p/", "Held now", "ann@example.com")
        .await;
    assert_eq!(json["status"], "pending");

    // A null limit falls back to the server's; other keys stay.
    let r = call(
        app,
        Method::PATCH,
        "/sites/blog",
        &owner,
        Some(json!({ "limits": { "comment_interval_s": null } })),
    )
    .await;
    assert_eq!(
        json_of(r, 200).await["limits"],
        json!({ "comments_per_minute_user": 5 })
    );

    // Moderators may not; nothing changes.
    let r = call(
        app,
        Method::PATCH,
        "/sites/blog",
        &ctx.token,
        Some(json!({ "name": "Mine now" })),
    )
    .await;
    assert_error(r, 403, "forbidden").await;

    let bad: [(Value, &str); 8] = [
        (
            json!({ "origins": ["https://blog.example/path"] }),
            "origins[0]",
        ),
        (json!({ "origins": ["javascript:alert(1)"] }), "origins[0]"),
        (json!({ "policy": "anarchy" }), "policy"),
        (json!({ "providers": ["myspace"] }), "providers[0]"),
        (json!({ "max_depth": 0 }), "max_depth"),
        (json!({ "flags_to_hold": 0 }), "flags_to_hold"),
        (json!({ "name": "" }), "name"),
        (
            json!({ "limits": { "comments_per_minute_ip": -1 } }),
            "limits.comments_per_minute_ip",
        ),
    ];
    for (body, field) in bad {
        let r = call(
            app,
            Method::PATCH,
            "/sites/blog",
            &owner,
            Some(body.clone()),
        )
        .await;
        let e = assert_error(r, 400, "validation_failed").await;
        assert!(e["error"]["details"][field].is_string(), "{body}: {e}");
    }
    let r = call(
        app,
        Method::PATCH,
        "/sites/blog",
        &owner,
        Some(json!({ "slug": "new-slug" })),
    )
    .await;
    assert_error(r, 400, "validation_failed").await;
    let got = json_of(get(app, "/sites/blog", &owner).await, 200).await;
    assert_eq!(got["name"], "Renamed blog");
    assert_eq!(
        got["origins"],
        json!(["https://blog.example", "https://www.blog.example"])
    );
}

#[tokio::test]
async fn moderators_work_the_queue_bans_and_rules_but_only_owners_the_settings_and_team() {
    let ctx = setup(Policy::Pre).await;
    let app = &ctx.app;
    let owner_id = add_moderator(app, "owner@example.com", &ctx.site, Role::Owner).await;
    let owner = login(app, "owner@example.com").await;
    let id = ann(&ctx, "/p/", "Work for the team").await;

    for token in [&ctx.token, &owner] {
        assert_eq!(get(app, "/sites/blog/queue", token).await.status(), 200);
        assert_eq!(get(app, "/sites/blog/comments", token).await.status(), 200);
        assert_eq!(get(app, "/sites/blog/audit", token).await.status(), 200);
        assert_eq!(
            get(app, &format!("/comments/{id}/history"), token)
                .await
                .status(),
            200
        );
        let r = post(app, "/sites/blog/bans", token, json!({ "ip": "192.0.2.1" })).await;
        assert_eq!(r.status(), 201);
        let r = post(
            app,
            "/sites/blog/rules",
            token,
            json!({ "kind": "word", "pattern": "spam", "action": "spam" }),
        )
        .await;
        assert_eq!(r.status(), 201);
        assert_eq!(get(app, "/sites/blog", token).await.status(), 200);
    }
    assert_eq!(
        act(&ctx, &id, "approve").await["comment"]["status"],
        "approved"
    );

    // Settings and team: owners only.
    let m = &ctx.token;
    assert_error(
        call(
            app,
            Method::PATCH,
            "/sites/blog",
            m,
            Some(json!({ "closed": true })),
        )
        .await,
        403,
        "forbidden",
    )
    .await;
    assert_error(
        get(app, "/sites/blog/moderators", m).await,
        403,
        "forbidden",
    )
    .await;
    let r = post(
        app,
        "/sites/blog/moderators",
        m,
        json!({ "email": "x@example.com", "role": "moderator" }),
    )
    .await;
    assert_error(r, 403, "forbidden").await;
    assert_error(
        delete(app, &format!("/sites/blog/moderators/{owner_id}"), m).await,
        403,
        "forbidden",
    )
    .await;

    assert_eq!(
        call(
            app,
            Method::PATCH,
            "/sites/blog",
            &owner,
            Some(json!({ "closed": true }))
        )
        .await
        .status(),
        200
    );
    assert_eq!(
        get(app, "/sites/blog/moderators", &owner).await.status(),
        200
    );
    let closed: bool = sqlx::query_scalar("SELECT closed FROM sites WHERE slug = 'blog'")
        .fetch_one(&app.db)
        .await
        .unwrap();
    assert!(closed);
}
