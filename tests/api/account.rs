//! The account page (`/account/`) and the line between it and a blog's session (issue 10,
//! point 2): a token a blog page holds reaches that blog only; export, erase and linking need
//! the account page's own session, a cookie on Colloquy's origin that no page is ever handed.

use reqwest::{Method, RequestBuilder, Response};
use serde_json::{Value, json};

use crate::auth::{dev_app, login as blog_login};
use crate::helpers::{SiteOpts, TestApp, assert_error};
use colloquy::domain::Policy;

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
    let d = crate::auth::posted(&r.text().await.unwrap());
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
    let d = crate::auth::posted(&r.text().await.unwrap());
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

#[tokio::test]
async fn the_page_lists_comments_from_every_blog_as_their_author_sees_them() {
    let app = two_blogs().await;
    let on_blog = blog_login(&app, "Ann").await;
    let on_other = other_login(&app, "Ann").await;
    for i in 0..3 {
        post_on(&app, "blog", &on_blog, &format!("blog words {i}")).await;
    }
    post_on(&app, "other", &on_other, "other words").await;
    // Someone else's comment is never listed.
    let bob = blog_login(&app, "Bob").await;
    post_on(&app, "blog", &bob, "bob's words").await;

    let secret = dev_account_login(&app, "Ann").await;
    let page = account_json(&app, "/comments?limit=3", &secret).await;
    let items = page["items"].as_array().unwrap();
    assert_eq!(items.len(), 3);
    assert_eq!(items[0]["site"], "other", "newest first");
    assert_eq!(items[0]["site_name"], "The other blog");
    assert_eq!(items[0]["uri"], "/p/");
    assert_eq!(items[0]["url"], "https://other.example/p/");
    assert_eq!(items[0]["status"], "approved");
    assert!(items[0]["html"].as_str().unwrap().contains("other words"));
    let cursor = page["next_cursor"].as_str().unwrap();
    let rest = account_json(&app, &format!("/comments?limit=3&cursor={cursor}"), &secret).await;
    assert_eq!(rest["items"].as_array().unwrap().len(), 1);
    assert!(rest["next_cursor"].is_null());
    let all = format!("{page}{rest}");
    assert!(all.contains("blog words 0") && !all.contains("bob's words"));
    for bad in ["/comments?limit=0", "/comments?cursor=%%%"] {
        let r = account(&app, Method::GET, bad, &secret)
            .send()
            .await
            .unwrap();
        assert_error(r, 400, "validation_failed").await;
    }

    // A blog's appeals list shows that blog's appeals only (it used to list every blog's).
    let appeal = |token: String, id: String| {
        let app = &app;
        async move {
            app.set_status(&id, "rejected").await;
            let r = app
                .client
                .post(app.url(&format!("/api/v1/comments/{id}/appeal")))
                .bearer_auth(token)
                .json(&json!({ "message": "please" }))
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), 201, "{}", r.text().await.unwrap());
        }
    };
    let blog_one = page["items"][1]["id"].as_str().unwrap().to_owned();
    let other_one = page["items"][0]["id"].as_str().unwrap().to_owned();
    appeal(on_blog.clone(), blog_one.clone()).await;
    appeal(on_other.clone(), other_one.clone()).await;
    for (token, id) in [(&on_blog, &blog_one), (&on_other, &other_one)] {
        let r = app
            .client
            .get(app.url("/api/v1/me/appeals"))
            .bearer_auth(token)
            .send()
            .await
            .unwrap();
        let list: Value = r.json().await.unwrap();
        let items = list["items"].as_array().unwrap();
        assert_eq!(items.len(), 1, "{list}");
        assert_eq!(items[0]["comment_id"], id.as_str());
    }
}

