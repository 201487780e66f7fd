//! Accountability (issue 10, point 9): every moderator, owner and operator action that changes
//! state leaves an audit row with actor, time, before and after, readable by the site's team
//! only, and nobody — no route, no SQL client of the app's role — can rewrite or erase it.

use std::collections::HashSet;

use colloquy::audit::{ActionRecord, Actor, record_action};
use colloquy::auth::moderators::Role;
use colloquy::sites::Site;
use reqwest::Method;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::helpers::moderator::{add_moderator, call, delete, get, json_of, login, patch, post};
use crate::helpers::reader::{Reader, post_as, reader, send};
use crate::helpers::{SiteOpts, TestApp, assert_error, spawn_app, spawn_app_with};

mod access;
mod actions;

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
