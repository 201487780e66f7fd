//! Accountability (issue 10, point 9): every moderator, owner and operator action that changes
//! state leaves an audit row with actor, time, before and after, readable by the site's team
//! only, and nobody — no route, no SQL client of the app's role — can rewrite or erase it.

use colloquy::moderation::audit::{ActionRecord, Actor, record_action};
use serde_json::json;
use uuid::Uuid;

use crate::helpers::{SiteOpts, spawn_app};

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
