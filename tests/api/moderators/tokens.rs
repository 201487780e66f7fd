//! Sessions and tokens

use super::*;

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
