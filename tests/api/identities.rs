//! Linked identities (one person, several logins: bans and history follow the person), and a
//! commenter's own data: export and erase.

use colloquy::auth::moderators::Role;
use colloquy::domain::Policy;
use reqwest::Response;
use serde_json::{Value, json};

use crate::auth::{dev_app, login as dev_login, posted};
use crate::doubles::{Double, Kind};
use crate::helpers::{ORIGIN, SiteOpts, TestApp, assert_error, spawn_app_with};
use crate::moderators::{add_moderator, json_of, login as mod_login, post};

/// An app with Google and X doubles, both enabled on site `blog`.
async fn two_provider_app() -> (TestApp, Double, Double) {
    let google = Double::start(Kind::Google).await;
    let x = Double::start(Kind::Twitter).await;
    let app = spawn_app_with(|s| {
        google.configure(s);
        x.configure(s);
    })
    .await;
    app.create_site(SiteOpts::default()).await;
    sqlx::query("UPDATE sites SET providers = ARRAY['google', 'twitter']")
        .execute(&app.db)
        .await
        .unwrap();
    (app, google, x)
}

fn state_of(authorize_url: &str) -> String {
    url::Url::parse(authorize_url)
        .unwrap()
        .query_pairs()
        .find(|(k, _)| k == "state")
        .unwrap()
        .1
        .into_owned()
}

