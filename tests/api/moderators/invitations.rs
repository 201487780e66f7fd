//! Joining a team by invitation, password changes and resets (issue 10, point 3): no site owner
//! can plant a moderator account, set a password, or attach an existing account by email.

use std::io::Write;
use std::process::Stdio;

use colloquy::auth::moderators::Role;
use serde_json::{Value, json};

use super::{
    PASSWORD, accept, accept_from, add_moderator, assert_throttled, colloquy, delete, get, json_of,
    login, login_from, member_id, patch, post, proxied_app, site,
};
use crate::helpers::{TestApp, assert_error, spawn_app};

async fn invite(app: &TestApp, site: &str, owner: &str, email: &str, role: &str) -> Value {
    let r = post(
        app,
        &format!("/sites/{site}/moderators"),
        owner,
        json!({ "email": email, "role": role }),
    )
    .await;
    json_of(r, 201).await
}

async fn count(app: &TestApp, sql: &'static str) -> i64 {
    sqlx::query_scalar(sql).fetch_one(&app.db).await.unwrap()
}

async fn role_on(app: &TestApp, email: &str, slug: &str) -> Option<String> {
    sqlx::query_scalar(
        "SELECT r.role FROM moderator_roles r
         JOIN moderators m ON m.id = r.moderator_id JOIN sites s ON s.id = r.site_id
         WHERE m.email = $1 AND s.slug = $2",
    )
    .bind(email)
    .bind(slug)
    .fetch_optional(&app.db)
    .await
    .unwrap()
}

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

/// Runs `colloquy moderator reset-password ARGS` against the app's database.
fn reset_password(
    app: &TestApp,
    args: &[&str],
    stdin: &str,
) -> (std::process::Output, String, String) {
    let mut child = colloquy(&app.settings.database.url)
        .args(["moderator", "reset-password"])
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

/// site_id, action, actor_id, target_kind, and before/after/note as one text.
type AuditRow = (
    Option<uuid::Uuid>,
    String,
    Option<uuid::Uuid>,
    String,
    String,
);

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
