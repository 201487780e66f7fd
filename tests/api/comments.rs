use serde_json::json;

use crate::helpers::{SiteOpts, spawn_app};
use colloquy::domain::Policy;

#[tokio::test]
async fn guest_comment_on_post_policy_site_is_approved_and_stored_with_its_audit_row() {
    let app = spawn_app().await;
    let site = app.create_site(SiteOpts::default()).await;

    let r = app
        .client
        .post(app.url("/api/v1/sites/blog/comments"))
        .header("User-Agent", "TestBrowser/1.0")
        .json(&json!({
            "uri": "/2013/02/26/kerry-lavrov/", "title": "Kerry and Lavrov", "url": "https://blog.example/2013/02/26/kerry-lavrov/",
            "body": "Great **article**", "guest": { "name": "Ann", "email": "Ann@Example.com", "website": "https://ann.example" }
        }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let body: serde_json::Value = r.json().await.unwrap();
    assert_eq!(body["status"], "approved");
    assert_eq!(body["reasons"], json!([]));
    let c = &body["comment"];
    assert_eq!(c["html"], "<p>Great <strong>article</strong></p>\n");
    assert_eq!(c["author"]["name"], "Ann");
    assert_eq!(c["author"]["provider"], "guest");
    assert_eq!(c["author"]["profile_url"], "https://ann.example/");
    assert_eq!(c["status"], "approved", "the author sees their status");
    assert!(
        !body.to_string().contains("Example.com"),
        "email must not be in public JSON: {body}"
    );

    let row: (String, String, Option<String>, Option<String>, String, i32) = sqlx::query_as(
        "SELECT c.status, c.body_markdown, c.author_email, c.author_user_agent, host(c.author_ip), c.version
         FROM comments c WHERE c.id = $1::uuid",
    )
    .bind(c["id"].as_str().unwrap())
    .fetch_one(&app.db)
    .await
    .unwrap();
    assert_eq!(row.0, "approved");
    assert_eq!(row.1, "Great **article**");
    assert_eq!(row.2.as_deref(), Some("Ann@example.com"));
    assert_eq!(row.3.as_deref(), Some("TestBrowser/1.0"));
    assert_eq!(row.4, "127.0.0.1");
    assert_eq!(row.5, 1);

    let (title, url): (Option<String>, Option<String>) = sqlx::query_as(
        "SELECT title, url FROM threads WHERE site_id = $1 AND uri = '/2013/02/26/kerry-lavrov/'",
    )
    .bind(site.id)
    .fetch_one(&app.db)
    .await
    .unwrap();
    assert_eq!(title.as_deref(), Some("Kerry and Lavrov"));
    assert_eq!(
        url.as_deref(),
        Some("https://blog.example/2013/02/26/kerry-lavrov/")
    );

    let events: Vec<(Option<String>, String, String)> =
        sqlx::query_as("SELECT from_status, to_status, actor_kind FROM moderation_events WHERE comment_id = $1::uuid")
            .bind(c["id"].as_str().unwrap())
            .fetch_all(&app.db)
            .await
            .unwrap();
    assert_eq!(
        events,
        vec![(None, "approved".to_owned(), "pipeline".to_owned())]
    );
}

#[tokio::test]
async fn pre_policy_holds_every_comment_with_a_reason() {
    let app = spawn_app().await;
    app.create_site(SiteOpts {
        policy: Policy::Pre,
        ..Default::default()
    })
    .await;
    for text in ["hello", "hello again"] {
        let (status, body) = app.post_guest("blog", "/p/", text, "ann@example.com").await;
        assert_eq!(status, 201);
        assert_eq!(body["status"], "pending");
        assert_eq!(body["reasons"][0]["kind"], "policy_pre");
        assert!(
            body["reasons"][0]["message"]
                .as_str()
                .unwrap()
                .contains("moderator")
        );
    }
    let thread = app.thread("blog", "uri=/p/").await;
    assert_eq!(
        thread["comments"],
        json!([]),
        "pending comments are not public"
    );
    assert_eq!(thread["thread"]["comment_count"], 0);
}

#[tokio::test]
async fn first_time_policy_waits_until_the_same_email_has_an_approved_comment() {
    let app = spawn_app().await;
    app.create_site(SiteOpts {
        policy: Policy::FirstTime,
        ..Default::default()
    })
    .await;
    let (_, first) = app
        .post_guest("blog", "/p/", "first", "ann@example.com")
        .await;
    assert_eq!(first["status"], "pending");
    assert_eq!(first["reasons"][0]["kind"], "first_comment");
    let (_, second) = app
        .post_guest("blog", "/p/", "second", "ann@example.com")
        .await;
    assert_eq!(second["status"], "pending", "still no approved comment");

    app.set_status(first["comment"]["id"].as_str().unwrap(), "approved")
        .await;
    // Same address in another case: the same guest.
    let (_, third) = app
        .post_guest("blog", "/p/", "third", "ANN@example.com")
        .await;
    assert_eq!(third["status"], "approved", "{third}");
    assert_eq!(third["reasons"], json!([]));
    let (_, other) = app
        .post_guest("blog", "/p/", "someone else", "zed@example.com")
        .await;
    assert_eq!(other["status"], "pending");
}

#[tokio::test]
async fn first_time_approval_on_one_site_does_not_count_on_another() {
    let app = spawn_app().await;
    app.create_site(SiteOpts {
        policy: Policy::FirstTime,
        ..Default::default()
    })
    .await;
    app.create_site(SiteOpts {
        slug: "other",
        policy: Policy::FirstTime,
        ..Default::default()
    })
    .await;
    let (_, first) = app
        .post_guest("blog", "/p/", "first", "ann@example.com")
        .await;
    app.set_status(first["comment"]["id"].as_str().unwrap(), "approved")
        .await;
    let (_, there) = app
        .post_guest("other", "/p/", "hello other", "ann@example.com")
        .await;
    assert_eq!(there["status"], "pending");
}

#[tokio::test]
async fn sites_without_guests_ask_for_login() {
    let app = spawn_app().await;
    app.create_site(SiteOpts {
        guests: false,
        ..Default::default()
    })
    .await;
    let r = app
        .post_raw("blog", &json!({ "uri": "/p/", "body": "hi" }))
        .await;
    crate::helpers::assert_error(r, 401, "unauthenticated").await;
    let r = app
        .post_raw(
            "blog",
            &json!({ "uri": "/p/", "body": "hi", "guest": { "name": "A", "email": "a@b.co" } }),
        )
        .await;
    crate::helpers::assert_error(r, 403, "guests_not_allowed").await;
    assert_eq!(app.comment_count().await, 0);
}

#[tokio::test]
async fn guest_details_are_required_and_checked_together() {
    let app = spawn_app().await;
    app.create_site(SiteOpts::default()).await;
    let r = app
        .post_raw("blog", &json!({ "uri": "/p/", "body": "hi" }))
        .await;
    let body = crate::helpers::assert_error(r, 400, "validation_failed").await;
    assert!(body["error"]["details"]["guest"].is_string(), "{body}");

    let r = app
        .post_raw(
            "blog",
            &json!({ "uri": "nope", "body": "  ", "guest": { "name": "", "email": "not-an-email", "website": "javascript:alert(1)" } }),
        )
        .await;
    let body = crate::helpers::assert_error(r, 400, "validation_failed").await;
    let details = &body["error"]["details"];
    for field in ["uri", "body", "guest.name", "guest.email", "guest.website"] {
        assert!(details[field].is_string(), "{field} missing in {body}");
    }
    assert_eq!(app.comment_count().await, 0);
}

#[tokio::test]
async fn replies_must_stay_in_their_thread_and_under_the_depth_cap() {
    let app = spawn_app().await;
    app.create_site(SiteOpts {
        max_depth: 3,
        ..Default::default()
    })
    .await;
    let root = app.comment("blog", "/a/", "root").await;
    let (s, r1) = app.reply("blog", "/a/", &root, "depth 2").await;
    assert_eq!(s, 201, "{r1}");
    assert_eq!(r1["comment"]["parent_id"], root.as_str());
    assert_eq!(r1["comment"]["depth"], 2);
    let (s, r2) = app
        .reply(
            "blog",
            "/a/",
            r1["comment"]["id"].as_str().unwrap(),
            "depth 3",
        )
        .await;
    assert_eq!(s, 201, "{r2}");
    let (s, too_deep) = app
        .reply(
            "blog",
            "/a/",
            r2["comment"]["id"].as_str().unwrap(),
            "depth 4",
        )
        .await;
    assert_eq!(s, 400, "{too_deep}");
    assert!(
        too_deep["error"]["details"]["parent_id"]
            .as_str()
            .unwrap()
            .contains("3 levels")
    );

    // A parent from another page of the same site.
    let (s, wrong) = app.reply("blog", "/b/", &root, "elsewhere").await;
    assert_eq!(s, 400, "{wrong}");
    assert_eq!(wrong["error"]["code"], "validation_failed");
    // A parent that doesn't exist, and one that isn't an id at all.
    let (s, _) = app
        .reply(
            "blog",
            "/a/",
            "01a220f8-71aa-77a6-9621-3512f3f20107",
            "ghost",
        )
        .await;
    assert_eq!(s, 400);
    let (s, _) = app.reply("blog", "/a/", "not-a-uuid", "ghost").await;
    assert_eq!(s, 400);
    assert_eq!(app.comment_count().await, 3);
}

#[tokio::test]
async fn replies_to_unpublished_comments_are_refused() {
    let app = spawn_app().await;
    app.create_site(SiteOpts::default()).await;
    let root = app.comment("blog", "/a/", "root").await;
    app.set_status(&root, "spam").await;
    let (s, body) = app.reply("blog", "/a/", &root, "reply to spam").await;
    assert_eq!(s, 400, "{body}");
}

#[tokio::test]
async fn a_parent_from_another_site_is_not_found_there() {
    let app = spawn_app().await;
    app.create_site(SiteOpts::default()).await;
    app.create_site(SiteOpts {
        slug: "other",
        ..Default::default()
    })
    .await;
    let root = app.comment("blog", "/a/", "root").await;
    let (s, body) = app.reply("other", "/a/", &root, "cross-site").await;
    assert_eq!(s, 400, "{body}");
    assert_eq!(app.comment_count().await, 1);
}

#[tokio::test]
async fn the_first_title_and_url_stick_and_urls_must_belong_to_the_site() {
    let app = spawn_app().await;
    app.create_site(SiteOpts::default()).await;
    let r = app
        .post_raw("blog", &json!({ "uri": "/t/", "title": "Real title", "body": "one", "guest": { "name": "A", "email": "a@b.co" } }))
        .await;
    assert_eq!(r.status(), 201);
    let r = app
        .post_raw("blog", &json!({ "uri": "/t/", "title": "Spam title", "body": "two", "guest": { "name": "A", "email": "a@b.co" } }))
        .await;
    assert_eq!(r.status(), 201);
    let thread = app.thread("blog", "uri=/t/").await;
    assert_eq!(thread["thread"]["title"], "Real title");

    let r = app
        .post_raw(
            "blog",
            &json!({ "uri": "/t/", "url": "https://spam.example/buy", "body": "three", "guest": { "name": "A", "email": "a@b.co" } }),
        )
        .await;
    let body = crate::helpers::assert_error(r, 400, "validation_failed").await;
    assert!(body["error"]["details"]["url"].is_string());
}

#[tokio::test]
async fn locked_threads_take_no_comments() {
    let app = spawn_app().await;
    app.create_site(SiteOpts::default()).await;
    app.comment("blog", "/l/", "before the lock").await;
    sqlx::query("UPDATE threads SET locked = true")
        .execute(&app.db)
        .await
        .unwrap();
    let (s, body) = app
        .post_guest("blog", "/l/", "after", "ann@example.com")
        .await;
    assert_eq!(s, 403, "{body}");
    assert_eq!(body["error"]["code"], "thread_locked");
    assert_eq!(app.comment_count().await, 1);
}

#[tokio::test]
async fn hostile_markdown_is_stored_as_written_and_served_inert() {
    let app = spawn_app().await;
    app.create_site(SiteOpts::default()).await;
    let payload = "<script>alert(1)</script> <img src=x onerror=alert(1)> [x](javascript:alert(1)) <svg onload=alert(1)>";
    let (s, body) = app
        .post_guest("blog", "/x/", payload, "ann@example.com")
        .await;
    assert_eq!(s, 201);
    let html = body["comment"]["html"]
        .as_str()
        .unwrap()
        .to_ascii_lowercase();
    assert!(
        !html.contains("<script") && !html.contains("<img") && !html.contains("<svg"),
        "{html}"
    );
    assert!(!html.contains("href=\"javascript"), "{html}");
    let stored: String = sqlx::query_scalar("SELECT body_markdown FROM comments")
        .fetch_one(&app.db)
        .await
        .unwrap();
    assert_eq!(stored, payload, "the source is kept for moderators");
}
