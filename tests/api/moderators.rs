//! Moderator accounts over real HTTP: password login (argon2id), throttling, logout, API tokens,
//! per-site visibility, the team an owner manages, and `colloquy moderator create`.

use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use colloquy::app::Application;
use colloquy::auth::moderators::password::{self, NewPassword};
use colloquy::auth::moderators::store::{self, CreateAccountError};
use colloquy::auth::moderators::{Role, SiteScope};
use colloquy::sites::Site;
use reqwest::Response;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::helpers::{
    DropDb, SiteOpts, TestApp, assert_error, http_client, pg_base, spawn_app, spawn_app_with,
    test_settings, wait_ready,
};

mod invitations;

pub(crate) const PASSWORD: &str = "correct horse battery staple";
const HASH_PREFIX: &str = "$argon2id$v=19$m=19456,t=2,p=1$";

/// Gives `email` (created with PASSWORD if new) a role on `site`, as the CLI would.
pub(crate) async fn add_moderator(app: &TestApp, email: &str, site: &Site, role: Role) -> Uuid {
    let mut conn = app.db.acquire().await.unwrap();
    let id = match store::find_id_by_email(&mut conn, email).await.unwrap() {
        Some(id) => id,
        None => {
            let pw = NewPassword::parse(PASSWORD.to_owned()).unwrap();
            let hash = password::hash(pw).await.unwrap();
            match store::create_account(&mut conn, email, &hash).await {
                Ok(id) => id,
                Err(CreateAccountError::EmailTaken) => panic!("taken"),
                Err(CreateAccountError::Db(e)) => panic!("{e}"),
            }
        }
    };
    store::put_member(
        &mut conn,
        &SiteScope::operator(site.id, &site.slug),
        id,
        role,
    )
    .await
    .unwrap();
    id
}

pub(crate) async fn site(app: &TestApp, slug: &'static str) -> Site {
    app.create_site(SiteOpts {
        slug,
        ..Default::default()
    })
    .await
}

/// An app that believes X-Forwarded-For from the test client, so tests can pick the client IP.
pub(crate) async fn proxied_app() -> TestApp {
    spawn_app_with(|s| s.server.trusted_proxies = vec!["127.0.0.1/32".parse().unwrap()]).await
}

pub(crate) async fn login_from(
    app: &TestApp,
    email: &str,
    password: &str,
    ip: Option<&str>,
) -> Response {
    let mut req = app
        .client
        .post(app.url("/api/mod/v1/login"))
        .json(&json!({ "email": email, "password": password }));
    if let Some(ip) = ip {
        req = req.header("X-Forwarded-For", ip);
    }
    req.send().await.unwrap()
}

pub(crate) async fn login(app: &TestApp, email: &str) -> String {
    let r = login_from(app, email, PASSWORD, None).await;
    assert_eq!(r.status(), 200);
    let body: Value = r.json().await.unwrap();
    body["token"].as_str().unwrap().to_owned()
}

pub(crate) async fn call(
    app: &TestApp,
    method: reqwest::Method,
    path: &str,
    token: &str,
    body: Option<Value>,
) -> Response {
    let mut req = app
        .client
        .request(method, app.url(&format!("/api/mod/v1{path}")))
        .bearer_auth(token);
    if let Some(b) = body {
        req = req.json(&b);
    }
    req.send().await.unwrap()
}

pub(crate) async fn get(app: &TestApp, path: &str, token: &str) -> Response {
    call(app, reqwest::Method::GET, path, token, None).await
}

pub(crate) async fn post(app: &TestApp, path: &str, token: &str, body: Value) -> Response {
    call(app, reqwest::Method::POST, path, token, Some(body)).await
}

pub(crate) async fn patch(app: &TestApp, path: &str, token: &str, body: Value) -> Response {
    call(app, reqwest::Method::PATCH, path, token, Some(body)).await
}

/// `POST /invitations/accept`, with a moderator session when given.
pub(crate) async fn accept(app: &TestApp, body: Value, session: Option<&str>) -> Response {
    accept_from(app, body, session, None).await
}

pub(crate) async fn accept_from(
    app: &TestApp,
    body: Value,
    session: Option<&str>,
    ip: Option<&str>,
) -> Response {
    let mut req = app
        .client
        .post(app.url("/api/mod/v1/invitations/accept"))
        .json(&body);
    if let Some(s) = session {
        req = req.bearer_auth(s);
    }
    if let Some(ip) = ip {
        req = req.header("X-Forwarded-For", ip);
    }
    req.send().await.unwrap()
}

pub(crate) async fn member_id(app: &TestApp, email: &str) -> Uuid {
    let mut conn = app.db.acquire().await.unwrap();
    store::find_id_by_email(&mut conn, email)
        .await
        .unwrap()
        .unwrap()
}

pub(crate) async fn delete(app: &TestApp, path: &str, token: &str) -> Response {
    call(app, reqwest::Method::DELETE, path, token, None).await
}

pub(crate) async fn json_of(r: Response, status: u16) -> Value {
    assert_eq!(r.status().as_u16(), status, "unexpected status");
    r.json().await.unwrap()
}

async fn failures(app: &TestApp) -> i64 {
    sqlx::query_scalar("SELECT count(*) FROM login_failures")
        .fetch_one(&app.db)
        .await
        .unwrap()
}

// ---------------------------------------------------------------------------------------------
// Login

#[tokio::test]
async fn login_answers_a_session_token_and_the_moderators_roles() {
    let app = spawn_app().await;
    let blog = site(&app, "blog").await;
    let other = site(&app, "other").await;
    let id = add_moderator(&app, "ann@example.com", &blog, Role::Owner).await;
    add_moderator(&app, "ann@example.com", &other, Role::Moderator).await;

    // Emails are matched case-insensitively.
    let r = login_from(&app, "Ann@EXAMPLE.com", PASSWORD, None).await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["cache-control"], "no-store");
    let body: Value = r.json().await.unwrap();
    let token = body["token"].as_str().unwrap();
    assert_eq!(token.len(), 43, "256 bits, base64url");
    assert!(body["expires_at"].is_string());
    assert_eq!(
        body["moderator"],
        json!({
            "id": id.to_string(),
            "email": "ann@example.com",
            "roles": [{ "site": "blog", "role": "owner" }, { "site": "other", "role": "moderator" }],
        })
    );
    assert!(!body.to_string().contains(PASSWORD));

    let (hash, stored_token): (String, Vec<u8>) = sqlx::query_as(
        "SELECT m.password_hash, s.token_hash FROM moderators m JOIN moderator_sessions s ON s.moderator_id = m.id",
    )
    .fetch_one(&app.db)
    .await
    .unwrap();
    assert!(hash.starts_with(HASH_PREFIX), "{hash}");
    assert_eq!(
        stored_token.len(),
        32,
        "only the SHA-256 of the token is stored"
    );
    assert!(!body.to_string().contains(&hash));

    let sites = json_of(get(&app, "/sites", token).await, 200).await;
    let slugs: Vec<&str> = sites["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["slug"].as_str().unwrap())
        .collect();
    assert_eq!(slugs, ["blog", "other"]);
    assert_eq!(sites["next_cursor"], Value::Null);
}

