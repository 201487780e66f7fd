//! The popup login against local doubles of WordPress.com, X, Facebook and Google: the whole
//! flow over HTTP, the rows it creates, and every way it must fail while creating nothing.

use serde_json::{Value, json};

use crate::doubles::{CLIENT_SECRET, Double, Faults, Kind};
use crate::helpers::cli::{colloquy, fresh_db};
use crate::helpers::reader::posted;
use crate::helpers::{SiteOpts, TestApp, assert_error, spawn_app_with};

mod logs;
mod oidc;

const ALL: [Kind; 4] = [Kind::WordPress, Kind::Twitter, Kind::Facebook, Kind::Google];

async fn app_for(kind: Kind) -> (TestApp, Double) {
    let double = Double::start(kind).await;
    let app = spawn_app_with(|s| double.configure(s)).await;
    app.create_site(SiteOpts::default()).await;
    sqlx::query("UPDATE sites SET providers = ARRAY[$1]")
        .bind(kind.name())
        .execute(&app.db)
        .await
        .unwrap();
    (app, double)
}

async fn count(app: &TestApp, table: &str) -> i64 {
    sqlx::query_scalar(sqlx::AssertSqlSafe(format!("SELECT count(*) FROM {table}")))
        .fetch_one(&app.db)
        .await
        .unwrap()
}

/// `/auth/{p}/login` → the provider's authorize URL.
async fn start(app: &TestApp, kind: Kind) -> String {
    let r = app
        .get(&format!(
            "/auth/{}/login?site=blog&origin=https://blog.example",
            kind.name()
        ))
        .await;
    assert_eq!(r.status(), 302, "{}", r.text().await.unwrap());
    r.headers()["location"].to_str().unwrap().to_owned()
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

async fn callback(app: &TestApp, kind: Kind, query: &[(&str, &str)]) -> String {
    let r = app
        .client
        .get(app.url(&format!("/auth/{}/callback", kind.name())))
        .query(query)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let csp = r.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(csp.contains("default-src 'none'"), "{csp}");
    r.text().await.unwrap()
}

/// The whole popup flow; returns the message the popup posts.
async fn login(app: &TestApp, double: &Double) -> Value {
    let url = start(app, double.kind).await;
    let code = double.consent(&url);
    let state = state_of(&url);
    let page = callback(app, double.kind, &[("code", &code), ("state", &state)]).await;
    let d = posted(&page);
    assert_eq!(
        d["origin"], "https://blog.example",
        "posted to the site's origin only"
    );
    d["message"].clone()
}

async fn assert_nothing_created(app: &TestApp) {
    assert_eq!(count(app, "users").await, 0, "no user");
    assert_eq!(count(app, "identities").await, 0, "no identity");
    assert_eq!(count(app, "sessions").await, 0, "no session");
}

#[tokio::test]
async fn every_provider_logs_in_through_the_popup_and_maps_its_profile() {
    // (kind, subject, name, avatar, profile url, email)
    type Expected = (
        Kind,
        &'static str,
        &'static str,
        Option<&'static str>,
        Option<&'static str>,
        Option<&'static str>,
    );
    let expected: [Expected; 4] = [
        (
            Kind::WordPress,
            "12345678",
            "Jane Blogger",
            Some("https://0.gravatar.com/avatar/abc?s=96&d=identicon&r=G"),
            Some("https://gravatar.com/janeblogger"),
            Some("jane@example.com"),
        ),
        (
            Kind::Twitter,
            "2244994945",
            "X Developers",
            Some("https://pbs.twimg.com/profile_images/1234567890/abcd_normal.jpg"),
            Some("https://x.com/XDevelopers"),
            None,
        ),
        (
            Kind::Facebook,
            "client-id-1234:10223344556677889",
            "Jane Doe",
            Some(
                "https://platform-lookaside.fbsbx.com/platform/profilepic/?asid=1&height=50&width=50",
            ),
            None,
            Some("jane@example.com"),
        ),
        (
            Kind::Google,
            "110169484474386276334",
            "Jane Doe",
            Some("https://lh3.googleusercontent.com/a/ACg8ocK=s96-c"),
            None,
            Some("jane@example.com"),
        ),
    ];
    for (kind, subject, name, avatar, profile, email) in expected {
        let (app, double) = app_for(kind).await;
        let msg = login(&app, &double).await;
        assert_eq!(msg["type"], "colloquy:login", "{kind:?}: {msg}");
        assert_eq!(msg["user"]["name"], name, "{kind:?}");
        assert_eq!(msg["user"]["provider"], kind.name());
        let token = msg["token"].as_str().unwrap().to_owned();

        let (p, s, u_name, u_avatar, u_profile, u_email): (
            String,
            String,
            String,
            Option<String>,
            Option<String>,
            Option<String>,
        ) = sqlx::query_as(
            "SELECT i.provider, i.subject, u.name, u.avatar_url, u.profile_url, u.email
             FROM identities i JOIN users u ON u.id = i.user_id",
        )
        .fetch_one(&app.db)
        .await
        .unwrap();
        assert_eq!(
            (p.as_str(), s.as_str(), u_name.as_str()),
            (kind.name(), subject, name),
            "{kind:?}"
        );
        assert_eq!(u_avatar.as_deref(), avatar, "{kind:?}");
        assert_eq!(u_profile.as_deref(), profile, "{kind:?}");
        assert_eq!(u_email.as_deref(), email, "{kind:?}");
        assert_eq!(count(&app, "sessions").await, 1);
        assert_eq!(count(&app, "login_states").await, 0, "state consumed");
        assert_eq!(double.token_calls(), 1);

        // The session works, and posts carry the provider identity.
        let r = app
            .client
            .post(app.url("/api/v1/sites/blog/comments"))
            .bearer_auth(&token)
            .json(&json!({ "uri": "/p/", "body": "hello from a provider" }))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 201, "{kind:?}");
        let body: Value = r.json().await.unwrap();
        assert_eq!(body["comment"]["author"]["provider"], kind.name());
        assert_eq!(body["comment"]["author"]["avatar_url"], json!(avatar));
        let site: Value = app.get("/api/v1/sites/blog").await.json().await.unwrap();
        assert_eq!(site["providers"], json!([kind.name()]));
    }
}

