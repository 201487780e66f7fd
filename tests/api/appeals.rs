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

use crate::edits::{Reader, post_as, public_thread, reader, send, thread_as};
use crate::helpers::{SiteOpts, TestApp, assert_error, spawn_app_with};
use crate::moderators::{add_moderator, get, json_of, login as mod_login, post};

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

#[tokio::test]
async fn a_dry_run_lists_the_verdicts_proposed_rules_would_change_and_why() {
    let ctx = setup().await;
    let app = &ctx.app;
    let r = post(
        app,
        "/sites/blog/rules",
        &ctx.token,
        json!({ "kind": "word", "pattern": "casino", "action": "hold" }),
    )
    .await;
    assert_eq!(r.status(), 201);

    let (hello, s1) = guest(app, "Hello there, nice post", "a@example.com").await;
    let (viagra, s2) = guest(app, "Buy viagra now", "b@example.com").await;
    let (links, s3) = guest(
        app,
        "See https://a.example and https://b.example",
        "c@example.com",
    )
    .await;
    let (casino, s4) = guest(app, "Visit our casino", "d@example.com").await;
    let (one_link, s5) = guest(app, "Only https://x.example", "e@example.com").await;
    assert_eq!(
        [s1, s2, s3, s4, s5],
        ["approved", "approved", "approved", "pending", "approved"]
    );

    let before = snapshot(app).await;

    // A word rule and a link limit instead of the current `casino` rule.
    let answer = json_of(
        dry_run(
            &ctx,
            json!({ "rules": [
                { "kind": "word", "pattern": "viagra", "action": "spam" },
                { "kind": "max_links", "pattern": "1", "action": "hold" },
            ] }),
        )
        .await,
        200,
    )
    .await;
    assert_eq!(answer["sampled"], 5, "{answer}");
    assert_eq!(answer["unchanged"], 2, "{answer}");
    let changed = changed_by_id(&answer);
    assert_eq!(changed.len(), 3, "{answer}");
    assert!(!changed.contains_key(&hello) && !changed.contains_key(&one_link));

    let v = &changed[&viagra];
    assert_eq!(v["current_status"], "approved");
    assert_eq!(v["current_verdict"], "approved");
    assert_eq!(v["would_be"], "spam");
    assert_eq!(v["reasons"][0]["rule"], "rules[0]");
    assert_eq!(v["reasons"][0]["kind"], "word");
    assert_eq!(v["reasons"][0]["matched"], "viagra");

    let l = &changed[&links];
    assert_eq!(l["current_status"], "approved");
    assert_eq!(l["would_be"], "pending");
    assert_eq!(l["reasons"][0]["rule"], "rules[1]");
    assert_eq!(l["reasons"][0]["kind"], "max_links");
    assert_eq!(l["reasons"][0]["matched"], "2 links");

    // Held by the current rule, which the proposal drops.
    let c = &changed[&casino];
    assert_eq!(c["current_status"], "pending");
    assert_eq!(c["current_verdict"], "pending");
    assert_eq!(c["would_be"], "approved");
    assert_eq!(c["reasons"], json!([]));

    // Newest first, newest `sample` only.
    let answer = json_of(
        dry_run(
            &ctx,
            json!({ "rules": [{ "kind": "word", "pattern": "viagra", "action": "spam" }], "sample": 2 }),
        )
        .await,
        200,
    )
    .await;
    assert_eq!(answer["sampled"], 2);
    assert_eq!(
        changed_by_id(&answer).keys().collect::<Vec<_>>(),
        [&casino],
        "{answer}"
    );

    // A reject rule: the comment would have been refused at submit time.
    let answer = json_of(
        dry_run(
            &ctx,
            json!({ "rules": [{ "kind": "regex", "pattern": "hello\\s+there", "action": "reject" }] }),
        )
        .await,
        200,
    )
    .await;
    let changed = changed_by_id(&answer);
    assert_eq!(changed.len(), 2, "{answer}");
    assert_eq!(changed[&hello]["would_be"], "rejected");
    assert_eq!(changed[&hello]["reasons"][0]["rule"], "rules[0]");
    assert_eq!(changed[&casino]["would_be"], "approved");

    // The same rules as now: nothing changes.
    let answer = json_of(
        dry_run(
            &ctx,
            json!({ "rules": [{ "kind": "word", "pattern": "casino", "action": "hold" }] }),
        )
        .await,
        200,
    )
    .await;
    assert_eq!(answer["changed"], json!([]));
    assert_eq!(answer["unchanged"], 5);

    // Nothing the dry-runs did shows in any table.
    assert_eq!(snapshot(app).await, before);

    // A trusted author skips the rules: never changed.
    let viagra_author: Uuid =
        sqlx::query_scalar("SELECT user_id FROM comments WHERE id = $1::uuid")
            .bind(&viagra)
            .fetch_one(&app.db)
            .await
            .unwrap();
    let r = crate::moderators::call(
        app,
        Method::PATCH,
        &format!("/sites/blog/users/{viagra_author}"),
        &ctx.token,
        Some(json!({ "trusted": true })),
    )
    .await;
    assert_eq!(r.status(), 200);
    let before = snapshot(app).await; // the trust change above is the only write
    let answer = json_of(
        dry_run(
            &ctx,
            json!({ "rules": [{ "kind": "word", "pattern": "viagra", "action": "spam" }] }),
        )
        .await,
        200,
    )
    .await;
    assert!(!changed_by_id(&answer).contains_key(&viagra), "{answer}");

    assert_eq!(snapshot(app).await, before);
}