#[tokio::test]
async fn unknown_email_and_wrong_password_answer_alike() {
    let app = spawn_app().await;
    let blog = site(&app, "blog").await;
    add_moderator(&app, "ann@example.com", &blog, Role::Owner).await;

    let wrong = login_from(&app, "ann@example.com", "not the password", None).await;
    let started = Instant::now();
    let unknown = login_from(&app, "nobody@example.com", "not the password", None).await;
    let unknown_took = started.elapsed();
    assert_eq!(wrong.status(), 401);
    assert_eq!(unknown.status(), 401);
    let wrong: Value = wrong.json().await.unwrap();
    let unknown: Value = unknown.json().await.unwrap();
    assert_eq!(wrong, unknown, "the two refusals must be indistinguishable");
    assert_eq!(wrong["error"]["code"], "unauthenticated");
    // Not a timing comparison (that belongs to benchmarks): just proof the unknown email was
    // run through argon2 (the dummy hash) rather than refused at once.
    assert!(
        unknown_took >= Duration::from_millis(5),
        "unknown email answered in {unknown_took:?}: no dummy verification?"
    );
    let sessions: i64 = sqlx::query_scalar("SELECT count(*) FROM moderator_sessions")
        .fetch_one(&app.db)
        .await
        .unwrap();
    assert_eq!(sessions, 0);
}

#[tokio::test]
async fn malformed_logins_are_400_and_wrong_methods_405() {
    let app = spawn_app().await;
    let send = |body: Value| {
        app.client
            .post(app.url("/api/mod/v1/login"))
            .json(&body)
            .send()
    };
    let r = send(json!({ "password": PASSWORD })).await.unwrap();
    let body = assert_error(r, 400, "validation_failed").await;
    assert!(body["error"]["details"]["email"].is_string(), "{body}");
    let r = send(json!({ "email": "ann@example.com" })).await.unwrap();
    let body = assert_error(r, 400, "validation_failed").await;
    assert!(body["error"]["details"]["password"].is_string(), "{body}");
    let r = send(json!({ "email": "not an email", "password": PASSWORD }))
        .await
        .unwrap();
    assert_error(r, 400, "validation_failed").await;
    let r = send(json!({ "email": "a@b.co", "password": PASSWORD, "admin": true }))
        .await
        .unwrap();
    assert_error(r, 400, "validation_failed").await;
    let r = send(json!({ "email": "a@b.co", "password": "x".repeat(5000) }))
        .await
        .unwrap();
    assert_error(r, 400, "validation_failed").await;
    assert_eq!(
        failures(&app).await,
        0,
        "bad requests aren't login attempts"
    );

    let r = app.get("/api/mod/v1/login").await;
    assert_eq!(r.headers()["allow"], "POST");
    assert_error(r, 405, "method_not_allowed").await;
    let r = app
        .client
        .post(app.url("/api/mod/v1/sites"))
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.headers()["allow"], "GET, HEAD");
    assert_error(r, 405, "method_not_allowed").await;
    assert_error(app.get("/api/mod/v1/nope").await, 404, "not_found").await;
}

// ---------------------------------------------------------------------------------------------
// Throttling

pub(crate) async fn assert_throttled(r: Response) -> u64 {
    let retry: u64 = r
        .headers()
        .get("retry-after")
        .expect("Retry-After")
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=900).contains(&retry), "Retry-After {retry}");
    assert_error(r, 429, "rate_limited").await;
    retry
}

#[tokio::test]
async fn a_strangers_failures_from_one_address_do_not_stop_the_owner_at_another() {
    let app = proxied_app().await;
    let blog = site(&app, "blog").await;
    add_moderator(&app, "ann@example.com", &blog, Role::Owner).await;

    // A stranger guesses from X...
    for _ in 1..=5 {
        let r = login_from(&app, "ann@example.com", "guess", Some("198.51.100.7")).await;
        assert_error(r, 401, "unauthenticated").await;
    }
    // ...and is stopped there, even with the right password (no oracle past the limit).
    let r = login_from(&app, "ann@example.com", PASSWORD, Some("198.51.100.7")).await;
    let retry = assert_throttled(r).await;
    assert!(retry > 800, "the window just started: {retry}");
    // Email matching is case-insensitive for the counter too.
    let r = login_from(&app, "ANN@example.com", PASSWORD, Some("198.51.100.7")).await;
    assert_throttled(r).await;
    // The owner at Y, with no failures of their own, logs in.
    let r = login_from(&app, "ann@example.com", PASSWORD, Some("203.0.113.5")).await;
    assert_eq!(r.status(), 200);
    // The stranger's count stands: the owner's success forgives only Y's failures.
    let r = login_from(&app, "ann@example.com", "guess", Some("198.51.100.7")).await;
    assert_throttled(r).await;
    // Another account from X is not affected.
    add_moderator(&app, "bob@example.com", &blog, Role::Moderator).await;
    let r = login_from(&app, "bob@example.com", PASSWORD, Some("198.51.100.7")).await;
    assert_eq!(r.status(), 200);

    // Unknown emails are counted the same way, so a 429 doesn't reveal an account either.
    for _ in 0..5 {
        let r = login_from(&app, "ghost@example.com", "guess", Some("203.0.113.1")).await;
        assert_error(r, 401, "unauthenticated").await;
    }
    let r = login_from(&app, "ghost@example.com", "guess", Some("203.0.113.1")).await;
    assert_throttled(r).await;
}

