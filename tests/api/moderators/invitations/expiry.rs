use super::*;

#[tokio::test]
async fn expired_revoked_replaced_and_voided_invitations_are_refused() {
    let app = spawn_app().await;
    let blog = site(&app, "blog").await;
    add_moderator(&app, "owner@example.com", &blog, Role::Owner).await;
    let owner = login(&app, "owner@example.com").await;
    let new_password =
        |token: &Value| json!({ "token": token, "new_password": "a fine long password" });

    // Expired.
    let expired = invite(&app, "blog", &owner, "late@example.com", "moderator").await;
    sqlx::query("UPDATE moderator_invitations SET expires_at = now() - interval '1 second'")
        .execute(&app.db)
        .await
        .unwrap();
    let r = accept(&app, new_password(&expired["token"]), None).await;
    assert_error(r, 410, "invitation_expired").await;

    // Listed while pending (never with the token), then revoked by the owner.
    let pending = invite(&app, "blog", &owner, "maybe@example.com", "moderator").await;
    let list = json_of(get(&app, "/sites/blog/invitations", &owner).await, 200).await;
    let items = list["items"].as_array().unwrap();
    assert_eq!(items.len(), 1, "expired ones aren't pending: {list}");
    assert_eq!(items[0]["id"], pending["id"]);
    assert_eq!(items[0]["email"], "maybe@example.com");
    assert!(items[0].get("token").is_none() && items[0].get("accept_url").is_none());
    assert!(
        !list
            .to_string()
            .contains(pending["token"].as_str().unwrap())
    );
    let id = pending["id"].as_str().unwrap();
    let r = delete(&app, &format!("/sites/blog/invitations/{id}"), &owner).await;
    assert_eq!(r.status(), 204);
    let r = delete(&app, &format!("/sites/blog/invitations/{id}"), &owner).await;
    assert_error(r, 404, "not_found").await;
    let r = accept(&app, new_password(&pending["token"]), None).await;
    assert_error(r, 410, "invitation_revoked").await;
    let list = json_of(get(&app, "/sites/blog/invitations", &owner).await, 200).await;
    assert_eq!(list["items"], json!([]));

    // Inviting the same email again replaces the open invitation.
    let first = invite(&app, "blog", &owner, "twice@example.com", "moderator").await;
    let second = invite(&app, "blog", &owner, "twice@example.com", "owner").await;
    let r = accept(&app, new_password(&first["token"]), None).await;
    assert_error(r, 410, "invitation_revoked").await;

    // An owner who is demoted (or leaves) takes their open invitations with them.
    let co_id = add_moderator(&app, "co@example.com", &blog, Role::Owner).await;
    let co = login(&app, "co@example.com").await;
    let backdoor = invite(&app, "blog", &co, "co-alt@example.com", "owner").await;
    let r = patch(
        &app,
        &format!("/sites/blog/moderators/{co_id}"),
        &owner,
        json!({ "role": "moderator" }),
    )
    .await;
    assert_eq!(json_of(r, 200).await["role"], "moderator");
    let r = accept(&app, new_password(&backdoor["token"]), None).await;
    assert_error(r, 410, "invitation_revoked").await;

    // A token that matches nothing, and a moderator (not owner) can't list or revoke.
    let r = accept(&app, new_password(&json!("x".repeat(43))), None).await;
    assert_error(r, 404, "not_found").await;
    assert_error(
        get(&app, "/sites/blog/invitations", &co).await,
        403,
        "forbidden",
    )
    .await;
    let sid = second["id"].as_str().unwrap();
    let r = delete(&app, &format!("/sites/blog/invitations/{sid}"), &co).await;
    assert_error(r, 403, "forbidden").await;
    // The replacement still works.
    let r = accept(&app, new_password(&second["token"]), None).await;
    assert_eq!(json_of(r, 200).await["role"], "owner");
}

