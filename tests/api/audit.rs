//! Accountability (issue 10, point 9): every moderator, owner and operator action that changes
//! state leaves an audit row with actor, time, before and after, readable by the site's team
//! only, and nobody — no route, no SQL client of the app's role — can rewrite or erase it.

use std::collections::HashSet;

use colloquy::auth::moderators::Role;
use colloquy::moderation::audit::{ActionRecord, Actor, record_action};
use colloquy::sites::Site;
use reqwest::Method;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::edits::{Reader, post_as, reader, send};
use crate::helpers::{SiteOpts, TestApp, assert_error, spawn_app, spawn_app_with};
use crate::moderators::{add_moderator, call, delete, get, json_of, login, post};

/// The database itself refuses UPDATE, DELETE and TRUNCATE of every audit table, so a bug or a
/// stolen connection of the app's role can't launder the trail; deleting a whole site still
/// cascades (the tenant's trail goes with the tenant).
#[tokio::test]
async fn the_database_refuses_to_update_or_delete_audit_rows() {
    let app = spawn_app().await;
    let site = app.create_site(SiteOpts::default()).await;
    let other = app
        .create_site(SiteOpts {
            slug: "other",
            ..Default::default()
        })
        .await;
    let mut conn = app.db.acquire().await.unwrap();
    for (site_id, action) in [
        (Some(site.id), "rule.created"),
        (None, "api_token.created"),
        (Some(other.id), "rule.created"),
    ] {
        record_action(
            &mut conn,
            &ActionRecord {
                site_id,
                actor: Actor::Moderator(Uuid::new_v4()),
                action,
                target_kind: "rule",
                target_id: Some(Uuid::new_v4()),
                before: None,
                after: Some(json!({"pattern": "casino"})),
                note: Some("why"),
            },
        )
        .await
        .unwrap();
    }
    // One status change (the comment's creation) in moderation_events.
    app.comment("blog", "/p/", "hello").await;
    sqlx::query(
        "INSERT INTO ban_events (site_id, ban_id, action, actor_kind) VALUES ($1, $2, 'appeal_upheld', 'system')",
    )
    .bind(site.id)
    .bind(Uuid::new_v4())
    .execute(&mut *conn)
    .await
    .unwrap();

    for sql in [
        "UPDATE audit_actions SET note = 'laundered'",
        "UPDATE audit_actions SET after = NULL WHERE site_id IS NULL",
        "DELETE FROM audit_actions",
        "DELETE FROM audit_actions WHERE site_id IS NULL",
        "TRUNCATE audit_actions",
        "UPDATE moderation_events SET note = 'laundered'",
        "DELETE FROM moderation_events",
        "TRUNCATE moderation_events",
        "UPDATE ban_events SET note = 'laundered'",
        "DELETE FROM ban_events",
        "TRUNCATE ban_events",
    ] {
        let err = sqlx::query(sql).execute(&mut *conn).await.expect_err(sql);
        assert!(err.to_string().contains("append-only"), "{sql}: {err}");
    }
    let counts: (i64, i64, i64) = sqlx::query_as(
        "SELECT (SELECT count(*) FROM audit_actions), (SELECT count(*) FROM moderation_events),
                (SELECT count(*) FROM ban_events)",
    )
    .fetch_one(&mut *conn)
    .await
    .unwrap();
    assert_eq!(counts, (3, 1, 1));

    // Removing a tenant entirely still works and takes its trail (and only its trail) along.
    sqlx::query("DELETE FROM sites WHERE id = $1")
        .bind(other.id)
        .execute(&mut *conn)
        .await
        .unwrap();
    let left: i64 = sqlx::query_scalar("SELECT count(*) FROM audit_actions")
        .fetch_one(&mut *conn)
        .await
        .unwrap();
    assert_eq!(left, 2);
}

struct Ctx {
    app: TestApp,
    site: Site,
    /// The owner of `blog`.
    owner: String,
    owner_id: Uuid,
    /// A moderator (not owner) of `blog`.
    moderator: String,
    /// The owner of `other`, who holds no role on `blog`.
    stranger: String,
    stranger_id: Uuid,
}

