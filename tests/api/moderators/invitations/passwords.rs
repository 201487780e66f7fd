use super::*;

#[tokio::test]
async fn a_password_change_needs_the_current_password_and_ends_other_sessions() {
    let app = spawn_app().await;
    let blog = site(&app, "blog").await;
    add_moderator(&app, "ann@example.com", &blog, Role::Owner).await;
    let here = login(&app, "ann@example.com").await;
    let elsewhere = login(&app, "ann@example.com").await;
    let api = json_of(
        post(&app, "/tokens", &here, json!({ "name": "script" })).await,
        201,
    )
    .await;
    let api = api["token"].as_str().unwrap().to_owned();
    let change =
        |current: &str, new: &str| json!({ "current_password": current, "new_password": new });

    // Wrong current password: refused, nothing ended.
    let r = post(
        &app,
        "/me/password",
        &here,
        change("not it", "a brand new password"),
    )
    .await;
    assert_error(r, 403, "wrong_password").await;
    assert_eq!(get(&app, "/sites", &elsewhere).await.status(), 200);
    // Not with an API token; not a short new password.
    let r = post(
        &app,
        "/me/password",
        &api,
        change(PASSWORD, "a brand new password"),
    )
    .await;
    assert_error(r, 403, "login_required").await;
    let r = post(&app, "/me/password", &here, change(PASSWORD, "short")).await;
    let body = assert_error(r, 400, "validation_failed").await;
    assert!(
        body["error"]["details"]["new_password"].is_string(),
        "{body}"
    );
    let r = post(
        &app,
        "/me/password",
        &here,
        json!({ "new_password": "a brand new password" }),
    )
    .await;
    assert_eq!(r.status(), 400);

    let r = post(
        &app,
        "/me/password",
        &here,
        change(PASSWORD, "a brand new password"),
    )
    .await;
    let ended = json_of(r, 200).await;
    assert_eq!(
        ended,
        json!({ "sessions_ended": 1, "api_tokens_revoked": 1 })
    );
    // This session goes on; the other session and the API token are over.
    assert_eq!(get(&app, "/sites", &here).await.status(), 200);
    assert_error(
        get(&app, "/sites", &elsewhere).await,
        401,
        "unauthenticated",
    )
    .await;
    assert_error(get(&app, "/sites", &api).await, 401, "unauthenticated").await;
    let r = login_from(&app, "ann@example.com", PASSWORD, None).await;
    assert_error(r, 401, "unauthenticated").await;
    let r = login_from(&app, "ann@example.com", "a brand new password", None).await;
    assert_eq!(r.status(), 200);

    // keep_api_tokens leaves scripts running (a routine rotation).
    let api = json_of(
        post(&app, "/tokens", &here, json!({ "name": "script 2" })).await,
        201,
    )
    .await;
    let r = post(
        &app,
        "/me/password",
        &here,
        json!({ "current_password": "a brand new password", "new_password": "yet another password", "keep_api_tokens": true }),
    )
    .await;
    assert_eq!(json_of(r, 200).await["api_tokens_revoked"], 0);
    assert_eq!(
        get(&app, "/sites", api["token"].as_str().unwrap())
            .await
            .status(),
        200
    );
}

#[tokio::test]
async fn the_operator_resets_a_password_from_stdin_and_every_session_ends() {
    let app = spawn_app().await;
    let blog = site(&app, "blog").await;
    add_moderator(&app, "ann@example.com", &blog, Role::Owner).await;
    let one = login(&app, "ann@example.com").await;
    let two = login(&app, "ann@example.com").await;
    let api = json_of(
        post(&app, "/tokens", &one, json!({ "name": "script" })).await,
        201,
    )
    .await;

    // Refusals change nothing: unknown account, a short password.
    let (out, _, stderr) = reset_password(
        &app,
        &["--email", "nobody@example.com"],
        "a long enough password\n",
    );
    assert!(!out.status.success());
    assert!(stderr.contains("no moderator account"), "{stderr}");
    let (out, _, stderr) = reset_password(&app, &["--email", "ann@example.com"], "short\n");
    assert!(!out.status.success());
    assert!(stderr.contains("at least 12"), "{stderr}");
    assert!(!stderr.contains("short\n"), "the password is not echoed");
    assert_eq!(get(&app, "/sites", &one).await.status(), 200);

    let secret = "operator set this one 7";
    let (out, stdout, stderr) = reset_password(
        &app,
        &["--email", "Ann@Example.com"],
        &format!("{secret}\n"),
    );
    assert!(out.status.success(), "{stderr}");
    assert!(stdout.contains("2 sessions ended"), "{stdout}");
    assert!(stdout.contains("1 API tokens revoked"), "{stdout}");
    for text in [&stdout, &stderr] {
        assert!(!text.contains(secret), "password printed: {text}");
    }
    for session in [&one, &two] {
        assert_error(get(&app, "/sites", session).await, 401, "unauthenticated").await;
    }
    // Everything minted with the old password goes, API tokens included (a reset is for an
    // account whose password someone else may know); the flag to keep them is gone.
    assert_error(
        get(&app, "/sites", api["token"].as_str().unwrap()).await,
        401,
        "unauthenticated",
    )
    .await;
    let (out, _, stderr) = reset_password(
        &app,
        &["--email", "ann@example.com", "--keep-api-tokens"],
        "and another password\n",
    );
    assert!(!out.status.success(), "{stderr}");
    let r = login_from(&app, "ann@example.com", PASSWORD, None).await;
    assert_error(r, 401, "unauthenticated").await;
    let r = login_from(&app, "ann@example.com", secret, None).await;
    assert_eq!(r.status(), 200);
    // The reset is also the operator's unlock: failures counted against the email from
    // anywhere are forgotten.
    for ip in ["203.0.113.1", "203.0.113.2"] {
        let r = login_from(&app, "ann@example.com", "a wrong password!", Some(ip)).await;
        assert_eq!(r.status(), 401);
    }
    let failures = || async {
        sqlx::query_scalar::<_, i64>("SELECT count(*) FROM login_failures")
            .fetch_one(&app.db)
            .await
            .unwrap()
    };
    assert!(failures().await >= 2);
    let (out, stdout, _) = reset_password(
        &app,
        &["--email", "ann@example.com"],
        "and one more password\n",
    );
    assert!(out.status.success());
    assert!(stdout.contains("0 API tokens revoked"), "{stdout}");
    assert_eq!(failures().await, 0);
}
