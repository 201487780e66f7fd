//! Export and erase

use super::*;

async fn authed(app: &TestApp, method: reqwest::Method, path: &str, token: &str) -> Response {
    app.client
        .request(method, app.url(path))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
}

/// A request of the account page with the account session `secret`.
async fn on_account(app: &TestApp, method: reqwest::Method, path: &str, secret: &str) -> Response {
    account(app, method, path, secret).send().await.unwrap()
}

/// Ann (dev login) comments twice, Bob once; Ann flags and votes on Bob's comment and Bob
/// votes on Ann's. Returns (app, ann's token, ann's comment ids, bob's comment id, bob's token).
async fn busy_site() -> (TestApp, String, Vec<String>, String, String) {
    let app = dev_app(Policy::Post).await;
    let ann = dev_login(&app, "Ann").await;
    let bob = dev_login(&app, "Bob").await;
    let mut ids = vec![];
    for body in ["first words", "second words"] {
        let r = post_as(&app, &ann, body).await;
        assert_eq!(r.status(), 201);
        ids.push(
            r.json::<Value>().await.unwrap()["comment"]["id"]
                .as_str()
                .unwrap()
                .to_owned(),
        );
    }
    let r = post_as(&app, &bob, "bob speaks").await;
    let bobs = r.json::<Value>().await.unwrap()["comment"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let send = |method: reqwest::Method, path: String, token: String, body: Value| {
        let app = &app;
        async move {
            let r = app
                .client
                .request(method, app.url(&path))
                .bearer_auth(token)
                .json(&body)
                .send()
                .await
                .unwrap();
            assert!(r.status().is_success(), "{path}: {}", r.status());
        }
    };
    send(
        reqwest::Method::POST,
        format!("/api/v1/comments/{bobs}/flags"),
        ann.clone(),
        json!({ "reason": "off_topic", "note": "meh" }),
    )
    .await;
    send(
        reqwest::Method::PUT,
        format!("/api/v1/comments/{bobs}/vote"),
        ann.clone(),
        json!({ "value": -1 }),
    )
    .await;
    send(
        reqwest::Method::PUT,
        format!("/api/v1/comments/{}/vote", ids[0]),
        bob.clone(),
        json!({ "value": 1 }),
    )
    .await;
    (app, ann, ids, bobs, bob)
}

#[tokio::test]
async fn the_export_holds_the_commenters_data_and_no_secrets() {
    let (app, ann, ids, bobs, _) = busy_site().await;
    let secret = dev_account_login(&app, "Ann").await;
    let r = on_account(&app, reqwest::Method::GET, "/export", &secret).await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["cache-control"], "no-store");
    let text = r.text().await.unwrap();
    let x: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(x["user"]["name"], "Ann");
    assert_eq!(x["identities"].as_array().unwrap().len(), 1);
    assert_eq!(x["identities"][0]["provider"], "dev");
    let comments = x["comments"].as_array().unwrap();
    assert_eq!(comments.len(), 2, "only her own comments");
    assert_eq!(comments[0]["id"], ids[0].as_str());
    assert_eq!(comments[0]["body"], "first words");
    assert_eq!(comments[0]["status"], "approved");
    assert_eq!(comments[0]["site"], "blog");
    assert_eq!(comments[0]["score"], 1);
    assert_eq!(x["flags"][0]["comment_id"], bobs.as_str());
    assert_eq!(x["flags"][0]["reason"], "off_topic");
    assert_eq!(x["votes"][0]["comment_id"], bobs.as_str());
    assert_eq!(x["votes"][0]["value"], -1);
    assert!(x["appeals"].is_array());
    assert!(
        !text.contains(&ann) && !text.contains(&secret),
        "no session token"
    );
    let kinds: Vec<&str> = x["sessions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["site", "account"]);
    assert_eq!(x["sessions"][0]["site"], "blog");
    assert!(
        !text.contains("token_hash") && !text.contains("pkce"),
        "{text}"
    );
    assert!(!text.contains("bob speaks"), "nobody else's text");

    assert_error(
        on_account(&app, reqwest::Method::GET, "/export", "bad").await,
        401,
        "unauthenticated",
    )
    .await;
    let r = app
        .client
        .get(app.url("/account/api/export"))
        .header(CSRF, "1")
        .send()
        .await
        .unwrap();
    assert_error(r, 401, "unauthenticated").await;
}

async fn comment_row(app: &TestApp, id: &str) -> (String, String, Option<String>, String, String) {
    sqlx::query_as(
        "SELECT author_name, status, author_email, body_markdown, body_html FROM comments WHERE id = $1::uuid",
    )
    .bind(id)
    .fetch_one(&app.db)
    .await
    .unwrap()
}

async fn count(app: &TestApp, sql: &'static str, user: &str) -> i64 {
    sqlx::query_scalar(sql)
        .bind(user)
        .fetch_one(&app.db)
        .await
        .unwrap()
}

async fn user_of(app: &TestApp, token: &str) -> String {
    let me: Value = authed(app, reqwest::Method::GET, "/api/v1/me", token)
        .await
        .json()
        .await
        .unwrap();
    me["id"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn erasing_keeps_comments_as_deleted_user_by_default_and_ends_the_session() {
    let (app, ann, ids, bobs, _) = busy_site().await;
    let user = user_of(&app, &ann).await;
    let secret = dev_account_login(&app, "Ann").await;
    // The page asks first: without `confirm=erase`, nothing happens.
    let r = on_account(&app, reqwest::Method::DELETE, "/me", &secret).await;
    assert_error(r, 400, "validation_failed").await;
    let r = on_account(&app, reqwest::Method::DELETE, "/me?confirm=yes", &secret).await;
    assert_error(r, 400, "validation_failed").await;
    assert_eq!(user_of(&app, &ann).await, user);
    // As a provider with pictures would have left them (the dev login has none).
    sqlx::query("UPDATE comments SET author_avatar_url = 'https://avatars.example/u/42' WHERE user_id = $1::uuid")
        .bind(&user)
        .execute(&app.db)
        .await
        .unwrap();
    let r = on_account(&app, reqwest::Method::DELETE, "/me?confirm=erase", &secret).await;
    assert_eq!(r.status(), 204);
    assert!(
        set_cookie(&r, "colloquy-account")
            .unwrap()
            .contains("Max-Age=0")
    );
    assert_error(
        on_account(&app, reqwest::Method::GET, "/me", &secret).await,
        401,
        "unauthenticated",
    )
    .await;
    assert_error(
        authed(&app, reqwest::Method::GET, "/api/v1/me", &ann).await,
        401,
        "unauthenticated",
    )
    .await;

    for id in &ids {
        let (name, status, email, body, _) = comment_row(&app, id).await;
        assert_eq!(name, "deleted user");
        assert_eq!(status, "approved", "kept");
        assert_eq!(email, None);
        assert!(!body.is_empty());
    }
    let (name, avatar, email): (String, Option<String>, Option<String>) =
        sqlx::query_as("SELECT name, avatar_url, email FROM users WHERE id = $1::uuid")
            .bind(&user)
            .fetch_one(&app.db)
            .await
            .unwrap();
    assert_eq!((name.as_str(), avatar, email), ("deleted user", None, None));
    // Nothing of the person stays on the kept comments either (the avatar is a snapshot there,
    // and moderators' user views read it).
    let left: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM comments WHERE user_id = $1::uuid
           AND (author_avatar_url IS NOT NULL OR author_url IS NOT NULL OR author_email IS NOT NULL
                OR author_ip IS NOT NULL OR author_user_agent IS NOT NULL)",
    )
    .bind(&user)
    .fetch_one(&app.db)
    .await
    .unwrap();
    assert_eq!(left, 0);
    for sql in [
        "SELECT count(*) FROM identities WHERE user_id = $1::uuid",
        "SELECT count(*) FROM sessions WHERE user_id = $1::uuid",
        "SELECT count(*) FROM votes WHERE user_id = $1::uuid",
        "SELECT count(*) FROM flags WHERE user_id = $1::uuid",
    ] {
        assert_eq!(count(&app, sql, &user).await, 0, "{sql}");
    }
    let score: i32 = sqlx::query_scalar("SELECT score FROM comments WHERE id = $1::uuid")
        .bind(&bobs)
        .fetch_one(&app.db)
        .await
        .unwrap();
    assert_eq!(score, 0, "her vote left Bob's score");
    let thread = app.thread("blog", "uri=/p/").await;
    let names: Vec<&str> = thread["comments"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["author"]["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names.iter().filter(|n| **n == "deleted user").count(),
        2,
        "{thread}"
    );
    assert!(!thread.to_string().contains("Ann"), "{thread}");

    // Logging in again with the same account is a fresh user.
    let again = dev_login(&app, "Ann").await;
    assert_ne!(user_of(&app, &again).await, user);
}

#[tokio::test]
async fn erasing_with_remove_deletes_every_comment_through_the_state_machine() {
    let (app, ann, ids, bobs, bob) = busy_site().await;
    let user = user_of(&app, &ann).await;
    let secret = dev_account_login(&app, "Ann").await;
    // A pending one too (the state machine takes every live status to deleted).
    app.set_status(&ids[1], "pending").await;
    for bad in ["maybe", "", "KEEP"] {
        let r = on_account(
            &app,
            reqwest::Method::DELETE,
            &format!("/me?comments={bad}&confirm=erase"),
            &secret,
        )
        .await;
        assert_error(r, 400, "validation_failed").await;
    }
    let r = on_account(
        &app,
        reqwest::Method::DELETE,
        "/me?comments=remove&confirm=erase",
        &secret,
    )
    .await;
    assert_eq!(r.status(), 204);
    for id in &ids {
        let (name, status, _, body, html) = comment_row(&app, id).await;
        assert_eq!(
            (name.as_str(), status.as_str()),
            ("deleted user", "deleted")
        );
        assert_eq!((body.as_str(), html.as_str()), ("", ""));
        let (actor, to): (String, String) = sqlx::query_as(
            "SELECT actor_kind, to_status FROM moderation_events WHERE comment_id = $1::uuid ORDER BY id DESC LIMIT 1",
        )
        .bind(id)
        .fetch_one(&app.db)
        .await
        .unwrap();
        assert_eq!((actor.as_str(), to.as_str()), ("author", "deleted"));
    }
    assert_eq!(
        count(
            &app,
            "SELECT count(*) FROM identities WHERE user_id = $1::uuid",
            &user
        )
        .await,
        0
    );
    let (_, status, _, body, _) = comment_row(&app, &bobs).await;
    assert_eq!(
        (status.as_str(), body.as_str()),
        ("approved", "bob speaks"),
        "Bob's is untouched"
    );
    assert_eq!(
        user_of(&app, &bob).await.len(),
        36,
        "Bob is still logged in"
    );
    let thread = app.thread("blog", "uri=/p/").await;
    assert!(!thread.to_string().contains("first words"), "{thread}");
    assert_error(
        authed(&app, reqwest::Method::GET, "/api/v1/me", &ann).await,
        401,
        "unauthenticated",
    )
    .await;
    assert_error(
        on_account(&app, reqwest::Method::DELETE, "/me?confirm=erase", &secret).await,
        401,
        "unauthenticated",
    )
    .await;
}

/// Erasing an account must not wash off a ban: logging in again with the same provider account
/// (a new user) or linking it to another user brings the ban back. Only a fingerprint is kept,
/// and only while the ban stands.
#[tokio::test]
async fn erasing_a_banned_account_does_not_lift_its_ban() {
    let (app, google, x) = two_provider_app().await;
    let site = colloquy::sites::store::find_by_slug(&app.db, "blog")
        .await
        .unwrap()
        .unwrap();
    add_moderator(&app, "mod@example.com", &site, Role::Moderator).await;
    let mod_token = mod_login(&app, "mod@example.com").await;
    let fingerprints = |app: &TestApp| {
        let db = app.db.clone();
        async move {
            sqlx::query_scalar::<_, i64>("SELECT count(*) FROM erased_identity_bans")
                .fetch_one(&db)
                .await
                .unwrap()
        }
    };

    // Jane (Google) comments and is banned; Xavier (X) comments and is not.
    let (jane, jane_user) = login_with(&app, &google).await;
    assert_eq!(post_as(&app, &jane, "hello").await.status(), 201);
    let (xavier, _) = login_with(&app, &x).await;
    assert_eq!(post_as(&app, &xavier, "hi").await.status(), 201);
    let ban = json_of(
        post(
            &app,
            "/sites/blog/bans",
            &mod_token,
            json!({ "user_id": jane_user, "reason": "abuse" }),
        )
        .await,
        201,
    )
    .await;

    // Both erase their accounts (on the account page); only the banned one leaves a
    // fingerprint.
    let jane_account = account_login_with(&app, &google).await;
    let xavier_account = account_login_with(&app, &x).await;
    for secret in [&jane_account, &xavier_account] {
        let r = on_account(&app, reqwest::Method::DELETE, "/me?confirm=erase", secret).await;
        assert_eq!(r.status(), 204);
    }
    assert_error(post_as(&app, &jane, "gone").await, 401, "unauthenticated").await;
    assert_eq!(fingerprints(&app).await, 1);

    // Jane logs in again with the same Google account: a new user, still banned.
    let (jane2, jane2_user) = login_with(&app, &google).await;
    assert_ne!(jane2_user, jane_user);
    assert_error(post_as(&app, &jane2, "I'm back").await, 403, "banned").await;
    let reason: String = sqlx::query_scalar("SELECT reason FROM bans WHERE user_id = $1::uuid")
        .bind(&jane2_user)
        .fetch_one(&app.db)
        .await
        .unwrap();
    assert_eq!(reason, "Carried over from an erased account: abuse");
    // Xavier, never banned, comes back clean.
    let (xavier2, _) = login_with(&app, &x).await;
    let xavier2_account = account_login_with(&app, &x).await;
    assert_eq!(post_as(&app, &xavier2, "hi again").await.status(), 201);

    // Erased once more, the account's Google login is linked by Xavier: the ban comes along.
    let jane2_account = account_login_with(&app, &google).await;
    let r = on_account(
        &app,
        reqwest::Method::DELETE,
        "/me?confirm=erase",
        &jane2_account,
    )
    .await;
    assert_eq!(r.status(), 204);
    assert_error(post_as(&app, &jane2, "gone").await, 401, "unauthenticated").await;
    assert_eq!(fingerprints(&app).await, 2);
    assert_eq!(
        link(&app, &xavier2_account, &google).await,
        "/account/#linked=google"
    );
    assert_error(
        post_as(&app, &xavier2, "with google now").await,
        403,
        "banned",
    )
    .await;

    // Lifting the original ban drops its fingerprints (the carried-over ban keeps its own).
    let r = app
        .client
        .delete(app.url(&format!(
            "/api/mod/v1/sites/blog/bans/{}",
            ban["id"].as_str().unwrap()
        )))
        .bearer_auth(&mod_token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 204);
    assert_eq!(fingerprints(&app).await, 1);
}