/// Sites `blog` (dev login on, policy post) and `other`, each with its team logged in.
async fn setup() -> Ctx {
    let app = spawn_app_with(|s| s.auth.dev_provider = true).await;
    let site = app.create_site(SiteOpts::default()).await;
    let other = app
        .create_site(SiteOpts {
            slug: "other",
            ..Default::default()
        })
        .await;
    sqlx::query("UPDATE sites SET providers = '{dev}'")
        .execute(&app.db)
        .await
        .unwrap();
    let owner_id = add_moderator(&app, "owner@example.com", &site, Role::Owner).await;
    add_moderator(&app, "mod@example.com", &site, Role::Moderator).await;
    let stranger_id = add_moderator(&app, "stranger@example.com", &other, Role::Owner).await;
    Ctx {
        owner: login(&app, "owner@example.com").await,
        moderator: login(&app, "mod@example.com").await,
        stranger: login(&app, "stranger@example.com").await,
        app,
        site,
        owner_id,
        stranger_id,
    }
}

async fn patch(app: &TestApp, path: &str, token: &str, body: Value) -> reqwest::Response {
    call(app, Method::PATCH, path, token, Some(body)).await
}

/// Every entry of a log, following `next_cursor` with pages of `limit`.
async fn all_entries(app: &TestApp, path: &str, token: &str, limit: u32) -> Vec<Value> {
    let sep = if path.contains('?') { '&' } else { '?' };
    let mut out = Vec::new();
    let mut cursor: Option<String> = None;
    for _ in 0..100 {
        let url = match &cursor {
            Some(c) => format!("{path}{sep}limit={limit}&cursor={c}"),
            None => format!("{path}{sep}limit={limit}"),
        };
        let page = json_of(get(app, &url, token).await, 200).await;
        let items = page["items"].as_array().unwrap();
        assert!(items.len() <= limit as usize);
        out.extend(items.iter().cloned());
        match page["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_owned()),
            None => return out,
        }
    }
    panic!("paging never ended");
}

/// The administrative actions (type `action`) of a listing, by action name, newest first.
fn actions<'a>(entries: &'a [Value], name: &str) -> Vec<&'a Value> {
    entries
        .iter()
        .filter(|e| e["type"] == "action" && e["action"] == name)
        .collect()
}

fn one<'a>(entries: &'a [Value], name: &str) -> &'a Value {
    let found = actions(entries, name);
    assert_eq!(found.len(), 1, "{name}: {entries:#?}");
    found[0]
}

fn assert_by(entry: &Value, moderator: Uuid, email: &str) {
    assert_eq!(entry["actor"]["kind"], "moderator", "{entry}");
    assert_eq!(entry["actor"]["id"], moderator.to_string(), "{entry}");
    assert_eq!(entry["actor"]["email"], email, "{entry}");
    assert!(
        time::OffsetDateTime::parse(
            entry["created_at"].as_str().unwrap(),
            &time::format_description::well_known::Rfc3339
        )
        .is_ok(),
        "{entry}"
    );
}

async fn ban_user(ctx: &Ctx, who: &Reader) -> String {
    let ban = json_of(
        post(
            &ctx.app,
            "/sites/blog/bans",
            &ctx.owner,
            json!({ "user_id": who.id, "reason": "rude" }),
        )
        .await,
        201,
    )
    .await;
    ban["id"].as_str().unwrap().to_owned()
}

