//! The site comes from the matched route, once (issue 10, point 1).
//!
//! actix routes on the percent-decoded path: `/sites/%62log/...` *is* `/sites/blog/...`. So
//! every spelling of a path parameter must get the same answer as its plain spelling (the same
//! site, the same session check, the same CORS decision), and no spelling of another site's
//! slug or comment id lets a token of one site act there.
//!
//! The walk takes every route from `registered_routes`, so a route added later is walked too;
//! a route whose parameters the walk can't fill fails the test with its name.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use colloquy::auth::moderators::Role;
use colloquy::domain::{Origin, Policy, SiteName, SiteSlug};
use colloquy::sites::{NewSite, Site, store as site_store};
use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::moderator::{add_moderator, login as mod_login};
use crate::helpers::reader::posted;
use crate::helpers::{TestApp, spawn_app_with};

mod other_sites;
mod public_api;
mod spellings;

/// Tags every world-specific name (slug, origin, reader, emails) so answers of two worlds can
/// be compared once the tag is masked.
static WORLDS: AtomicUsize = AtomicUsize::new(0);

async fn app() -> TestApp {
    spawn_app_with(|s| {
        s.auth.dev_provider = true;
        s.limits.comments_per_minute_ip = 1_000_000;
        s.limits.comments_per_minute_user = 1_000_000;
    })
    .await
}

/// A site with a reader session bound to it and one of everything a route can name.
struct World {
    slug: String,
    origin: String,
    reader: String,
    reader_id: String,
    moderator: String,
    /// The reader's own published comment.
    own: String,
    /// A guest's published comment.
    other: String,
    /// The reader's rejected comment, appealed.
    rejected: String,
    ban: String,
    rule: String,
    token: String,
    appeal: String,
    helper_id: String,
    /// An open invitation to the team.
    invitation: String,
}

async fn create_site(app: &TestApp, slug: &str, origin: &str) -> Site {
    let new = NewSite {
        slug: SiteSlug::parse(slug).unwrap(),
        name: SiteName::parse(&format!("The {slug} blog")).unwrap(),
        origins: vec![Origin::parse(origin).unwrap()],
        providers: vec!["dev".to_owned()],
        guests: true,
        policy: Policy::Post,
        max_depth: 5,
        edit_window_s: 900,
        flags_to_hold: 3,
    };
    let mut conn = app.db.acquire().await.unwrap();
    match site_store::create(&mut conn, &new).await {
        Ok(site) => site,
        Err(_) => panic!("site {slug} could not be created"),
    }
}

/// A reader session opened through `slug`'s popup (the dev provider).
async fn reader_login(app: &TestApp, slug: &str, origin: &str, name: &str) -> String {
    let r = app
        .client
        .get(app.url("/auth/dev/login"))
        .query(&[("site", slug), ("origin", origin)])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 302, "dev login on {slug}");
    let location = r.headers()["location"].to_str().unwrap().to_owned();
    let state = location
        .strip_prefix("/auth/dev/authorize?state=")
        .unwrap_or_else(|| panic!("unexpected redirect {location}"))
        .to_owned();
    let r = app
        .client
        .post(app.url("/auth/dev/callback"))
        .form(&[("state", state.as_str()), ("name", name)])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    posted(&r.text().await.unwrap())["message"]["token"]
        .as_str()
        .unwrap()
        .to_owned()
}

async fn send(
    app: &TestApp,
    method: Method,
    path: &str,
    token: Option<&str>,
    body: Option<Value>,
) -> (u16, Value) {
    let mut req = app.client.request(method, app.url(path));
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    if let Some(b) = body {
        req = req.json(&b);
    }
    let r = req.send().await.unwrap();
    let status = r.status().as_u16();
    (status, r.json().await.unwrap_or(Value::Null))
}

fn id_of(answer: &(u16, Value), what: &str) -> String {
    let v = &answer.1;
    v["comment"]["id"]
        .as_str()
        .or_else(|| v["id"].as_str())
        .unwrap_or_else(|| panic!("no id creating {what}: {} {v}", answer.0))
        .to_owned()
}

async fn post_comment(app: &TestApp, slug: &str, token: Option<&str>, body: Value) -> String {
    let answer = send(
        app,
        Method::POST,
        &format!("/api/v1/sites/{slug}/comments"),
        token,
        Some(body),
    )
    .await;
    assert_eq!(answer.0, 201, "{}", answer.1);
    id_of(&answer, "a comment")
}

/// The moderator who owns every world's site, and a second account each world adds.
struct Staff {
    owner: String,
}

async fn staff(app: &TestApp) -> Staff {
    let first = create_site(app, "staff-room", "https://staff-room.example").await;
    add_moderator(app, "owner@example.com", &first, Role::Owner).await;
    add_moderator(app, "helper@example.com", &first, Role::Moderator).await;
    Staff {
        owner: mod_login(app, "owner@example.com").await,
    }
}

