use super::*;

#[tokio::test]
async fn an_owner_cannot_create_an_account_with_a_password_they_chose() {
    let app = spawn_app().await;
    let a = site(&app, "site-a").await;
    add_moderator(&app, "mallory@example.com", &a, Role::Owner).await;
    let mallory = login(&app, "mallory@example.com").await;

    for role in ["moderator", "owner"] {
        let r = post(
            &app,
            "/sites/site-a/moderators",
            &mallory,
            json!({ "email": "victim@example.com", "role": role, "password": "mallory's own password" }),
        )
        .await;
        assert_error(r, 400, "validation_failed").await;
    }
    assert_eq!(
        count(
            &app,
            "SELECT count(*) FROM moderators WHERE email = 'victim@example.com'"
        )
        .await,
        0
    );
    assert_eq!(
        count(&app, "SELECT count(*) FROM moderator_invitations").await,
        0
    );
    // Nor can a login be had with it.
    let r = login_from(&app, "victim@example.com", "mallory's own password", None).await;
    assert_error(r, 401, "unauthenticated").await;
}

/// An invitation answer with what differs per invitation (ids, token, times, the email)
/// replaced, leaving its shape and every other value.
fn shape(v: &Value) -> Value {
    let mut v = v.clone();
    for key in ["id", "token", "created_at", "expires_at", "email"] {
        let field = &mut v[key];
        assert!(field.is_string(), "{key} in {v}");
        *field = json!("<varies>");
    }
    v
}

#[tokio::test]
async fn the_invitation_answer_is_the_same_for_new_existing_and_member_emails() {
    let app = spawn_app().await;
    let a = site(&app, "site-a").await;
    let b = site(&app, "site-b").await;
    let owner_id = add_moderator(&app, "owner@example.com", &a, Role::Owner).await;
    add_moderator(&app, "member@example.com", &a, Role::Moderator).await;
    add_moderator(&app, "elsewhere@example.com", &b, Role::Owner).await;
    let owner = login(&app, "owner@example.com").await;

    let mut answers = Vec::new();
    for email in [
        "nobody@example.com",
        "elsewhere@example.com",
        "member@example.com",
        "owner@example.com",
    ] {
        let r = post(
            &app,
            "/sites/site-a/moderators",
            &owner,
            json!({ "email": email, "role": "moderator" }),
        )
        .await;
        let status = r.status().as_u16();
        let headers: Vec<(String, String)> = ["content-type", "cache-control"]
            .iter()
            .map(|h| (h.to_string(), r.headers()[*h].to_str().unwrap().to_owned()))
            .collect();
        let body: Value = r.json().await.unwrap();
        assert_eq!(body["email"], email);
        assert_eq!(body["token"].as_str().unwrap().len(), 43, "256 bits");
        answers.push((status, headers, shape(&body)));
    }
    for other in &answers[1..] {
        assert_eq!(
            other, &answers[0],
            "the answers must not tell these emails apart"
        );
    }
    let (status, _, body) = &answers[0];
    assert_eq!(*status, 201);
    assert_eq!(
        body,
        &json!({
            "id": "<varies>",
            "site": "site-a",
            "email": "<varies>",
            "role": "moderator",
            "invited_by": owner_id.to_string(),
            "created_at": "<varies>",
            "expires_at": "<varies>",
            "token": "<varies>",
            "accept_url": format!("{}/api/mod/v1/invitations/accept", app.settings.server.public_url.trim_end_matches('/')),
        })
    );
    // Nothing was attached to anyone by inviting.
    assert_eq!(role_on(&app, "elsewhere@example.com", "site-a").await, None);
    assert_eq!(
        role_on(&app, "owner@example.com", "site-a")
            .await
            .as_deref(),
        Some("owner")
    );
    // Only hashes are stored, and the invitation expires in 7 days.
    let (hash_len, days): (i32, f64) = sqlx::query_as(
        "SELECT octet_length(token_hash), (extract(epoch FROM expires_at - created_at) / 86400)::float8
         FROM moderator_invitations LIMIT 1",
    )
    .fetch_one(&app.db)
    .await
    .unwrap();
    assert_eq!(hash_len, 32);
    assert!((days - 7.0).abs() < 0.01, "{days}");
}

