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

use crate::helpers::{SiteOpts, TestApp, assert_error, spawn_app, spawn_app_with};
use crate::moderators::{add_moderator, call, delete, get, json_of, login, post};

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

async fn act_raw(ctx: &Ctx, id: &str, body: Value, if_match: Option<&str>) -> Response {
    let mut req = ctx
        .app
        .client
        .post(ctx.app.url(&format!("/api/mod/v1/comments/{id}/actions")))
        .bearer_auth(&ctx.token)
        .json(&body);
    if let Some(v) = if_match {
        req = req.header("If-Match", v);
    }
    req.send().await.unwrap()
}

async fn act(ctx: &Ctx, id: &str, action: &str) -> Value {
    json_of(
        act_raw(ctx, id, json!({ "action": action }), None).await,
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

// ---------------------------------------------------------------------------------------------
// Queue

#[tokio::test]
async fn the_queue_lists_each_status_with_reasons_flags_and_the_authors_history() {
    let ctx = setup(Policy::Pre).await;
    let app = &ctx.app;
    let c1 = ann(&ctx, "/p/", "First comment of Ann").await;
    let c2 = ann(&ctx, "/p/", "Buy cheap watches").await;
    let (c3, bob) = comment_by(app, "blog", "/q/", "Bob says hi", "bob@example.com").await;
    let c4 = ann(&ctx, "/p/", "A fine post").await;
    act(&ctx, &c2, "spam").await;
    act(&ctx, &c4, "approve").await;
    flag(app, &c4, &bob, "abuse", Some("rude")).await;
    flag(app, &c1, &bob, "off_topic", None).await;

    let pending = json_of(
        get(app, "/sites/blog/queue?status=pending", &ctx.token).await,
        200,
    )
    .await;
    assert_eq!(ids_of(&pending), [c1.clone(), c3.clone()], "oldest first");
    assert!(pending["next_cursor"].is_null());
    let first = &pending["items"][0];
    assert_eq!(first["comment"]["status"], "pending");
    assert_eq!(first["comment"]["body_markdown"], "First comment of Ann");
    assert_eq!(first["comment"]["html"], "<p>First comment of Ann</p>\n");
    assert_eq!(first["comment"]["thread"]["uri"], "/p/");
    assert_eq!(first["comment"]["version"], 1);
    assert!(first["comment"]["created_at"].is_string());
    assert_eq!(first["author"]["email"], "ann@example.com");
    assert_eq!(first["author"]["ip"], "127.0.0.1");
    assert_eq!(first["author"]["provider"], "guest");
    assert_eq!(first["reasons"][0]["kind"], "policy_pre");
    assert_eq!(first["flags_count"], 1);
    assert_eq!(first["flags"][0]["reason"], "off_topic");
    assert!(first["flags"][0]["created_at"].is_string());
    assert_eq!(
        first["author_history"],
        json!({ "approved": 1, "pending": 1, "spam": 1, "rejected": 0, "deleted": 0 })
    );
    assert_eq!(
        pending["items"][1]["author_history"],
        json!({ "approved": 0, "pending": 1, "spam": 0, "rejected": 0, "deleted": 0 })
    );
    assert_eq!(pending["items"][1]["flags"], json!([]));

    let spam = json_of(
        get(app, "/sites/blog/queue?status=spam", &ctx.token).await,
        200,
    )
    .await;
    assert_eq!(ids_of(&spam), [c2.as_str()]);

    let flagged = json_of(
        get(app, "/sites/blog/queue?status=flagged", &ctx.token).await,
        200,
    )
    .await;
    assert_eq!(ids_of(&flagged), [c1.clone(), c4.clone()]);
    let c4_item = &flagged["items"][1];
    assert_eq!(c4_item["comment"]["status"], "approved");
    assert_eq!(
        c4_item["flags"][0],
        json!({ "reason": "abuse", "note": "rude", "created_at": c4_item["flags"][0]["created_at"] })
    );

    // A flagged comment that is no longer approved or pending leaves the flagged queue.
    act(&ctx, &c4, "reject").await;
    let flagged = json_of(
        get(app, "/sites/blog/queue?status=flagged", &ctx.token).await,
        200,
    )
    .await;
    assert_eq!(ids_of(&flagged), [c1]);

    let r = get(app, "/sites/blog/queue?status=approved", &ctx.token).await;
    let body = assert_error(r, 400, "validation_failed").await;
    assert!(body["error"]["details"]["status"].is_string());
    assert_error(
        get(app, "/sites/blog/queue?cursor=%%%", &ctx.token).await,
        400,
        "validation_failed",
    )
    .await;
    assert_error(
        get(app, "/sites/blog/queue?limit=0", &ctx.token).await,
        400,
        "validation_failed",
    )
    .await;
    // Without a token: 401.
    let r = app
        .client
        .get(app.url("/api/mod/v1/sites/blog/queue"))
        .send()
        .await
        .unwrap();
    assert_error(r, 401, "unauthenticated").await;
}

#[tokio::test]
async fn queue_pages_cover_every_item_exactly_once() {
    let ctx = setup(Policy::Pre).await;
    let mut expected = Vec::new();
    for i in 0..7 {
        expected.push(ann(&ctx, "/p/", &format!("Comment number {i}")).await);
    }
    // One of them leaves the queue; the rest stay in posting order.
    act(&ctx, &expected.remove(3), "approve").await;
    let (ids, pages) = all_pages(&ctx, "/sites/blog/queue?status=pending", 2).await;
    assert_eq!(ids, expected);
    assert_eq!(pages, 3);
    let (ids, _) = all_pages(&ctx, "/sites/blog/queue", 200).await;
    assert_eq!(ids, expected, "pending is the default queue");
}

// ---------------------------------------------------------------------------------------------
// Search

#[tokio::test]
async fn search_filters_by_status_author_thread_and_words() {
    let ctx = setup(Policy::Post).await;
    let app = &ctx.app;
    let (a1, ann_id) =
        comment_by(app, "blog", "/a/", "The quick brown fox", "ann@example.com").await;
    let a2 = ann(&ctx, "/b/", "Lazy dogs sleep all day").await;
    let (b1, _) = comment_by(
        app,
        "blog",
        "/a/",
        "Quick thinking, Ann!",
        "bob@example.com",
    )
    .await;
    act(&ctx, &a2, "spam").await;

    let token = &ctx.token;
    let search = |q: &str| {
        let path = format!("/sites/blog/comments{q}");
        async move { json_of(get(app, &path, token).await, 200).await }
    };
    assert_eq!(
        ids_of(&search("").await),
        [b1.clone(), a2.clone(), a1.clone()],
        "newest first"
    );
    assert_eq!(ids_of(&search("?q=quick").await), [b1.clone(), a1.clone()]);
    assert_eq!(ids_of(&search("?q=QUICK%20fox").await), [a1.as_str()]);
    assert_eq!(
        ids_of(&search("?q=nothing-like-this").await),
        Vec::<String>::new()
    );
    assert_eq!(
        ids_of(&search(&format!("?q=quick&author={ann_id}")).await),
        [a1.as_str()]
    );
    assert_eq!(ids_of(&search("?status=spam").await), [a2.as_str()]);
    assert_eq!(
        ids_of(&search("?status=approved&thread=/a/").await),
        [b1.clone(), a1.clone()]
    );
    let thread_b: Uuid = sqlx::query_scalar("SELECT thread_id FROM comments WHERE id = $1::uuid")
        .bind(&a2)
        .fetch_one(&app.db)
        .await
        .unwrap();
    assert_eq!(
        ids_of(&search(&format!("?thread={thread_b}")).await),
        [a2.as_str()]
    );
    assert_eq!(
        ids_of(&search("?thread=/nowhere/").await),
        Vec::<String>::new()
    );
    // Items carry what the queue's do.
    let page = search("?q=fox").await;
    assert_eq!(page["items"][0]["author"]["email"], "ann@example.com");
    assert_eq!(page["items"][0]["author_history"]["spam"], 1);
    // Pages.
    let (ids, pages) = all_pages(&ctx, "/sites/blog/comments", 2).await;
    assert_eq!(ids, [b1, a2, a1]);
    assert_eq!(pages, 2);

    for bad in [
        "?status=lost",
        "?author=ann",
        "?thread=no%20spaces",
        "?limit=500",
    ] {
        let r = get(app, &format!("/sites/blog/comments{bad}"), &ctx.token).await;
        assert_error(r, 400, "validation_failed").await;
    }
}

// ---------------------------------------------------------------------------------------------
// Actions

#[tokio::test]
async fn every_transition_is_allowed_or_refused_as_the_state_machine_says() {
    let ctx = setup(Policy::Pre).await;
    let app = &ctx.app;
    // (from, action, to or None when refused)
    let cases: &[(&str, &str, Option<&str>)] = &[
        ("pending", "approve", Some("approved")),
        ("spam", "approve", Some("approved")),
        ("rejected", "approve", Some("approved")),
        ("approved", "approve", None),
        ("deleted", "approve", None),
        ("pending", "reject", Some("rejected")),
        ("approved", "reject", Some("rejected")),
        ("spam", "reject", Some("rejected")),
        ("rejected", "reject", None),
        ("pending", "spam", Some("spam")),
        ("approved", "spam", Some("spam")),
        ("rejected", "spam", Some("spam")),
        ("spam", "spam", None),
        ("spam", "not_spam", Some("approved")),
        ("pending", "not_spam", None),
        ("approved", "not_spam", None),
        ("rejected", "not_spam", None),
        ("pending", "delete", Some("deleted")),
        ("approved", "delete", Some("deleted")),
        ("spam", "delete", Some("deleted")),
        ("rejected", "delete", Some("deleted")),
        ("deleted", "delete", None),
        ("pending", "restore", None),
        ("approved", "restore", None),
    ];
    for (i, (from, action, to)) in cases.iter().enumerate() {
        let id = ann(
            &ctx,
            &format!("/t{i}/"),
            &format!("Case {i}: {from} then {action}"),
        )
        .await;
        app.set_status(&id, from).await;
        let (_, version) = status_of(app, &id).await;
        let r = act_raw(
            &ctx,
            &id,
            json!({ "action": action, "note": format!("case {i}") }),
            None,
        )
        .await;
        let events: Vec<EventRow> = sqlx::query_as(
            "SELECT actor_kind, actor_id, from_status, to_status, note FROM moderation_events
             WHERE comment_id = $1::uuid AND actor_kind = 'moderator'",
        )
        .bind(&id)
        .fetch_all(&app.db)
        .await
        .unwrap();
        match to {
            Some(to) => {
                assert_eq!(r.status(), 200, "{from} {action}");
                let body: Value = r.json().await.unwrap();
                assert_eq!(body["comment"]["status"], *to, "{from} {action}");
                assert_eq!(body["comment"]["version"], version + 1);
                assert_eq!(status_of(app, &id).await, (to.to_string(), version + 1));
                assert_eq!(
                    events,
                    [(
                        "moderator".to_owned(),
                        Some(ctx.mod_id),
                        Some(from.to_string()),
                        to.to_string(),
                        Some(format!("case {i}"))
                    )],
                    "{from} {action}"
                );
            }
            None => {
                let body = assert_error(r, 409, "conflict").await;
                assert_eq!(body["error"]["details"]["status"], *from);
                assert_eq!(status_of(app, &id).await, (from.to_string(), version));
                assert!(events.is_empty(), "a refused move writes no audit row");
            }
        }
    }

    // Restore returns a comment to where it was before it was deleted.
    for before in ["approved", "spam", "rejected"] {
        let id = ann(&ctx, "/restore/", &format!("Restore me from {before}")).await;
        let action = match before {
            "approved" => "approve",
            "spam" => "spam",
            _ => "reject",
        };
        act(&ctx, &id, action).await;
        act(&ctx, &id, "delete").await;
        let body = act(&ctx, &id, "restore").await;
        assert_eq!(body["comment"]["status"], before);
        let last: (String, Option<Uuid>, Option<String>, String) = sqlx::query_as(
            "SELECT actor_kind, actor_id, from_status, to_status FROM moderation_events
             WHERE comment_id = $1::uuid ORDER BY id DESC LIMIT 1",
        )
        .bind(&id)
        .fetch_one(&app.db)
        .await
        .unwrap();
        assert_eq!(
            last,
            (
                "moderator".into(),
                Some(ctx.mod_id),
                Some("deleted".into()),
                before.into()
            )
        );
    }

    // Bad actions and notes are 400; an unknown comment is 404.
    let id = ann(&ctx, "/x/", "Something to act on").await;
    let r = act_raw(&ctx, &id, json!({ "action": "burn" }), None).await;
    let body = assert_error(r, 400, "validation_failed").await;
    assert!(body["error"]["details"]["action"].is_string(), "{body}");
    let r = act_raw(
        &ctx,
        &id,
        json!({ "action": "approve", "note": "x".repeat(1001) }),
        None,
    )
    .await;
    assert_error(r, 400, "validation_failed").await;
    let r = act_raw(&ctx, &id, json!({ "action": "approve", "extra": 1 }), None).await;
    assert_error(r, 400, "validation_failed").await;
    let r = act_raw(
        &ctx,
        &Uuid::now_v7().to_string(),
        json!({ "action": "approve" }),
        None,
    )
    .await;
    assert_error(r, 404, "not_found").await;
    let r = act_raw(&ctx, "not-a-uuid", json!({ "action": "approve" }), None).await;
    assert_error(r, 404, "not_found").await;
    let r = call(
        app,
        Method::GET,
        &format!("/comments/{id}/actions"),
        &ctx.token,
        None,
    )
    .await;
    assert_eq!(r.status(), 405);
    assert_eq!(r.headers()["allow"], "POST");
}

#[tokio::test]
async fn a_stale_if_match_is_412_and_changes_nothing() {
    let ctx = setup(Policy::Pre).await;
    let id = ann(&ctx, "/p/", "Versioned comment").await;
    let (_, v) = status_of(&ctx.app, &id).await;
    let approved = json_of(
        act_raw(
            &ctx,
            &id,
            json!({ "action": "approve" }),
            Some(&v.to_string()),
        )
        .await,
        200,
    )
    .await;
    assert_eq!(approved["comment"]["version"], v + 1);
    // The old version is stale now.
    let r = act_raw(
        &ctx,
        &id,
        json!({ "action": "reject" }),
        Some(&v.to_string()),
    )
    .await;
    let body = assert_error(r, 412, "precondition_failed").await;
    assert_eq!(body["error"]["details"]["version"], v + 1);
    assert_eq!(status_of(&ctx.app, &id).await, ("approved".into(), v + 1));
    // Quoted, as an ETag would be, it matches.
    let r = act_raw(
        &ctx,
        &id,
        json!({ "action": "reject" }),
        Some(&format!("\"{}\"", v + 1)),
    )
    .await;
    assert_eq!(json_of(r, 200).await["comment"]["status"], "rejected");
    let r = act_raw(&ctx, &id, json!({ "action": "approve" }), Some("yesterday")).await;
    assert_error(r, 400, "validation_failed").await;
}

#[tokio::test]
async fn bulk_actions_answer_each_id_and_change_only_what_they_may() {
    let ctx = setup(Policy::Pre).await;
    let app = &ctx.app;
    let other = app
        .create_site(SiteOpts {
            slug: "other",
            policy: Policy::Pre,
            ..Default::default()
        })
        .await;
    let pending = ann(&ctx, "/p/", "Waiting one").await;
    let approved = ann(&ctx, "/p/", "Already approved").await;
    act(&ctx, &approved, "approve").await;
    let (elsewhere, _) = comment_by(app, &other.slug, "/p/", "Other site", "ann@example.com").await;
    let before_approved = status_of(app, &approved).await;

    let r = post(
        app,
        "/sites/blog/actions",
        &ctx.token,
        json!({ "ids": [pending, approved, elsewhere, "garbage"], "action": "approve", "note": "bulk" }),
    )
    .await;
    let body = json_of(r, 200).await;
    let results = body["results"].as_array().unwrap();
    assert_eq!(results.len(), 4);
    assert_eq!(
        results[0],
        json!({ "id": pending, "ok": true, "status": "approved", "version": 2 })
    );
    assert_eq!(results[1]["id"], approved);
    assert_eq!(results[1]["ok"], false);
    assert_eq!(results[1]["error"]["code"], "conflict");
    assert_eq!(results[2]["ok"], false);
    assert_eq!(results[2]["error"]["code"], "not_found");
    assert_eq!(results[3]["error"]["code"], "not_found");

    assert_eq!(status_of(app, &pending).await, ("approved".into(), 2));
    assert_eq!(status_of(app, &approved).await, before_approved);
    assert_eq!(status_of(app, &elsewhere).await, ("pending".into(), 1));
    let bulk_events: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM moderation_events WHERE note = 'bulk' AND actor_kind = 'moderator' AND actor_id = $1",
    )
    .bind(ctx.mod_id)
    .fetch_one(&app.db)
    .await
    .unwrap();
    assert_eq!(bulk_events, 1);

    // An id listed twice moves once; its second mention answers from the status the first left.
    let twice = ann(&ctx, "/p/", "Listed twice").await;
    let bulk = |ids: Value, action: &'static str| {
        post(
            app,
            "/sites/blog/actions",
            &ctx.token,
            json!({ "ids": ids, "action": action }),
        )
    };
    let body = json_of(bulk(json!([twice, twice, pending]), "delete").await, 200).await;
    let results = body["results"].as_array().unwrap();
    assert_eq!(results[0]["status"], "deleted", "{body}");
    assert_eq!(results[1]["error"]["code"], "conflict", "{body}");
    assert_eq!(results[1]["error"]["details"]["status"], "deleted");
    assert_eq!(results[2]["status"], "deleted", "{body}");
    // A bulk restore returns each comment to where it was before its delete.
    let body = json_of(bulk(json!([pending, twice]), "restore").await, 200).await;
    assert_eq!(body["results"][0]["status"], "approved", "{body}");
    assert_eq!(body["results"][1]["status"], "pending", "{body}");
    assert_eq!(status_of(app, &twice).await, ("pending".into(), 3));
    let audit: Vec<(String, String)> = sqlx::query_as(
        "SELECT from_status, to_status FROM moderation_events
         WHERE comment_id = $1::uuid AND actor_kind = 'moderator' ORDER BY id",
    )
    .bind(&twice)
    .fetch_all(&app.db)
    .await
    .unwrap();
    assert_eq!(
        audit,
        [
            ("pending".to_owned(), "deleted".to_owned()),
            ("deleted".to_owned(), "pending".to_owned())
        ]
    );

    let too_many: Vec<String> = (0..201).map(|_| Uuid::now_v7().to_string()).collect();
    for ids in [json!([]), json!(too_many)] {
        let r = post(
            app,
            "/sites/blog/actions",
            &ctx.token,
            json!({ "ids": ids, "action": "approve" }),
        )
        .await;
        let body = assert_error(r, 400, "validation_failed").await;
        assert!(body["error"]["details"]["ids"].is_string());
    }
    // The moderator has no role on `other`.
    let r = post(
        app,
        "/sites/other/actions",
        &ctx.token,
        json!({ "ids": [elsewhere], "action": "approve" }),
    )
    .await;
    assert_error(r, 404, "not_found").await;
}

