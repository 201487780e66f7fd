//! The account page (`/account/`) and the line between it and a blog's session (issue 10,
//! point 2): a token a blog page holds reaches that blog only; export, erase and linking need
//! the account page's own session, a cookie on Colloquy's origin that no page is ever handed.

use reqwest::{Method, RequestBuilder, Response};
use serde_json::{Value, json};

use crate::helpers::reader::{dev_app, login as blog_login};
use crate::helpers::{SiteOpts, TestApp, assert_error};
use colloquy::domain::Policy;

mod page;

pub const CSRF: &str = "x-colloquy-account";

/// Colloquy's own origin, as browsers see it (`server.public_url`).
pub fn own_origin(app: &TestApp) -> String {
    colloquy::api::account::cookie::public_origin(&app.settings)
}

/// The value of cookie `name` set by a response, if any (None for a clearing one).
pub fn set_cookie(r: &Response, name: &str) -> Option<String> {
    r.headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with(&format!("{name}=")))
        .map(|v| v.to_owned())
}

pub fn cookie_value(header: &str) -> String {
    header
        .split(';')
        .next()
        .unwrap()
        .split_once('=')
        .unwrap()
        .1
        .to_owned()
}

/// A request of the account page: its cookie, the CSRF header and its own Origin.
pub fn account(app: &TestApp, method: Method, path: &str, session: &str) -> RequestBuilder {
    let mut req = app
        .client
        .request(method.clone(), app.url(&format!("/account/api{path}")))
        .header(CSRF, "1")
        .header("cookie", format!("colloquy-account={session}"));
    if method != Method::GET {
        req = req.header("origin", own_origin(app));
    }
    req
}

pub async fn account_json(app: &TestApp, path: &str, session: &str) -> Value {
    let r = account(app, Method::GET, path, session)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200, "{path}");
    r.json().await.unwrap()
}

/// Logs in to the account page with the dev provider; returns the account cookie's secret.
pub async fn dev_account_login(app: &TestApp, name: &str) -> String {
    let r = app.get("/account/login/dev").await;
    assert_eq!(r.status(), 302);
    let binding = cookie_value(&set_cookie(&r, "colloquy-login").expect("binding cookie"));
    let location = r.headers()["location"].to_str().unwrap().to_owned();
    let state = location
        .strip_prefix("/auth/dev/authorize?state=")
        .unwrap_or_else(|| panic!("unexpected redirect {location}"))
        .to_owned();
    let r = app
        .client
        .post(app.url("/auth/dev/callback"))
        .header("cookie", format!("colloquy-login={binding}"))
        .form(&[("state", state.as_str()), ("name", name)])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    assert_eq!(r.headers()["location"], "/account/");
    cookie_value(&set_cookie(&r, "colloquy-account").expect("account cookie"))
}