async fn world(app: &TestApp, staff: &Staff) -> World {
    let n = WORLDS.fetch_add(1, Ordering::Relaxed);
    // l, o, g and - have hex codes with letters (6c, 6f, 67, 2d): mixed-case hex matters.
    let slug = format!("blog-w{n}q");
    let origin = format!("https://blog-w{n}q.example");
    let site = create_site(app, &slug, &origin).await;
    add_moderator(app, "owner@example.com", &site, Role::Owner).await;
    let helper_id = add_moderator(app, "helper@example.com", &site, Role::Moderator)
        .await
        .to_string();
    let reader = reader_login(app, &slug, &origin, &format!("Reader w{n}q")).await;
    let me = send(app, Method::GET, "/api/v1/me", Some(&reader), None).await;
    let reader_id = me.1["id"]
        .as_str()
        .or_else(|| me.1["user"]["id"].as_str())
        .unwrap_or_else(|| panic!("no user id in /me: {}", me.1))
        .to_owned();
    let own = post_comment(
        app,
        &slug,
        Some(&reader),
        json!({ "uri": "/p/", "body": "The reader's own comment" }),
    )
    .await;
    let other = post_comment(
        app,
        &slug,
        None,
        json!({ "uri": "/p/", "body": "A guest's comment",
                "guest": { "name": "Guest", "email": format!("guest-w{n}q@example.com") } }),
    )
    .await;
    let rejected = post_comment(
        app,
        &slug,
        Some(&reader),
        json!({ "uri": "/p/", "body": "The reader's rejected comment" }),
    )
    .await;
    sqlx::query("UPDATE comments SET status = 'rejected' WHERE id = $1::uuid")
        .bind(&rejected)
        .execute(&app.db)
        .await
        .unwrap();
    let appeal = send(
        app,
        Method::POST,
        &format!("/api/v1/comments/{rejected}/appeal"),
        Some(&reader),
        Some(json!({ "message": "Please look again" })),
    )
    .await;
    let owner = Some(staff.owner.as_str());
    let mod_post = |path: String, body: Value| async move {
        send(
            app,
            Method::POST,
            &format!("/api/mod/v1{path}"),
            owner,
            Some(body),
        )
        .await
    };
    let ban = mod_post(
        format!("/sites/{slug}/bans"),
        json!({ "email": format!("banned-w{n}q@example.com") }),
    )
    .await;
    let rule = mod_post(
        format!("/sites/{slug}/rules"),
        json!({ "kind": "word", "pattern": "zzz", "action": "hold" }),
    )
    .await;
    let token = mod_post(
        "/tokens".to_owned(),
        json!({ "name": format!("script w{n}q") }),
    )
    .await;
    let invitation = mod_post(
        format!("/sites/{slug}/moderators"),
        json!({ "email": format!("invitee-w{n}q@example.com"), "role": "moderator" }),
    )
    .await;
    World {
        invitation: id_of(&invitation, "an invitation"),
        appeal: id_of(&appeal, "an appeal"),
        ban: id_of(&ban, "a ban"),
        rule: id_of(&rule, "a rule"),
        token: id_of(&token, "a token"),
        slug,
        origin,
        reader,
        reader_id,
        moderator: staff.owner.clone(),
        own,
        other,
        rejected,
        helper_id,
    }
}

/// The value of each parameter of `route` in `w`; panics naming the route when the walk
/// doesn't know a parameter.
fn params(method: &str, route: &str, w: &World) -> BTreeMap<&'static str, String> {
    let public = route.starts_with("/api/v1/");
    let rest = route
        .strip_prefix("/api/v1")
        .or_else(|| route.strip_prefix("/api/mod/v1"))
        .unwrap_or_else(|| panic!("{method} {route}: not an API route"));
    let mut out = BTreeMap::new();
    let names: Vec<&str> = rest
        .split('/')
        .filter_map(|seg| seg.strip_prefix('{').and_then(|s| s.strip_suffix('}')))
        .collect();
    for name in names {
        let (key, value) = match name {
            "site" => ("site", w.slug.clone()),
            "provider" => ("provider", "dev".to_owned()),
            "id" if rest.starts_with("/comments/") && public => (
                "id",
                match (method, rest) {
                    ("PATCH" | "DELETE", "/comments/{id}") => w.own.clone(),
                    (_, "/comments/{id}/appeal") => w.rejected.clone(),
                    (_, "/comments/{id}/flags" | "/comments/{id}/vote") => w.other.clone(),
                    _ => panic!("{method} {route}: the walk doesn't know which comment to use"),
                },
            ),
            "id" if rest.starts_with("/comments/") => ("id", w.other.clone()),
            "id" if rest.starts_with("/tokens/") => ("id", w.token.clone()),
            "id" if rest.starts_with("/appeals/") => ("id", w.appeal.clone()),
            "id" if rest.contains("/bans/") => ("id", w.ban.clone()),
            "id" if rest.contains("/rules/") => ("id", w.rule.clone()),
            "id" if rest.contains("/users/") => ("id", w.reader_id.clone()),
            "id" if rest.contains("/moderators/") => ("id", w.helper_id.clone()),
            "id" if rest.contains("/invitations/") => ("id", w.invitation.clone()),
            _ => panic!("{method} {route}: the walk can't fill {{{name}}}; teach it"),
        };
        out.insert(key, value);
    }
    out
}