#[tokio::test]
async fn the_same_account_twice_is_the_same_user_with_a_refreshed_profile() {
    for kind in ALL {
        let (app, double) = app_for(kind).await;
        let first = login(&app, &double).await;
        {
            let mut p = double.profile.lock().unwrap();
            match kind {
                Kind::Twitter => p["data"]["name"] = json!("Renamed Ωμέγα"),
                _ => p["name"] = json!("Renamed Ωμέγα"),
            }
            if kind == Kind::WordPress {
                p["display_name"] = json!("Renamed Ωμέγα");
            }
        }
        let second = login(&app, &double).await;
        assert_eq!(first["user"]["id"], second["user"]["id"], "{kind:?}");
        assert_eq!(second["user"]["name"], "Renamed Ωμέγα", "{kind:?}");
        assert_eq!(count(&app, "users").await, 1);
        assert_eq!(count(&app, "identities").await, 1);
        let name: String = sqlx::query_scalar("SELECT name FROM users")
            .fetch_one(&app.db)
            .await
            .unwrap();
        assert_eq!(name, "Renamed Ωμέγα");
    }
}

#[tokio::test]
async fn profile_edge_cases_map_safely() {
    // WordPress: a phone account has no verified email; a string ID works too.
    let (app, double) = app_for(Kind::WordPress).await;
    *double.profile.lock().unwrap() = json!({ "ID": "777", "display_name": "李小龍", "email": "p@example.com",
        "email_verified": true, "phone_account": true, "avatar_URL": "javascript:alert(1)" });
    let msg = login(&app, &double).await;
    assert_eq!(msg["user"]["name"], "李小龍");
    let (email, avatar): (Option<String>, Option<String>) =
        sqlx::query_as("SELECT email, avatar_url FROM users")
            .fetch_one(&app.db)
            .await
            .unwrap();
    assert_eq!(
        (email, avatar),
        (None, None),
        "unverified email dropped, non-http avatar dropped"
    );

    // Facebook: no email permission, default silhouette picture.
    let (app, double) = app_for(Kind::Facebook).await;
    *double.profile.lock().unwrap() = json!({ "id": "42", "name": "Jörg",
        "picture": { "data": { "is_silhouette": true, "url": "https://platform-lookaside.fbsbx.com/x" } } });
    login(&app, &double).await;
    let (email, avatar): (Option<String>, Option<String>) =
        sqlx::query_as("SELECT email, avatar_url FROM users")
            .fetch_one(&app.db)
            .await
            .unwrap();
    assert_eq!((email, avatar), (None, None));

    // Google: unverified email is not kept; a 255-character sub is a valid key.
    let (app, double) = app_for(Kind::Google).await;
    let long_sub = "9".repeat(255);
    {
        let mut p = double.profile.lock().unwrap();
        p["sub"] = json!(long_sub);
        p["email_verified"] = json!(false);
    }
    login(&app, &double).await;
    let (subject, email): (String, Option<String>) = sqlx::query_as(
        "SELECT i.subject, u.email FROM identities i JOIN users u ON u.id = i.user_id",
    )
    .fetch_one(&app.db)
    .await
    .unwrap();
    assert_eq!(subject, long_sub);
    assert_eq!(email, None);
}

