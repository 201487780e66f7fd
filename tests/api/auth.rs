//! Commenter sign-in through the built-in `dev` provider: the popup flow, sessions, `/me`,
//! logout, and posting as a logged-in user.

use serde_json::{Value, json};

use crate::helpers::reader::{dev_app, finish_login, login, posted, start_login};
use crate::helpers::{SiteOpts, TestApp, assert_error};
use colloquy::domain::Policy;

async fn count(app: &TestApp, table: &str) -> i64 {
    let sql = format!("SELECT count(*) FROM {table}");
    sqlx::query_scalar(sqlx::AssertSqlSafe(sql))
        .fetch_one(&app.db)
        .await
        .unwrap()
}

#[tokio::test]
async fn the_dev_popup_flow_posts_a_session_token_to_the_sites_origin_only() {
    let app = dev_app(Policy::Post).await;
    let state = start_login(&app).await;

    let form = app.get(&format!("/auth/dev/authorize?state={state}")).await;
    assert_eq!(form.status(), 200);
    assert!(
        form.headers()["content-security-policy"]
            .to_str()
            .unwrap()
            .contains("default-src 'none'")
    );
    assert!(form.text().await.unwrap().contains("Log in as"));

    let (headers, page) = finish_login(&app, &state, "Алёна <b>Reader</b>").await;
    let csp = headers["content-security-policy"].to_str().unwrap();
    assert!(csp.contains("script-src 'nonce-"), "{csp}");
    assert!(!page.contains("<b>Reader"), "names are escaped in the page");
    let d = posted(&page);
    assert_eq!(
        d["origin"], "https://blog.example",
        "posted to the registered origin, never *"
    );
    assert_eq!(d["message"]["type"], "colloquy:login");
    assert_eq!(d["message"]["user"]["name"], "Алёна <b>Reader</b>");
    assert_eq!(d["message"]["user"]["provider"], "dev");
    let token = d["message"]["token"].as_str().unwrap();
    assert_eq!(token.len(), 43, "256 bits, base64url");

    let stored: Vec<u8> = sqlx::query_scalar("SELECT token_hash FROM sessions")
        .fetch_one(&app.db)
        .await
        .unwrap();
    assert_eq!(stored.len(), 32);
    assert_ne!(stored, token.as_bytes(), "only the hash is stored");
    assert_eq!(
        count(&app, "login_states").await,
        0,
        "the state was consumed"
    );

    let me = app
        .client
        .get(app.url("/api/v1/me"))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    assert_eq!(me.status(), 200);
    let me: Value = me.json().await.unwrap();
    assert_eq!(me["name"], "Алёна <b>Reader</b>");
    assert!(me.get("email").is_none());
}

#[tokio::test]
async fn a_state_works_once() {
    let app = dev_app(Policy::Post).await;
    let state = start_login(&app).await;
    finish_login(&app, &state, "Ann").await;
    let (_, page) = finish_login(&app, &state, "Mallory").await;
    assert!(page.contains("invalid or was already used"), "{page}");
    assert!(!page.contains("\"token\""));
    assert_eq!(count(&app, "sessions").await, 1);
    assert_eq!(count(&app, "users").await, 1);
}

#[tokio::test]
async fn forged_and_expired_states_create_nothing() {
    let app = dev_app(Policy::Post).await;
    let (_, page) = finish_login(&app, "forged-state-value", "Mallory").await;
    assert!(!page.contains("\"token\""), "{page}");
    assert!(
        !page.contains("postMessage(d.message"),
        "nothing posted without a known origin"
    );

    let state = start_login(&app).await;
    sqlx::query("UPDATE login_states SET expires_at = now() - interval '1 second'")
        .execute(&app.db)
        .await
        .unwrap();
    let (_, page) = finish_login(&app, &state, "Late").await;
    let d = posted(&page);
    assert_eq!(d["message"]["type"], "colloquy:login-error");
    assert_eq!(d["message"]["code"], "expired_state");
    assert_eq!(count(&app, "sessions").await, 0);
    assert_eq!(count(&app, "users").await, 0);
}

#[tokio::test]
async fn logins_start_only_for_the_sites_origins_and_providers() {
    let app = dev_app(Policy::Post).await;
    let r = app
        .get("/auth/dev/login?site=blog&origin=https://evil.example")
        .await;
    assert_error(r, 403, "origin_not_allowed").await;
    let r = app
        .get("/auth/dev/login?site=nope&origin=https://blog.example")
        .await;
    assert_error(r, 404, "not_found").await;
    assert_eq!(count(&app, "login_states").await, 0);

    sqlx::query("UPDATE sites SET providers = '{}'")
        .execute(&app.db)
        .await
        .unwrap();
    let r = app
        .get("/auth/dev/login?site=blog&origin=https://blog.example")
        .await;
    assert_eq!(r.status(), 200);
    let d = posted(&r.text().await.unwrap());
    assert_eq!(d["message"]["code"], "provider_unavailable");
    assert_eq!(count(&app, "login_states").await, 0);
}

#[tokio::test]
async fn the_dev_provider_is_off_unless_configured() {
    let app = crate::helpers::spawn_app().await;
    app.create_site(SiteOpts::default()).await;
    sqlx::query("UPDATE sites SET providers = '{dev}'")
        .execute(&app.db)
        .await
        .unwrap();
    let r = app
        .get("/auth/dev/login?site=blog&origin=https://blog.example")
        .await;
    let d = posted(&r.text().await.unwrap());
    assert_eq!(d["message"]["code"], "provider_unavailable");
    assert_error(
        app.get("/auth/dev/authorize?state=x").await,
        404,
        "not_found",
    )
    .await;
}