#[tokio::test]
async fn an_invitation_for_an_existing_account_needs_that_accounts_login() {
    let app = spawn_app().await;
    let a = site(&app, "site-a").await;
    let b = site(&app, "site-b").await;
    add_moderator(&app, "carol@example.com", &a, Role::Owner).await;
    add_moderator(&app, "bob@example.com", &b, Role::Owner).await;
    let bob = login(&app, "bob@example.com").await;
    let carol = login(&app, "carol@example.com").await;
    let invited = invite(&app, "site-b", &bob, "carol@example.com", "owner").await;
    let token = invited["token"].as_str().unwrap();

    // The token alone: no new password for an existing account...
    let r = accept(
        &app,
        json!({ "token": token, "new_password": "a password of my choosing" }),
        None,
    )
    .await;
    assert_error(r, 409, "account_exists").await;
    // ...no wrong password...
    let r = accept(
        &app,
        json!({ "token": token, "password": "not carol's" }),
        None,
    )
    .await;
    assert_error(r, 401, "unauthenticated").await;
    // ...not someone else's session...
    let r = accept(&app, json!({ "token": token }), Some(&bob)).await;
    assert_error(r, 403, "wrong_account").await;
    // ...nor carol's API token, nor no proof at all.
    let api = json_of(
        post(&app, "/tokens", &carol, json!({ "name": "script" })).await,
        201,
    )
    .await;
    let r = accept(&app, json!({ "token": token }), api["token"].as_str()).await;
    assert_error(r, 403, "login_required").await;
    let r = accept(&app, json!({ "token": token }), None).await;
    assert_error(r, 400, "validation_failed").await;
    assert_eq!(role_on(&app, "carol@example.com", "site-b").await, None);
    let hash_before: String = sqlx::query_scalar(
        "SELECT password_hash FROM moderators WHERE email = 'carol@example.com'",
    )
    .fetch_one(&app.db)
    .await
    .unwrap();

    // Carol's own password accepts it.
    let r = accept(&app, json!({ "token": token, "password": PASSWORD }), None).await;
    let accepted = json_of(r, 200).await;
    assert_eq!(accepted["site"], "site-b");
    assert_eq!(accepted["role"], "owner");
    assert_eq!(accepted["account_created"], false);
    assert_eq!(
        role_on(&app, "carol@example.com", "site-b")
            .await
            .as_deref(),
        Some("owner")
    );
    let hash_after: String = sqlx::query_scalar(
        "SELECT password_hash FROM moderators WHERE email = 'carol@example.com'",
    )
    .fetch_one(&app.db)
    .await
    .unwrap();
    assert_eq!(hash_before, hash_after, "the password stays carol's");
    // Used: a second acceptance is refused, with a session too.
    let r = accept(&app, json!({ "token": token }), Some(&carol)).await;
    assert_error(r, 410, "invitation_used").await;

    // And with a session of the account (a second invitation, to site A's moderator role).
    let carol_on_b = carol.clone();
    let d = site(&app, "site-d").await;
    add_moderator(&app, "dora@example.com", &d, Role::Owner).await;
    let dora = login(&app, "dora@example.com").await;
    let invited = invite(&app, "site-d", &dora, "Carol@Example.com", "moderator").await;
    let r = accept(
        &app,
        json!({ "token": invited["token"] }),
        Some(&carol_on_b),
    )
    .await;
    assert_eq!(json_of(r, 200).await["role"], "moderator");
    assert_eq!(
        get(&app, "/sites/site-d", &carol).await.status(),
        200,
        "the role works at once"
    );
}