#[tokio::test]
async fn forged_replayed_and_expired_states_are_refused() {
    for kind in ALL {
        let (app, double) = app_for(kind).await;
        // Forged: a state we never issued.
        let url = start(&app, kind).await;
        let code = double.consent(&url);
        let page = callback(&app, kind, &[("code", &code), ("state", "forged-state")]).await;
        assert!(!page.contains("\"token\""), "{kind:?}");
        assert!(
            page.contains("invalid or was already used"),
            "{kind:?}: {page}"
        );
        assert_eq!(
            double.token_calls(),
            0,
            "{kind:?}: no exchange on a forged state"
        );

        // Expired.
        sqlx::query("UPDATE login_states SET expires_at = now() - interval '1 second'")
            .execute(&app.db)
            .await
            .unwrap();
        let page = callback(&app, kind, &[("code", &code), ("state", &state_of(&url))]).await;
        assert_eq!(
            posted(&page)["message"]["code"],
            "expired_state",
            "{kind:?}"
        );
        assert_nothing_created(&app).await;

        // Replayed: the second use of a good state finds nothing.
        let url = start(&app, kind).await;
        let code = double.consent(&url);
        let state = state_of(&url);
        let first = callback(&app, kind, &[("code", &code), ("state", &state)]).await;
        assert_eq!(
            posted(&first)["message"]["type"],
            "colloquy:login",
            "{kind:?}"
        );
        let again = callback(&app, kind, &[("code", &code), ("state", &state)]).await;
        assert!(!again.contains("\"token\""), "{kind:?}");
        assert_eq!(count(&app, "sessions").await, 1, "{kind:?}");
    }
}

#[tokio::test]
async fn logins_only_start_for_the_sites_origins_and_enabled_providers() {
    let (app, _double) = app_for(Kind::Google).await;
    let r = app
        .get("/auth/google/login?site=blog&origin=https://evil.example")
        .await;
    assert_error(r, 403, "origin_not_allowed").await;
    // A provider this server has no client_id for.
    sqlx::query("UPDATE sites SET providers = '{google,twitter}'")
        .execute(&app.db)
        .await
        .unwrap();
    let r = app
        .get("/auth/twitter/login?site=blog&origin=https://blog.example")
        .await;
    assert_eq!(
        posted(&r.text().await.unwrap())["message"]["code"],
        "provider_unavailable"
    );
    // A provider the site didn't enable.
    let r = app
        .get("/auth/facebook/login?site=blog&origin=https://blog.example")
        .await;
    assert_eq!(
        posted(&r.text().await.unwrap())["message"]["code"],
        "provider_unavailable"
    );
    let site: Value = app.get("/api/v1/sites/blog").await.json().await.unwrap();
    assert_eq!(
        site["providers"],
        json!(["google"]),
        "only providers this server can use"
    );
    assert_eq!(count(&app, "login_states").await, 0);
}

