//! What one blog learns about a reader comes from that blog only, and unlinking a login on the
//! account page washes no ban off (review of issue 10's fix).
//!
//! A reader may hold several logins, linked on `/account/`, and use each on another blog. Blog
//! A's page (through the reader's token) and A's moderators must see the name, avatar and email
//! of the login used on A, never of one used on B; bans follow the person everywhere.

use colloquy::auth::moderators::Role;
use colloquy::domain::Policy;
use colloquy::sites::Site;
use reqwest::Method;
use serde_json::{Value, json};

use crate::account::{account, account_json, cookie_value, dev_account_login, set_cookie};
use crate::helpers::moderator::{add_moderator, get, json_of, login as mod_login};
use crate::helpers::{SiteOpts, TestApp, assert_error, spawn_app_with};

/// Sites `blog` (https://blog.example) and `other` (https://other.example), dev logins on both.
async fn two_blogs() -> (TestApp, Site, Site) {
    let app = spawn_app_with(|s| s.auth.dev_provider = true).await;
    let blog = app
        .create_site(SiteOpts {
            policy: Policy::Post,
            ..Default::default()
        })
        .await;
    let other = app
        .create_site(SiteOpts {
            slug: "other",
            origins: vec!["https://other.example"],
            policy: Policy::Post,
            ..Default::default()
        })
        .await;
    sqlx::query("UPDATE sites SET providers = '{dev}'")
        .execute(&app.db)
        .await
        .unwrap();
    (app, blog, other)
}

/// A blog popup login with the dev provider; the site session's token.
async fn blog_login(app: &TestApp, site: &str, origin: &str, name: &str, email: &str) -> String {
    let r = app
        .get(&format!("/auth/dev/login?site={site}&origin={origin}"))
        .await;
    assert_eq!(r.status(), 302);
    let location = r.headers()["location"].to_str().unwrap().to_owned();
    let state = location.strip_prefix("/auth/dev/authorize?state=").unwrap();
    let r = app
        .client
        .post(app.url("/auth/dev/callback"))
        .form(&[("state", state), ("name", name), ("email", email)])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let d = crate::helpers::reader::posted(&r.text().await.unwrap());
    assert_eq!(d["origin"], origin);
    d["message"]["token"].as_str().unwrap().to_owned()
}

/// Links the dev login `name` (with `email`) to the account page's user, as the page does.
async fn dev_link(app: &TestApp, secret: &str, name: &str, email: &str) {
    let r = account(app, Method::POST, "/links/dev", secret)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let binding = cookie_value(&set_cookie(&r, "colloquy-login").unwrap());
    let body: Value = r.json().await.unwrap();
    let url = body["url"].as_str().unwrap();
    let state = url.strip_prefix("/auth/dev/authorize?state=").unwrap();
    let r = app
        .client
        .post(app.url("/auth/dev/callback"))
        .header("cookie", format!("colloquy-login={binding}"))
        .form(&[("state", state), ("name", name), ("email", email)])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    assert_eq!(r.headers()["location"], "/account/#linked=dev");
}

async fn me(app: &TestApp, token: &str) -> Value {
    let r = app
        .client
        .get(app.url("/api/v1/me"))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    r.json().await.unwrap()
}

async fn post_on(app: &TestApp, site: &str, token: &str, body: &str) -> reqwest::Response {
    app.client
        .post(app.url(&format!("/api/v1/sites/{site}/comments")))
        .bearer_auth(token)
        .json(&json!({ "uri": "/p/", "body": body }))
        .send()
        .await
        .unwrap()
}

async fn posted_comment(app: &TestApp, site: &str, token: &str, body: &str) -> Value {
    let r = post_on(app, site, token, body).await;
    assert_eq!(r.status(), 201);
    let v: Value = r.json().await.unwrap();
    v["comment"].clone()
}