#[tokio::test]
async fn an_ipv6_neighbour_in_the_same_64_counts_as_the_same_address() {
    let app = proxied_app().await;
    let blog = site(&app, "blog").await;
    add_moderator(&app, "ann@example.com", &blog, Role::Owner).await;
    // Five hosts of one /64 (one attacker rotating interface ids) share one counter.
    for i in 1..=5 {
        let ip = format!("2001:db8:1:2::{i:x}");
        let r = login_from(&app, "ann@example.com", "guess", Some(&ip)).await;
        assert_error(r, 401, "unauthenticated").await;
    }
    let r = login_from(
        &app,
        "ann@example.com",
        PASSWORD,
        Some("2001:db8:1:2:ffff:ffff:ffff:9"),
    )
    .await;
    assert_throttled(r).await;
    // The next /64 over is somebody else.
    let r = login_from(&app, "ann@example.com", PASSWORD, Some("2001:db8:1:3::1")).await;
    assert_eq!(r.status(), 200);
}

#[tokio::test]
async fn spraying_many_emails_from_one_address_is_throttled() {
    let app = proxied_app().await;
    let blog = site(&app, "blog").await;
    add_moderator(&app, "ann@example.com", &blog, Role::Owner).await;
    let per_ip = app.settings.auth.login_max_failures_per_ip;
    assert!(per_ip > app.settings.auth.login_max_failures_per_email_ip);

    // One password tried on many accounts: each email sees a single failure.
    for i in 1..=per_ip {
        let r = login_from(
            &app,
            &format!("user{i}@example.com"),
            "Summer2026!",
            Some("192.0.2.9"),
        )
        .await;
        assert_error(r, 401, "unauthenticated").await;
    }
    let r = login_from(&app, "fresh@example.com", "Summer2026!", Some("192.0.2.9")).await;
    assert_throttled(r).await;
    let r = login_from(&app, "ann@example.com", PASSWORD, Some("192.0.2.9")).await;
    assert_throttled(r).await;
    // The same account from elsewhere logs in fine.
    let r = login_from(&app, "ann@example.com", PASSWORD, Some("192.0.2.10")).await;
    assert_eq!(r.status(), 200);
    // The tables keep digests, never an email or an address.
    let stored: Vec<(Vec<u8>, Option<Vec<u8>>)> =
        sqlx::query_as("SELECT email_hash, ip_hash FROM login_failures")
            .fetch_all(&app.db)
            .await
            .unwrap();
    assert_eq!(stored.len(), per_ip as usize);
    for (email, ip) in stored {
        assert_eq!(email.len(), 32);
        assert_eq!(ip.map(|h| h.len()), Some(32));
    }
    let known: Vec<(Vec<u8>, Vec<u8>)> =
        sqlx::query_as("SELECT email_hash, ip_hash FROM login_known_addresses")
            .fetch_all(&app.db)
            .await
            .unwrap();
    assert_eq!(known.len(), 1);
    assert_eq!((known[0].0.len(), known[0].1.len()), (32, 32));
}

#[tokio::test]
async fn distributed_guessing_backs_off_but_never_locks_out_the_owner_where_they_log_in() {
    let app = spawn_app_with(|s| {
        s.server.trusted_proxies = vec!["127.0.0.1/32".parse().unwrap()];
        s.auth.login_email_backoff_after = 10;
        s.auth.login_email_backoff_max_s = 60;
    })
    .await;
    let blog = site(&app, "blog").await;
    add_moderator(&app, "ann@example.com", &blog, Role::Owner).await;
    // The owner's usual place.
    let r = login_from(&app, "ann@example.com", PASSWORD, Some("203.0.113.5")).await;
    assert_eq!(r.status(), 200);

    // A botnet: 13 addresses, one guess each, all under their own per-address limit. Past the
    // tenth, each guess waits out the backoff (here: time moves on between guesses).
    for i in 1..=13 {
        if i > 10 {
            let r = login_from(&app, "ann@example.com", "guess", Some("198.51.100.99")).await;
            assert_throttled(r).await;
            sqlx::query("UPDATE login_failures SET at = at - interval '60 seconds'")
                .execute(&app.db)
                .await
                .unwrap();
        }
        let r = login_from(
            &app,
            "ann@example.com",
            "guess",
            Some(&format!("198.51.100.{i}")),
        )
        .await;
        assert_error(r, 401, "unauthenticated").await;
    }
    // Past the email's ceiling a fresh address backs off: 2^(13-10) s after the latest failure.
    let r = login_from(&app, "ann@example.com", "guess", Some("198.51.100.99")).await;
    let retry = assert_throttled(r).await;
    assert!((7..=8).contains(&retry), "Retry-After {retry}");
    // Refused attempts are not counted, so hammering doesn't push the backoff further.
    for _ in 0..5 {
        let r = login_from(&app, "ann@example.com", "guess", Some("198.51.100.98")).await;
        assert_throttled(r).await;
    }
    assert_eq!(failures(&app).await, 13);
    // The owner where they logged in before gets in at once, even past the ceiling.
    let r = login_from(&app, "ann@example.com", PASSWORD, Some("203.0.113.5")).await;
    assert_eq!(r.status(), 200);
    // From a new place the owner waits out the backoff like everyone: no hard lock.
    let r = login_from(&app, "ann@example.com", PASSWORD, Some("192.0.2.77")).await;
    assert_throttled(r).await;
    sqlx::query("UPDATE login_failures SET at = at - interval '9 seconds'")
        .execute(&app.db)
        .await
        .unwrap();
    let r = login_from(&app, "ann@example.com", PASSWORD, Some("192.0.2.77")).await;
    assert_eq!(r.status(), 200);
}

#[tokio::test]
async fn throttling_is_a_window_that_refused_attempts_do_not_extend() {
    let app = proxied_app().await;
    let blog = site(&app, "blog").await;
    add_moderator(&app, "ann@example.com", &blog, Role::Owner).await;
    for _ in 0..5 {
        login_from(&app, "ann@example.com", "guess", Some("198.51.100.1")).await;
    }
    // An attacker hammering on doesn't push the end of the lock-out further away.
    for _ in 0..10 {
        let r = login_from(&app, "ann@example.com", "guess", Some("198.51.100.1")).await;
        assert_throttled(r).await;
    }
    assert_eq!(failures(&app).await, 5);

    // Once the failures are older than the window, the owner gets in.
    sqlx::query("UPDATE login_failures SET at = at - interval '901 seconds'")
        .execute(&app.db)
        .await
        .unwrap();
    let r = login_from(&app, "ann@example.com", PASSWORD, Some("198.51.100.2")).await;
    assert_eq!(r.status(), 200);

    // Part of the window gone: Retry-After counts down to when the oldest counted one expires.
    sqlx::query("DELETE FROM login_failures")
        .execute(&app.db)
        .await
        .unwrap();
    for _ in 0..5 {
        login_from(&app, "ann@example.com", "guess", Some("198.51.100.1")).await;
    }
    sqlx::query("UPDATE login_failures SET at = at - interval '600 seconds'")
        .execute(&app.db)
        .await
        .unwrap();
    let r = login_from(&app, "ann@example.com", "guess", Some("198.51.100.1")).await;
    let retry = assert_throttled(r).await;
    assert!((290..=301).contains(&retry), "Retry-After {retry}");
}