// ---------------------------------------------------------------------------------------------
// Edits and history

async fn patch_comment(ctx: &Ctx, id: &str, body: Value, if_match: Option<&str>) -> Response {
    let mut req = ctx
        .app
        .client
        .patch(ctx.app.url(&format!("/api/mod/v1/comments/{id}")))
        .bearer_auth(&ctx.token)
        .json(&body);
    if let Some(v) = if_match {
        req = req.header("If-Match", v);
    }
    req.send().await.unwrap()
}

#[tokio::test]
async fn a_moderators_edit_is_kept_in_history_with_the_status_changes() {
    let ctx = setup(Policy::Pre).await;
    let app = &ctx.app;
    let id = ann(&ctx, "/p/", "Original <b>words</b>").await;
    act_raw(
        &ctx,
        &id,
        json!({ "action": "approve", "note": "fine" }),
        None,
    )
    .await;
    let (_, v) = status_of(app, &id).await;

    let r = patch_comment(
        &ctx,
        &id,
        json!({ "body": "Cleaned **words**" }),
        Some(&v.to_string()),
    )
    .await;
    let body = json_of(r, 200).await;
    assert_eq!(body["comment"]["body_markdown"], "Cleaned **words**");
    assert_eq!(
        body["comment"]["html"],
        "<p>Cleaned <strong>words</strong></p>\n"
    );
    assert_eq!(
        body["comment"]["status"], "approved",
        "no pipeline re-run for moderators"
    );
    assert_eq!(body["comment"]["version"], v + 1);
    assert!(body["comment"]["edited_at"].is_string());
    // The public thread shows the new text at once.
    let thread = app.thread("blog", "uri=/p/").await;
    assert_eq!(
        thread["comments"][0]["html"],
        "<p>Cleaned <strong>words</strong></p>\n"
    );

    // Stale, empty, unknown fields.
    let r = patch_comment(&ctx, &id, json!({ "body": "Again" }), Some(&v.to_string())).await;
    assert_error(r, 412, "precondition_failed").await;
    let r = patch_comment(&ctx, &id, json!({ "body": "   " }), None).await;
    let e = assert_error(r, 400, "validation_failed").await;
    assert!(e["error"]["details"]["body"].is_string());
    let r = patch_comment(
        &ctx,
        &id,
        json!({ "body": "x", "status": "approved" }),
        None,
    )
    .await;
    assert_error(r, 400, "validation_failed").await;

    let revisions: Vec<(String, Option<Uuid>, String)> = sqlx::query_as(
        "SELECT editor_kind, editor_id, body_markdown FROM comment_revisions WHERE comment_id = $1::uuid",
    )
    .bind(&id)
    .fetch_all(&app.db)
    .await
    .unwrap();
    assert_eq!(
        revisions,
        [(
            "moderator".into(),
            Some(ctx.mod_id),
            "Original <b>words</b>".into()
        )]
    );

    act(&ctx, &id, "reject").await;
    let history = json_of(
        get(app, &format!("/comments/{id}/history"), &ctx.token).await,
        200,
    )
    .await;
    let items = history["items"].as_array().unwrap();
    let kinds: Vec<(&str, &str)> = items
        .iter()
        .map(|i| {
            (
                i["type"].as_str().unwrap(),
                i["actor"]["kind"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        kinds,
        [
            ("status", "pipeline"),
            ("status", "moderator"),
            ("edit", "moderator"),
            ("status", "moderator")
        ]
    );
    assert_eq!(items[0]["from"], Value::Null);
    assert_eq!(items[0]["to"], "pending");
    assert_eq!(items[0]["reasons"][0]["kind"], "policy_pre");
    assert_eq!(items[1]["from"], "pending");
    assert_eq!(items[1]["to"], "approved");
    assert_eq!(items[1]["note"], "fine");
    assert_eq!(items[1]["actor"]["id"], ctx.mod_id.to_string());
    assert_eq!(items[1]["actor"]["email"], "mod@example.com");
    assert_eq!(items[2]["previous_body_markdown"], "Original <b>words</b>");
    assert_eq!(items[3]["to"], "rejected");
    assert!(history["next_cursor"].is_null());
    let times: Vec<&str> = items
        .iter()
        .map(|i| i["created_at"].as_str().unwrap())
        .collect();
    let mut sorted = times.clone();
    sorted.sort();
    assert_eq!(times, sorted);
}

#[tokio::test]
async fn the_audit_log_is_the_sites_status_changes_newest_first() {
    let ctx = setup(Policy::Pre).await;
    let a = ann(&ctx, "/p/", "Comment a").await;
    let b = ann(&ctx, "/p/", "Comment b").await;
    act(&ctx, &a, "approve").await;
    act(&ctx, &b, "spam").await;
    act(&ctx, &a, "delete").await;
    // 2 pipeline rows + 3 moderator rows.
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let mut path = "/sites/blog/audit?limit=2".to_owned();
        if let Some(c) = &cursor {
            path.push_str(&format!("&cursor={c}"));
        }
        let page = json_of(get(&ctx.app, &path, &ctx.token).await, 200).await;
        for i in page["items"].as_array().unwrap() {
            seen.push((
                i["comment_id"].as_str().unwrap().to_owned(),
                i["actor"]["kind"].as_str().unwrap().to_owned(),
                i["to"].as_str().unwrap().to_owned(),
            ));
        }
        match page["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_owned()),
            None => break,
        }
    }
    let s = |c: &str, k: &str, t: &str| (c.to_owned(), k.to_owned(), t.to_owned());
    assert_eq!(
        seen,
        [
            s(&a, "moderator", "deleted"),
            s(&b, "moderator", "spam"),
            s(&a, "moderator", "approved"),
            s(&b, "pipeline", "pending"),
            s(&a, "pipeline", "pending"),
        ]
    );
    let r = get(&ctx.app, "/sites/blog/audit?cursor=bm9wZQ", &ctx.token).await;
    assert_error(r, 400, "validation_failed").await;
}

// ---------------------------------------------------------------------------------------------
// Bans

async fn post_from(app: &TestApp, ip: &str, email: &str, body: &str) -> Response {
    app.client
        .post(app.url("/api/v1/sites/blog/comments"))
        .header("X-Forwarded-For", ip)
        .json(
            &json!({ "uri": "/p/", "body": body, "guest": { "name": "Someone", "email": email } }),
        )
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn bans_are_created_listed_and_lifted_by_user_email_or_ip_range() {
    let app =
        spawn_app_with(|s| s.server.trusted_proxies = vec!["127.0.0.1/32".parse().unwrap()]).await;
    let ctx = with_app(app, Policy::Post).await;
    let app = &ctx.app;
    let (_, troll) = comment_by(app, "blog", "/p/", "I am a troll", "troll@example.com").await;

    let until = (time::OffsetDateTime::now_utc() + time::Duration::days(7))
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap();
    let r = post(
        app,
        "/sites/blog/bans",
        &ctx.token,
        json!({ "ip": "203.0.113.77/24", "until": until, "reason": "spam wave" }),
    )
    .await;
    let ip_ban = json_of(r, 201).await;
    assert_eq!(ip_ban["kind"], "ip");
    assert_eq!(ip_ban["ip"], "203.0.113.0/24", "stored as its network");
    assert_eq!(ip_ban["active"], true);
    assert_eq!(ip_ban["reason"], "spam wave");
    assert_eq!(ip_ban["created_by"], ctx.mod_id.to_string());
    assert!(ip_ban["until"].is_string());
    let r = post(
        app,
        "/sites/blog/bans",
        &ctx.token,
        json!({ "email": "Spammer@Example.COM" }),
    )
    .await;
    let email_ban = json_of(r, 201).await;
    assert_eq!(email_ban["email"], "spammer@example.com");
    assert_eq!(email_ban["until"], Value::Null);
    let r = post(
        app,
        "/sites/blog/bans",
        &ctx.token,
        json!({ "user_id": troll, "shadow": true }),
    )
    .await;
    let user_ban = json_of(r, 201).await;
    assert_eq!(user_ban["shadow"], true);

    // They bite.
    assert_error(
        post_from(app, "203.0.113.200", "new@example.com", "From the range").await,
        403,
        "banned",
    )
    .await;
    assert_error(
        post_from(app, "198.51.100.1", "spammer@example.com", "By email").await,
        403,
        "banned",
    )
    .await;
    let r = post_from(app, "198.51.100.1", "fine@example.com", "Allowed").await;
    assert_eq!(r.status(), 201);

    let list = json_of(get(app, "/sites/blog/bans", &ctx.token).await, 200).await;
    let ids: Vec<&str> = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["id"].as_str().unwrap())
        .collect();
    assert_eq!(
        ids,
        [
            ip_ban["id"].as_str().unwrap(),
            email_ban["id"].as_str().unwrap(),
            user_ban["id"].as_str().unwrap()
        ]
    );
    let page = json_of(get(app, "/sites/blog/bans?limit=2", &ctx.token).await, 200).await;
    assert_eq!(page["items"].as_array().unwrap().len(), 2);
    assert!(page["next_cursor"].is_string());
    let one = json_of(
        get(
            app,
            &format!("/sites/blog/bans/{}", ip_ban["id"].as_str().unwrap()),
            &ctx.token,
        )
        .await,
        200,
    )
    .await;
    assert_eq!(one["ip"], "203.0.113.0/24");

    // An expired ban is listed but inactive, and doesn't bite.
    sqlx::query("UPDATE bans SET until = now() - interval '1 minute' WHERE kind = 'email'")
        .execute(&app.db)
        .await
        .unwrap();
    let one = json_of(
        get(
            app,
            &format!("/sites/blog/bans/{}", email_ban["id"].as_str().unwrap()),
            &ctx.token,
        )
        .await,
        200,
    )
    .await;
    assert_eq!(one["active"], false);
    assert_eq!(
        post_from(app, "198.51.100.1", "spammer@example.com", "Expired now")
            .await
            .status(),
        201
    );

    // Lifting.
    let path = format!("/sites/blog/bans/{}", ip_ban["id"].as_str().unwrap());
    assert_eq!(delete(app, &path, &ctx.token).await.status(), 204);
    assert_error(delete(app, &path, &ctx.token).await, 404, "not_found").await;
    assert_eq!(
        post_from(app, "203.0.113.200", "new@example.com", "Range lifted")
            .await
            .status(),
        201
    );

    // Validation: exactly one target, real values, a future `until`.
    let past = "2001-01-01T00:00:00Z";
    let bad: [(Value, &str); 7] = [
        (json!({}), "target"),
        (
            json!({ "email": "a@b.example", "ip": "10.0.0.1" }),
            "target",
        ),
        (json!({ "ip": "10.0.0.0/33" }), "ip"),
        (json!({ "ip": "example.com" }), "ip"),
        (json!({ "email": "not an email" }), "email"),
        (json!({ "ip": "10.0.0.1", "until": past }), "until"),
        (json!({ "ip": "10.0.0.1", "until": "tomorrow" }), "until"),
    ];
    for (body, field) in bad {
        let r = post(app, "/sites/blog/bans", &ctx.token, body.clone()).await;
        let e = assert_error(r, 400, "validation_failed").await;
        assert!(e["error"]["details"][field].is_string(), "{body}: {e}");
    }
    let r = post(
        app,
        "/sites/blog/bans",
        &ctx.token,
        json!({ "ip": "10.0.0.1", "shadow": "yes" }),
    )
    .await;
    assert_error(r, 400, "validation_failed").await;
    // A user who never commented here is unknown here.
    let r = post(
        app,
        "/sites/blog/bans",
        &ctx.token,
        json!({ "user_id": Uuid::now_v7() }),
    )
    .await;
    assert_error(r, 404, "not_found").await;
}

// ---------------------------------------------------------------------------------------------
// Rules

#[tokio::test]
async fn rules_are_validated_created_changed_and_deleted() {
    let ctx = setup(Policy::Post).await;
    let app = &ctx.app;
    let r = post(
        app,
        "/sites/blog/rules",
        &ctx.token,
        json!({ "kind": "word", "pattern": "casino", "action": "hold", "note": "gambling spam" }),
    )
    .await;
    let rule = json_of(r, 201).await;
    assert_eq!(rule["enabled"], true);
    assert_eq!(rule["note"], "gambling spam");
    let rule_id = rule["id"].as_str().unwrap().to_owned();

    // It holds matching comments.
    let (status, json) = app
        .post_guest("blog", "/p/", "Visit my casino", "ann@example.com")
        .await;
    assert_eq!(status, 201);
    assert_eq!(json["status"], "pending");
    assert_eq!(json["reasons"][0]["rule"], rule_id);

    let bad: [(Value, &[&str]); 5] = [
        (
            json!({ "kind": "colour", "pattern": "x", "action": "hold" }),
            &["kind"],
        ),
        (
            json!({ "kind": "regex", "pattern": "(unclosed", "action": "spam" }),
            &["pattern"],
        ),
        (
            json!({ "kind": "max_links", "pattern": "lots", "action": "explode" }),
            &["pattern", "action"],
        ),
        (
            json!({ "kind": "ip", "pattern": "not-an-ip", "action": "reject" }),
            &["pattern"],
        ),
        (
            json!({ "kind": "word", "pattern": "x", "action": "hold", "note": "n".repeat(501) }),
            &["note"],
        ),
    ];
    for (body, fields) in bad {
        let r = post(app, "/sites/blog/rules", &ctx.token, body.clone()).await;
        let e = assert_error(r, 400, "validation_failed").await;
        for f in fields {
            assert!(e["error"]["details"][f].is_string(), "{body}: {e}");
        }
    }
    for body in [
        json!({ "kind": "word", "action": "hold" }),
        json!({ "kind": "word", "pattern": "x", "action": "hold", "when": "now" }),
    ] {
        let r = post(app, "/sites/blog/rules", &ctx.token, body).await;
        assert_error(r, 400, "validation_failed").await;
    }

    let path = format!("/sites/blog/rules/{rule_id}");
    let r = call(
        app,
        Method::PATCH,
        &path,
        &ctx.token,
        Some(json!({ "enabled": false, "action": "spam" })),
    )
    .await;
    let changed = json_of(r, 200).await;
    assert_eq!(changed["enabled"], false);
    assert_eq!(changed["action"], "spam");
    assert_eq!(changed["pattern"], "casino");
    assert_eq!(changed["note"], "gambling spam");
    let (_, json) = app
        .post_guest("blog", "/p/", "Another casino visit", "bob@example.com")
        .await;
    assert_eq!(json["status"], "approved", "a disabled rule does nothing");
    // A change is checked as a whole: a word rule turned regex must be a valid regex.
    let r = call(
        app,
        Method::PATCH,
        &path,
        &ctx.token,
        Some(json!({ "kind": "regex", "pattern": "[" })),
    )
    .await;
    let e = assert_error(r, 400, "validation_failed").await;
    assert!(e["error"]["details"]["pattern"].is_string());
    let r = call(
        app,
        Method::PATCH,
        &path,
        &ctx.token,
        Some(json!({ "note": "" })),
    )
    .await;
    assert_eq!(json_of(r, 200).await["note"], Value::Null);

    let second = json_of(
        post(
            app,
            "/sites/blog/rules",
            &ctx.token,
            json!({ "kind": "max_links", "pattern": "1", "action": "hold" }),
        )
        .await,
        201,
    )
    .await;
    let list = json_of(get(app, "/sites/blog/rules", &ctx.token).await, 200).await;
    let ids: Vec<&str> = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, [rule_id.as_str(), second["id"].as_str().unwrap()]);
    assert_eq!(
        json_of(get(app, &path, &ctx.token).await, 200).await["id"],
        rule_id
    );

    assert_eq!(delete(app, &path, &ctx.token).await.status(), 204);
    assert_error(get(app, &path, &ctx.token).await, 404, "not_found").await;
    assert_error(delete(app, &path, &ctx.token).await, 404, "not_found").await;
    let r = call(app, Method::PUT, &path, &ctx.token, Some(json!({}))).await;
    assert_eq!(r.status(), 405);
    assert_eq!(r.headers()["allow"], "GET, HEAD, PATCH, DELETE");
}

// ---------------------------------------------------------------------------------------------
// Commenters

#[tokio::test]
async fn a_commenters_view_and_trust_on_a_site() {
    let ctx = setup(Policy::Pre).await;
    let app = &ctx.app;
    let (c1, user) = comment_by(app, "blog", "/p/", "Hello there", "carol@example.com").await;
    act(&ctx, &c1, "approve").await;
    comment_by(app, "blog", "/q/", "Second word", "carol@example.com").await;
    let path = format!("/sites/blog/users/{user}");

    let view = json_of(get(app, &path, &ctx.token).await, 200).await;
    assert_eq!(view["id"], user);
    assert_eq!(view["name"], "Ann Reader");
    assert_eq!(view["email"], "carol@example.com");
    assert_eq!(view["providers"], json!(["guest"]));
    assert_eq!(view["trusted"], false);
    assert_eq!(view["premoderated"], false);
    assert_eq!(
        view["counts"],
        json!({ "approved": 1, "pending": 1, "spam": 0, "rejected": 0, "deleted": 0 })
    );
    let recent = view["recent_comments"].as_array().unwrap();
    assert_eq!(recent.len(), 2);
    assert_eq!(recent[1]["id"], c1, "newest first");
    assert_eq!(recent[1]["uri"], "/p/");

    // Trust is recorded, but a guest (whoever types the address) never skips the policy:
    // only logged-in users do (tests/api/pipeline.rs).
    let r = call(
        app,
        Method::PATCH,
        &path,
        &ctx.token,
        Some(json!({ "trusted": true })),
    )
    .await;
    assert_eq!(json_of(r, 200).await["trusted"], true);
    let (_, json) = app
        .post_guest("blog", "/r/", "Trusted now", "carol@example.com")
        .await;
    assert_eq!(json["status"], "pending");

    // Both at once is refused, whether asked together or one after the other.
    let r = call(
        app,
        Method::PATCH,
        &path,
        &ctx.token,
        Some(json!({ "trusted": true, "premoderated": true })),
    )
    .await;
    assert_error(r, 400, "validation_failed").await;
    let r = call(
        app,
        Method::PATCH,
        &path,
        &ctx.token,
        Some(json!({ "premoderated": true })),
    )
    .await;
    let e = assert_error(r, 400, "validation_failed").await;
    assert!(e["error"]["details"]["premoderated"].is_string());
    let r = call(
        app,
        Method::PATCH,
        &path,
        &ctx.token,
        Some(json!({ "trusted": false, "premoderated": true })),
    )
    .await;
    let view = json_of(r, 200).await;
    assert_eq!(
        (view["trusted"].clone(), view["premoderated"].clone()),
        (json!(false), json!(true))
    );
    let stored: (bool, bool) =
        sqlx::query_as("SELECT trusted, premoderated FROM site_users WHERE user_id = $1::uuid")
            .bind(&user)
            .fetch_one(&app.db)
            .await
            .unwrap();
    assert_eq!(stored, (false, true));

    let r = call(
        app,
        Method::PATCH,
        &path,
        &ctx.token,
        Some(json!({ "vip": true })),
    )
    .await;
    assert_error(r, 400, "validation_failed").await;
    let r = call(
        app,
        Method::PATCH,
        &path,
        &ctx.token,
        Some(json!({ "trusted": "yes" })),
    )
    .await;
    assert_error(r, 400, "validation_failed").await;
    let nobody = format!("/sites/blog/users/{}", Uuid::now_v7());
    assert_error(get(app, &nobody, &ctx.token).await, 404, "not_found").await;
    let r = call(
        app,
        Method::PATCH,
        &nobody,
        &ctx.token,
        Some(json!({ "trusted": true })),
    )
    .await;
    assert_error(r, 404, "not_found").await;
}

// ---------------------------------------------------------------------------------------------
// Site settings and rights

#[tokio::test]
async fn site_settings_are_changed_by_owners_only_and_validated() {
    let ctx = setup(Policy::Post).await;
    let app = &ctx.app;
    add_moderator(app, "owner@example.com", &ctx.site, Role::Owner).await;
    let owner = login(app, "owner@example.com").await;
    // Warm the public site cache, so the change must invalidate it.
    let (_, before) = app.get_json("/api/v1/sites/blog").await;
    assert_eq!(before["policy"], "post");

    let change = json!({
        "name": "Renamed blog",
        "policy": "pre",
        "providers": ["google", "oidc-corp"],
        "guests": true,
        "origins": ["https://blog.example", "https://www.blog.example"],
        "limits": { "comments_per_minute_user": 5, "comment_interval_s": 0 },
        "flags_to_hold": 2,
        "max_depth": 3,
        "edit_window_s": 60,
        "closed": false,
    });
    let r = call(app, Method::PATCH, "/sites/blog", &owner, Some(change)).await;
    let site = json_of(r, 200).await;
    assert_eq!(site["name"], "Renamed blog");
    assert_eq!(site["policy"], "pre");
    assert_eq!(site["providers"], json!(["google", "oidc-corp"]));
    assert_eq!(
        site["origins"],
        json!(["https://blog.example", "https://www.blog.example"])
    );
    assert_eq!(
        site["limits"],
        json!({ "comments_per_minute_user": 5, "comment_interval_s": 0 })
    );
    assert_eq!(
        (
            site["flags_to_hold"].clone(),
            site["max_depth"].clone(),
            site["edit_window_s"].clone()
        ),
        (json!(2), json!(3), json!(60))
    );
    assert_eq!(site["role"], "owner");
    let got = json_of(get(app, "/sites/blog", &ctx.token).await, 200).await;
    assert_eq!(got["limits"], site["limits"]);
    assert_eq!(got["role"], "moderator");

    // Right away, on this node: the public config and the pipeline follow.
    let (_, public) = app.get_json("/api/v1/sites/blog").await;
    assert_eq!(public["policy"], "pre");
    assert_eq!(public["max_depth"], 3);
    let (_, json) = app
        .post_guest("blog", "/p/", "Held now", "ann@example.com")
        .await;
    assert_eq!(json["status"], "pending");

    // A null limit falls back to the server's; other keys stay.
    let r = call(
        app,
        Method::PATCH,
        "/sites/blog",
        &owner,
        Some(json!({ "limits": { "comment_interval_s": null } })),
    )
    .await;
    assert_eq!(
        json_of(r, 200).await["limits"],
        json!({ "comments_per_minute_user": 5 })
    );

    // Moderators may not; nothing changes.
    let r = call(
        app,
        Method::PATCH,
        "/sites/blog",
        &ctx.token,
        Some(json!({ "name": "Mine now" })),
    )
    .await;
    assert_error(r, 403, "forbidden").await;

    let bad: [(Value, &str); 8] = [
        (
            json!({ "origins": ["https://blog.example/path"] }),
            "origins[0]",
        ),
        (json!({ "origins": ["javascript:alert(1)"] }), "origins[0]"),
        (json!({ "policy": "anarchy" }), "policy"),
        (json!({ "providers": ["myspace"] }), "providers[0]"),
        (json!({ "max_depth": 0 }), "max_depth"),
        (json!({ "flags_to_hold": 0 }), "flags_to_hold"),
        (json!({ "name": "" }), "name"),
        (
            json!({ "limits": { "comments_per_minute_ip": -1 } }),
            "limits.comments_per_minute_ip",
        ),
    ];
    for (body, field) in bad {
        let r = call(
            app,
            Method::PATCH,
            "/sites/blog",
            &owner,
            Some(body.clone()),
        )
        .await;
        let e = assert_error(r, 400, "validation_failed").await;
        assert!(e["error"]["details"][field].is_string(), "{body}: {e}");
    }
    let r = call(
        app,
        Method::PATCH,
        "/sites/blog",
        &owner,
        Some(json!({ "slug": "new-slug" })),
    )
    .await;
    assert_error(r, 400, "validation_failed").await;
    let got = json_of(get(app, "/sites/blog", &owner).await, 200).await;
    assert_eq!(got["name"], "Renamed blog");
    assert_eq!(
        got["origins"],
        json!(["https://blog.example", "https://www.blog.example"])
    );
}

#[tokio::test]
async fn moderators_work_the_queue_bans_and_rules_but_only_owners_the_settings_and_team() {
    let ctx = setup(Policy::Pre).await;
    let app = &ctx.app;
    let owner_id = add_moderator(app, "owner@example.com", &ctx.site, Role::Owner).await;
    let owner = login(app, "owner@example.com").await;
    let id = ann(&ctx, "/p/", "Work for the team").await;

    for token in [&ctx.token, &owner] {
        assert_eq!(get(app, "/sites/blog/queue", token).await.status(), 200);
        assert_eq!(get(app, "/sites/blog/comments", token).await.status(), 200);
        assert_eq!(get(app, "/sites/blog/audit", token).await.status(), 200);
        assert_eq!(
            get(app, &format!("/comments/{id}/history"), token)
                .await
                .status(),
            200
        );
        let r = post(app, "/sites/blog/bans", token, json!({ "ip": "192.0.2.1" })).await;
        assert_eq!(r.status(), 201);
        let r = post(
            app,
            "/sites/blog/rules",
            token,
            json!({ "kind": "word", "pattern": "spam", "action": "spam" }),
        )
        .await;
        assert_eq!(r.status(), 201);
        assert_eq!(get(app, "/sites/blog", token).await.status(), 200);
    }
    assert_eq!(
        act(&ctx, &id, "approve").await["comment"]["status"],
        "approved"
    );

    // Settings and team: owners only.
    let m = &ctx.token;
    assert_error(
        call(
            app,
            Method::PATCH,
            "/sites/blog",
            m,
            Some(json!({ "closed": true })),
        )
        .await,
        403,
        "forbidden",
    )
    .await;
    assert_error(
        get(app, "/sites/blog/moderators", m).await,
        403,
        "forbidden",
    )
    .await;
    let r = post(
        app,
        "/sites/blog/moderators",
        m,
        json!({ "email": "x@example.com", "role": "moderator" }),
    )
    .await;
    assert_error(r, 403, "forbidden").await;
    assert_error(
        delete(app, &format!("/sites/blog/moderators/{owner_id}"), m).await,
        403,
        "forbidden",
    )
    .await;

    assert_eq!(
        call(
            app,
            Method::PATCH,
            "/sites/blog",
            &owner,
            Some(json!({ "closed": true }))
        )
        .await
        .status(),
        200
    );
    assert_eq!(
        get(app, "/sites/blog/moderators", &owner).await.status(),
        200
    );
    let closed: bool = sqlx::query_scalar("SELECT closed FROM sites WHERE slug = 'blog'")
        .fetch_one(&app.db)
        .await
        .unwrap();
    assert!(closed);
}

// ---------------------------------------------------------------------------------------------
// Authorization across sites, over the whole route table

/// A body each route accepts, so a 404 can't be a body error in disguise.
fn body_for(method: &str, path: &str, ids: &Ids) -> Option<Value> {
    Some(match (method, path) {
        ("GET" | "DELETE", _) => return None,
        ("PATCH", "/sites/{site}") => json!({ "name": "Taken over" }),
        ("POST", "/sites/{site}/moderators") => {
            json!({ "email": "intruder@example.com", "role": "owner" })
        }
        ("PATCH", "/sites/{site}/moderators/{id}") => json!({ "role": "owner" }),
        ("POST", "/sites/{site}/actions") => json!({ "ids": [ids.comment], "action": "approve" }),
        ("POST", "/sites/{site}/queue/claim") => json!({ "limit": 5 }),
        ("POST", "/sites/{site}/bans") => json!({ "ip": "192.0.2.0/24" }),
        ("POST", "/sites/{site}/rules") => {
            json!({ "kind": "word", "pattern": "x", "action": "hold" })
        }
        ("POST", "/sites/{site}/rules/dry-run") => {
            json!({ "rules": [{ "kind": "word", "pattern": "x", "action": "hold" }] })
        }
        ("POST", "/appeals/{id}/actions") => json!({ "action": "uphold" }),
        ("PATCH", "/sites/{site}/rules/{id}") => json!({ "enabled": false }),
        ("PATCH", "/sites/{site}/users/{id}") => json!({ "trusted": true }),
        ("PATCH", "/comments/{id}") => json!({ "body": "Edited by an intruder" }),
        ("POST", "/comments/{id}/actions") => json!({ "action": "reject" }),
        ("POST", "/tokens") => json!({ "name": "intruder" }),
        _ => json!({}),
    })
}

/// Site B's things, by kind.
struct Ids {
    comment: String,
    user: String,
    ban: String,
    rule: String,
    moderator: String,
    token: String,
    appeal: String,
    invitation: String,
}

/// The value of `{id}` in a route: which of B's things the route is about.
fn id_for(path: &str, ids: &Ids) -> Option<String> {
    let id = if path.starts_with("/comments/") {
        &ids.comment
    } else if path.starts_with("/tokens/") {
        &ids.token
    } else if path.starts_with("/appeals/") {
        &ids.appeal
    } else if path.contains("/bans/") {
        &ids.ban
    } else if path.contains("/rules/") {
        &ids.rule
    } else if path.contains("/users/") {
        &ids.user
    } else if path.contains("/moderators/") {
        &ids.moderator
    } else if path.contains("/invitations/") {
        &ids.invitation
    } else if path.contains("{id}") {
        panic!("the walk doesn't know what {{id}} is in {path}: teach id_for");
    } else {
        return None;
    };
    Some(id.clone())
}

fn fill(path: &str, site: &str, ids: &Ids) -> String {
    let mut p = path.replace("{site}", site);
    if let Some(id) = id_for(path, ids) {
        p = p.replace("{id}", &id);
    }
    assert!(!p.contains('{'), "unfilled placeholder in {p}");
    p
}

/// Routes that are about the caller, not about any site (nothing of another site to reach).
const UNSCOPED: [&str; 7] = [
    "/login",
    "/logout",
    "/tokens",
    "/sites",
    "/me/password",
    "/me/audit",
    // Public: what it reaches is decided by the invitation's token, not by a site in the path.
    "/invitations/accept",
];

#[tokio::test]
async fn every_moderator_route_answers_404_for_another_sites_things() {
    let app = spawn_app().await;
    let a = app
        .create_site(SiteOpts {
            slug: "alpha",
            policy: Policy::Pre,
            ..Default::default()
        })
        .await;
    let b = app
        .create_site(SiteOpts {
            slug: "beta",
            policy: Policy::Pre,
            ..Default::default()
        })
        .await;
    // A's owner: the strongest role there is, so a 404 can't be a missing right.
    add_moderator(&app, "alice@example.com", &a, Role::Owner).await;
    let bob_id = add_moderator(&app, "bob@example.com", &b, Role::Owner).await;
    let alice = login(&app, "alice@example.com").await;
    let bob = login(&app, "bob@example.com").await;
    comment_by(
        &app,
        "alpha",
        "/p/",
        "Alpha's own comment",
        "ann@example.com",
    )
    .await;

    let (comment, user) =
        comment_by(&app, "beta", "/p/", "Beta's comment", "zed@example.com").await;
    let ban = json_of(
        post(
            &app,
            "/sites/beta/bans",
            &bob,
            json!({ "email": "z@example.com" }),
        )
        .await,
        201,
    )
    .await;
    let rule = json_of(
        post(
            &app,
            "/sites/beta/rules",
            &bob,
            json!({ "kind": "word", "pattern": "zzz", "action": "hold" }),
        )
        .await,
        201,
    )
    .await;
    let token = json_of(
        post(&app, "/tokens", &bob, json!({ "name": "bob's script" })).await,
        201,
    )
    .await;
    let invitation = json_of(
        post(
            &app,
            "/sites/beta/moderators",
            &bob,
            json!({ "email": "invitee@example.com", "role": "moderator" }),
        )
        .await,
        201,
    )
    .await;
    let ids = Ids {
        invitation: invitation["id"].as_str().unwrap().to_owned(),
        comment: comment.clone(),
        user,
        ban: ban["id"].as_str().unwrap().to_owned(),
        rule: rule["id"].as_str().unwrap().to_owned(),
        moderator: bob_id.to_string(),
        token: token["id"].as_str().unwrap().to_owned(),
        // The author's appeal against B's comment (as `POST /api/v1/comments/{id}/appeal`
        // would file it once the comment is rejected; its status doesn't matter here).
        appeal: sqlx::query_scalar(
            "INSERT INTO appeals (id, site_id, kind, comment_id, user_id, message)
             SELECT gen_random_uuid(), site_id, 'comment', id, user_id, 'Please reconsider'
             FROM comments WHERE id = $1::uuid
             RETURNING id::text",
        )
        .bind(&comment)
        .fetch_one(&app.db)
        .await
        .unwrap(),
    };

    let routes = colloquy::app::moderator_routes();
    let resources = colloquy::app::moderator_resources();
    // The list is the registered table: one (method, path) per non-HEAD method of each resource.
    let expected: usize = resources
        .iter()
        .map(|r| r.allow.split(", ").filter(|m| *m != "HEAD").count())
        .sum();
    assert_eq!(routes.len(), expected);
    assert!(
        resources.len() >= 20,
        "the moderator API lost resources: {}",
        resources.len()
    );
    // Every resource is mounted with exactly that Allow: an unlisted method is 405, not 404.
    for r in resources {
        let path = fill(r.path, "alpha", &ids);
        let res = call(
            &app,
            Method::from_bytes(b"PURGE").unwrap(),
            &path,
            &alice,
            None,
        )
        .await;
        assert_eq!(res.status(), 405, "{} is not mounted", r.path);
        assert_eq!(res.headers()["allow"], r.allow, "{}", r.path);
    }

    let mut walked = 0;
    let mut scoped = HashSet::new();
    for &(method, path) in &routes {
        if UNSCOPED.contains(&path) {
            assert!(!path.contains('{'));
            continue;
        }
        let m = Method::from_bytes(method.as_bytes()).unwrap();
        // B's slug and B's ids.
        let url = fill(path, "beta", &ids);
        let r = call(&app, m.clone(), &url, &alice, body_for(method, path, &ids)).await;
        assert_eq!(r.status(), 404, "{method} {url} as A's owner");
        let body: Value = r.json().await.unwrap();
        assert_eq!(body["error"]["code"], "not_found", "{method} {url}");
        walked += 1;
        // A's slug, where alice holds a role, with B's ids.
        if path.starts_with("/sites/{site}/") && path.contains("{id}") {
            let url = fill(path, "alpha", &ids);
            let r = call(&app, m.clone(), &url, &alice, body_for(method, path, &ids)).await;
            assert_eq!(r.status(), 404, "{method} {url} as A's owner");
            walked += 1;
        }
        scoped.insert((method, path));
    }
    assert!(walked >= 30, "walked only {walked} calls");
    // A's bulk action naming B's comment reports it as not found.
    let r = post(
        &app,
        "/sites/alpha/actions",
        &alice,
        json!({ "ids": [comment], "action": "approve" }),
    )
    .await;
    assert_eq!(
        json_of(r, 200).await["results"][0]["error"]["code"],
        "not_found"
    );

    // Nothing of B changed.
    assert_eq!(status_of(&app, &comment).await, ("pending".into(), 1));
    let beta: (String, i64, i64, bool) = sqlx::query_as(
        "SELECT s.name,
                (SELECT count(*) FROM bans WHERE site_id = s.id),
                (SELECT count(*) FROM moderator_roles WHERE site_id = s.id),
                (SELECT enabled FROM rules WHERE site_id = s.id)
         FROM sites s WHERE s.slug = 'beta'",
    )
    .fetch_one(&app.db)
    .await
    .unwrap();
    assert_eq!(beta, ("The beta blog".into(), 1, 1, true));
    let revisions: i64 = sqlx::query_scalar("SELECT count(*) FROM comment_revisions")
        .fetch_one(&app.db)
        .await
        .unwrap();
    assert_eq!(revisions, 0);
    let live_tokens: i64 =
        sqlx::query_scalar("SELECT count(*) FROM api_tokens WHERE revoked_at IS NULL")
            .fetch_one(&app.db)
            .await
            .unwrap();
    assert_eq!(live_tokens, 1);
    let open_invitations: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM moderator_invitations WHERE accepted_at IS NULL AND revoked_at IS NULL",
    )
    .fetch_one(&app.db)
    .await
    .unwrap();
    assert_eq!(open_invitations, 1, "only B's own invitation");

    // And each of those routes does answer B's owner (deletes last): the 404s above were the
    // scope, not a route that doesn't exist.
    let mut ordered: Vec<&(&str, &str)> = routes.iter().filter(|r| scoped.contains(*r)).collect();
    ordered.sort_by_key(|(m, _)| *m == "DELETE");
    for &&(method, path) in &ordered {
        let url = fill(path, "beta", &ids);
        let m = Method::from_bytes(method.as_bytes()).unwrap();
        let r = call(&app, m, &url, &bob, body_for(method, path, &ids)).await;
        let status = r.status().as_u16();
        assert!(
            status < 400 || status == 409,
            "{method} {url} as B's owner: {status}"
        );
    }
}
