//! Login

use super::*;

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
