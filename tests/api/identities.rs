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
use crate::doubles::{Double, Kind};
use crate::helpers::moderator::{add_moderator, json_of, login as mod_login, post};
use crate::helpers::reader::{dev_app, login as dev_login, posted};
use crate::helpers::{ORIGIN, SiteOpts, TestApp, assert_error, spawn_app_with};

mod erasure;
mod linking;

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