#[tokio::test]
async fn logged_in_users_post_with_their_identity_and_see_their_own_pending_comments() {
    let app = dev_app(Policy::FirstTime).await;
    let token = login(&app, "Ann").await;
    let r = app
        .client
        .post(app.url("/api/v1/sites/blog/comments"))
        .bearer_auth(&token)
        .json(&json!({ "uri": "/p/", "body": "mine" }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["status"], "pending");
    assert_eq!(body["comment"]["author"]["name"], "Ann");
    assert_eq!(body["comment"]["author"]["provider"], "dev");
    let id = body["comment"]["id"].as_str().unwrap().to_owned();

    let own = app
        .client
        .get(app.url("/api/v1/sites/blog/thread?uri=/p/"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    let own: Value = own.json().await.unwrap();
    assert_eq!(own["comments"][0]["id"], id.as_str());
    assert_eq!(own["comments"][0]["status"], "pending");
    let anonymous = app.thread("blog", "uri=/p/").await;
    assert_eq!(anonymous["comments"], json!([]));
    let other = login(&app, "Bob").await;
    let theirs: Value = app
        .client
        .get(app.url("/api/v1/sites/blog/thread?uri=/p/"))
        .bearer_auth(&other)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(theirs["comments"], json!([]));

    // Logged in, a guest block is a mistake, not a second identity.
    let r = app
        .client
        .post(app.url("/api/v1/sites/blog/comments"))
        .bearer_auth(&token)
        .json(&json!({ "uri": "/p/", "body": "x", "guest": { "name": "A", "email": "a@b.co" } }))
        .send()
        .await
        .unwrap();
    assert_error(r, 400, "validation_failed").await;
}

#[tokio::test]
async fn bad_expired_and_revoked_tokens_are_401_never_anonymous() {
    let app = dev_app(Policy::Post).await;
    let post = |token: String| {
        app.client
            .post(app.url("/api/v1/sites/blog/comments"))
            .bearer_auth(token)
            .json(
                &json!({ "uri": "/p/", "body": "hi", "guest": { "name": "A", "email": "a@b.co" } }),
            )
            .send()
    };
    assert_error(
        post("not-a-token".into()).await.unwrap(),
        401,
        "unauthenticated",
    )
    .await;
    assert_error(app.get("/api/v1/me").await, 401, "unauthenticated").await;
    let r = app
        .client
        .get(app.url("/api/v1/sites/blog/thread?uri=/p/"))
        .header("Authorization", "Basic abc")
        .send()
        .await
        .unwrap();
    assert_error(r, 401, "unauthenticated").await;

    let token = login(&app, "Ann").await;
    sqlx::query("UPDATE sessions SET expires_at = now() - interval '1 second'")
        .execute(&app.db)
        .await
        .unwrap();
    assert_error(post(token).await.unwrap(), 401, "unauthenticated").await;

    let token = login(&app, "Ann").await;
    let r = app
        .client
        .post(app.url("/api/v1/logout"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 204);
    let me = app
        .client
        .get(app.url("/api/v1/me"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_error(me, 401, "unauthenticated").await;
    assert_error(post(token).await.unwrap(), 401, "unauthenticated").await;
    assert_eq!(app.comment_count().await, 0);
}

#[tokio::test]
async fn the_same_login_twice_is_the_same_user() {
    let app = dev_app(Policy::Post).await;
    let a = login(&app, "Ann").await;
    let b = login(&app, "ann").await;
    let mut ids = vec![];
    for t in [a, b] {
        let v: Value = app
            .client
            .get(app.url("/api/v1/me"))
            .bearer_auth(t)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        ids.push(v["id"].clone());
    }
    assert_eq!(ids[0], ids[1]);
    assert_eq!(count(&app, "users").await, 1);
    assert_eq!(count(&app, "sessions").await, 2);
}

#[tokio::test]
async fn a_session_acts_only_on_the_site_it_was_opened_on() {
    let app = dev_app(Policy::Post).await;
    app.create_site(SiteOpts {
        slug: "other",
        ..Default::default()
    })
    .await;
    sqlx::query("UPDATE sites SET providers = '{dev}'")
        .execute(&app.db)
        .await
        .unwrap();
    // Opened on `blog` (start_login uses site=blog).
    let token = login(&app, "Ann").await;
    let post = |site: &'static str| {
        app.client
            .post(app.url(&format!("/api/v1/sites/{site}/comments")))
            .bearer_auth(&token)
            .json(&json!({ "uri": "/p/", "body": format!("on {site}") }))
            .send()
    };
    assert_eq!(post("blog").await.unwrap().status(), 201);
    assert_error(post("other").await.unwrap(), 401, "unauthenticated").await;

    // Nor on another site's comments: a guest's comment on `other`.
    let (_, theirs) = app
        .post_guest("other", "/p/", "a guest on other", "g@example.com")
        .await;
    let id = theirs["comment"]["id"].as_str().unwrap();
    let vote = app
        .client
        .put(app.url(&format!("/api/v1/comments/{id}/vote")))
        .bearer_auth(&token)
        .json(&json!({ "value": 1 }))
        .send()
        .await
        .unwrap();
    assert_error(vote, 401, "unauthenticated").await;
    assert_eq!(app.comment_count().await, 2);
}

#[tokio::test]
async fn abandoned_login_attempts_are_swept() {
    let app = dev_app(Policy::Post).await;
    start_login(&app).await;
    sqlx::query("UPDATE login_states SET expires_at = now() - interval '2 days'")
        .execute(&app.db)
        .await
        .unwrap();
    let fresh = start_login(&app).await;
    assert_eq!(
        count(&app, "login_states").await,
        1,
        "only the fresh attempt is left"
    );
    let (_, page) = finish_login(&app, &fresh, "Ann").await;
    assert_eq!(posted(&page)["message"]["type"], "colloquy:login");
}