/// A body the route accepts (so the answer is the route's, not a body error).
fn body_for(method: &str, route: &str, w: &World) -> Option<Value> {
    Some(match (method, route) {
        ("GET" | "DELETE", _) => return None,
        ("POST", "/api/v1/sites/{site}/comments") => {
            json!({ "uri": "/p/", "body": "A walked comment" })
        }
        ("POST", "/api/v1/sites/{site}/appeal" | "/api/v1/comments/{id}/appeal") => {
            json!({ "message": "Please look again" })
        }
        ("PATCH", "/api/v1/comments/{id}") => json!({ "body": "An edited comment" }),
        ("POST", "/api/v1/comments/{id}/flags") => json!({ "reason": "spam" }),
        ("PUT", "/api/v1/comments/{id}/vote") => json!({ "value": 1 }),
        ("POST", "/api/v1/me/identities/{provider}") => {
            json!({ "site": w.slug, "origin": w.origin })
        }
        ("POST", "/api/v1/me/identities/{provider}/confirm") => json!({ "code": "x" }),
        ("PATCH", "/api/mod/v1/sites/{site}") => json!({ "name": "Renamed" }),
        ("POST", "/api/mod/v1/sites/{site}/moderators") => {
            json!({ "email": format!("new-{}@example.com", w.slug), "role": "moderator",
                    "password": crate::helpers::moderator::PASSWORD })
        }
        ("POST", "/api/mod/v1/sites/{site}/actions") => {
            json!({ "ids": [w.other], "action": "reject" })
        }
        ("POST", "/api/mod/v1/sites/{site}/queue/claim") => json!({ "limit": 5 }),
        ("POST", "/api/mod/v1/sites/{site}/bans") => json!({ "ip": "192.0.2.0/24" }),
        ("POST", "/api/mod/v1/sites/{site}/rules") => {
            json!({ "kind": "word", "pattern": "x", "action": "hold" })
        }
        ("POST", "/api/mod/v1/sites/{site}/rules/dry-run") => {
            json!({ "rules": [{ "kind": "word", "pattern": "x", "action": "hold" }] })
        }
        ("POST", "/api/mod/v1/appeals/{id}/actions") => json!({ "action": "uphold" }),
        ("PATCH", "/api/mod/v1/sites/{site}/rules/{id}") => json!({ "enabled": false }),
        ("PATCH", "/api/mod/v1/sites/{site}/users/{id}") => json!({ "trusted": true }),
        ("PATCH", "/api/mod/v1/comments/{id}") => json!({ "body": "Edited by a moderator" }),
        ("POST", "/api/mod/v1/comments/{id}/actions") => json!({ "action": "reject" }),
        _ => json!({}),
    })
}

fn encode(b: u8, lower: bool) -> String {
    if lower {
        format!("%{b:02x}")
    } else {
        format!("%{b:02X}")
    }
}

/// The spellings of one parameter value, plain first. Every one decodes to `v`.
fn spellings(v: &str) -> Vec<(&'static str, String)> {
    let bytes = v.as_bytes();
    let all = |lower: &dyn Fn(usize) -> bool| -> String {
        bytes
            .iter()
            .enumerate()
            .map(|(i, &b)| encode(b, lower(i)))
            .collect()
    };
    vec![
        ("plain", v.to_owned()),
        (
            "one character",
            format!("{}{}", encode(bytes[0], false), &v[1..]),
        ),
        ("one character, last", {
            let last = bytes.len() - 1;
            format!("{}{}", &v[..last], encode(bytes[last], true))
        }),
        ("all, upper-case hex", all(&|_| false)),
        ("all, lower-case hex", all(&|_| true)),
        ("all, mixed-case hex", all(&|i| i % 2 == 1)),
    ]
}

/// Encodings of `v` with a separator smuggled in: all decode to something that is not `v`.
fn with_separators(v: &str, other: &str) -> Vec<String> {
    vec![
        format!("{v}%2F"),
        format!("{v}%2f"),
        format!("%2F{v}"),
        format!("{other}%2F..%2F{v}"),
        format!("{other}%2f..%2f{v}"),
        format!("{v}%2Fvote"),
        format!("{v}%252F"),
        format!("{v}%00"),
        format!("{v}+"),
    ]
}