/// Point 8a: a shadow-banned author sees their comments as published everywhere they can look
/// — the widget, the account page and their export — while moderators see spam.
#[tokio::test]
async fn a_shadow_banned_authors_export_and_page_show_what_the_author_sees() {
    use colloquy::auth::moderators::Role;

    use crate::moderators::{add_moderator, json_of, login as mod_login, post};
    let app = dev_app(Policy::Post).await;
    let site = colloquy::sites::store::find_by_slug(&app.db, "blog")
        .await
        .unwrap()
        .unwrap();
    let token = blog_login(&app, "Ann").await;
    // Known to the site (a ban names a commenter of the site).
    post_on(&app, "blog", &token, "before the ban").await;
    let me: Value = app
        .client
        .get(app.url("/api/v1/me"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    add_moderator(&app, "mod@example.com", &site, Role::Moderator).await;
    let mod_token = mod_login(&app, "mod@example.com").await;
    json_of(
        post(
            &app,
            "/sites/blog/bans",
            &mod_token,
            json!({ "user_id": me["id"], "shadow": true, "reason": "quietly" }),
        )
        .await,
        201,
    )
    .await;
    let posted = post_on(&app, "blog", &token, "quiet words").await;
    assert_eq!(posted["status"], "approved", "the widget's view");
    let id = posted["comment"]["id"].as_str().unwrap();
    let stored: String = sqlx::query_scalar("SELECT status FROM comments WHERE id = $1::uuid")
        .bind(id)
        .fetch_one(&app.db)
        .await
        .unwrap();
    assert_eq!(stored, "spam");

    let secret = dev_account_login(&app, "Ann").await;
    let r = account(&app, Method::GET, "/export", &secret)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let text = r.text().await.unwrap();
    let x: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(x["comments"][1]["id"], id);
    assert_eq!(x["comments"][1]["status"], "approved", "{text}");
    assert!(!text.contains("spam") && !text.contains("shadow"), "{text}");
    let page = account_json(&app, "/comments", &secret).await;
    assert_eq!(page["items"][0]["id"], id);
    assert_eq!(page["items"][0]["status"], "approved");
    assert!(!page.to_string().contains("spam"));
}

#[tokio::test]
async fn the_last_login_is_never_unlinked() {
    let app = dev_app(Policy::Post).await;
    let secret = dev_account_login(&app, "Ann").await;
    let me = account_json(&app, "/me", &secret).await;
    let ids = me["identities"].as_array().unwrap();
    assert_eq!(ids.len(), 1);
    let id = ids[0]["id"].as_str().unwrap();
    let r = account(&app, Method::DELETE, &format!("/identities/{id}"), &secret)
        .send()
        .await
        .unwrap();
    assert_error(r, 409, "last_identity").await;
    assert_eq!(count(&app, "SELECT count(*) FROM identities").await, 1);
    for other in ["00000000-0000-0000-0000-000000000000", "nope"] {
        let r = account(
            &app,
            Method::DELETE,
            &format!("/identities/{other}"),
            &secret,
        )
        .send()
        .await
        .unwrap();
        assert_error(r, 404, "not_found").await;
    }
}

#[tokio::test]
async fn the_page_and_its_files_are_served_under_a_strict_csp() {
    let app = dev_app(Policy::Post).await;
    let r = app.get("/account").await;
    assert_eq!(r.status(), 308);
    assert_eq!(r.headers()["location"], "/account/");
    let r = app.get("/account/").await;
    assert_eq!(r.status(), 200);
    let csp = r.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(csp.contains("script-src 'self';"), "{csp}");
    assert!(csp.contains("frame-ancestors 'none'"), "{csp}");
    assert!(!csp.contains("unsafe-inline"), "{csp}");
    let html = r.text().await.unwrap();
    assert!(html.contains("<script src=\"/account/account.js?v="));
    assert!(!html.contains("<script>"), "no inline script");
    assert!(!html.contains("https://"), "nothing from another origin");
    for (asset, ct) in [
        ("account.js", "text/javascript"),
        ("account.css", "text/css"),
    ] {
        let r = app.get(&format!("/account/{asset}")).await;
        assert_eq!(r.status(), 200);
        assert!(
            r.headers()["content-type"]
                .to_str()
                .unwrap()
                .starts_with(ct)
        );
    }
    assert_error(app.get("/account/nope.js").await, 404, "not_found").await;
    let r = app
        .client
        .get(app.url("/account/api/providers"))
        .header(CSRF, "1")
        .send()
        .await
        .unwrap();
    assert_eq!(
        r.json::<Value>().await.unwrap()["providers"],
        json!(["dev"])
    );
    // An unknown provider goes back to the page with a code.
    let r = app.get("/account/login/facebook").await;
    assert_eq!(r.status(), 303);
    assert_eq!(
        r.headers()["location"],
        "/account/#error=provider_unavailable"
    );
}
