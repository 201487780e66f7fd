//! Sites and the team

use super::*;

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

/// Every route that changes a team asks for an owner on a password login, and every route that
/// reads one for an owner: a moderator of the site gets 403 `forbidden`, the owner's API token
/// 403 `login_required` on the changes (it may still read), and nothing changes either way.
#[tokio::test]
async fn every_team_change_needs_an_owners_login_session() {
    let app = spawn_app().await;
    let blog = site(&app, "blog").await;
    add_moderator(&app, "ann@example.com", &blog, Role::Owner).await;
    add_moderator(&app, "mod@example.com", &blog, Role::Moderator).await;
    let bob = add_moderator(&app, "bob@example.com", &blog, Role::Moderator).await;
    let owner = login(&app, "ann@example.com").await;
    let moderator = login(&app, "mod@example.com").await;
    let created = json_of(
        post(&app, "/tokens", &owner, json!({ "name": "ci" })).await,
        201,
    )
    .await;
    let api_token = created["token"].as_str().unwrap().to_owned();
    let invitation = json_of(
        post(
            &app,
            "/sites/blog/moderators",
            &owner,
            json!({ "email": "invitee@example.com", "role": "moderator" }),
        )
        .await,
        201,
    )
    .await;
    let invitation = invitation["id"].as_str().unwrap().to_owned();

    let member = format!("/sites/blog/moderators/{bob}");
    let revoke = format!("/sites/blog/invitations/{invitation}");
    let changes: [(reqwest::Method, &str, Option<Value>); 4] = [
        (
            reqwest::Method::POST,
            "/sites/blog/moderators",
            Some(json!({ "email": "mallory@example.com", "role": "owner" })),
        ),
        (
            reqwest::Method::PATCH,
            &member,
            Some(json!({ "role": "owner" })),
        ),
        (reqwest::Method::DELETE, &member, None),
        (reqwest::Method::DELETE, &revoke, None),
    ];
    for (method, path, body) in &changes {
        let r = call(&app, method.clone(), path, &moderator, body.clone()).await;
        assert_error(r, 403, "forbidden").await;
        let r = call(&app, method.clone(), path, &api_token, body.clone()).await;
        assert_error(r, 403, "login_required").await;
    }
    for path in ["/sites/blog/moderators", "/sites/blog/invitations"] {
        assert_error(get(&app, path, &moderator).await, 403, "forbidden").await;
        json_of(get(&app, path, &api_token).await, 200).await;
    }

    let bobs_role: String = sqlx::query_scalar(
        "SELECT role FROM moderator_roles WHERE site_id = $1 AND moderator_id = $2",
    )
    .bind(blog.id)
    .bind(bob)
    .fetch_one(&app.db)
    .await
    .unwrap();
    assert_eq!(bobs_role, "moderator");
    let (invitations, open): (i64, i64) = sqlx::query_as(
        "SELECT count(*), count(*) FILTER (WHERE revoked_at IS NULL) FROM moderator_invitations",
    )
    .fetch_one(&app.db)
    .await
    .unwrap();
    assert_eq!((invitations, open), (1, 1));

    // The owner's session may do each of them.
    json_of(
        patch(&app, &member, &owner, json!({ "role": "owner" })).await,
        200,
    )
    .await;
    let r = delete(&app, &revoke, &owner).await;
    assert_eq!(r.status(), 204);
}