#[tokio::test]
async fn concurrent_guesses_cannot_slip_past_the_limit() {
    let app = proxied_app().await;
    let blog = site(&app, "blog").await;
    add_moderator(&app, "ann@example.com", &blog, Role::Owner).await;
    // Each attempt is recorded before its password is checked, so however the burst from one
    // address interleaves, no more than five guesses get as far as argon2.
    let burst = (0..12).map(|_| login_from(&app, "ann@example.com", "guess", Some("198.51.100.1")));
    let statuses: Vec<u16> = futures_util::future::join_all(burst)
        .await
        .iter()
        .map(|r| r.status().as_u16())
        .collect();
    let checked = statuses.iter().filter(|&&s| s == 401).count();
    let refused = statuses.iter().filter(|&&s| s == 429).count();
    assert_eq!(checked + refused, 12, "{statuses:?}");
    assert!(checked <= 5, "{checked} guesses were checked: {statuses:?}");
    assert_eq!(failures(&app).await, checked as i64);
}

#[tokio::test]
async fn a_success_forgives_its_own_ip_only() {
    let app = proxied_app().await;
    let blog = site(&app, "blog").await;
    add_moderator(&app, "ann@example.com", &blog, Role::Owner).await;

    // The owner mistypes twice, then gets it right: those failures are forgiven.
    for _ in 0..2 {
        login_from(&app, "ann@example.com", "typo", Some("198.51.100.1")).await;
    }
    let r = login_from(&app, "ann@example.com", PASSWORD, Some("198.51.100.1")).await;
    assert_eq!(r.status(), 200);
    assert_eq!(failures(&app).await, 0);

    // A guesser elsewhere fails four times; the owner's login doesn't reset the guesser's count.
    for _ in 0..4 {
        login_from(&app, "ann@example.com", "guess", Some("203.0.113.66")).await;
    }
    let r = login_from(&app, "ann@example.com", PASSWORD, Some("198.51.100.1")).await;
    assert_eq!(r.status(), 200);
    assert_eq!(failures(&app).await, 4);
    let r = login_from(&app, "ann@example.com", "guess", Some("203.0.113.66")).await;
    assert_error(r, 401, "unauthenticated").await;
    let r = login_from(&app, "ann@example.com", "guess", Some("203.0.113.66")).await;
    assert_throttled(r).await;
}

// ---------------------------------------------------------------------------------------------
// Sessions and tokens

#[tokio::test]
async fn missing_malformed_and_unknown_tokens_are_401() {
    let app = spawn_app().await;
    site(&app, "blog").await;
    assert_error(app.get("/api/mod/v1/sites").await, 401, "unauthenticated").await;
    for header in [
        "Basic YWxhZGRpbjpvcGVu",
        "Bearer ",
        "Bearer nope-not-a-token",
    ] {
        let r = app
            .client
            .get(app.url("/api/mod/v1/sites"))
            .header("Authorization", header)
            .send()
            .await
            .unwrap();
        assert_error(r, 401, "unauthenticated").await;
    }
}

#[tokio::test]
async fn logout_ends_the_session() {
    let app = spawn_app().await;
    let blog = site(&app, "blog").await;
    add_moderator(&app, "ann@example.com", &blog, Role::Owner).await;
    let token = login(&app, "ann@example.com").await;
    let other_session = login(&app, "ann@example.com").await;

    let r = post(&app, "/logout", &token, json!({})).await;
    assert_eq!(r.status(), 204);
    assert_error(get(&app, "/sites", &token).await, 401, "unauthenticated").await;
    assert_error(
        post(&app, "/logout", &token, json!({})).await,
        401,
        "unauthenticated",
    )
    .await;
    // Only that session ended.
    assert_eq!(get(&app, "/sites", &other_session).await.status(), 200);

    // Expired sessions are refused too.
    sqlx::query("UPDATE moderator_sessions SET expires_at = now() - interval '1 second'")
        .execute(&app.db)
        .await
        .unwrap();
    assert_error(
        get(&app, "/sites", &other_session).await,
        401,
        "unauthenticated",
    )
    .await;
}