#[tokio::test]
async fn provider_failures_answer_login_error_and_create_nothing() {
    for kind in ALL {
        // The user declines.
        let (app, double) = app_for(kind).await;
        let url = start(&app, kind).await;
        let page = callback(
            &app,
            kind,
            &[("error", "access_denied"), ("state", &state_of(&url))],
        )
        .await;
        let d = posted(&page);
        assert_eq!(d["message"]["type"], "colloquy:login-error");
        assert_eq!(d["message"]["code"], "access_denied", "{kind:?}");
        assert_nothing_created(&app).await;

        // The token endpoint fails.
        double.faults.lock().unwrap().token_500 = true;
        let url = start(&app, kind).await;
        let code = double.consent(&url);
        let page = callback(&app, kind, &[("code", &code), ("state", &state_of(&url))]).await;
        assert_eq!(posted(&page)["message"]["code"], "token_error", "{kind:?}");
        assert!(!page.contains("exploded"), "upstream bodies are not shown");
        assert_nothing_created(&app).await;
        double.faults.lock().unwrap().token_500 = false;

        // The profile endpoint refuses the token (Google reads the id_token instead).
        if kind != Kind::Google {
            double.faults.lock().unwrap().profile_401 = true;
            let url = start(&app, kind).await;
            let code = double.consent(&url);
            let page = callback(&app, kind, &[("code", &code), ("state", &state_of(&url))]).await;
            assert_eq!(
                posted(&page)["message"]["code"],
                "profile_error",
                "{kind:?}"
            );
            assert_nothing_created(&app).await;
        }
    }
}

#[tokio::test]
async fn google_id_tokens_are_verified() {
    type Case = (&'static str, fn(&mut Faults));
    let cases: [Case; 4] = [
        ("bad signature", |f| f.rogue_signature = true),
        ("wrong aud", |f| f.wrong_aud = true),
        ("wrong nonce", |f| f.wrong_nonce = true),
        ("expired", |f| f.expired = true),
    ];
    let (app, double) = app_for(Kind::Google).await;
    for (what, fault) in cases {
        *double.faults.lock().unwrap() = Faults::default();
        fault(&mut double.faults.lock().unwrap());
        let url = start(&app, Kind::Google).await;
        let code = double.consent(&url);
        let page = callback(
            &app,
            Kind::Google,
            &[("code", &code), ("state", &state_of(&url))],
        )
        .await;
        assert_eq!(
            posted(&page)["message"]["code"],
            "invalid_id_token",
            "{what}: {page}"
        );
        assert_nothing_created(&app).await;
    }
    // And with nothing wrong, the same double logs in — from the id_token alone.
    *double.faults.lock().unwrap() = Faults::default();
    assert_eq!(login(&app, &double).await["type"], "colloquy:login");
    assert_eq!(
        double.profile_calls(),
        0,
        "the verified id_token carries the profile"
    );
}

#[tokio::test]
async fn a_code_is_exchanged_with_the_verifier_of_its_own_attempt() {
    // Two logins in flight; each callback must carry the verifier of its own state, or the
    // double (like X) refuses the code.
    let (app, double) = app_for(Kind::Twitter).await;
    let a = start(&app, Kind::Twitter).await;
    let b = start(&app, Kind::Twitter).await;
    let code_a = double.consent(&a);
    // Code A presented with state B: B's verifier doesn't match A's challenge.
    let page = callback(
        &app,
        Kind::Twitter,
        &[("code", &code_a), ("state", &state_of(&b))],
    )
    .await;
    assert_eq!(posted(&page)["message"]["code"], "token_error");
    assert_nothing_created(&app).await;
}