fn fill(route: &str, values: &BTreeMap<&'static str, String>) -> String {
    let mut path = route.to_owned();
    for (name, value) in values {
        path = path.replace(&format!("{{{name}}}"), value);
    }
    assert!(!path.contains('{'), "unfilled parameter in {path}");
    format!("{path}{}", query_for(route))
}

/// The query a read needs to answer 200 (a page's thread, counts and stream).
fn query_for(route: &str) -> &'static str {
    match route {
        "/api/v1/sites/{site}/thread"
        | "/api/v1/sites/{site}/counts"
        | "/api/v1/sites/{site}/events" => "?uri=/p/",
        _ => "",
    }
}

/// A plain spelling answering 404 means the fixture named nothing, so the spellings would
/// prove nothing; except where the 404 is about the body, not the path.
fn about_the_body(route: &str, answer: &Answer) -> bool {
    route == "/api/v1/me/identities/{provider}/confirm" && answer.body.contains("Link code")
}

/// What the walk compares: status, the CORS answer and the body, with what differs between
/// two equivalent worlds masked (ids, times, the world's tag).
#[derive(Debug, PartialEq)]
struct Answer {
    status: u16,
    allow_origin: Option<String>,
    body: String,
}

fn mask(text: &str) -> String {
    let uuid = regex::Regex::new(
        r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}",
    )
    .unwrap();
    let time =
        regex::Regex::new(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)").unwrap();
    let tag = regex::Regex::new(r"w\d+q").unwrap();
    let secret = regex::Regex::new(r"state=[A-Za-z0-9_-]+").unwrap();
    let text = secret.replace_all(text, "state=<secret>");
    let text = uuid.replace_all(&text, "<uuid>");
    let text = time.replace_all(&text, "<time>");
    tag.replace_all(&text, "<w>").into_owned()
}

async fn answer(app: &TestApp, method: &str, path: &str, w: &World, route: &str) -> Answer {
    let public = route.starts_with("/api/v1/");
    let mut req = app.client.request(
        Method::from_bytes(method.as_bytes()).unwrap(),
        app.url(path),
    );
    if public {
        req = req.bearer_auth(&w.reader).header("Origin", &w.origin);
    } else {
        req = req.bearer_auth(&w.moderator);
    }
    if let Some(b) = body_for(method, route, w) {
        req = req.json(&b);
    }
    let r = req.send().await.unwrap();
    let status = r.status().as_u16();
    let allow_origin = r
        .headers()
        .get("access-control-allow-origin")
        .map(|v| mask(v.to_str().unwrap()));
    Answer {
        status,
        allow_origin,
        body: mask(&first_body(r).await),
    }
}

/// The body, or the first chunk of an event stream (which never ends).
async fn first_body(mut r: reqwest::Response) -> String {
    let stream = r
        .headers()
        .get("content-type")
        .is_some_and(|v| v.as_bytes().starts_with(b"text/event-stream"));
    if stream {
        let chunk = tokio::time::timeout(Duration::from_secs(10), r.chunk())
            .await
            .expect("a first event")
            .unwrap()
            .unwrap_or_default();
        format!("stream: {}", String::from_utf8_lossy(&chunk))
    } else {
        r.text().await.unwrap()
    }
}

/// The routes the walk covers: every public route, and every moderator route naming a site
/// or an id.
fn walked_routes(app: &TestApp) -> Vec<(&'static str, String)> {
    let routes: Vec<(&'static str, String)> = colloquy::app::registered_routes(&app.settings)
        .into_iter()
        .filter(|(_, p)| {
            p.starts_with("/api/v1/") || (p.starts_with("/api/mod/v1/") && p.contains('{'))
        })
        .collect();
    assert!(
        routes
            .iter()
            .filter(|(_, p)| p.starts_with("/api/v1/"))
            .count()
            >= 10
            && routes.len() >= 40,
        "the walk lost routes: {routes:?}"
    );
    routes
}

/// Every table a public request could change, as one comparable value.
async fn snapshot(app: &TestApp) -> Vec<String> {
    let mut out = Vec::new();
    for table in [
        "comments",
        "comment_revisions",
        "threads",
        "votes",
        "flags",
        "appeals",
        "sessions",
        "users",
        "identities",
        "idempotency_keys",
    ] {
        let sql = format!(
            "SELECT coalesce(string_agg(t::text, '|' ORDER BY t::text), '') FROM {table} t"
        );
        let rows: String = sqlx::query_scalar(sqlx::AssertSqlSafe(sql))
            .fetch_one(&app.db)
            .await
            .unwrap();
        out.push(format!("{table}: {rows}"));
    }
    out
}