/// Consents at the double and follows its redirect to our callback; the popup's message.
async fn finish_at_provider(app: &TestApp, double: &Double, authorize_url: &str) -> Value {
    let code = double.consent(authorize_url);
    let state = state_of(authorize_url);
    let r = app
        .client
        .get(app.url(&format!("/auth/{}/callback", double.kind.name())))
        .query(&[("code", code.as_str()), ("state", state.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let d = posted(&r.text().await.unwrap());
    assert_eq!(d["origin"], ORIGIN, "posted to the site's origin only");
    d["message"].clone()
}

/// A whole popup login; returns (session token, user id).
async fn login_with(app: &TestApp, double: &Double) -> (String, String) {
    let r = app
        .get(&format!(
            "/auth/{}/login?site=blog&origin={ORIGIN}",
            double.kind.name()
        ))
        .await;
    assert_eq!(r.status(), 302);
    let url = r.headers()["location"].to_str().unwrap().to_owned();
    let msg = finish_at_provider(app, double, &url).await;
    assert_eq!(msg["type"], "colloquy:login", "{msg}");
    (
        msg["token"].as_str().unwrap().to_owned(),
        msg["user"]["id"].as_str().unwrap().to_owned(),
    )
}

async fn start_link(app: &TestApp, token: &str, provider: &str, body: Value) -> Response {
    app.client
        .post(app.url(&format!("/api/v1/me/identities/{provider}")))
        .bearer_auth(token)
        .json(&body)
        .send()
        .await
        .unwrap()
}

/// Links `double`'s account to the session's user as the widget does: start, popup, confirm
/// the posted code with the same session. Returns the confirmation's status and body.
async fn link(app: &TestApp, token: &str, double: &Double) -> (u16, Value) {
    let msg = link_popup(app, token, double).await;
    assert_eq!(msg["type"], "colloquy:link-code", "{msg}");
    assert_eq!(msg["provider"], double.kind.name());
    let r = confirm(app, token, double.kind.name(), &msg["code"]).await;
    let status = r.status().as_u16();
    (status, r.json().await.unwrap())
}

async fn confirm(app: &TestApp, token: &str, provider: &str, code: &Value) -> Response {
    app.client
        .post(app.url(&format!("/api/v1/me/identities/{provider}/confirm")))
        .bearer_auth(token)
        .json(&json!({ "code": code }))
        .send()
        .await
        .unwrap()
}

/// Starts a link and finishes the popup at the provider; returns the popup's message.
async fn link_popup(app: &TestApp, token: &str, double: &Double) -> Value {
    let r = start_link(
        app,
        token,
        double.kind.name(),
        json!({ "site": "blog", "origin": ORIGIN }),
    )
    .await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["cache-control"], "no-store");
    let body: Value = r.json().await.unwrap();
    let url = body["url"].as_str().unwrap().to_owned();
    finish_at_provider(app, double, &url).await
}

async fn post_as(app: &TestApp, token: &str, body: &str) -> Response {
    app.client
        .post(app.url("/api/v1/sites/blog/comments"))
        .bearer_auth(token)
        .json(&json!({ "uri": "/p/", "body": body }))
        .send()
        .await
        .unwrap()
}

async fn identities_of(app: &TestApp, user: &str) -> Vec<String> {
    sqlx::query_scalar("SELECT provider FROM identities WHERE user_id = $1::uuid ORDER BY provider")
        .bind(user)
        .fetch_all(&app.db)
        .await
        .unwrap()
}

#[tokio::test]
async fn a_ban_through_the_google_identity_follows_the_person_to_their_linked_x_identity() {
    let (app, google, x) = two_provider_app().await;
    let site = colloquy::sites::store::find_by_slug(&app.db, "blog")
        .await
        .unwrap()
        .unwrap();

    // Jane logs in with Google and comments.
    let (g_token, user) = login_with(&app, &google).await;
    assert_eq!(
        post_as(&app, &g_token, "hello from google").await.status(),
        201
    );

    // She links her X account to the same user.
    let (status, linked) = link(&app, &g_token, &x).await;
    assert_eq!(status, 200, "{linked}");
    assert_eq!(linked["provider"], "twitter");
    assert_eq!(linked["user"]["id"], user.as_str());
    assert!(
        linked.get("token").is_none(),
        "linking hands out no new session"
    );
    assert_eq!(identities_of(&app, &user).await, ["google", "twitter"]);
    assert_eq!(
        sqlx::query_scalar::<_, i64>("SELECT count(*) FROM users")
            .fetch_one(&app.db)
            .await
            .unwrap(),
        1,
        "no second user was created"
    );

    // A moderator bans the user id they know from the Google comment.
    add_moderator(&app, "mod@example.com", &site, Role::Moderator).await;
    let mod_token = mod_login(&app, "mod@example.com").await;
    json_of(
        post(
            &app,
            "/sites/blog/bans",
            &mod_token,
            json!({ "user_id": user, "reason": "abuse" }),
        )
        .await,
        201,
    )
    .await;

    // Later she logs in with X: the same user, and banned.
    let (x_token, x_user) = login_with(&app, &x).await;
    assert_eq!(x_user, user, "the X login is the same person");
    let me: Value = app
        .client
        .get(app.url("/api/v1/me"))
        .bearer_auth(&x_token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(me["id"], user.as_str());
    assert_eq!(me["provider"], "twitter");
    assert_error(post_as(&app, &x_token, "hello from x").await, 403, "banned").await;
    assert_error(post_as(&app, &g_token, "and google").await, 403, "banned").await;
    assert_eq!(app.comment_count().await, 1);
}

#[tokio::test]
async fn an_identity_with_history_is_never_merged_but_an_unused_one_moves() {
    let (app, google, x) = two_provider_app().await;

    // X logs in first as its own user, who comments: that identity is in use.
    let (x_token, x_user) = login_with(&app, &x).await;
    assert_eq!(post_as(&app, &x_token, "from x").await.status(), 201);
    let (g_token, g_user) = login_with(&app, &google).await;
    assert_ne!(x_user, g_user);
    let (status, err) = link(&app, &g_token, &x).await;
    assert_eq!(status, 409, "{err}");
    assert_eq!(err["error"]["code"], "identity_in_use");
    assert_eq!(identities_of(&app, &x_user).await, ["twitter"]);
    assert_eq!(identities_of(&app, &g_user).await, ["google"]);
    assert_eq!(post_as(&app, &x_token, "still me").await.status(), 201);

    // Without comments (and no ban), the identity moves, and its old sessions end.
    let (app, google, x) = two_provider_app().await;
    let (x_token, x_user) = login_with(&app, &x).await;
    let (g_token, g_user) = login_with(&app, &google).await;
    let (status, msg) = link(&app, &g_token, &x).await;
    assert_eq!(status, 200, "{msg}");
    assert_eq!(identities_of(&app, &g_user).await, ["google", "twitter"]);
    assert!(identities_of(&app, &x_user).await.is_empty());
    assert_error(
        post_as(&app, &x_token, "old session").await,
        401,
        "unauthenticated",
    )
    .await;
    let (_, again) = login_with(&app, &x).await;
    assert_eq!(again, g_user);

    // Linking an identity the user already holds is a no-op success.
    let (status, msg) = link(&app, &g_token, &x).await;
    assert_eq!(status, 200, "{msg}");
    assert_eq!(identities_of(&app, &g_user).await, ["google", "twitter"]);
}

#[tokio::test]
async fn linking_needs_a_session_an_offered_provider_and_a_registered_origin() {
    let (app, google, x) = two_provider_app().await;
    let (token, user) = login_with(&app, &google).await;
    let ok = json!({ "site": "blog", "origin": ORIGIN });

    let r = app
        .client
        .post(app.url("/api/v1/me/identities/twitter"))
        .json(&ok)
        .send()
        .await
        .unwrap();
    assert_error(r, 401, "unauthenticated").await;
    assert_error(
        start_link(&app, "nope", "twitter", ok.clone()).await,
        401,
        "unauthenticated",
    )
    .await;
    for provider in ["facebook", "wordpress", "dev", "guest", "oidc-x", "%00"] {
        assert_error(
            start_link(&app, &token, provider, ok.clone()).await,
            404,
            "not_found",
        )
        .await;
    }
    let cases = [
        (
            json!({ "site": "blog", "origin": "https://evil.example" }),
            403,
            "origin_not_allowed",
        ),
        (
            json!({ "site": "nosuch", "origin": ORIGIN }),
            404,
            "not_found",
        ),
        (
            json!({ "site": "blog", "origin": "javascript:alert(1)" }),
            400,
            "validation_failed",
        ),
        (json!({ "site": "blog" }), 400, "validation_failed"),
        (
            json!({ "site": 7, "origin": ORIGIN }),
            400,
            "validation_failed",
        ),
        (
            json!({ "site": "blog", "origin": ORIGIN, "user_id": user }),
            400,
            "validation_failed",
        ),
        (json!([]), 400, "validation_failed"),
    ];
    for (body, status, code) in cases {
        assert_error(
            start_link(&app, &token, "twitter", body).await,
            status,
            code,
        )
        .await;
    }
    let r = app
        .client
        .post(app.url("/api/v1/me/identities/twitter"))
        .bearer_auth(&token)
        .header("content-type", "application/json")
        .body("{")
        .send()
        .await
        .unwrap();
    assert_error(r, 400, "invalid_json").await;

    // The link attempt is single use: replaying its callback links nothing a second time.
    let r = start_link(&app, &token, "twitter", ok.clone()).await;
    let url = r.json::<Value>().await.unwrap()["url"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(url.starts_with(&x.server.uri()), "{url}");
    let code = x.consent(&url);
    let state = state_of(&url);
    let callback = |code: String| {
        let state = state.clone();
        let app = &app;
        async move {
            let r = app
                .client
                .get(app.url("/auth/twitter/callback"))
                .query(&[("code", code.as_str()), ("state", state.as_str())])
                .send()
                .await
                .unwrap();
            posted_or_plain(&r.text().await.unwrap())
        }
    };
    let msg = callback(code).await["message"].clone();
    assert_eq!(msg["type"], "colloquy:link-code", "{msg}");
    let replay = callback(x.consent(&url)).await;
    assert!(replay.is_null(), "a replayed state posts nothing: {replay}");
    assert_eq!(
        identities_of(&app, &user).await,
        ["google"],
        "nothing is linked before the widget confirms"
    );
    assert_eq!(
        confirm(&app, &token, "twitter", &msg["code"])
            .await
            .status(),
        200
    );
    assert_eq!(identities_of(&app, &user).await, ["google", "twitter"]);
    // The code is spent.
    assert_error(
        confirm(&app, &token, "twitter", &msg["code"]).await,
        404,
        "not_found",
    )
    .await;
}

/// The login-CSRF attack on linking: Mallory starts a link and gets the victim to finish the
/// popup at the provider, where the victim is signed in. The code lands in the victim's
/// browser, which holds no session of Mallory's; neither the victim's session nor Mallory's
/// (even had she obtained it) nor a wrong provider, an expired or garbage code links anything.
#[tokio::test]
async fn a_link_url_sent_to_someone_else_never_links_their_account() {
    let (app, google, x) = two_provider_app().await;
    let (mallory, mallory_user) = login_with(&app, &google).await;
    // The victim: their own user, signed in with another Google account; X is theirs too.
    google.profile.lock().unwrap()["sub"] = json!("220000000000000000002");
    let (victim, victim_user) = login_with(&app, &google).await;
    assert_ne!(mallory_user, victim_user);

    // Mallory's link URL, finished in the victim's browser: a code, and nothing linked yet.
    let msg = link_popup(&app, &mallory, &x).await;
    assert_eq!(msg["type"], "colloquy:link-code", "{msg}");
    assert_eq!(identities_of(&app, &mallory_user).await, ["google"]);
    // The victim's widget (their session) can't use it, and that attempt spends it.
    assert_error(
        confirm(&app, &victim, "twitter", &msg["code"]).await,
        404,
        "not_found",
    )
    .await;
    assert_error(
        confirm(&app, &mallory, "twitter", &msg["code"]).await,
        404,
        "not_found",
    )
    .await;
    assert_eq!(identities_of(&app, &mallory_user).await, ["google"]);
    assert_eq!(identities_of(&app, &victim_user).await, ["google"]);

    // A code confirmed under another provider's name is refused (and spent).
    let msg = link_popup(&app, &mallory, &x).await;
    assert_error(
        confirm(&app, &mallory, "google", &msg["code"]).await,
        404,
        "not_found",
    )
    .await;
    // An expired code is refused.
    let msg = link_popup(&app, &mallory, &x).await;
    sqlx::query("UPDATE link_confirmations SET expires_at = now() - interval '1 second'")
        .execute(&app.db)
        .await
        .unwrap();
    assert_error(
        confirm(&app, &mallory, "twitter", &msg["code"]).await,
        404,
        "not_found",
    )
    .await;
    for (body, status, code) in [
        (json!({ "code": "" }), 400, "validation_failed"),
        (json!({ "code": "x".repeat(129) }), 400, "validation_failed"),
        (json!({ "code": "garbage" }), 404, "not_found"),
        (json!({}), 400, "validation_failed"),
        (json!({ "code": 7 }), 400, "validation_failed"),
        (
            json!({ "code": "a", "user_id": mallory_user }),
            400,
            "validation_failed",
        ),
    ] {
        let r = app
            .client
            .post(app.url("/api/v1/me/identities/twitter/confirm"))
            .bearer_auth(&mallory)
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_error(r, status, code).await;
    }
    let r = app
        .client
        .post(app.url("/api/v1/me/identities/twitter/confirm"))
        .json(&json!({ "code": "a" }))
        .send()
        .await
        .unwrap();
    assert_error(r, 401, "unauthenticated").await;
    assert_eq!(identities_of(&app, &mallory_user).await, ["google"]);
    assert_eq!(
        sqlx::query_scalar::<_, i64>("SELECT count(*) FROM link_confirmations")
            .fetch_one(&app.db)
            .await
            .unwrap(),
        0,
        "every code was spent by its first use"
    );

    // The honest path still works: Mallory links her own X account with her own session.
    let (status, linked) = link(&app, &mallory, &x).await;
    assert_eq!(status, 200, "{linked}");
    assert_eq!(
        identities_of(&app, &mallory_user).await,
        ["google", "twitter"]
    );
}

/// The popup's posted data, or null for a page that posts nothing.
fn posted_or_plain(page: &str) -> Value {
    if page.contains("var d = ") {
        posted(page)
    } else {
        Value::Null
    }
}

// ---------------------------------------------------------------------------------------------
// Export and erase

async fn authed(app: &TestApp, method: reqwest::Method, path: &str, token: &str) -> Response {
    app.client
        .request(method, app.url(path))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
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
    let r = authed(&app, reqwest::Method::GET, "/api/v1/me/export", &ann).await;
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
    assert!(!text.contains(&ann), "no session token");
    assert!(
        !text.contains("token_hash") && !text.contains("pkce"),
        "{text}"
    );
    assert!(!text.contains("bob speaks"), "nobody else's text");

    assert_error(
        authed(&app, reqwest::Method::GET, "/api/v1/me/export", "bad").await,
        401,
        "unauthenticated",
    )
    .await;
    let r = app.get("/api/v1/me/export").await;
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
    let r = authed(&app, reqwest::Method::DELETE, "/api/v1/me", &ann).await;
    assert_eq!(r.status(), 204);
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
    // A pending one too (the state machine takes every live status to deleted).
    app.set_status(&ids[1], "pending").await;
    for bad in ["maybe", "", "KEEP"] {
        let r = authed(
            &app,
            reqwest::Method::DELETE,
            &format!("/api/v1/me?comments={bad}"),
            &ann,
        )
        .await;
        assert_error(r, 400, "validation_failed").await;
    }
    let r = authed(
        &app,
        reqwest::Method::DELETE,
        "/api/v1/me?comments=remove",
        &ann,
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
        authed(&app, reqwest::Method::DELETE, "/api/v1/me", &ann).await,
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

    // Both erase their accounts; only the banned one leaves a fingerprint.
    for token in [&jane, &xavier] {
        let r = authed(&app, reqwest::Method::DELETE, "/api/v1/me", token).await;
        assert_eq!(r.status(), 204);
    }
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
    assert_eq!(post_as(&app, &xavier2, "hi again").await.status(), 201);

    // Erased once more, the account's Google login is linked by Xavier: the ban comes along.
    let r = authed(&app, reqwest::Method::DELETE, "/api/v1/me", &jane2).await;
    assert_eq!(r.status(), 204);
    assert_eq!(fingerprints(&app).await, 2);
    let (status, linked) = link(&app, &xavier2, &google).await;
    assert_eq!(status, 200, "{linked}");
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
