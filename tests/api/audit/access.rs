use super::*;

/// A site's log is its team's only: anyone else gets the same 404 as for a site that doesn't
/// exist. Account-level entries (no site) are read by the account they concern, nobody else.
#[tokio::test]
async fn only_the_sites_team_reads_its_log_and_only_the_account_its_own_entries() {
    let ctx = setup().await;
    let app = &ctx.app;
    let r = post(
        app,
        "/sites/blog/rules",
        &ctx.owner,
        json!({ "kind": "word", "pattern": "casino", "action": "hold" }),
    )
    .await;
    assert_eq!(r.status(), 201);

    assert_eq!(
        get(app, "/sites/blog/audit", &ctx.moderator).await.status(),
        200
    );
    assert_error(
        get(app, "/sites/blog/audit", &ctx.stranger).await,
        404,
        "not_found",
    )
    .await;
    assert_error(
        get(app, "/sites/nowhere/audit", &ctx.owner).await,
        404,
        "not_found",
    )
    .await;
    assert_error(
        get(app, "/sites/blog/audit?action=rule", &ctx.stranger).await,
        404,
        "not_found",
    )
    .await;
    let r = app
        .client
        .get(app.url("/api/mod/v1/sites/blog/audit"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    // The stranger's own site's log holds nothing of blog's.
    let theirs = all_entries(app, "/sites/other/audit", &ctx.stranger, 50).await;
    assert!(actions(&theirs, "rule.created").is_empty(), "{theirs:#?}");

    // Account-level entries, as the team engineer's token and password code writes them.
    let mut conn = app.db.acquire().await.unwrap();
    let token_id = Uuid::new_v4();
    for (actor, action, target_kind, target_id) in [
        (
            Actor::Moderator(ctx.owner_id),
            "api_token.created",
            "api_token",
            token_id,
        ),
        (Actor::Operator, "password.reset", "moderator", ctx.owner_id),
        (
            Actor::Moderator(ctx.stranger_id),
            "api_token.created",
            "api_token",
            Uuid::new_v4(),
        ),
    ] {
        record_action(
            &mut conn,
            &ActionRecord {
                site_id: None,
                actor,
                action,
                target_kind,
                target_id: Some(target_id),
                before: None,
                after: Some(json!({ "name": "deploy script" })),
                note: None,
            },
        )
        .await
        .unwrap();
    }
    drop(conn);
    let mine = all_entries(app, "/me/audit", &ctx.owner, 1).await;
    let names: Vec<(&str, &str)> = mine
        .iter()
        .map(|e| {
            (
                e["action"].as_str().unwrap(),
                e["actor"]["kind"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        names,
        [
            ("password.reset", "operator"),
            ("api_token.created", "moderator")
        ]
    );
    assert_eq!(
        mine[1]["target"],
        json!({ "kind": "api_token", "id": token_id })
    );
    assert_eq!(mine[1]["actor"]["email"], "owner@example.com");
    let tokens = all_entries(app, "/me/audit?action=api_token", &ctx.owner, 50).await;
    assert_eq!(tokens.len(), 1);
    let theirs = all_entries(app, "/me/audit", &ctx.stranger, 50).await;
    assert_eq!(theirs.len(), 1);
    assert_eq!(theirs[0]["actor"]["id"], ctx.stranger_id.to_string());
    assert_eq!(get(app, "/me/audit", "not-a-token").await.status(), 401);
    // Account-level entries never show up in a site's log.
    let site_log = all_entries(app, "/sites/blog/audit", &ctx.owner, 50).await;
    assert!(site_log.iter().all(|e| e["action"] != "api_token.created"));
}

/// No route of the API writes to the log: every moderator route under an `audit` path is a
/// read, and every other method on those paths is refused without touching a row.
#[tokio::test]
async fn no_route_changes_or_deletes_audit_entries() {
    let ctx = setup().await;
    let app = &ctx.app;
    let r = post(
        app,
        "/sites/blog/rules",
        &ctx.owner,
        json!({ "kind": "word", "pattern": "casino", "action": "hold" }),
    )
    .await;
    assert_eq!(r.status(), 201);

    let routes = colloquy::app::registered_routes(&app.settings);
    let audit_routes: Vec<&(&str, String)> =
        routes.iter().filter(|(_, p)| p.contains("audit")).collect();
    assert!(
        audit_routes
            .iter()
            .any(|(m, p)| *m == "GET" && p == "/api/mod/v1/sites/{site}/audit")
    );
    assert!(
        audit_routes
            .iter()
            .any(|(m, p)| *m == "GET" && p == "/api/mod/v1/me/audit")
    );
    for (method, path) in &audit_routes {
        assert_eq!(
            *method, "GET",
            "{method} {path} would let someone rewrite the log"
        );
    }

    let before = json_of(get(app, "/sites/blog/audit", &ctx.owner).await, 200).await;
    let entry = before["items"][0]["id"].as_str().unwrap().to_owned();
    for method in [Method::DELETE, Method::PATCH, Method::PUT, Method::POST] {
        for path in [
            "/sites/blog/audit".to_owned(),
            format!("/sites/blog/audit/{entry}"),
            "/me/audit".to_owned(),
        ] {
            let r = call(app, method.clone(), &path, &ctx.owner, Some(json!({}))).await;
            assert!(
                [404, 405].contains(&r.status().as_u16()),
                "{method} {path}: {}",
                r.status()
            );
        }
    }
    let after = json_of(get(app, "/sites/blog/audit", &ctx.owner).await, 200).await;
    assert_eq!(before, after);
}

/// The operator's own actions are on the record too: a site created from the command line is
/// the first entry of its log, by `operator`.
#[tokio::test]
async fn a_site_created_by_the_operator_is_audited() {
    let (url, _drop) = crate::helpers::cli::fresh_db();
    let out = crate::helpers::cli::colloquy(&url)
        .args(["site", "create", "--slug", "fresh", "--name", "Fresh"])
        .args(["--origin", "https://fresh.example", "--policy", "pre"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let db = sqlx::PgPool::connect(&url).await.unwrap();
    let (actor_kind, actor_id, action, target_kind, after): (
        String,
        Option<Uuid>,
        String,
        String,
        Value,
    ) = sqlx::query_as(
        "SELECT a.actor_kind, a.actor_id, a.action, a.target_kind, a.after
         FROM audit_actions a JOIN sites s ON s.id = a.site_id AND s.id = a.target_id
         WHERE s.slug = 'fresh'",
    )
    .fetch_one(&db)
    .await
    .unwrap();
    db.close().await;
    assert_eq!(
        (
            actor_kind.as_str(),
            actor_id,
            action.as_str(),
            target_kind.as_str()
        ),
        ("operator", None, "site.created", "site")
    );
    assert_eq!(after["name"], "Fresh");
    assert_eq!(after["policy"], "pre");
    assert_eq!(after["origins"], json!(["https://fresh.example"]));
}

/// A forged keyset cursor far outside any time Postgres holds is a 400 on every list that pages
/// by time, never an overflow (which panicked the worker in debug builds and wrapped silently in
/// release ones).
#[tokio::test]
async fn forged_cursors_out_of_range_are_400_on_every_time_paged_list() {
    use base64::Engine;
    let app = spawn_app().await;
    let site = app.create_site(SiteOpts::default()).await;
    add_moderator(&app, "owner@example.com", &site, Role::Owner).await;
    let owner = login(&app, "owner@example.com").await;
    let b64 = |s: &str| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(s);
    let id = Uuid::new_v4().simple().to_string();
    for raw in [
        format!("99999999999999999999999999999999999999.{id}"),
        format!("-99999999999999999999999999999999999999.{id}"),
        "99999999999999999999999999999999999999.1".to_owned(),
        format!("253402300800000000.{id}"),
        format!("-1.{id}"),
    ] {
        let cursor = b64(&raw);
        for path in [
            "/sites/blog/audit",
            "/me/audit",
            "/tokens",
            "/sites/blog/invitations",
            "/sites/blog/moderators",
            "/sites/blog/queue",
        ] {
            let r = get(&app, &format!("{path}?cursor={cursor}"), &owner).await;
            assert_error(r, 400, "validation_failed").await;
        }
    }
}