#[tokio::test]
async fn accepting_is_throttled_like_login() {
    let app = proxied_app().await;
    let blog = site(&app, "blog").await;
    add_moderator(&app, "owner@example.com", &blog, Role::Owner).await;
    let other = site(&app, "other").await;
    add_moderator(&app, "carol@example.com", &other, Role::Owner).await;
    let owner = login(&app, "owner@example.com").await;

    // Guessing tokens from one address is stopped.
    for _ in 0..5 {
        let r = accept_from(
            &app,
            json!({ "token": "guessed-token", "new_password": "a fine long password" }),
            None,
            Some("198.51.100.1"),
        )
        .await;
        assert_error(r, 404, "not_found").await;
    }
    let r = accept_from(
        &app,
        json!({ "token": "guessed-token", "new_password": "a fine long password" }),
        None,
        Some("198.51.100.1"),
    )
    .await;
    assert_throttled(r).await;

    // An invitation's holder guessing the invited account's password is counted like login
    // attempts on that email (and meets the same limit as logins from that address).
    let invited = invite(&app, "blog", &owner, "carol@example.com", "moderator").await;
    for i in 0..5 {
        let r = accept_from(
            &app,
            json!({ "token": invited["token"], "password": format!("guess {i}") }),
            None,
            Some("203.0.113.9"),
        )
        .await;
        assert_error(r, 401, "unauthenticated").await;
    }
    let r = accept_from(
        &app,
        json!({ "token": invited["token"], "password": PASSWORD }),
        None,
        Some("203.0.113.9"),
    )
    .await;
    assert_throttled(r).await;
    let r = login_from(&app, "carol@example.com", PASSWORD, Some("203.0.113.9")).await;
    assert_throttled(r).await;
    // Carol herself, elsewhere, is not affected.
    let r = accept_from(
        &app,
        json!({ "token": invited["token"], "password": PASSWORD }),
        None,
        Some("192.0.2.1"),
    )
    .await;
    assert_eq!(r.status(), 200);
}

#[tokio::test]
async fn inviting_one_email_many_times_at_once_leaves_one_open_invitation() {
    let app = spawn_app().await;
    let blog = site(&app, "blog").await;
    add_moderator(&app, "owner@example.com", &blog, Role::Owner).await;
    let owner = login(&app, "owner@example.com").await;
    let burst = (0..6).map(|_| {
        post(
            &app,
            "/sites/blog/moderators",
            &owner,
            json!({ "email": "same@example.com", "role": "moderator" }),
        )
    });
    let statuses: Vec<u16> = futures_util::future::join_all(burst)
        .await
        .iter()
        .map(|r| r.status().as_u16())
        .collect();
    assert!(statuses.iter().all(|&s| s == 201), "{statuses:?}");
    let open = count(
        &app,
        "SELECT count(*) FROM moderator_invitations WHERE accepted_at IS NULL AND revoked_at IS NULL",
    )
    .await;
    assert_eq!(open, 1);
}

#[tokio::test]
async fn the_janitor_sweeps_long_expired_invitations_and_stale_known_addresses() {
    let app = spawn_app().await;
    let blog = site(&app, "blog").await;
    add_moderator(&app, "owner@example.com", &blog, Role::Owner).await;
    let owner = login(&app, "owner@example.com").await;
    invite(&app, "blog", &owner, "old@example.com", "moderator").await;
    invite(&app, "blog", &owner, "fresh@example.com", "moderator").await;
    sqlx::query(
        "UPDATE moderator_invitations SET expires_at = now() - interval '31 days'
         WHERE email = 'old@example.com'",
    )
    .execute(&app.db)
    .await
    .unwrap();
    sqlx::query(
        "INSERT INTO login_known_addresses (email_hash, ip_hash, last_success_at)
         VALUES ('\\x01', '\\x02', now() - interval '400 days')",
    )
    .execute(&app.db)
    .await
    .unwrap();
    colloquy::janitor::sweep(&app.db).await.unwrap();
    let left: Vec<String> = sqlx::query_scalar("SELECT email FROM moderator_invitations")
        .fetch_all(&app.db)
        .await
        .unwrap();
    assert_eq!(left, ["fresh@example.com"]);
    assert_eq!(
        count(
            &app,
            "SELECT count(*) FROM login_known_addresses WHERE email_hash = '\\x01'"
        )
        .await,
        0
    );
    // The owner's own login a moment ago stays known.
    assert_eq!(
        count(&app, "SELECT count(*) FROM login_known_addresses").await,
        1
    );
}
