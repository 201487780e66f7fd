//! The moderator API's comment work over real HTTP: the queue, search, single and bulk actions
//! through the one state machine, moderator edits and history, bans, rules, commenters' trust,
//! site settings, the audit log — and that nothing of another site is reachable through any
//! route of the moderator API.

use std::collections::HashSet;

use colloquy::auth::moderators::Role;
use colloquy::domain::Policy;
use colloquy::sites::Site;
use reqwest::{Method, Response};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::helpers::moderator::{
    Moderator, add_moderator, call, delete, get, json_of, login, post,
};
use crate::helpers::{SiteOpts, TestApp, assert_error, spawn_app, spawn_app_with};

mod actions;
mod bans;
mod history;
mod queue;
mod rules;
mod scoping;
mod search;
mod sites;
mod users;

/// actor_kind, actor_id, from_status, to_status, note
type EventRow = (String, Option<Uuid>, Option<String>, String, Option<String>);

struct Ctx {
    app: TestApp,
    site: Site,
    token: String,
    mod_id: Uuid,
}

async fn with_app(app: TestApp, policy: Policy) -> Ctx {
    let site = app
        .create_site(SiteOpts {
            slug: "blog",
            policy,
            ..Default::default()
        })
        .await;
    let mod_id = add_moderator(&app, "mod@example.com", &site, Role::Moderator).await;
    let token = login(&app, "mod@example.com").await;
    Ctx {
        app,
        site,
        token,
        mod_id,
    }
}

impl Ctx {
    fn moderator(&self) -> Moderator<'_> {
        self.app.moderator_with(&self.token)
    }
}

/// A site `blog` with the given policy and a moderator (not owner) logged in.
async fn setup(policy: Policy) -> Ctx {
    with_app(spawn_app().await, policy).await
}

/// Posts a guest comment; returns (comment id, author id).
async fn comment_by(
    app: &TestApp,
    site: &str,
    uri: &str,
    body: &str,
    email: &str,
) -> (String, String) {
    let (status, json) = app.post_guest(site, uri, body, email).await;
    assert_eq!(status, 201, "{json}");
    (
        json["comment"]["id"].as_str().unwrap().to_owned(),
        json["comment"]["author"]["id"].as_str().unwrap().to_owned(),
    )
}

async fn ann(ctx: &Ctx, uri: &str, body: &str) -> String {
    comment_by(&ctx.app, "blog", uri, body, "ann@example.com")
        .await
        .0
}

async fn act(ctx: &Ctx, id: &str, action: &str) -> Value {
    json_of(
        ctx.moderator()
            .act(id, json!({ "action": action }), None)
            .await,
        200,
    )
    .await
}

async fn status_of(app: &TestApp, id: &str) -> (String, i32) {
    sqlx::query_as("SELECT status, version FROM comments WHERE id = $1::uuid")
        .bind(id)
        .fetch_one(&app.db)
        .await
        .unwrap()
}

async fn flag(app: &TestApp, comment: &str, flagger: &str, reason: &str, note: Option<&str>) {
    sqlx::query(
        "INSERT INTO flags (comment_id, user_id, site_id, reason, note)
         SELECT id, $2::uuid, site_id, $3, $4 FROM comments WHERE id = $1::uuid",
    )
    .bind(comment)
    .bind(flagger)
    .bind(reason)
    .bind(note)
    .execute(&app.db)
    .await
    .unwrap();
}

fn ids_of(page: &Value) -> Vec<String> {
    page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["comment"]["id"].as_str().unwrap().to_owned())
        .collect()
}

/// Every id of a paginated list, following `next_cursor` to the end.
async fn all_pages(ctx: &Ctx, path: &str, limit: u32) -> (Vec<String>, usize) {
    let sep = if path.contains('?') { '&' } else { '?' };
    let mut ids = Vec::new();
    let mut cursor: Option<String> = None;
    let mut pages = 0;
    loop {
        let mut url = format!("{path}{sep}limit={limit}");
        if let Some(c) = &cursor {
            url.push_str(&format!("&cursor={c}"));
        }
        let page = json_of(get(&ctx.app, &url, &ctx.token).await, 200).await;
        assert!(page["items"].as_array().unwrap().len() <= limit as usize);
        ids.extend(ids_of(&page));
        pages += 1;
        match page["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_owned()),
            None => return (ids, pages),
        }
        assert!(pages < 50, "pagination does not end");
    }
}