/// Point 9: bans and lifts, rules, settings, commenters' trust, moderator edits and appeal
/// decisions each leave an entry with actor, time, before and after, in the one listing that
/// also holds the comments' status changes, newest first and keyset-paged.
#[tokio::test]
async fn every_administrative_action_is_in_the_sites_audit_log_with_before_and_after() {
    let ctx = setup().await;
    let app = &ctx.app;
    let owner = ctx.owner.as_str();
    let ann = reader(app, "Ann").await;
    let (status, c) = post_as(app, &ann, "First words", None).await;
    assert_eq!(status, 201, "{c}");
    let comment = c["comment"]["id"].as_str().unwrap().to_owned();

    // Bans: created, lifted.
    let ban = json_of(
        post(
            app,
            "/sites/blog/bans",
            owner,
            json!({ "email": "Troll@Example.com", "shadow": true, "reason": "spam" }),
        )
        .await,
        201,
    )
    .await;
    let ban_id = ban["id"].as_str().unwrap().to_owned();
    assert_eq!(
        delete(app, &format!("/sites/blog/bans/{ban_id}"), owner)
            .await
            .status(),
        204
    );

    // Rules: created, changed, deleted.
    let rule = json_of(
        post(
            app,
            "/sites/blog/rules",
            owner,
            json!({ "kind": "word", "pattern": "casino", "action": "hold" }),
        )
        .await,
        201,
    )
    .await;
    let rule_id = rule["id"].as_str().unwrap().to_owned();
    let r = patch(
        app,
        &format!("/sites/blog/rules/{rule_id}"),
        owner,
        json!({ "action": "spam" }),
    )
    .await;
    assert_eq!(r.status(), 200);
    assert_eq!(
        delete(app, &format!("/sites/blog/rules/{rule_id}"), owner)
            .await
            .status(),
        204
    );

    // Settings: only the changed fields; a PATCH that changes nothing leaves no entry.
    let r = patch(
        app,
        "/sites/blog",
        owner,
        json!({ "name": "Renamed", "guests": false, "policy": "post" }),
    )
    .await;
    assert_eq!(r.status(), 200);
    let r = patch(app, "/sites/blog", owner, json!({ "name": "Renamed" })).await;
    assert_eq!(r.status(), 200);

    // A commenter's trust: changed once, then set to what it already is.
    for _ in 0..2 {
        let r = patch(
            app,
            &format!("/sites/blog/users/{}", ann.id),
            owner,
            json!({ "trusted": true }),
        )
        .await;
        assert_eq!(r.status(), 200);
    }

    // A moderator's edit of a comment.
    let r = patch(
        app,
        &format!("/comments/{comment}"),
        owner,
        json!({ "body": "First words, trimmed" }),
    )
    .await;
    assert_eq!(r.status(), 200);

    // A ban appealed and overturned: the decision and the lift it made.
    let ann_ban = ban_user(&ctx, &ann).await;
    let a = send(
        app,
        Method::POST,
        "/api/v1/sites/blog/appeal",
        Some(&ann),
        Some(json!({ "message": "I was only joking, sorry" })),
    )
    .await;
    let appeal_id = json_of(a, 201).await["id"].as_str().unwrap().to_owned();
    let r = post(
        app,
        &format!("/appeals/{appeal_id}/actions"),
        owner,
        json!({ "action": "overturn", "note": "Fair enough" }),
    )
    .await;
    assert_eq!(r.status(), 200);

    // A ban appealed and upheld: the decision only.
    let bob = reader(app, "Bob").await;
    let (status, _) = post_as(app, &bob, "Bob was here", None).await;
    assert_eq!(status, 201);
    let bob_ban = ban_user(&ctx, &bob).await;
    let a = send(
        app,
        Method::POST,
        "/api/v1/sites/blog/appeal",
        Some(&bob),
        Some(json!({ "message": "Let me back in" })),
    )
    .await;
    let bob_appeal = json_of(a, 201).await["id"].as_str().unwrap().to_owned();
    let r = post(
        app,
        &format!("/appeals/{bob_appeal}/actions"),
        &ctx.moderator,
        json!({ "action": "uphold" }),
    )
    .await;
    assert_eq!(r.status(), 200);

    // One listing, read by a plain moderator of the site, small pages.
    let log = all_entries(app, "/sites/blog/audit", &ctx.moderator, 3).await;
    let whole = json_of(
        get(app, "/sites/blog/audit?limit=200", &ctx.moderator).await,
        200,
    )
    .await;
    assert_eq!(
        &log,
        whole["items"].as_array().unwrap(),
        "pages cover the log exactly once"
    );
    let ids: HashSet<&str> = log.iter().map(|e| e["id"].as_str().unwrap()).collect();
    assert_eq!(ids.len(), log.len());
    let times: Vec<&str> = log
        .iter()
        .map(|e| e["created_at"].as_str().unwrap())
        .collect();
    let mut sorted = times.clone();
    sorted.sort_by(|a, b| b.cmp(a));
    assert_eq!(times, sorted, "newest first");
    assert!(
        log.iter()
            .any(|e| e["type"] == "status" && e["comment_id"] == comment.as_str()),
        "comment status changes are in the same listing"
    );

    let created = actions(&log, "ban.created");
    assert_eq!(created.len(), 3, "the email ban, Ann's and Bob's");
    assert_eq!(created[0]["target"]["id"], bob_ban.as_str());
    assert_eq!(created[1]["target"]["id"], ann_ban.as_str());
    assert_eq!(created[1]["after"]["user_id"], ann.id.as_str());
    let e = created[2];
    assert_by(e, ctx.owner_id, "owner@example.com");
    assert_eq!(e["target"], json!({ "kind": "ban", "id": ban_id }));
    assert_eq!(e["before"], Value::Null);
    assert_eq!(e["after"]["email"], "troll@example.com");
    assert_eq!(e["after"]["shadow"], true);
    assert_eq!(e["after"]["reason"], "spam");

    let lifts = actions(&log, "ban.lifted");
    assert_eq!(lifts.len(), 2, "{lifts:#?}");
    // Newest first: the appeal's lift, then the DELETE.
    let (by_appeal, by_delete) = (lifts[0], lifts[1]);
    assert_by(by_delete, ctx.owner_id, "owner@example.com");
    assert_eq!(by_delete["target"]["id"], ban_id.as_str());
    assert_eq!(by_delete["before"]["email"], "troll@example.com");
    assert_eq!(by_delete["after"], Value::Null);
    assert_by(by_appeal, ctx.owner_id, "owner@example.com");
    assert_eq!(by_appeal["target"]["id"], ann_ban.as_str());
    assert_eq!(by_appeal["before"]["active"], true);
    assert_eq!(by_appeal["after"]["active"], false);
    assert_eq!(by_appeal["note"], "Fair enough");

    let e = one(&log, "rule.created");
    assert_by(e, ctx.owner_id, "owner@example.com");
    assert_eq!(e["target"], json!({ "kind": "rule", "id": rule_id }));
    assert_eq!(
        e["after"],
        json!({ "kind": "word", "pattern": "casino", "action": "hold", "enabled": true, "note": null })
    );
    let e = one(&log, "rule.updated");
    assert_eq!(e["before"]["action"], "hold");
    assert_eq!(e["after"]["action"], "spam");
    assert_eq!(e["after"]["pattern"], "casino");
    let e = one(&log, "rule.deleted");
    assert_eq!(e["before"]["action"], "spam");
    assert_eq!(e["after"], Value::Null);

    let e = one(&log, "site.updated");
    assert_by(e, ctx.owner_id, "owner@example.com");
    assert_eq!(e["target"], json!({ "kind": "site", "id": ctx.site.id }));
    assert_eq!(
        e["before"],
        json!({ "name": ctx.site.name, "guests": true })
    );
    assert_eq!(e["after"], json!({ "name": "Renamed", "guests": false }));

    let e = one(&log, "user.trust_changed");
    assert_eq!(e["target"], json!({ "kind": "user", "id": ann.id }));
    assert_eq!(
        e["before"],
        json!({ "trusted": false, "premoderated": false })
    );
    assert_eq!(
        e["after"],
        json!({ "trusted": true, "premoderated": false })
    );

    let e = one(&log, "comment.edited");
    assert_eq!(e["target"], json!({ "kind": "comment", "id": comment }));
    assert_eq!(e["before"]["body_markdown"], "First words");
    assert_eq!(e["after"]["body_markdown"], "First words, trimmed");

    let e = one(&log, "appeal.overturned");
    assert_by(e, ctx.owner_id, "owner@example.com");
    assert_eq!(e["target"], json!({ "kind": "appeal", "id": appeal_id }));
    assert_eq!(e["before"]["status"], "open");
    assert_eq!(e["after"]["status"], "overturned");
    assert_eq!(e["after"]["ban_id"], ann_ban.as_str());
    assert_eq!(e["note"], "Fair enough");

    let e = one(&log, "appeal.upheld");
    assert_eq!(e["actor"]["email"], "mod@example.com");
    assert_eq!(e["target"], json!({ "kind": "appeal", "id": bob_appeal }));
    assert_eq!(e["before"]["status"], "open");
    assert_eq!(e["after"]["status"], "upheld");
    assert_eq!(e["after"]["ban_id"], bob_ban.as_str());
    assert_eq!(
        actions(&log, "ban.lifted").len(),
        2,
        "an upheld appeal lifts nothing"
    );

    // Filters: by resource, by action, by type.
    let rules = all_entries(app, "/sites/blog/audit?action=rule", owner, 50).await;
    let names: Vec<&str> = rules
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["rule.deleted", "rule.updated", "rule.created"]);
    let lifted = all_entries(app, "/sites/blog/audit?action=ban.lifted", owner, 50).await;
    assert_eq!(lifted.len(), 2);
    let statuses = all_entries(app, "/sites/blog/audit?type=status", owner, 50).await;
    assert!(!statuses.is_empty());
    assert!(statuses.iter().all(|e| e["type"] == "status"));
    let admin = all_entries(app, "/sites/blog/audit?type=action", owner, 50).await;
    assert!(admin.iter().all(|e| e["type"] == "action"));
    assert_eq!(statuses.len() + admin.len(), log.len());
    for bad in [
        "?type=everything",
        "?action=Rule",
        "?action=a.b.c",
        "?action=%25",
        "?cursor=nope",
    ] {
        assert_error(
            get(app, &format!("/sites/blog/audit{bad}"), owner).await,
            400,
            "validation_failed",
        )
        .await;
    }
}

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
    let (url, _drop) = crate::cli::fresh_db();
    let out = crate::cli::colloquy(&url)
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