#[tokio::test]
async fn a_dry_run_names_each_bad_rule_field_and_writes_nothing() {
    let ctx = setup().await;
    let app = &ctx.app;
    guest(app, "Something to replay", "a@example.com").await;
    let before = snapshot(app).await;

    let body = assert_error(
        dry_run(
            &ctx,
            json!({ "rules": [
                { "kind": "word", "pattern": "fine", "action": "hold" },
                { "kind": "regex", "pattern": "(", "action": "hold" },
                { "kind": "colour", "pattern": "x", "action": "explode" },
                { "kind": "max_links", "pattern": "many", "action": "spam" },
            ], "sample": 0 }),
        )
        .await,
        400,
        "validation_failed",
    )
    .await;
    let details = body["error"]["details"].as_object().unwrap();
    let mut fields: Vec<&str> = details.keys().map(String::as_str).collect();
    fields.sort();
    assert_eq!(
        fields,
        [
            "rules[1].pattern",
            "rules[2].action",
            "rules[2].kind",
            "rules[3].pattern",
            "sample"
        ],
        "{body}"
    );

    let body = assert_error(
        dry_run(&ctx, json!({ "rules": [], "sample": 5001 })).await,
        400,
        "validation_failed",
    )
    .await;
    assert!(body["error"]["details"]["sample"].is_string(), "{body}");

    // Malformed bodies: 400s, never 500s.
    for bad in [
        json!({}),
        json!({ "rules": "word" }),
        json!({ "rules": [], "sample": "many" }),
        json!({ "rules": [], "sample": 1.5 }),
        json!({ "rules": [{ "kind": "word", "pattern": "x" }] }),
        json!({ "rules": [], "extra": true }),
    ] {
        let r = dry_run(&ctx, bad.clone()).await;
        assert_eq!(r.status(), 400, "{bad}");
    }
    // An empty proposal is a question too: what if the site had no rules?
    let answer = json_of(dry_run(&ctx, json!({ "rules": [] })).await, 200).await;
    assert_eq!(answer["sampled"], 1);

    assert_eq!(snapshot(app).await, before);
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

#[tokio::test]
async fn an_appealed_rejection_is_upheld_or_overturned_audited_and_shown_to_its_author() {
    let ctx = setup().await;
    let app = &ctx.app;
    let ann = reader(app, "Ann").await;
    let bob = reader(app, "Bob").await;
    let (_, first) = post_as(app, &ann, "A first thought", None).await;
    let first = first["comment"]["id"].as_str().unwrap().to_owned();
    let (_, second) = post_as(app, &ann, "A second thought", None).await;
    let second = second["comment"]["id"].as_str().unwrap().to_owned();
    mod_act(&ctx, &first, "reject").await;
    mod_act(&ctx, &second, "spam").await;

    // Only the author; a rejected comment of someone else isn't even confirmed to exist.
    assert_error(
        appeal(app, Some(&bob), &first, "Let it in").await,
        404,
        "not_found",
    )
    .await;
    assert_error(
        appeal(app, None, &first, "Let it in").await,
        401,
        "unauthenticated",
    )
    .await;
    let body = assert_error(
        appeal(app, Some(&ann), &first, "   ").await,
        400,
        "validation_failed",
    )
    .await;
    assert!(body["error"]["details"]["message"].is_string());

    let r = appeal(app, Some(&ann), &first, "It was on topic, really").await;
    let a1 = json_of(r, 201).await;
    assert_eq!(a1["status"], "open");
    assert_eq!(a1["kind"], "comment");
    let a1 = a1["id"].as_str().unwrap().to_owned();
    // One open appeal per comment.
    assert_error(
        appeal(app, Some(&ann), &first, "Again").await,
        409,
        "appeal_exists",
    )
    .await;
    let a2 = json_of(appeal(app, Some(&ann), &second, "Not spam").await, 201).await;
    let a2 = a2["id"].as_str().unwrap().to_owned();

    // The queue: open ones oldest first, with the comment as it stands.
    let queue = json_of(get(app, "/sites/blog/appeals", &ctx.token).await, 200).await;
    let items = queue["items"].as_array().unwrap();
    assert_eq!(items.len(), 2, "{queue}");
    assert_eq!(items[0]["id"], a1.as_str());
    assert_eq!(items[0]["comment_id"], first.as_str());
    assert_eq!(items[0]["comment_status"], "rejected");
    assert_eq!(items[0]["message"], "It was on topic, really");
    assert_eq!(items[0]["user_id"], ann.id.as_str());
    assert_eq!(items[1]["id"], a2.as_str());
    let page = json_of(
        get(app, "/sites/blog/appeals?limit=1", &ctx.token).await,
        200,
    )
    .await;
    assert_eq!(page["items"][0]["id"], a1.as_str());
    let cursor = page["next_cursor"].as_str().unwrap();
    let page = json_of(
        get(
            app,
            &format!("/sites/blog/appeals?limit=1&cursor={cursor}"),
            &ctx.token,
        )
        .await,
        200,
    )
    .await;
    assert_eq!(page["items"][0]["id"], a2.as_str());
    assert_error(
        get(app, "/sites/blog/appeals?status=closed", &ctx.token).await,
        400,
        "validation_failed",
    )
    .await;
    assert_error(
        decide(&ctx, &a1, json!({ "action": "maybe" })).await,
        400,
        "validation_failed",
    )
    .await;

    // Uphold: the comment stays rejected; the decision is on its record.
    let decided = json_of(
        decide(
            &ctx,
            &a1,
            json!({ "action": "uphold", "note": "Off topic for this post" }),
        )
        .await,
        200,
    )
    .await;
    assert_eq!(decided["status"], "upheld");
    assert_eq!(decided["note"], "Off topic for this post");
    assert_eq!(status_of(app, &first).await, "rejected");
    let (actor, from, to, note, reasons) = last_event(app, &first).await;
    assert_eq!(
        (
            actor.as_str(),
            from.as_deref(),
            to.as_str(),
            note.as_deref()
        ),
        (
            "moderator",
            Some("rejected"),
            "rejected",
            Some("Off topic for this post")
        )
    );
    assert_eq!(reasons[0]["kind"], "appeal_upheld");
    assert_eq!(reasons[0]["matched"], a1.as_str());
    assert_error(
        decide(&ctx, &a1, json!({ "action": "overturn" })).await,
        409,
        "appeal_decided",
    )
    .await;

    // Overturn: the comment is approved through the state machine, audited.
    let decided = json_of(
        decide(&ctx, &a2, json!({ "action": "overturn" })).await,
        200,
    )
    .await;
    assert_eq!(decided["status"], "overturned");
    assert_eq!(decided["comment_status"], "approved");
    assert_eq!(status_of(app, &second).await, "approved");
    let (actor, from, to, note, reasons) = last_event(app, &second).await;
    assert_eq!(
        (actor.as_str(), from.as_deref(), to.as_str(), note),
        ("moderator", Some("spam"), "approved", None)
    );
    assert_eq!(reasons[0]["kind"], "appeal_overturned");

    // The author sees the outcome on their comment; nobody else does.
    let mine = thread_as(app, &ann).await;
    let c = find(&mine, &second).expect("the restored comment is in the thread");
    assert_eq!(c["status"], "approved");
    assert_eq!(c["appeal"], json!({ "status": "overturned" }));
    let theirs = thread_as(app, &bob).await;
    assert!(find(&theirs, &second).unwrap().get("appeal").is_none());
    let public = public_thread(app).await;
    assert!(find(&public, &second).unwrap().get("appeal").is_none());
    assert!(find(&public, &first).is_none());

    // ... and every appeal, with the note meant for them, in /me/appeals (newest first).
    let list = my_appeals(app, &ann).await;
    assert_eq!(list.len(), 2);
    assert_eq!(list[0]["id"], a2.as_str());
    assert_eq!(list[0]["status"], "overturned");
    assert_eq!(list[1]["id"], a1.as_str());
    assert_eq!(list[1]["status"], "upheld");
    assert_eq!(list[1]["note"], "Off topic for this post");
    assert_eq!(list[1]["site"], "blog");
    assert!(list[1].get("decided_by").is_none());
    assert!(my_appeals(app, &bob).await.is_empty());

    let upheld = json_of(
        get(app, "/sites/blog/appeals?status=upheld", &ctx.token).await,
        200,
    )
    .await;
    assert_eq!(upheld["items"][0]["id"], a1.as_str());
    let open = json_of(get(app, "/sites/blog/appeals", &ctx.token).await, 200).await;
    assert_eq!(open["items"], json!([]));

    // A decided appeal doesn't stop a new one; an approved comment has nothing to appeal.
    assert_eq!(
        appeal(app, Some(&ann), &first, "Please look again")
            .await
            .status(),
        201
    );
    let body = assert_error(
        appeal(app, Some(&ann), &second, "Huh").await,
        409,
        "not_appealable",
    )
    .await;
    assert_eq!(body["error"]["details"]["status"], "approved");
}

#[tokio::test]
async fn refused_appeals_change_nothing() {
    let ctx = setup().await;
    let app = &ctx.app;
    let ann = reader(app, "Ann").await;
    let bob = reader(app, "Bob").await;
    let (_, c) = post_as(app, &ann, "Published and fine", None).await;
    let published = c["comment"]["id"].as_str().unwrap().to_owned();

    // Someone else's published comment: 403; one's own published comment: 409.
    assert_error(
        appeal(app, Some(&bob), &published, "Hmm").await,
        403,
        "forbidden",
    )
    .await;
    assert_error(
        appeal(app, Some(&ann), &published, "Hmm").await,
        409,
        "not_appealable",
    )
    .await;
    // Pending is not a rejection either.
    let (_, c) = post_as(app, &ann, "A pending one", None).await;
    let pending = c["comment"]["id"].as_str().unwrap().to_owned();
    app.set_status(&pending, "pending").await;
    assert_error(
        appeal(app, Some(&ann), &pending, "Hmm").await,
        409,
        "not_appealable",
    )
    .await;
    // Unknown and malformed ids.
    let unknown = Uuid::now_v7();
    assert_error(
        appeal(app, Some(&ann), &unknown.to_string(), "Hmm").await,
        404,
        "not_found",
    )
    .await;
    assert_error(
        appeal(app, Some(&ann), "not-an-id", "Hmm").await,
        404,
        "not_found",
    )
    .await;
    let r = send(
        app,
        Method::POST,
        &format!("/api/v1/comments/{published}/appeal"),
        Some(&ann),
        Some(json!({ "message": "x", "urgent": true })),
    )
    .await;
    assert_eq!(r.status(), 400);

    // Not banned: nothing to appeal; an unknown site is 404.
    assert_error(appeal_ban(app, &ann, "blog").await, 409, "not_banned").await;
    assert_error(appeal_ban(app, &ann, "nowhere").await, 404, "not_found").await;

    // A shadow ban is never revealed by an appeal.
    let r = post(
        app,
        "/sites/blog/bans",
        &ctx.token,
        json!({ "user_id": ann.id, "shadow": true }),
    )
    .await;
    assert_eq!(r.status(), 201);
    assert_error(appeal_ban(app, &ann, "blog").await, 409, "not_banned").await;
    let (_, c) = post_as(app, &ann, "Shadowed comment", None).await;
    let shadowed = c["comment"]["id"].as_str().unwrap().to_owned();
    assert_eq!(status_of(app, &shadowed).await, "spam");
    let body = assert_error(
        appeal(app, Some(&ann), &shadowed, "Hmm").await,
        409,
        "not_appealable",
    )
    .await;
    assert_eq!(body["error"]["details"]["status"], "approved");

    let n: i64 = sqlx::query_scalar("SELECT count(*) FROM appeals")
        .fetch_one(&app.db)
        .await
        .unwrap();
    assert_eq!(n, 0);
}

#[tokio::test]
async fn an_overturned_ban_appeal_lifts_the_ban_and_an_upheld_one_keeps_it() {
    let ctx = setup().await;
    let app = &ctx.app;
    let ann = reader(app, "Ann").await;
    let bob = reader(app, "Bob").await;
    post_as(app, &ann, "Before the ban", None).await;
    post_as(app, &bob, "Bob before the ban", None).await;
    for who in [&ann, &bob] {
        let r = post(
            app,
            "/sites/blog/bans",
            &ctx.token,
            json!({ "user_id": who.id, "reason": "rude" }),
        )
        .await;
        assert_eq!(r.status(), 201);
        let (status, body) = post_as(app, who, "Still here?", None).await;
        assert_eq!(status, 403, "{body}");
    }

    let a = json_of(appeal_ban(app, &ann, "blog").await, 201).await;
    assert_eq!(a["kind"], "ban");
    let ann_appeal = a["id"].as_str().unwrap().to_owned();
    assert_error(appeal_ban(app, &ann, "blog").await, 409, "appeal_exists").await;
    let bob_appeal = json_of(appeal_ban(app, &bob, "blog").await, 201).await["id"]
        .as_str()
        .unwrap()
        .to_owned();

    let queue = json_of(get(app, "/sites/blog/appeals", &ctx.token).await, 200).await;
    let first = &queue["items"][0];
    assert_eq!(first["id"], ann_appeal.as_str());
    assert_eq!(first["kind"], "ban");
    assert_eq!(first["ban_active"], true);
    assert_eq!(first["ban_reason"], "rude");
    let ban_id = first["ban_id"].as_str().unwrap().to_owned();

    // Overturn: the ban ends, audited, in one go; Ann can post again.
    let decided = json_of(
        decide(
            &ctx,
            &ann_appeal,
            json!({ "action": "overturn", "note": "Fair enough" }),
        )
        .await,
        200,
    )
    .await;
    assert_eq!(decided["status"], "overturned");
    assert_eq!(decided["ban_active"], false);
    let (status, body) = post_as(app, &ann, "Thanks for having me back", None).await;
    assert_eq!(status, 201, "{body}");
    assert_error(appeal_ban(app, &ann, "blog").await, 409, "not_banned").await;
    let ban = json_of(
        get(app, &format!("/sites/blog/bans/{ban_id}"), &ctx.token).await,
        200,
    )
    .await;
    assert_eq!(ban["active"], false);

    // Uphold: Bob stays banned.
    let decided = json_of(
        decide(&ctx, &bob_appeal, json!({ "action": "uphold" })).await,
        200,
    )
    .await;
    assert_eq!(decided["status"], "upheld");
    assert_eq!(decided["ban_active"], true);
    let (status, _) = post_as(app, &bob, "Let me in", None).await;
    assert_eq!(status, 403);

    let events: Vec<(String, String, Option<String>, Option<Uuid>)> =
        sqlx::query_as("SELECT action, actor_kind, note, appeal_id FROM ban_events ORDER BY id")
            .fetch_all(&app.db)
            .await
            .unwrap();
    assert_eq!(
        events,
        [
            (
                "appeal_overturned".to_owned(),
                "moderator".to_owned(),
                Some("Fair enough".to_owned()),
                Some(Uuid::parse_str(&ann_appeal).unwrap())
            ),
            (
                "appeal_upheld".to_owned(),
                "moderator".to_owned(),
                None,
                Some(Uuid::parse_str(&bob_appeal).unwrap())
            ),
        ]
    );
    let mine = my_appeals(app, &ann).await;
    assert_eq!(mine[0]["status"], "overturned");
    assert_eq!(mine[0]["note"], "Fair enough");
    assert_eq!(mine[0]["kind"], "ban");
}

#[tokio::test]
async fn another_sites_moderator_finds_no_appeals_and_can_decide_none() {
    let ctx = setup().await;
    let app = &ctx.app;
    let other = app
        .create_site(SiteOpts {
            slug: "other",
            ..Default::default()
        })
        .await;
    add_moderator(app, "other@example.com", &other, Role::Owner).await;
    let intruder = mod_login(app, "other@example.com").await;

    let ann = reader(app, "Ann").await;
    let (_, c) = post_as(app, &ann, "Soon rejected", None).await;
    let id = c["comment"]["id"].as_str().unwrap().to_owned();
    mod_act(&ctx, &id, "reject").await;
    let a = json_of(appeal(app, Some(&ann), &id, "Please").await, 201).await;
    let a = a["id"].as_str().unwrap().to_owned();

    assert_error(
        get(app, "/sites/blog/appeals", &intruder).await,
        404,
        "not_found",
    )
    .await;
    for action in ["uphold", "overturn"] {
        let r = post(
            app,
            &format!("/appeals/{a}/actions"),
            &intruder,
            json!({ "action": action }),
        )
        .await;
        assert_error(r, 404, "not_found").await;
    }
    let r = post(
        app,
        "/sites/blog/rules/dry-run",
        &intruder,
        json!({ "rules": [] }),
    )
    .await;
    assert_error(r, 404, "not_found").await;
    let r = post(
        app,
        "/appeals/not-an-id/actions",
        &ctx.token,
        json!({ "action": "uphold" }),
    )
    .await;
    assert_error(r, 404, "not_found").await;
    // Their own site has no appeals.
    let theirs = json_of(get(app, "/sites/other/appeals", &intruder).await, 200).await;
    assert_eq!(theirs["items"], json!([]));

    assert_eq!(status_of(app, &id).await, "rejected");
    let open: String = sqlx::query_scalar("SELECT status FROM appeals WHERE id = $1::uuid")
        .bind(&a)
        .fetch_one(&app.db)
        .await
        .unwrap();
    assert_eq!(open, "open");
    let _ = &ctx.site;
}
