//! Linked identities (one person, several logins: bans and history follow the person), and a
//! commenter's own data: export and erase. All of it on the account page (`/account/api`), with
//! the account session; a blog's token reaches none of it (see `account.rs`).

use colloquy::auth::moderators::Role;
use colloquy::domain::Policy;
use reqwest::Response;
use serde_json::{Value, json};

use crate::account::{
    CSRF, account, account_json, cookie_value, dev_account_login, own_origin, set_cookie,
};
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

/// A whole account-page login in its own window: start, consent at the provider, back to the
/// callback with this browser's binding cookie. Returns the account cookie's secret.
async fn account_login_with(app: &TestApp, double: &Double) -> String {
    let r = app
        .get(&format!("/account/login/{}", double.kind.name()))
        .await;
    assert_eq!(r.status(), 302);
    let binding = cookie_value(&set_cookie(&r, "colloquy-login").unwrap());
    let url = r.headers()["location"].to_str().unwrap().to_owned();
    let r = callback_in(app, double, &url, &binding).await;
    assert_eq!(r.status(), 303);
    assert_eq!(r.headers()["location"], "/account/");
    cookie_value(&set_cookie(&r, "colloquy-account").unwrap())
}

/// Consents at the double and follows its redirect to our callback in a browser holding the
/// login binding `binding`.
async fn callback_in(app: &TestApp, double: &Double, url: &str, binding: &str) -> Response {
    let code = double.consent(url);
    let state = state_of(url);
    app.client
        .get(app.url(&format!("/auth/{}/callback", double.kind.name())))
        .header("cookie", format!("colloquy-login={binding}"))
        .query(&[("code", code.as_str()), ("state", state.as_str())])
        .send()
        .await
        .unwrap()
}

async fn start_link(app: &TestApp, secret: &str, provider: &str) -> Response {
    account(
        app,
        reqwest::Method::POST,
        &format!("/links/{provider}"),
        secret,
    )
    .send()
    .await
    .unwrap()
}

/// Starts a link from the account page; (provider URL, binding cookie).
async fn link_url(app: &TestApp, secret: &str, double: &Double) -> (String, String) {
    let r = start_link(app, secret, double.kind.name()).await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["cache-control"], "no-store");
    let binding = cookie_value(&set_cookie(&r, "colloquy-login").unwrap());
    let body: Value = r.json().await.unwrap();
    (body["url"].as_str().unwrap().to_owned(), binding)
}