#[tokio::test]
async fn api_tokens_are_shown_once_listed_without_secrets_and_revocable() {
    let app = spawn_app().await;
    let blog = site(&app, "blog").await;
    add_moderator(&app, "ann@example.com", &blog, Role::Owner).await;
    add_moderator(&app, "bob@example.com", &blog, Role::Moderator).await;
    let session = login(&app, "ann@example.com").await;

    let created = json_of(
        post(
            &app,
            "/tokens",
            &session,
            json!({ "name": "nightly export" }),
        )
        .await,
        201,
    )
    .await;
    let secret = created["token"].as_str().unwrap().to_owned();
    let id = created["id"].as_str().unwrap().to_owned();
    assert_eq!(secret.len(), 43);
    assert_eq!(created["name"], "nightly export");
    assert_eq!(created["last_used_at"], Value::Null);
    let stored: Vec<u8> = sqlx::query_scalar("SELECT token_hash FROM api_tokens")
        .fetch_one(&app.db)
        .await
        .unwrap();
    assert_ne!(stored, secret.as_bytes(), "only the hash is stored");

    // The token works as a Bearer credential.
    let sites = json_of(get(&app, "/sites", &secret).await, 200).await;
    assert_eq!(sites["items"][0]["slug"], "blog");
    let listed = json_of(get(&app, "/tokens", &session).await, 200).await;
    assert_eq!(listed["items"].as_array().unwrap().len(), 1);
    assert_eq!(listed["next_cursor"], Value::Null);
    let item = &listed["items"][0];
    assert_eq!(item["id"], id.as_str());
    assert!(item.get("token").is_none(), "never shown again: {item}");
    assert!(!listed.to_string().contains(&secret));
    assert!(item["last_used_at"].is_string(), "{item}");

    // Names are unique among live tokens; bad input is a 400.
    let r = post(
        &app,
        "/tokens",
        &session,
        json!({ "name": "nightly export" }),
    )
    .await;
    assert_error(r, 409, "conflict").await;
    let r = post(&app, "/tokens", &session, json!({ "name": "  " })).await;
    assert_error(r, 400, "validation_failed").await;
    let r = post(
        &app,
        "/tokens",
        &session,
        json!({ "name": "x", "expires_at": "2001-01-01T00:00:00Z" }),
    )
    .await;
    assert_error(r, 400, "validation_failed").await;
    // A token can't mint more tokens (a leaked one would outlive its revocation).
    let r = post(&app, "/tokens", &secret, json!({ "name": "child" })).await;
    assert_error(r, 403, "forbidden").await;
    // Nor "log out".
    let r = post(&app, "/logout", &secret, json!({})).await;
    assert_error(r, 403, "forbidden").await;

    // Someone else's token is not found, and stays valid.
    let bob = login(&app, "bob@example.com").await;
    assert_error(
        delete(&app, &format!("/tokens/{id}"), &bob).await,
        404,
        "not_found",
    )
    .await;
    let bobs = json_of(get(&app, "/tokens", &bob).await, 200).await;
    assert_eq!(bobs["items"], json!([]));
    assert_eq!(get(&app, "/sites", &secret).await.status(), 200);

    // Revoked: 204, then 401 wherever it is used, gone from the list, and a second revoke 404.
    assert_eq!(
        delete(&app, &format!("/tokens/{id}"), &session)
            .await
            .status(),
        204
    );
    assert_error(get(&app, "/sites", &secret).await, 401, "unauthenticated").await;
    let listed = json_of(get(&app, "/tokens", &session).await, 200).await;
    assert_eq!(listed["items"], json!([]));
    assert_error(
        delete(&app, &format!("/tokens/{id}"), &session).await,
        404,
        "not_found",
    )
    .await;
    assert_error(
        delete(&app, "/tokens/not-a-uuid", &session).await,
        404,
        "not_found",
    )
    .await;
    // The name is free again.
    let again = json_of(
        post(
            &app,
            "/tokens",
            &session,
            json!({ "name": "nightly export", "expires_at": "2099-01-01T00:00:00Z" }),
        )
        .await,
        201,
    )
    .await;
    let again_secret = again["token"].as_str().unwrap();
    assert_eq!(get(&app, "/sites", again_secret).await.status(), 200);
    sqlx::query("UPDATE api_tokens SET expires_at = now() - interval '1 second'")
        .execute(&app.db)
        .await
        .unwrap();
    assert_error(
        get(&app, "/sites", again_secret).await,
        401,
        "unauthenticated",
    )
    .await;
}

#[tokio::test]
async fn token_lists_are_keyset_paginated() {
    let app = spawn_app().await;
    let blog = site(&app, "blog").await;
    add_moderator(&app, "ann@example.com", &blog, Role::Owner).await;
    let session = login(&app, "ann@example.com").await;
    for i in 0..5 {
        let r = post(
            &app,
            "/tokens",
            &session,
            json!({ "name": format!("t{i}") }),
        )
        .await;
        assert_eq!(r.status(), 201);
    }
    let mut names = Vec::new();
    let mut path = "/tokens?limit=2".to_owned();
    loop {
        let page = json_of(get(&app, &path, &session).await, 200).await;
        for t in page["items"].as_array().unwrap() {
            names.push(t["name"].as_str().unwrap().to_owned());
        }
        match page["next_cursor"].as_str() {
            Some(c) => path = format!("/tokens?limit=2&cursor={c}"),
            None => break,
        }
    }
    assert_eq!(names, ["t0", "t1", "t2", "t3", "t4"]);
    for bad in ["/tokens?limit=0", "/tokens?limit=999", "/tokens?cursor=%%%"] {
        assert_error(get(&app, bad, &session).await, 400, "validation_failed").await;
    }
}

// ---------------------------------------------------------------------------------------------
// Sites and the team

#[tokio::test]
async fn a_moderator_sees_only_the_sites_they_hold_a_role_on() {
    let app = spawn_app().await;
    let a = site(&app, "site-a").await;
    let b = site(&app, "site-b").await;
    add_moderator(&app, "mod@example.com", &a, Role::Moderator).await;
    let owner_b = add_moderator(&app, "owner@example.com", &b, Role::Owner).await;
    let token = login(&app, "mod@example.com").await;

    let sites = json_of(get(&app, "/sites", &token).await, 200).await;
    assert_eq!(sites["items"].as_array().unwrap().len(), 1);
    let settings = json_of(get(&app, "/sites/site-a", &token).await, 200).await;
    assert_eq!(settings["slug"], "site-a");
    assert_eq!(settings["origins"], json!(["https://blog.example"]));
    assert_eq!(settings["role"], "moderator");
    assert_eq!(settings["policy"], "post");
    assert_eq!(sites["items"][0], settings);

    // Site B exists, but not for this moderator: the very answer an unknown site gets.
    let unknown = assert_error(
        get(&app, "/sites/no-such-site", &token).await,
        404,
        "not_found",
    )
    .await;
    let hidden = assert_error(get(&app, "/sites/site-b", &token).await, 404, "not_found").await;
    assert_eq!(hidden, unknown);
    let team = assert_error(
        get(&app, "/sites/site-b/moderators", &token).await,
        404,
        "not_found",
    )
    .await;
    assert_eq!(team, unknown);
    let r = post(
        &app,
        "/sites/site-b/moderators",
        &token,
        json!({ "email": "mod@example.com", "role": "owner" }),
    )
    .await;
    assert_error(r, 404, "not_found").await;
    let r = delete(&app, &format!("/sites/site-b/moderators/{owner_b}"), &token).await;
    assert_error(r, 404, "not_found").await;
    let roles: i64 = sqlx::query_scalar("SELECT count(*) FROM moderator_roles WHERE site_id = $1")
        .bind(b.id)
        .fetch_one(&app.db)
        .await
        .unwrap();
    assert_eq!(roles, 1, "site B's team is untouched");
}

