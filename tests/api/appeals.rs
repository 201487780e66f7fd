//! Rule dry-runs and appeals over real HTTP.
//!
//! Dry-run: proposed rules replayed over the site's last comments in place of its current rules,
//! with the changed verdicts and their reasons; validation naming each bad rule's field; and a
//! snapshot of every table before and after, to show it writes nothing.
//!
//! Appeals: the author of a rejected (or spam) comment, or a banned commenter, appeals; a
//! moderator upholds or overturns (the comment approved, the ban lifted), each decision audited;
//! the author sees the outcome in the thread and in `/me/appeals`; refusals; and another site's
//! moderator finds nothing.

use colloquy::auth::moderators::Role;
use colloquy::domain::Policy;
use colloquy::sites::Site;
use reqwest::Method;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::helpers::moderator::{add_moderator, get, json_of, login as mod_login, post};
use crate::helpers::reader::{Reader, post_as, public_thread, reader, send, thread_as};
use crate::helpers::{SiteOpts, TestApp, assert_error, spawn_app_with};

mod bans;
mod decisions;
mod dry_run;

struct Ctx {
    app: TestApp,
    site: Site,
    /// A moderator (not owner) of `blog`.
    token: String,
}

/// Site `blog` (dev login on, policy post) and a logged-in moderator of it.
async fn setup() -> Ctx {
    let app = spawn_app_with(|s| s.auth.dev_provider = true).await;
    let site = app
        .create_site(SiteOpts {
            policy: Policy::Post,
            ..Default::default()
        })
        .await;
    sqlx::query("UPDATE sites SET providers = '{dev}'")
        .execute(&app.db)
        .await
        .unwrap();
    add_moderator(&app, "mod@example.com", &site, Role::Moderator).await;
    let token = mod_login(&app, "mod@example.com").await;
    Ctx { app, site, token }
}

/// Posts a guest comment on `blog`; returns (id, status).
async fn guest(app: &TestApp, body: &str, email: &str) -> (String, String) {
    let (status, json) = app.post_guest("blog", "/p/", body, email).await;
    assert_eq!(status, 201, "{json}");
    (
        json["comment"]["id"].as_str().unwrap().to_owned(),
        json["status"].as_str().unwrap().to_owned(),
    )
}

async fn dry_run(ctx: &Ctx, body: Value) -> reqwest::Response {
    post(&ctx.app, "/sites/blog/rules/dry-run", &ctx.token, body).await
}

fn changed_by_id(answer: &Value) -> std::collections::HashMap<String, Value> {
    answer["changed"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| (c["comment_id"].as_str().unwrap().to_owned(), c.clone()))
        .collect()
}

/// md5 of every row of every table of the public schema, by table.
async fn snapshot(app: &TestApp) -> Vec<(String, String)> {
    let tables: Vec<String> = sqlx::query_scalar(
        "SELECT tablename::text FROM pg_tables WHERE schemaname = 'public' ORDER BY 1",
    )
    .fetch_all(&app.db)
    .await
    .unwrap();
    assert!(tables.len() > 10, "{tables:?}");
    let mut out = Vec::new();
    for t in tables {
        let sql = format!(
            "SELECT COALESCE(md5(string_agg(t::text, ',' ORDER BY t::text)), 'empty') FROM \"{t}\" t"
        );
        let digest: String = sqlx::query_scalar(sqlx::AssertSqlSafe(sql))
            .fetch_one(&app.db)
            .await
            .unwrap();
        out.push((t, digest));
    }
    out
}

// ---------------------------------------------------------------------------------------------
// Appeals

async fn appeal(
    app: &TestApp,
    who: Option<&Reader>,
    comment: &str,
    message: &str,
) -> reqwest::Response {
    send(
        app,
        Method::POST,
        &format!("/api/v1/comments/{comment}/appeal"),
        who,
        Some(json!({ "message": message })),
    )
    .await
}

async fn appeal_ban(app: &TestApp, who: &Reader, site: &str) -> reqwest::Response {
    send(
        app,
        Method::POST,
        &format!("/api/v1/sites/{site}/appeal"),
        Some(who),
        Some(json!({ "message": "I was only joking, sorry" })),
    )
    .await
}

async fn my_appeals(app: &TestApp, who: &Reader) -> Vec<Value> {
    let r = send(app, Method::GET, "/api/v1/me/appeals", Some(who), None).await;
    json_of(r, 200).await["items"].as_array().unwrap().clone()
}

async fn mod_act(ctx: &Ctx, comment: &str, action: &str) {
    let r = post(
        &ctx.app,
        &format!("/comments/{comment}/actions"),
        &ctx.token,
        json!({ "action": action }),
    )
    .await;
    assert_eq!(r.status(), 200);
}

async fn decide(ctx: &Ctx, appeal: &str, body: Value) -> reqwest::Response {
    post(
        &ctx.app,
        &format!("/appeals/{appeal}/actions"),
        &ctx.token,
        body,
    )
    .await
}

async fn status_of(app: &TestApp, id: &str) -> String {
    sqlx::query_scalar("SELECT status FROM comments WHERE id = $1::uuid")
        .bind(id)
        .fetch_one(&app.db)
        .await
        .unwrap()
}

/// The comment's last audit row: actor_kind, from, to, note, reasons.
async fn last_event(
    app: &TestApp,
    id: &str,
) -> (String, Option<String>, String, Option<String>, Value) {
    let (actor, from, to, note, reasons): (
        String,
        Option<String>,
        String,
        Option<String>,
        sqlx::types::Json<Value>,
    ) = sqlx::query_as(
        "SELECT actor_kind, from_status, to_status, note, reasons FROM moderation_events
             WHERE comment_id = $1::uuid ORDER BY id DESC LIMIT 1",
    )
    .bind(id)
    .fetch_one(&app.db)
    .await
    .unwrap();
    (actor, from, to, note, reasons.0)
}

fn find<'a>(comments: &'a [Value], id: &str) -> Option<&'a Value> {
    comments.iter().find(|c| c["id"] == id)
}
