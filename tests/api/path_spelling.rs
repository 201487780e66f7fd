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

use crate::auth::posted;
use crate::helpers::{TestApp, spawn_app_with};
use crate::moderators::{add_moderator, login as mod_login};

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
                    "password": crate::moderators::PASSWORD })
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

#[tokio::test]
async fn every_spelling_of_a_path_parameter_gets_the_plain_spellings_answer() {
    let app = app().await;
    let staff = staff(&app).await;
    // Reads change nothing: one world serves every spelling. Anything else gets a fresh,
    // equivalent world per spelling, so each spelling meets the state the plain one met.
    let shared = world(&app, &staff).await;
    let mut walked = 0;
    let mut failures = Vec::new();
    for (method, route) in walked_routes(&app) {
        let read = method == "GET";
        let plain_world = if read {
            None
        } else {
            Some(world(&app, &staff).await)
        };
        let w = plain_world.as_ref().unwrap_or(&shared);
        let values = params(method, &route, w);
        let plain = answer(&app, method, &fill(&route, &values), w, &route).await;
        assert!(
            (plain.status != 404 || about_the_body(&route, &plain))
                && plain.status != 405
                && plain.status < 500,
            "{method} {route}: the walk's fixture gets {} with the plain spelling: {}",
            plain.status,
            plain.body
        );
        walked += 1;
        for name in values.keys() {
            for (label, _) in spellings("xx").into_iter().skip(1) {
                let fresh = if read {
                    None
                } else {
                    Some(world(&app, &staff).await)
                };
                let w = fresh.as_ref().unwrap_or(&shared);
                let mut values = params(method, &route, w);
                let spelled = spellings(&values[name])
                    .into_iter()
                    .find(|(l, _)| *l == label)
                    .unwrap()
                    .1;
                values.insert(name, spelled);
                let path = fill(&route, &values);
                let got = answer(&app, method, &path, w, &route).await;
                if got != plain {
                    failures.push(format!(
                        "{method} {route} with {{{name}}} spelled {label} ({path}):\n  plain:   {plain:?}\n  spelled: {got:?}"
                    ));
                }
                walked += 1;
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} spellings answered differently:\n{}",
        failures.len(),
        failures.join("\n")
    );
    assert!(walked >= 200, "walked only {walked} requests");
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

#[tokio::test]
async fn a_token_of_one_site_acts_on_no_spelling_of_another_sites_slug_or_comments() {
    let app = app().await;
    let a = "bloga";
    let b = "blogb";
    create_site(&app, a, "https://bloga.example").await;
    create_site(&app, b, "https://blogb.example").await;
    // The same reader on both blogs: blog A's page holds `token_a`.
    let token_a = reader_login(&app, a, "https://bloga.example", "Reader").await;
    let token_b = reader_login(&app, b, "https://blogb.example", "Reader").await;
    let own_b = post_comment(
        &app,
        b,
        Some(&token_b),
        json!({ "uri": "/p/", "body": "Mine, on blog B" }),
    )
    .await;
    let other_b = post_comment(
        &app,
        b,
        None,
        json!({ "uri": "/p/", "body": "A guest on blog B",
                "guest": { "name": "Guest", "email": "guest@example.com" } }),
    )
    .await;
    let rejected_b = post_comment(
        &app,
        b,
        Some(&token_b),
        json!({ "uri": "/p/", "body": "Rejected, on blog B" }),
    )
    .await;
    sqlx::query("UPDATE comments SET status = 'rejected' WHERE id = $1::uuid")
        .bind(&rejected_b)
        .execute(&app.db)
        .await
        .unwrap();
    let before = snapshot(&app).await;

    let mut walked = 0;
    let mut failures = Vec::new();
    for (method, route) in colloquy::app::registered_routes(&app.settings) {
        let Some(rest) = route.strip_prefix("/api/v1") else {
            continue;
        };
        let (name, plain, other) = if rest.starts_with("/sites/{site}") {
            ("site", b.to_owned(), a.to_owned())
        } else if rest.starts_with("/comments/{id}") {
            let id = match (method, rest) {
                ("PATCH" | "DELETE", "/comments/{id}") => &own_b,
                (_, "/comments/{id}/appeal") => &rejected_b,
                _ => &other_b,
            };
            ("id", id.clone(), own_b.clone())
        } else {
            assert!(
                !rest.contains("{site}") && !rest.contains("{id}"),
                "{method} {route}: names a site or comment the walk doesn't know"
            );
            continue;
        };
        let mut spelled: Vec<String> = spellings(&plain).into_iter().map(|(_, s)| s).collect();
        spelled.extend(with_separators(&plain, &other));
        for value in spelled {
            let path = format!(
                "{}{}",
                route.replace(&format!("{{{name}}}"), &value),
                query_for(&route)
            );
            let mut req = app
                .client
                .request(
                    Method::from_bytes(method.as_bytes()).unwrap(),
                    app.url(&path),
                )
                .bearer_auth(&token_a);
            let body = match (method, rest) {
                ("GET", _) => None,
                ("POST", "/sites/{site}/comments") => {
                    Some(json!({ "uri": "/p/", "body": "Posted with blog A's token" }))
                }
                ("PATCH", "/comments/{id}") => Some(json!({ "body": "Edited with A's token" })),
                ("POST", "/comments/{id}/flags") => Some(json!({ "reason": "spam" })),
                ("PUT", "/comments/{id}/vote") => Some(json!({ "value": -1 })),
                (_, r) if r.ends_with("/appeal") => Some(json!({ "message": "Let me" })),
                _ => Some(json!({})),
            };
            if let Some(b) = body {
                req = req.json(&b);
            }
            let r = req.send().await.unwrap();
            let status = r.status().as_u16();
            let refused = matches!(status, 401 | 403 | 404);
            // A read that takes no session answers as it answers anyone: the token gained
            // nothing.
            let as_anyone = method == "GET" && status == 200 && {
                let with_token = first_body(r).await;
                let anonymous = app.client.get(app.url(&path)).send().await.unwrap();
                anonymous.status() == 200 && first_body(anonymous).await == with_token
            };
            if !refused && !as_anyone {
                failures.push(format!("{method} {path} with A's token: {status}"));
            }
            walked += 1;
        }
    }
    assert!(
        failures.is_empty(),
        "blog A's token reached blog B:\n{}",
        failures.join("\n")
    );
    assert!(walked >= 100, "walked only {walked} requests");
    assert_eq!(
        snapshot(&app).await,
        before,
        "blog A's token changed something"
    );

    // The same routes do answer blog B's own token: the refusals above were the site binding.
    let r = app
        .client
        .post(app.url(&format!("/api/v1/sites/{}/comments", spellings(b)[3].1)))
        .bearer_auth(&token_b)
        .json(&json!({ "uri": "/p/", "body": "Posted with blog B's token" }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let r = app
        .client
        .put(app.url(&format!(
            "/api/v1/comments/{}/vote",
            spellings(&other_b)[4].1
        )))
        .bearer_auth(&token_b)
        .json(&json!({ "value": 1 }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
}

#[tokio::test]
async fn a_session_bound_to_no_site_is_refused_by_the_public_api() {
    let app = app().await;
    create_site(&app, "bloga", "https://bloga.example").await;
    let token = reader_login(&app, "bloga", "https://bloga.example", "Reader").await;
    // What a first-party account session looks like: bound to no blog.
    sqlx::query("UPDATE sessions SET kind = 'account', site_id = NULL")
        .execute(&app.db)
        .await
        .unwrap();
    let before = snapshot(&app).await;
    for (method, path, body) in [
        ("GET", "/api/v1/me".to_owned(), None),
        ("GET", "/api/v1/me/appeals".to_owned(), None),
        ("GET", "/api/v1/sites/bloga/thread?uri=/p/".to_owned(), None),
        (
            "POST",
            "/api/v1/sites/bloga/comments".to_owned(),
            Some(json!({ "uri": "/p/", "body": "From a site-less session" })),
        ),
        ("POST", "/api/v1/logout".to_owned(), None),
    ] {
        let mut req = app
            .client
            .request(
                Method::from_bytes(method.as_bytes()).unwrap(),
                app.url(&path),
            )
            .bearer_auth(&token);
        if let Some(b) = body {
            req = req.json(&b);
        }
        let r = req.send().await.unwrap();
        assert_eq!(r.status(), 401, "{method} {path}");
    }
    assert_eq!(snapshot(&app).await, before);
}

#[tokio::test]
async fn cors_preflight_with_an_encoded_slug_or_id_answers_for_the_right_site() {
    let app = app().await;
    create_site(&app, "bloga", "https://bloga.example").await;
    create_site(&app, "blogb", "https://blogb.example").await;
    let comment_b = post_comment(
        &app,
        "blogb",
        None,
        json!({ "uri": "/p/", "body": "On blog B",
                "guest": { "name": "Guest", "email": "guest@example.com" } }),
    )
    .await;
    let preflight = |path: String, origin: &'static str, method: &'static str| {
        let app = &app;
        async move {
            app.client
                .request(Method::OPTIONS, app.url(&path))
                .header("Origin", origin)
                .header("Access-Control-Request-Method", method)
                .send()
                .await
                .unwrap()
        }
    };
    for (_, slug) in spellings("blogb") {
        let path = format!("/api/v1/sites/{slug}/comments");
        let r = preflight(path.clone(), "https://blogb.example", "POST").await;
        assert_eq!(r.status(), 204, "{path} from blog B's origin");
        assert_eq!(
            r.headers()["access-control-allow-origin"],
            "https://blogb.example",
            "{path}"
        );
        let r = preflight(path.clone(), "https://bloga.example", "POST").await;
        assert_eq!(r.status(), 403, "{path} from blog A's origin");
        assert!(r.headers().get("access-control-allow-origin").is_none());
    }
    for (_, id) in spellings(&comment_b) {
        let path = format!("/api/v1/comments/{id}/vote");
        let r = preflight(path.clone(), "https://blogb.example", "PUT").await;
        assert_eq!(r.status(), 204, "{path} from blog B's origin");
        let r = preflight(path.clone(), "https://bloga.example", "PUT").await;
        assert_eq!(r.status(), 403, "{path} from blog A's origin");
    }
    // A slug that only looks like B's once a separator is decoded is an unknown site.
    for slug in with_separators("blogb", "bloga") {
        let path = format!("/api/v1/sites/{slug}/comments");
        let r = preflight(path.clone(), "https://blogb.example", "POST").await;
        assert_eq!(r.status(), 404, "{path}");
    }
}