#[tokio::test]
async fn only_owners_manage_the_team() {
    let app = spawn_app().await;
    let blog = site(&app, "blog").await;
    let elsewhere = site(&app, "elsewhere").await;
    let owner_id = add_moderator(&app, "owner@example.com", &blog, Role::Owner).await;
    add_moderator(&app, "mod@example.com", &blog, Role::Moderator).await;
    let carol_id = add_moderator(&app, "carol@example.com", &elsewhere, Role::Owner).await;
    let owner = login(&app, "owner@example.com").await;
    let moderator = login(&app, "mod@example.com").await;

    // A moderator of the site may not touch its team.
    assert_error(
        get(&app, "/sites/blog/moderators", &moderator).await,
        403,
        "forbidden",
    )
    .await;
    let r = post(
        &app,
        "/sites/blog/moderators",
        &moderator,
        json!({ "email": "mod@example.com", "role": "owner" }),
    )
    .await;
    assert_error(r, 403, "forbidden").await;
    let r = delete(
        &app,
        &format!("/sites/blog/moderators/{owner_id}"),
        &moderator,
    )
    .await;
    assert_error(r, 403, "forbidden").await;

    let team = json_of(get(&app, "/sites/blog/moderators", &owner).await, 200).await;
    let members: Vec<(String, String)> = team["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            (
                m["email"].as_str().unwrap().to_owned(),
                m["role"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert_eq!(
        members,
        [
            ("owner@example.com".to_owned(), "owner".to_owned()),
            ("mod@example.com".to_owned(), "moderator".to_owned())
        ]
    );

    // An owner never sets a password: the old "create with password" body is refused outright.
    let r = post(
        &app,
        "/sites/blog/moderators",
        &owner,
        json!({ "email": "New.Person@Example.com", "role": "moderator", "password": "a long enough password" }),
    )
    .await;
    assert_error(r, 400, "validation_failed").await;
    // Adding someone is an invitation; accepting it (with their own password) puts them on.
    let r = post(
        &app,
        "/sites/blog/moderators",
        &owner,
        json!({ "email": "New.Person@Example.com", "role": "moderator" }),
    )
    .await;
    let invited = json_of(r, 201).await;
    assert_eq!(invited["email"], "new.person@example.com");
    assert_eq!(invited["role"], "moderator");
    let r = accept(
        &app,
        json!({ "token": invited["token"], "new_password": "their own long password" }),
        None,
    )
    .await;
    assert_eq!(json_of(r, 200).await["account_created"], true);
    let r = login_from(
        &app,
        "new.person@example.com",
        "their own long password",
        None,
    )
    .await;
    assert_eq!(r.status(), 200);

    // An existing account (an owner elsewhere) joins only by logging in as itself.
    let r = post(
        &app,
        "/sites/blog/moderators",
        &owner,
        json!({ "email": "carol@example.com", "role": "moderator" }),
    )
    .await;
    let invited = json_of(r, 201).await;
    let carol_session = login(&app, "carol@example.com").await;
    let r = accept(
        &app,
        json!({ "token": invited["token"] }),
        Some(&carol_session),
    )
    .await;
    let accepted = json_of(r, 200).await;
    assert_eq!(accepted["moderator_id"], carol_id.to_string());
    assert_eq!(accepted["account_created"], false);
    assert_eq!(
        login_from(&app, "carol@example.com", PASSWORD, None)
            .await
            .status(),
        200
    );
    // A bad email or an unknown role.
    let r = post(
        &app,
        "/sites/blog/moderators",
        &owner,
        json!({ "email": "not an email", "role": "moderator" }),
    )
    .await;
    let body = assert_error(r, 400, "validation_failed").await;
    assert!(body["error"]["details"]["email"].is_string(), "{body}");
    let r = post(
        &app,
        "/sites/blog/moderators",
        &owner,
        json!({ "email": "carol@example.com", "role": "admin" }),
    )
    .await;
    let body = assert_error(r, 400, "validation_failed").await;
    assert!(body["error"]["details"]["role"].is_string(), "{body}");

    // Promote the moderator: 200, and the new role takes effect.
    let mod_id = member_id(&app, "mod@example.com").await;
    let r = patch(
        &app,
        &format!("/sites/blog/moderators/{mod_id}"),
        &owner,
        json!({ "role": "owner" }),
    )
    .await;
    let changed = json_of(r, 200).await;
    assert_eq!(changed["role"], "owner");
    assert_eq!(
        get(&app, "/sites/blog/moderators", &moderator)
            .await
            .status(),
        200
    );
    // A role change is for members only: anyone else is 404 (they join by invitation).
    let r = patch(
        &app,
        &format!("/sites/blog/moderators/{}", Uuid::now_v7()),
        &owner,
        json!({ "role": "owner" }),
    )
    .await;
    assert_error(r, 404, "not_found").await;

    // Removal: the removed member no longer sees the site; a second removal is 404.
    let r = delete(&app, &format!("/sites/blog/moderators/{carol_id}"), &owner).await;
    assert_eq!(r.status(), 204);
    let carol = login(&app, "carol@example.com").await;
    assert_error(get(&app, "/sites/blog", &carol).await, 404, "not_found").await;
    assert_eq!(get(&app, "/sites/elsewhere", &carol).await.status(), 200);
    let r = delete(&app, &format!("/sites/blog/moderators/{carol_id}"), &owner).await;
    assert_error(r, 404, "not_found").await;
}

#[tokio::test]
async fn the_last_owner_can_be_neither_removed_nor_demoted() {
    let app = spawn_app().await;
    let blog = site(&app, "blog").await;
    let owner_id = add_moderator(&app, "owner@example.com", &blog, Role::Owner).await;
    let owner = login(&app, "owner@example.com").await;

    let r = delete(&app, &format!("/sites/blog/moderators/{owner_id}"), &owner).await;
    assert_error(r, 409, "conflict").await;
    let r = patch(
        &app,
        &format!("/sites/blog/moderators/{owner_id}"),
        &owner,
        json!({ "role": "moderator" }),
    )
    .await;
    assert_error(r, 409, "conflict").await;
    // Re-stating the same role changes nothing and is fine.
    let r = patch(
        &app,
        &format!("/sites/blog/moderators/{owner_id}"),
        &owner,
        json!({ "role": "owner" }),
    )
    .await;
    assert_eq!(json_of(r, 200).await["role"], "owner");

    // With a second owner, the first may step down.
    let second_id = add_moderator(&app, "second@example.com", &blog, Role::Owner).await;
    let r = delete(&app, &format!("/sites/blog/moderators/{owner_id}"), &owner).await;
    assert_eq!(r.status(), 204);
    assert_error(get(&app, "/sites/blog", &owner).await, 404, "not_found").await;
    let second = login(&app, "second@example.com").await;
    let r = delete(
        &app,
        &format!("/sites/blog/moderators/{second_id}"),
        &second,
    )
    .await;
    assert_error(r, 409, "conflict").await;
}

// ---------------------------------------------------------------------------------------------
// The CLI, and what reaches the logs

pub(crate) fn colloquy(db_url: &str) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_colloquy"));
    cmd.current_dir(env!("CARGO_MANIFEST_DIR"))
        .env("COLLOQUY_ENV", "test")
        .env("COLLOQUY__DATABASE__URL", db_url)
        .stdin(Stdio::null());
    cmd
}

/// Runs `colloquy moderator create ARGS` with `stdin` piped in.
pub(crate) fn moderator_create(
    db_url: &str,
    args: &[&str],
    stdin: &str,
) -> (Output, String, String) {
    use std::io::Write;
    let mut child = colloquy(db_url)
        .args(["moderator", "create"])
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        // A refusal (or `--existing`) exits without reading stdin: the pipe may be closed by
        // then, and what the command answered is what the test checks.
        .or_else(|e| {
            if e.kind() == std::io::ErrorKind::BrokenPipe {
                Ok(())
            } else {
                Err(e)
            }
        })
        .unwrap();
    let out = child.wait_with_output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    (out, stdout, stderr)
}

#[tokio::test]
async fn moderator_create_reads_the_password_from_stdin_and_never_prints_it() {
    let name = format!("colloquy_t_{}", Uuid::new_v4().simple());
    let url = format!("{}/{name}", pg_base());
    let _drop = DropDb(name);
    let out = colloquy(&url)
        .args(["site", "create", "--slug", "blog", "--name", "Blog"])
        .args(["--origin", "https://blog.example"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    let help = colloquy(&url)
        .args(["moderator", "create", "--help"])
        .output()
        .unwrap();
    let help = String::from_utf8_lossy(&help.stdout).into_owned();
    for flag in ["--email", "--site", "--role"] {
        assert!(help.contains(flag), "{flag} missing:\n{help}");
    }

    let secret = "cli-chosen passphrase 42";
    let args = [
        "--email",
        "Owner@Example.com",
        "--site",
        "blog",
        "--role",
        "owner",
    ];
    let (out, stdout, stderr) = moderator_create(&url, &args, &format!("{secret}\n"));
    assert!(out.status.success(), "{stdout}\n{stderr}");
    assert!(stdout.contains("created moderator"), "{stdout}");
    assert!(stdout.contains("added to site blog as owner"), "{stdout}");

    let pool = sqlx::PgPool::connect(&url).await.unwrap();
    let (email, hash): (String, String) =
        sqlx::query_as("SELECT email, password_hash FROM moderators")
            .fetch_one(&pool)
            .await
            .unwrap();
    assert_eq!(email, "owner@example.com");
    assert!(hash.starts_with(HASH_PREFIX), "{hash}");

    // Existing account: refused, so a password typed for "a new account" can't silently end
    // up meaning a role for an account someone else holds the password of.
    let (out, stdout, stderr) = moderator_create(&url, &args, "some other password\n");
    assert!(!out.status.success(), "{stdout}");
    assert!(stderr.contains("exists already"), "{stderr}");
    assert!(stderr.contains("reset-password"), "{stderr}");
    assert!(stderr.contains("--existing"), "{stderr}");
    // With --existing the role is added or kept, the password left alone (stdin unused).
    let existing = [&args[..], &["--existing"]].concat();
    let (out, stdout, stderr) = moderator_create(&url, &existing, "some other password\n");
    assert!(out.status.success(), "{stderr}");
    assert!(stdout.contains("password unchanged"), "{stdout}");
    assert!(stdout.contains("already owner"), "{stdout}");
    let unchanged: String = sqlx::query_scalar("SELECT password_hash FROM moderators")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(unchanged, hash);
    // --existing for an email without an account creates nothing.
    let (out, _, stderr) = moderator_create(
        &url,
        &[
            "--email",
            "nobody@example.com",
            "--site",
            "blog",
            "--existing",
        ],
        "long enough password\n",
    );
    assert!(!out.status.success());
    assert!(stderr.contains("no account"), "{stderr}");
    // Demoting the only owner is refused here too.
    let (out, _, stderr) = moderator_create(
        &url,
        &[
            "--email",
            "owner@example.com",
            "--site",
            "blog",
            "--role",
            "moderator",
            "--existing",
        ],
        "",
    );
    assert!(!out.status.success());
    assert!(stderr.contains("only owner"), "{stderr}");

    // Refusals for a new account: empty or short password, unknown site, bad role.
    let new = ["--email", "new@example.com", "--site", "blog"];
    for (stdin, says) in [
        ("", "must not be empty"),
        ("\n", "must not be empty"),
        ("too short\n", "at least 12"),
    ] {
        let (out, stdout, stderr) = moderator_create(&url, &new, stdin);
        assert!(!out.status.success(), "{stdin:?} accepted: {stdout}");
        assert!(stderr.contains(says), "{stdin:?}: {stderr}");
        assert!(
            !stderr.contains("too short"),
            "the password is not echoed: {stderr}"
        );
    }
    let (out, _, stderr) = moderator_create(
        &url,
        &["--email", "new@example.com", "--site", "nope"],
        "long enough password\n",
    );
    assert!(!out.status.success());
    assert!(stderr.contains("no site"), "{stderr}");
    let (out, _, _) = moderator_create(
        &url,
        &[
            "--email",
            "new@example.com",
            "--site",
            "blog",
            "--role",
            "admin",
        ],
        "long enough password\n",
    );
    assert!(!out.status.success());
    let count: i64 = sqlx::query_scalar("SELECT count(*) FROM moderators")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(count, 1, "nothing was created by the refused commands");

    // The default role is the lesser one.
    let (out, stdout, stderr) = moderator_create(&url, &new, "long enough password\n");
    assert!(out.status.success(), "{stderr}");
    assert!(stdout.contains("as moderator"), "{stdout}");
    pool.close().await;

    // The account logs in over HTTP with the password typed into the CLI.
    let (mut settings, _) = test_settings();
    settings.database.url = url.clone();
    let app = Application::build(settings).await.unwrap();
    let base = format!("http://127.0.0.1:{}", app.port());
    let server = tokio::spawn(app.run());
    let client = http_client();
    wait_ready(&client, &base).await;
    let r = client
        .post(format!("{base}/api/mod/v1/login"))
        .json(&json!({ "email": "owner@example.com", "password": secret }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let body: Value = r.json().await.unwrap();
    assert_eq!(
        body["moderator"]["roles"],
        json!([{ "site": "blog", "role": "owner" }])
    );
    server.abort();
}

#[tokio::test]
async fn serve_logs_no_password_email_token_or_hash() {
    let name = format!("colloquy_t_{}", Uuid::new_v4().simple());
    let url = format!("{}/{name}", pg_base());
    let _drop = DropDb(name);
    let out = colloquy(&url)
        .args(["site", "create", "--slug", "blog", "--name", "Blog"])
        .args(["--origin", "https://blog.example"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    let email = "log-check.owner@example.org";
    let secret = "log-check passphrase 7f3a";
    let (out, stdout, stderr) = moderator_create(
        &url,
        &["--email", email, "--site", "blog", "--role", "owner"],
        &format!("{secret}\n"),
    );
    assert!(out.status.success(), "{stderr}");
    for text in [&stdout, &stderr] {
        assert!(!text.contains(secret), "password printed: {text}");
    }

    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let log_path =
        std::env::temp_dir().join(format!("colloquy-modlog-{}.txt", Uuid::new_v4().simple()));
    let log = std::fs::File::create(&log_path).unwrap();
    let mut child = colloquy(&url)
        .env("COLLOQUY__SERVER__PORT", port.to_string())
        .env("COLLOQUY__LOG__LEVEL", "debug")
        .env("COLLOQUY__LOG__FORMAT", "json")
        .arg("serve")
        .stdout(Stdio::null())
        .stderr(log)
        .spawn()
        .unwrap();
    let base = format!("http://127.0.0.1:{port}");
    let client = http_client();
    wait_ready(&client, &base).await;

    let login = |password: &'static str| {
        client
            .post(format!("{base}/api/mod/v1/login"))
            .json(&json!({ "email": email, "password": password }))
            .send()
    };
    assert_eq!(login("wrong-guess-9c1d").await.unwrap().status(), 401);
    let r = login("log-check passphrase 7f3a").await.unwrap();
    assert_eq!(r.status(), 200);
    let session: Value = r.json().await.unwrap();
    let session = session["token"].as_str().unwrap().to_owned();
    let r = client
        .post(format!("{base}/api/mod/v1/tokens"))
        .bearer_auth(&session)
        .json(&json!({ "name": "script" }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let api_token: Value = r.json().await.unwrap();
    let api_token = api_token["token"].as_str().unwrap().to_owned();
    let r = client
        .get(format!("{base}/api/mod/v1/sites"))
        .bearer_auth(&api_token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let pool = sqlx::PgPool::connect(&url).await.unwrap();
    let hash: String = sqlx::query_scalar("SELECT password_hash FROM moderators")
        .fetch_one(&pool)
        .await
        .unwrap();
    pool.close().await;

    let _ = child.kill();
    let _ = child.wait();
    tokio::time::sleep(Duration::from_millis(50)).await;
    let logged = std::fs::read_to_string(&log_path).unwrap();
    let _ = std::fs::remove_file(&log_path);
    assert!(logged.contains("moderator logged in"), "{logged}");
    let salt_and_hash = hash.rsplit('$').next().unwrap();
    for leak in [
        email,
        secret,
        "wrong-guess-9c1d",
        session.as_str(),
        api_token.as_str(),
        salt_and_hash,
    ] {
        assert!(
            !logged.contains(leak),
            "{leak} leaked into the log:\n{logged}"
        );
    }
}

#[tokio::test]
async fn an_api_token_cannot_change_the_team() {
    let app = spawn_app().await;
    let blog = site(&app, "blog").await;
    add_moderator(&app, "ann@example.com", &blog, Role::Owner).await;
    let session = login(&app, "ann@example.com").await;
    let created = json_of(
        post(&app, "/tokens", &session, json!({ "name": "ci" })).await,
        201,
    )
    .await;
    let token = created["token"].as_str().unwrap().to_owned();
    // A leaked token must not mint an owner account that outlives the token.
    let r = post(
        &app,
        "/sites/blog/moderators",
        &token,
        json!({ "email": "mallory@example.com", "role": "owner" }),
    )
    .await;
    let body = json_of(r, 403).await;
    assert_eq!(body["error"]["code"], "login_required");
    let invitations: i64 = sqlx::query_scalar("SELECT count(*) FROM moderator_invitations")
        .fetch_one(&app.db)
        .await
        .unwrap();
    assert_eq!(invitations, 0);
    let n: i64 = sqlx::query_scalar("SELECT count(*) FROM moderators")
        .fetch_one(&app.db)
        .await
        .unwrap();
    assert_eq!(n, 1);
}

/// Origins decide which pages receive readers' login tokens: a leaked API token can change a
/// site's name or policy but not add its own page (or a login provider); a login session can.
#[tokio::test]
async fn an_api_token_cant_change_origins_or_providers() {
    let app = spawn_app().await;
    let blog = site(&app, "blog").await;
    add_moderator(&app, "owner@example.com", &blog, Role::Owner).await;
    let session = login(&app, "owner@example.com").await;
    let api = json_of(
        post(&app, "/tokens", &session, json!({ "name": "script" })).await,
        201,
    )
    .await;
    let api = api["token"].as_str().unwrap().to_owned();
    for body in [
        json!({ "origins": ["https://blog.example", "https://evil.example"] }),
        json!({ "providers": ["dev"] }),
        json!({ "name": "Renamed", "origins": ["https://evil.example"] }),
    ] {
        let r = call(
            &app,
            reqwest::Method::PATCH,
            "/sites/blog",
            &api,
            Some(body),
        )
        .await;
        assert_error(r, 403, "login_required").await;
    }
    let (origins, name, providers): (Vec<String>, String, Vec<String>) =
        sqlx::query_as("SELECT origins, name, providers FROM sites WHERE slug = 'blog'")
            .fetch_one(&app.db)
            .await
            .unwrap();
    assert!(!origins.iter().any(|o| o.contains("evil")), "{origins:?}");
    assert_ne!(name, "Renamed");
    let r = call(
        &app,
        reqwest::Method::PATCH,
        "/sites/blog",
        &api,
        Some(json!({ "name": "Renamed" })),
    )
    .await;
    assert_eq!(r.status(), 200);
    // Writing back what is there (a script saving every setting) changes nothing: allowed.
    let r = call(
        &app,
        reqwest::Method::PATCH,
        "/sites/blog",
        &api,
        Some(json!({ "name": "Renamed again", "origins": origins, "providers": providers })),
    )
    .await;
    assert_eq!(r.status(), 200);
    let r = call(
        &app,
        reqwest::Method::PATCH,
        "/sites/blog",
        &session,
        Some(json!({ "origins": ["https://blog.example", "https://new.example"] })),
    )
    .await;
    assert_eq!(r.status(), 200);
}
