//! Joining a team by invitation, password changes and resets (issue 10, point 3): no site owner
//! can plant a moderator account, set a password, or attach an existing account by email.

use colloquy::auth::moderators::Role;
use serde_json::{Value, json};

use crate::helpers::cli::{colloquy, with_stdin};
use crate::helpers::moderator::{
    PASSWORD, accept, accept_from, add_moderator, assert_throttled, delete, get, json_of, login,
    login_from, member_id, patch, post, proxied_app, site,
};
use crate::helpers::{TestApp, assert_error, spawn_app};

mod audit;
mod expiry;
mod joining;
mod passwords;

async fn invite(app: &TestApp, site: &str, owner: &str, email: &str, role: &str) -> Value {
    let r = post(
        app,
        &format!("/sites/{site}/moderators"),
        owner,
        json!({ "email": email, "role": role }),
    )
    .await;
    json_of(r, 201).await
}

async fn count(app: &TestApp, sql: &'static str) -> i64 {
    sqlx::query_scalar(sql).fetch_one(&app.db).await.unwrap()
}

async fn role_on(app: &TestApp, email: &str, slug: &str) -> Option<String> {
    sqlx::query_scalar(
        "SELECT r.role FROM moderator_roles r
         JOIN moderators m ON m.id = r.moderator_id JOIN sites s ON s.id = r.site_id
         WHERE m.email = $1 AND s.slug = $2",
    )
    .bind(email)
    .bind(slug)
    .fetch_optional(&app.db)
    .await
    .unwrap()
}

/// Runs `colloquy moderator reset-password ARGS` against the app's database.
fn reset_password(
    app: &TestApp,
    args: &[&str],
    stdin: &str,
) -> (std::process::Output, String, String) {
    let mut cmd = colloquy(&app.settings.database.url);
    cmd.args(["moderator", "reset-password"]).args(args);
    with_stdin(cmd, stdin)
}

/// site_id, action, actor_id, target_kind, and before/after/note as one text.
type AuditRow = (
    Option<uuid::Uuid>,
    String,
    Option<uuid::Uuid>,
    String,
    String,
);
