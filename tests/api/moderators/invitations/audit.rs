use super::*;

#[tokio::test]
async fn team_invitation_token_and_password_changes_are_audited_without_secrets() {
    let app = spawn_app().await;
    let blog = site(&app, "blog").await;
    let owner_id = add_moderator(&app, "owner@example.com", &blog, Role::Owner).await;
    let owner = login(&app, "owner@example.com").await;
    let invited = invite(&app, "blog", &owner, "new@example.com", "moderator").await;
    let token = invited["token"].as_str().unwrap().to_owned();
    let dropped = invite(&app, "blog", &owner, "gone@example.com", "moderator").await;
    let r = delete(
        &app,
        &format!(
            "/sites/blog/invitations/{}",
            dropped["id"].as_str().unwrap()
        ),
        &owner,
    )
    .await;
    assert_eq!(r.status(), 204);
    let new_password = "the newcomer's password";
    let r = accept(
        &app,
        json!({ "token": token, "new_password": new_password }),
        None,
    )
    .await;
    let new_id = json_of(r, 200).await["moderator_id"].clone();
    let r = patch(
        &app,
        &format!("/sites/blog/moderators/{}", new_id.as_str().unwrap()),
        &owner,
        json!({ "role": "owner" }),
    )
    .await;
    assert_eq!(r.status(), 200);
    let api = json_of(
        post(&app, "/tokens", &owner, json!({ "name": "script" })).await,
        201,
    )
    .await;
    let api_secret = api["token"].as_str().unwrap().to_owned();
    let r = delete(
        &app,
        &format!("/tokens/{}", api["id"].as_str().unwrap()),
        &owner,
    )
    .await;
    assert_eq!(r.status(), 204);
    let r = post(
        &app,
        "/me/password",
        &owner,
        json!({ "current_password": PASSWORD, "new_password": "owner's next password" }),
    )
    .await;
    assert_eq!(r.status(), 200);
    let r = delete(
        &app,
        &format!("/sites/blog/moderators/{}", new_id.as_str().unwrap()),
        &owner,
    )
    .await;
    assert_eq!(r.status(), 204);

    let rows: Vec<AuditRow> =
        sqlx::query_as(
            "SELECT site_id, action, actor_id, target_kind,
                    coalesce(before::text, '') || ' ' || coalesce(after::text, '') || ' ' || coalesce(note, '')
             FROM audit_actions ORDER BY id",
        )
        .fetch_all(&app.db)
        .await
        .unwrap();
    let actions: Vec<&str> = rows.iter().map(|r| r.1.as_str()).collect();
    assert_eq!(
        actions,
        [
            "invitation.created",
            "invitation.created",
            "invitation.revoked",
            "moderator.created",
            "invitation.accepted",
            "moderator.added",
            "moderator.role_changed",
            "api_token.created",
            "api_token.revoked",
            "password.changed",
            "moderator.removed",
        ]
    );
    for (site, action, actor, _, text) in &rows {
        // A created account is account-level too: the site's log reads the same whether or
        // not the invitee had an account already.
        let account_level = action.starts_with("api_token.")
            || action.starts_with("password.")
            || *action == "moderator.created";
        assert_eq!(site.is_none(), account_level, "{action}");
        assert!(actor.is_some(), "{action}");
        for secret in [
            token.as_str(),
            dropped["token"].as_str().unwrap(),
            api_secret.as_str(),
            new_password,
            PASSWORD,
            "owner's next password",
            "$argon2id",
        ] {
            assert!(!text.contains(secret), "{action} holds a secret: {text}");
        }
    }
    assert_eq!(rows[0].2, Some(owner_id));
    assert!(rows[6].4.contains("\"moderator\"") && rows[6].4.contains("\"owner\""));
    // The operator's reset is audited as the operator's.
    let (out, _, stderr) = reset_password(
        &app,
        &["--email", "owner@example.com"],
        "operator's fresh password\n",
    );
    assert!(out.status.success(), "{stderr}");
    let (kind, action): (String, String) =
        sqlx::query_as("SELECT actor_kind, action FROM audit_actions ORDER BY id DESC LIMIT 1")
            .fetch_one(&app.db)
            .await
            .unwrap();
    assert_eq!(
        (kind.as_str(), action.as_str()),
        ("operator", "password.reset")
    );
}