#[tokio::test]
async fn a_login_linked_and_used_on_another_blog_never_shows_on_this_one() {
    let (app, blog, other) = two_blogs().await;
    // Alice on blog A, as dev:alice, with her public address.
    let a_token = blog_login(
        &app,
        "blog",
        "https://blog.example",
        "alice",
        "alice@home.example",
    )
    .await;
    let first = posted_comment(&app, "blog", &a_token, "Hello A").await;
    let alice = first["author"]["id"].as_str().unwrap().to_owned();

    // On /account/ she links her work login, and uses it on blog B.
    let secret = dev_account_login(&app, "alice").await;
    assert_eq!(account_json(&app, "/me", &secret).await["id"], alice);
    dev_link(&app, &secret, "alice-work", "alice.private@work.example").await;
    let b_token = blog_login(
        &app,
        "other",
        "https://other.example",
        "alice-work",
        "alice.private@work.example",
    )
    .await;
    assert_eq!(me(&app, &b_token).await["id"], alice, "the same person");
    assert_eq!(me(&app, &b_token).await["name"], "alice-work");
    let on_b = posted_comment(&app, "other", &b_token, "Hello B").await;
    assert_eq!(on_b["author"]["name"], "alice-work");

    // Blog A's page, through her A token, still sees only what she showed A.
    let a_me = me(&app, &a_token).await;
    assert_eq!(a_me["name"], "alice", "{a_me}");
    assert!(!a_me.to_string().contains("work"), "{a_me}");
    let again = posted_comment(&app, "blog", &a_token, "Still me on A").await;
    assert_eq!(again["author"]["name"], "alice", "{again}");
    let thread = app.thread("blog", "uri=/p/").await;
    assert!(!thread.to_string().contains("alice-work"), "{thread}");

    // A's moderators see the name and email she used on A only.
    add_moderator(&app, "mod-a@example.com", &blog, Role::Moderator).await;
    let mod_a = mod_login(&app, "mod-a@example.com").await;
    let view = json_of(
        get(&app, &format!("/sites/blog/users/{alice}"), &mod_a).await,
        200,
    )
    .await;
    assert_eq!(view["name"], "alice", "{view}");
    assert_eq!(view["email"], "alice@home.example", "{view}");
    assert!(!view.to_string().contains("work.example"), "{view}");
    assert!(!view.to_string().contains("alice-work"), "{view}");

    // B's moderators see what she used on B.
    add_moderator(&app, "mod-b@example.com", &other, Role::Moderator).await;
    let mod_b = mod_login(&app, "mod-b@example.com").await;
    let view = json_of(
        get(&app, &format!("/sites/other/users/{alice}"), &mod_b).await,
        200,
    )
    .await;
    assert_eq!(view["name"], "alice-work", "{view}");
    assert_eq!(view["email"], "alice.private@work.example", "{view}");
    assert!(!view.to_string().contains("home.example"), "{view}");

    // And logging in on A again (through dev:alice) changes nothing of that either way.
    let a_token = blog_login(&app, "blog", "https://blog.example", "alice", "").await;
    assert_eq!(me(&app, &a_token).await["name"], "alice");
    assert_eq!(me(&app, &b_token).await["name"], "alice-work");
}

#[tokio::test]
async fn unlinking_a_banned_login_and_logging_in_with_it_again_keeps_the_ban() {
    let (app, _blog, _other) = two_blogs().await;
    let token = blog_login(&app, "blog", "https://blog.example", "eve", "").await;
    let eve = posted_comment(&app, "blog", &token, "trolling").await["author"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    sqlx::query(
        "INSERT INTO bans (id, site_id, kind, user_id, shadow)
         SELECT gen_random_uuid(), id, 'user', $1::uuid, false FROM sites WHERE slug = 'blog'",
    )
    .bind(&eve)
    .execute(&app.db)
    .await
    .unwrap();
    assert_error(post_on(&app, "blog", &token, "again").await, 403, "banned").await;

    // On /account/ she links another login and unlinks the banned one.
    let secret = dev_account_login(&app, "eve").await;
    dev_link(&app, &secret, "eve-alt", "").await;
    let original: String = sqlx::query_scalar(
        "SELECT id::text FROM identities WHERE provider = 'dev' AND subject = 'eve'",
    )
    .fetch_one(&app.db)
    .await
    .unwrap();
    let r = account(
        &app,
        Method::DELETE,
        &format!("/identities/{original}"),
        &secret,
    )
    .send()
    .await
    .unwrap();
    assert_eq!(r.status(), 204);

    // dev:eve now opens a fresh user: the ban came along with the login.
    let token = blog_login(&app, "blog", "https://blog.example", "eve", "").await;
    let fresh = me(&app, &token).await;
    assert_ne!(fresh["id"], eve.as_str(), "a new user");
    assert_error(
        post_on(&app, "blog", &token, "free again?").await,
        403,
        "banned",
    )
    .await;

    // And the person who kept the account is still banned too.
    let alt = blog_login(&app, "blog", "https://blog.example", "eve-alt", "").await;
    assert_eq!(me(&app, &alt).await["id"], eve.as_str());
    assert_error(
        post_on(&app, "blog", &alt, "me neither").await,
        403,
        "banned",
    )
    .await;
}

#[tokio::test]
async fn unlinking_without_a_ban_carries_nothing() {
    let (app, _blog, _other) = two_blogs().await;
    let token = blog_login(&app, "blog", "https://blog.example", "fay", "").await;
    posted_comment(&app, "blog", &token, "fine").await;
    let secret = dev_account_login(&app, "fay").await;
    dev_link(&app, &secret, "fay-alt", "").await;
    let original: String = sqlx::query_scalar(
        "SELECT id::text FROM identities WHERE provider = 'dev' AND subject = 'fay'",
    )
    .fetch_one(&app.db)
    .await
    .unwrap();
    let r = account(
        &app,
        Method::DELETE,
        &format!("/identities/{original}"),
        &secret,
    )
    .send()
    .await
    .unwrap();
    assert_eq!(r.status(), 204);
    let token = blog_login(&app, "blog", "https://blog.example", "fay", "").await;
    assert_eq!(post_on(&app, "blog", &token, "hello").await.status(), 201);
    let kept: i64 = sqlx::query_scalar("SELECT count(*) FROM erased_identity_bans")
        .fetch_one(&app.db)
        .await
        .unwrap();
    assert_eq!(kept, 0);
}