#[tokio::test]
async fn planting_an_account_for_another_sites_moderator_fails_end_to_end() {
    let app = spawn_app().await;
    let a = site(&app, "site-a").await;
    let b = site(&app, "site-b").await;
    add_moderator(&app, "mallory@example.com", &a, Role::Owner).await;
    add_moderator(&app, "bob@example.com", &b, Role::Owner).await;
    let mallory = login(&app, "mallory@example.com").await;
    let bob = login(&app, "bob@example.com").await;

    // 1. The old plant: an account with Mallory's password. Refused.
    let r = post(
        &app,
        "/sites/site-a/moderators",
        &mallory,
        json!({ "email": "victim@example.com", "role": "moderator", "password": "mallory knows this" }),
    )
    .await;
    assert_error(r, 400, "validation_failed").await;
    // 2. The best Mallory can do now: invite the address and accept her own invitation. (She
    //    holds the token until invitations are mailed.) That squats the address...
    let squat = invite(&app, "site-a", &mallory, "victim@example.com", "moderator").await;
    let r = accept(
        &app,
        json!({ "token": squat["token"], "new_password": "mallory knows this" }),
        None,
    )
    .await;
    assert_eq!(json_of(r, 200).await["account_created"], true);
    let squatted = login_from(&app, "victim@example.com", "mallory knows this", None).await;
    let squatted: Value = json_of(squatted, 200).await;
    let squatted = squatted["token"].as_str().unwrap().to_owned();

    // 3. ...but when site B invites the real person, nothing attaches the role to the squatted
    //    account except logging in as it: Mallory never sees B's token, and the token B hands
    //    the victim can't be accepted by choosing a password.
    let real = invite(&app, "site-b", &bob, "victim@example.com", "owner").await;
    let r = accept(
        &app,
        json!({ "token": real["token"], "new_password": "the victim's own password" }),
        None,
    )
    .await;
    assert_error(r, 409, "account_exists").await;
    assert_eq!(role_on(&app, "victim@example.com", "site-b").await, None);
    assert_error(
        get(&app, "/sites/site-b", &squatted).await,
        404,
        "not_found",
    )
    .await;

    // 4. The operator resets the password for the real person: Mallory's password and session
    //    die, and the victim accepts B's invitation as the account, now theirs.
    let (out, stdout, stderr) = reset_password(
        &app,
        &["--email", "victim@example.com"],
        "the victim's own password\n",
    );
    assert!(out.status.success(), "{stdout}\n{stderr}");
    assert_error(get(&app, "/sites", &squatted).await, 401, "unauthenticated").await;
    let r = login_from(&app, "victim@example.com", "mallory knows this", None).await;
    assert_error(r, 401, "unauthenticated").await;
    let r = accept(
        &app,
        json!({ "token": real["token"], "password": "the victim's own password" }),
        None,
    )
    .await;
    assert_eq!(json_of(r, 200).await["role"], "owner");
    // Mallory, owner of A, can take the squat off her own site; she can't touch B.
    let victim_id = member_id(&app, "victim@example.com").await;
    let r = delete(
        &app,
        &format!("/sites/site-b/moderators/{victim_id}"),
        &mallory,
    )
    .await;
    assert_error(r, 404, "not_found").await;
}

#[tokio::test]
async fn an_invitation_is_single_use_even_under_concurrent_accepts() {
    let app = spawn_app().await;
    let blog = site(&app, "blog").await;
    add_moderator(&app, "owner@example.com", &blog, Role::Owner).await;
    let owner = login(&app, "owner@example.com").await;
    let invited = invite(&app, "blog", &owner, "new@example.com", "moderator").await;
    let token = invited["token"].as_str().unwrap();

    let burst = (0..6).map(|i| {
        accept(
            &app,
            json!({ "token": token, "new_password": format!("racing password number {i}") }),
            None,
        )
    });
    let mut statuses = Vec::new();
    for r in futures_util::future::join_all(burst).await {
        let status = r.status().as_u16();
        let body: Value = r.json().await.unwrap();
        statuses.push((status, body["error"]["code"].clone()));
    }
    let won = statuses.iter().filter(|(s, _)| *s == 200).count();
    assert_eq!(won, 1, "{statuses:?}");
    for (s, code) in &statuses {
        assert!(
            *s == 200
                || (*s == 410 && code == "invitation_used")
                || (*s == 409 && code == "account_exists"),
            "{statuses:?}"
        );
    }
    assert_eq!(
        count(
            &app,
            "SELECT count(*) FROM moderators WHERE email = 'new@example.com'"
        )
        .await,
        1
    );
    assert_eq!(
        count(
            &app,
            "SELECT count(*) FROM moderator_invitations WHERE accepted_at IS NOT NULL AND accepted_by IS NOT NULL"
        )
        .await,
        1
    );

    // An existing account racing with its session: one acceptance too.
    let other = site(&app, "other").await;
    add_moderator(&app, "boss@example.com", &other, Role::Owner).await;
    let boss = login(&app, "boss@example.com").await;
    let invited = invite(&app, "other", &boss, "owner@example.com", "moderator").await;
    let burst = (0..6).map(|_| accept(&app, json!({ "token": invited["token"] }), Some(&owner)));
    let statuses: Vec<u16> = futures_util::future::join_all(burst)
        .await
        .iter()
        .map(|r| r.status().as_u16())
        .collect();
    assert_eq!(
        statuses.iter().filter(|&&s| s == 200).count(),
        1,
        "{statuses:?}"
    );
    assert!(
        statuses.iter().all(|&s| s == 200 || s == 410),
        "{statuses:?}"
    );
}