async fn post_on(app: &TestApp, site: &str, token: &str, body: &str) -> Value {
    let r = app
        .client
        .post(app.url(&format!("/api/v1/sites/{site}/comments")))
        .bearer_auth(token)
        .json(&json!({ "uri": "/p/", "body": body }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    r.json().await.unwrap()
}

/// A dev-login app with sites `blog` and `other` (origin https://other.example).
async fn two_blogs() -> TestApp {
    let app = dev_app(Policy::Post).await;
    app.create_site(SiteOpts {
        slug: "other",
        origins: vec!["https://other.example"],
        ..Default::default()
    })
    .await;
    sqlx::query("UPDATE sites SET providers = '{dev}'")
        .execute(&app.db)
        .await
        .unwrap();
    app
}

/// A blog login on `other` (the popup flow, origin https://other.example).
async fn other_login(app: &TestApp, name: &str) -> String {
    let r = app
        .get("/auth/dev/login?site=other&origin=https://other.example")
        .await;
    let location = r.headers()["location"].to_str().unwrap().to_owned();
    let state = location.strip_prefix("/auth/dev/authorize?state=").unwrap();
    let r = app
        .client
        .post(app.url("/auth/dev/callback"))
        .form(&[("state", state), ("name", name)])
        .send()
        .await
        .unwrap();
    let d = crate::helpers::reader::posted(&r.text().await.unwrap());
    assert_eq!(d["origin"], "https://other.example");
    d["message"]["token"].as_str().unwrap().to_owned()
}

async fn count(app: &TestApp, sql: &'static str) -> i64 {
    sqlx::query_scalar(sql).fetch_one(&app.db).await.unwrap()
}

#[tokio::test]
async fn a_blog_session_reaches_no_export_erase_or_linking_route() {
    let app = dev_app(Policy::Post).await;
    let token = blog_login(&app, "Ann").await;
    post_on(&app, "blog", &token, "mine").await;

    // The old /api/v1 spellings are gone: no handler answers them, whatever the token.
    for (method, path) in [
        (Method::GET, "/api/v1/me/export"),
        (Method::DELETE, "/api/v1/me"),
        (Method::DELETE, "/api/v1/me?comments=remove"),
        (Method::POST, "/api/v1/me/identities/dev"),
        (Method::POST, "/api/v1/me/identities/dev/confirm"),
        (Method::DELETE, "/api/v1/me/identities/dev"),
    ] {
        let r = app
            .client
            .request(method.clone(), app.url(path))
            .bearer_auth(&token)
            .header("origin", "https://blog.example")
            .json(&json!({ "site": "blog", "origin": "https://blog.example", "code": "x" }))
            .send()
            .await
            .unwrap();
        let status = r.status().as_u16();
        assert!(
            status == 404 || status == 405,
            "{method} {path} answered {status}"
        );
    }

    // The account API never takes a blog's token: not as a Bearer, not as the cookie.
    let identity: String = sqlx::query_scalar("SELECT id::text FROM identities")
        .fetch_one(&app.db)
        .await
        .unwrap();
    for (method, path) in [
        (Method::GET, "/me".to_owned()),
        (Method::GET, "/comments".to_owned()),
        (Method::GET, "/export".to_owned()),
        (Method::DELETE, "/me?confirm=erase".to_owned()),
        (
            Method::DELETE,
            "/me?comments=remove&confirm=erase".to_owned(),
        ),
        (Method::POST, "/links/dev".to_owned()),
        (Method::DELETE, format!("/identities/{identity}")),
        (Method::POST, "/logout".to_owned()),
    ] {
        let bearer = app
            .client
            .request(method.clone(), app.url(&format!("/account/api{path}")))
            .bearer_auth(&token)
            .header(CSRF, "1")
            .header("origin", own_origin(&app))
            .send()
            .await
            .unwrap();
        assert_error(bearer, 401, "unauthenticated").await;
        let as_cookie = account(&app, method.clone(), &path, &token)
            .send()
            .await
            .unwrap();
        assert_error(as_cookie, 401, "unauthenticated").await;
    }
    assert_eq!(count(&app, "SELECT count(*) FROM identities").await, 1);
    assert_eq!(
        count(
            &app,
            "SELECT count(*) FROM comments WHERE status = 'approved'"
        )
        .await,
        1
    );
    assert_eq!(
        count(&app, "SELECT count(*) FROM login_states").await,
        0,
        "no link attempt started"
    );
    // …and the token still works on its own blog.
    let r = app
        .client
        .get(app.url("/api/v1/me"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
}

#[tokio::test]
async fn an_account_session_is_never_a_bearer_token_of_the_public_api() {
    let app = dev_app(Policy::Post).await;
    let secret = dev_account_login(&app, "Ann").await;
    assert_eq!(account_json(&app, "/me", &secret).await["name"], "Ann");
    let bearer = |method: Method, path: &'static str| {
        app.client
            .request(method, app.url(path))
            .bearer_auth(&secret)
            .header("origin", "https://blog.example")
    };
    assert_error(
        bearer(Method::GET, "/api/v1/me").send().await.unwrap(),
        401,
        "unauthenticated",
    )
    .await;
    let r = bearer(Method::POST, "/api/v1/sites/blog/comments")
        .json(&json!({ "uri": "/p/", "body": "as the account" }))
        .send()
        .await
        .unwrap();
    assert_error(r, 401, "unauthenticated").await;
    assert_error(
        bearer(Method::POST, "/api/v1/logout").send().await.unwrap(),
        401,
        "unauthenticated",
    )
    .await;
    assert_eq!(app.comment_count().await, 0);
    let kind: String = sqlx::query_scalar("SELECT kind FROM sessions WHERE site_id IS NULL")
        .fetch_one(&app.db)
        .await
        .unwrap();
    assert_eq!(kind, "account");
}

#[tokio::test]
async fn account_requests_from_another_origin_are_refused() {
    let app = dev_app(Policy::Post).await;
    let secret = dev_account_login(&app, "Ann").await;
    let erase = || {
        app.client
            .delete(app.url("/account/api/me?confirm=erase"))
            .header("cookie", format!("colloquy-account={secret}"))
    };
    // A blog page's forged erase: a foreign Origin, no Origin, no custom header, cross-site.
    let cases = [
        erase()
            .header(CSRF, "1")
            .header("origin", "https://blog.example"),
        erase().header(CSRF, "1").header("origin", "null"),
        erase().header(CSRF, "1"),
        erase().header("origin", own_origin(&app)),
        erase()
            .header(CSRF, "1")
            .header("origin", own_origin(&app))
            .header("sec-fetch-site", "cross-site"),
        erase()
            .header(CSRF, "1")
            .header("origin", own_origin(&app))
            .header("sec-fetch-site", "same-site"),
    ];
    for req in cases {
        assert_error(req.send().await.unwrap(), 403, "cross_site_request").await;
    }
    // Reads too: the export can't be fetched by another page.
    let r = app
        .client
        .get(app.url("/account/api/export"))
        .header("cookie", format!("colloquy-account={secret}"))
        .send()
        .await
        .unwrap();
    assert_error(r, 403, "cross_site_request").await;
    let r = app
        .client
        .get(app.url("/account/api/export"))
        .header("cookie", format!("colloquy-account={secret}"))
        .header(CSRF, "1")
        .header("origin", "https://evil.example")
        .send()
        .await
        .unwrap();
    assert_error(r, 403, "cross_site_request").await;
    // No CORS on /account: a preflight is never granted.
    let r = app
        .client
        .request(Method::OPTIONS, app.url("/account/api/me"))
        .header("origin", "https://blog.example")
        .header("access-control-request-method", "DELETE")
        .header("access-control-request-headers", CSRF)
        .send()
        .await
        .unwrap();
    assert!(r.headers().get("access-control-allow-origin").is_none());
    assert_eq!(account_json(&app, "/me", &secret).await["name"], "Ann");

    // From the page itself (same origin), it works.
    let r = account(&app, Method::DELETE, "/me?confirm=erase", &secret)
        .header("sec-fetch-site", "same-origin")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 204);
}

#[tokio::test]
async fn the_account_login_sets_an_httponly_strict_cookie_and_posts_nothing() {
    let app = dev_app(Policy::Post).await;
    let r = app.get("/account/login/dev").await;
    assert_eq!(r.status(), 302);
    let binding = set_cookie(&r, "colloquy-login").unwrap();
    for attr in ["HttpOnly", "SameSite=Lax", "Path=/", "Max-Age=600"] {
        assert!(binding.contains(attr), "{binding}");
    }
    let location = r.headers()["location"].to_str().unwrap().to_owned();
    let state = location.strip_prefix("/auth/dev/authorize?state=").unwrap();
    let r = app
        .client
        .post(app.url("/auth/dev/callback"))
        .header(
            "cookie",
            format!("colloquy-login={}", cookie_value(&binding)),
        )
        .form(&[("state", state), ("name", "Ann")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    assert_eq!(r.headers()["location"], "/account/");
    let session = set_cookie(&r, "colloquy-account").unwrap();
    for attr in ["HttpOnly", "SameSite=Strict", "Path=/"] {
        assert!(session.contains(attr), "{session}");
    }
    assert!(!session.contains("Domain"), "host-only: {session}");
    let cleared = set_cookie(&r, "colloquy-login").unwrap();
    assert!(cleared.contains("Max-Age=0"), "{cleared}");
    let secret = cookie_value(&session);
    let body = r.text().await.unwrap();
    assert!(
        !body.contains("postMessage") && !body.contains(&secret),
        "{body}"
    );
    let (kind, site): (String, Option<uuid::Uuid>) =
        sqlx::query_as("SELECT kind, site_id FROM sessions")
            .fetch_one(&app.db)
            .await
            .unwrap();
    assert_eq!((kind.as_str(), site), ("account", None));

    // Finished without this browser's binding cookie (someone else's login URL, a login
    // CSRF): nothing opens, and the state is spent.
    let r = app.get("/account/login/dev").await;
    let location = r.headers()["location"].to_str().unwrap().to_owned();
    let state = location.strip_prefix("/auth/dev/authorize?state=").unwrap();
    for cookie in ["", "colloquy-login=someone-elses"] {
        let r = app
            .client
            .post(app.url("/auth/dev/callback"))
            .header("cookie", cookie)
            .form(&[("state", state), ("name", "Mallory")])
            .send()
            .await
            .unwrap();
        if r.status() == 303 {
            assert_eq!(r.headers()["location"], "/account/#error=invalid_state");
            assert!(set_cookie(&r, "colloquy-account").is_none());
        } else {
            // The replay: the state was spent by the first try; nothing is posted.
            assert_eq!(r.status(), 200);
            assert!(!r.text().await.unwrap().contains("var d = "));
        }
    }
    assert_eq!(count(&app, "SELECT count(*) FROM sessions").await, 1);
    assert_eq!(count(&app, "SELECT count(*) FROM users").await, 1);

    // A blog's popup attempt stays a blog login: it posts a site session to the blog and sets
    // no cookie, with or without a binding cookie in the browser.
    let r = app
        .get("/auth/dev/login?site=blog&origin=https://blog.example")
        .await;
    assert!(set_cookie(&r, "colloquy-login").is_none());
    let location = r.headers()["location"].to_str().unwrap().to_owned();
    let state = location.strip_prefix("/auth/dev/authorize?state=").unwrap();
    let r = app
        .client
        .post(app.url("/auth/dev/callback"))
        .header(
            "cookie",
            format!("colloquy-login={}", cookie_value(&binding)),
        )
        .form(&[("state", state), ("name", "Ann")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert!(set_cookie(&r, "colloquy-account").is_none());
    let d = crate::helpers::reader::posted(&r.text().await.unwrap());
    assert_eq!(d["origin"], "https://blog.example");
    assert_eq!(
        count(&app, "SELECT count(*) FROM sessions WHERE kind = 'site'").await,
        1
    );

    // Logging out ends the account session and clears the cookie.
    let r = account(&app, Method::POST, "/logout", &secret)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 204);
    assert!(
        set_cookie(&r, "colloquy-account")
            .unwrap()
            .contains("Max-Age=0")
    );
    let r = account(&app, Method::GET, "/me", &secret)
        .send()
        .await
        .unwrap();
    assert_error(r, 401, "unauthenticated").await;
}