/// Links `double`'s account to the account session's user as the page does: start, consent,
/// callback in the same browser. Returns where the callback sends the page back to.
async fn link(app: &TestApp, secret: &str, double: &Double) -> String {
    let (url, binding) = link_url(app, secret, double).await;
    let r = callback_in(app, double, &url, &binding).await;
    assert_eq!(r.status(), 303);
    assert!(
        set_cookie(&r, "colloquy-account").is_none(),
        "linking opens no session"
    );
    let location = r.headers()["location"].to_str().unwrap().to_owned();
    let body = r.text().await.unwrap();
    assert!(!body.contains("postMessage"));
    location
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

    // Jane logs in with Google on the blog and comments.
    let (g_token, user) = login_with(&app, &google).await;
    assert_eq!(
        post_as(&app, &g_token, "hello from google").await.status(),
        201
    );

    // On her account page (Google again), she links her X account to the same user.
    let secret = account_login_with(&app, &google).await;
    assert_eq!(
        account_json(&app, "/me", &secret).await["id"],
        user.as_str()
    );
    assert_eq!(link(&app, &secret, &x).await, "/account/#linked=twitter");
    assert_eq!(identities_of(&app, &user).await, ["google", "twitter"]);
    let me = account_json(&app, "/me", &secret).await;
    assert_eq!(me["identities"].as_array().unwrap().len(), 2);
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

    // Later she logs in with X on the blog: the same user, and banned.
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
    let (_, g_user) = login_with(&app, &google).await;
    assert_ne!(x_user, g_user);
    let g_account = account_login_with(&app, &google).await;
    assert_eq!(
        link(&app, &g_account, &x).await,
        "/account/#error=identity_in_use"
    );
    assert_eq!(identities_of(&app, &x_user).await, ["twitter"]);
    assert_eq!(identities_of(&app, &g_user).await, ["google"]);
    assert_eq!(post_as(&app, &x_token, "still me").await.status(), 201);

    // Without comments (and no ban), the identity moves, and its old sessions end.
    let (app, google, x) = two_provider_app().await;
    let (x_token, x_user) = login_with(&app, &x).await;
    let (_, g_user) = login_with(&app, &google).await;
    let g_account = account_login_with(&app, &google).await;
    assert_eq!(link(&app, &g_account, &x).await, "/account/#linked=twitter");
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
    assert_eq!(link(&app, &g_account, &x).await, "/account/#linked=twitter");
    assert_eq!(identities_of(&app, &g_user).await, ["google", "twitter"]);

    // Unlinking one of two works, ends the sessions opened through it, and the other stays;
    // the last one can't go.
    let me = account_json(&app, "/me", &g_account).await;
    let x_id = me["identities"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["provider"] == "twitter")
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let (x_token, _) = login_with(&app, &x).await;
    let r = account(
        &app,
        reqwest::Method::DELETE,
        &format!("/identities/{x_id}"),
        &g_account,
    )
    .send()
    .await
    .unwrap();
    assert_eq!(r.status(), 204);
    assert_eq!(identities_of(&app, &g_user).await, ["google"]);
    assert_error(
        post_as(&app, &x_token, "unlinked").await,
        401,
        "unauthenticated",
    )
    .await;
    let g_id = account_json(&app, "/me", &g_account).await["identities"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let r = account(
        &app,
        reqwest::Method::DELETE,
        &format!("/identities/{g_id}"),
        &g_account,
    )
    .send()
    .await
    .unwrap();
    assert_error(r, 409, "last_identity").await;
    // X now logs in as a new user of its own.
    let (_, x_again) = login_with(&app, &x).await;
    assert_ne!(x_again, g_user);
}

#[tokio::test]
async fn linking_needs_an_account_session_and_a_configured_provider() {
    let (app, google, x) = two_provider_app().await;
    let (token, user) = login_with(&app, &google).await;
    let secret = account_login_with(&app, &google).await;

    // No session, a blog's token (as Bearer or as the cookie), or a garbage cookie: 401.
    let r = app
        .client
        .post(app.url("/account/api/links/twitter"))
        .header(CSRF, "1")
        .header("origin", own_origin(&app))
        .send()
        .await
        .unwrap();
    assert_error(r, 401, "unauthenticated").await;
    let r = app
        .client
        .post(app.url("/account/api/links/twitter"))
        .bearer_auth(&token)
        .header(CSRF, "1")
        .header("origin", own_origin(&app))
        .send()
        .await
        .unwrap();
    assert_error(r, 401, "unauthenticated").await;
    for bad in [token.as_str(), "nope"] {
        assert_error(
            start_link(&app, bad, "twitter").await,
            401,
            "unauthenticated",
        )
        .await;
    }
    for provider in ["facebook", "wordpress", "dev", "guest", "oidc-x", "%00"] {
        assert_error(start_link(&app, &secret, provider).await, 404, "not_found").await;
    }

    // The link attempt is single use: replaying its callback links nothing a second time.
    let (url, binding) = link_url(&app, &secret, &x).await;
    assert!(url.starts_with(&x.server.uri()), "{url}");
    let code = x.consent(&url);
    let state = state_of(&url);
    let callback = |code: String| {
        let state = state.clone();
        let binding = binding.clone();
        let app = &app;
        async move {
            app.client
                .get(app.url("/auth/twitter/callback"))
                .header("cookie", format!("colloquy-login={binding}"))
                .query(&[("code", code.as_str()), ("state", state.as_str())])
                .send()
                .await
                .unwrap()
        }
    };
    let r = callback(code).await;
    assert_eq!(r.headers()["location"], "/account/#linked=twitter");
    assert_eq!(identities_of(&app, &user).await, ["google", "twitter"]);
    let replay = callback(x.consent(&url)).await;
    assert_eq!(replay.status(), 200);
    assert!(
        posted_or_plain(&replay.text().await.unwrap()).is_null(),
        "a replayed state posts nothing"
    );
    assert_eq!(identities_of(&app, &user).await, ["google", "twitter"]);
}

/// The login-CSRF attack on linking: Mallory starts a link from her account page and gets the
/// victim to finish it at the provider, where the victim is signed in. The attempt is bound to
/// Mallory's browser: in the victim's (no binding cookie, or the victim's own) nothing links
/// and the attempt is spent. The same for an account login URL.
#[tokio::test]
async fn a_link_url_sent_to_someone_else_never_links_their_account() {
    let (app, google, x) = two_provider_app().await;
    let (_, mallory_user) = login_with(&app, &google).await;
    let mallory = account_login_with(&app, &google).await;
    // The victim: their own user, signed in with another Google account; X is theirs too.
    google.profile.lock().unwrap()["sub"] = json!("220000000000000000002");
    let (_, victim_user) = login_with(&app, &google).await;
    let victim = account_login_with(&app, &google).await;
    assert_ne!(mallory_user, victim_user);

    // Mallory's link URL, finished in the victim's browser: without a binding cookie, or with
    // the binding of the victim's own attempt.
    let (victims_own, victim_binding) = link_url(&app, &victim, &x).await;
    for binding in ["", victim_binding.as_str()] {
        let (url, _) = link_url(&app, &mallory, &x).await;
        let r = callback_in(&app, &x, &url, binding).await;
        assert_eq!(r.status(), 303);
        assert_eq!(r.headers()["location"], "/account/#error=invalid_state");
        assert!(set_cookie(&r, "colloquy-account").is_none());
    }
    assert_eq!(identities_of(&app, &mallory_user).await, ["google"]);
    assert_eq!(identities_of(&app, &victim_user).await, ["google"]);
    assert_eq!(
        sqlx::query_scalar::<_, i64>(
            "SELECT count(*) FROM login_states WHERE link_user_id = $1::uuid"
        )
        .bind(&mallory_user)
        .fetch_one(&app.db)
        .await
        .unwrap(),
        0,
        "every one of Mallory's attempts was spent"
    );

    // A blog's popup attempt never links, even finished in a browser holding a binding.
    let r = app
        .get(&format!("/auth/twitter/login?site=blog&origin={ORIGIN}"))
        .await;
    let url = r.headers()["location"].to_str().unwrap().to_owned();
    let r = callback_in(&app, &x, &url, &victim_binding).await;
    assert_eq!(r.status(), 200);
    let msg = posted(&r.text().await.unwrap())["message"].clone();
    assert_eq!(msg["type"], "colloquy:login", "{msg}");
    assert_eq!(identities_of(&app, &victim_user).await, ["google"]);

    // The honest path still works: the victim's own attempt, in the victim's browser (the X
    // login above made a user without history, so the identity moves).
    let r = callback_in(&app, &x, &victims_own, &victim_binding).await;
    assert_eq!(r.headers()["location"], "/account/#linked=twitter");
    assert_eq!(
        identities_of(&app, &victim_user).await,
        ["google", "twitter"]
    );
    assert_eq!(identities_of(&app, &mallory_user).await, ["google"]);
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
