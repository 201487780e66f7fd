//! Authorization across sites, over the whole route table

use super::*;

/// A body each route accepts, so a 404 can't be a body error in disguise.
fn body_for(method: &str, path: &str, ids: &Ids) -> Option<Value> {
    Some(match (method, path) {
        ("GET" | "DELETE", _) => return None,
        ("PATCH", "/sites/{site}") => json!({ "name": "Taken over" }),
        ("POST", "/sites/{site}/moderators") => {
            json!({ "email": "intruder@example.com", "role": "owner" })
        }
        ("PATCH", "/sites/{site}/moderators/{id}") => json!({ "role": "owner" }),
        ("POST", "/sites/{site}/actions") => json!({ "ids": [ids.comment], "action": "approve" }),
        ("POST", "/sites/{site}/queue/claim") => json!({ "limit": 5 }),
        ("POST", "/sites/{site}/bans") => json!({ "ip": "192.0.2.0/24" }),
        ("POST", "/sites/{site}/rules") => {
            json!({ "kind": "word", "pattern": "x", "action": "hold" })
        }
        ("POST", "/sites/{site}/rules/dry-run") => {
            json!({ "rules": [{ "kind": "word", "pattern": "x", "action": "hold" }] })
        }
        ("POST", "/appeals/{id}/actions") => json!({ "action": "uphold" }),
        ("PATCH", "/sites/{site}/rules/{id}") => json!({ "enabled": false }),
        ("PATCH", "/sites/{site}/users/{id}") => json!({ "trusted": true }),
        ("PATCH", "/comments/{id}") => json!({ "body": "Edited by an intruder" }),
        ("POST", "/comments/{id}/actions") => json!({ "action": "reject" }),
        ("POST", "/tokens") => json!({ "name": "intruder" }),
        _ => json!({}),
    })
}

/// Site B's things, by kind.
struct Ids {
    comment: String,
    user: String,
    ban: String,
    rule: String,
    moderator: String,
    token: String,
    appeal: String,
    invitation: String,
}

/// The value of `{id}` in a route: which of B's things the route is about.
fn id_for(path: &str, ids: &Ids) -> Option<String> {
    let id = if path.starts_with("/comments/") {
        &ids.comment
    } else if path.starts_with("/tokens/") {
        &ids.token
    } else if path.starts_with("/appeals/") {
        &ids.appeal
    } else if path.contains("/bans/") {
        &ids.ban
    } else if path.contains("/rules/") {
        &ids.rule
    } else if path.contains("/users/") {
        &ids.user
    } else if path.contains("/moderators/") {
        &ids.moderator
    } else if path.contains("/invitations/") {
        &ids.invitation
    } else if path.contains("{id}") {
        panic!("the walk doesn't know what {{id}} is in {path}: teach id_for");
    } else {
        return None;
    };
    Some(id.clone())
}

fn fill(path: &str, site: &str, ids: &Ids) -> String {
    let mut p = path.replace("{site}", site);
    if let Some(id) = id_for(path, ids) {
        p = p.replace("{id}", &id);
    }
    assert!(!p.contains('{'), "unfilled placeholder in {p}");
    p
}

/// Routes that are about the caller, not about any site (nothing of another site to reach).
const UNSCOPED: [&str; 7] = [
    "/login",
    "/logout",
    "/tokens",
    "/sites",
    "/me/password",
    "/me/audit",
    // Public: what it reaches is decided by the invitation's token, not by a site in the path.
    "/invitations/accept",
];

#[tokio::test]
async fn every_moderator_route_answers_404_for_another_sites_things() {
    let app = spawn_app().await;
    let a = app
        .create_site(SiteOpts {
            slug: "alpha",
            policy: Policy::Pre,
            ..Default::default()
        })
        .await;
    let b = app
        .create_site(SiteOpts {
            slug: "beta",
            policy: Policy::Pre,
            ..Default::default()
        })
        .await;
    // A's owner: the strongest role there is, so a 404 can't be a missing right.
    add_moderator(&app, "alice@example.com", &a, Role::Owner).await;
    let bob_id = add_moderator(&app, "bob@example.com", &b, Role::Owner).await;
    let alice = login(&app, "alice@example.com").await;
    let bob = login(&app, "bob@example.com").await;
    comment_by(
        &app,
        "alpha",
        "/p/",
        "Alpha's own comment",
        "ann@example.com",
    )
    .await;

    let (comment, user) =
        comment_by(&app, "beta", "/p/", "Beta's comment", "zed@example.com").await;
    let ban = json_of(
        post(
            &app,
            "/sites/beta/bans",
            &bob,
            json!({ "email": "z@example.com" }),
        )
        .await,
        201,
    )
    .await;
    let rule = json_of(
        post(
            &app,
            "/sites/beta/rules",
            &bob,
            json!({ "kind": "word", "pattern": "zzz", "action": "hold" }),
        )
        .await,
        201,
    )
    .await;
    let token = json_of(
        post(&app, "/tokens", &bob, json!({ "name": "bob's script" })).await,
        201,
    )
    .await;
    let invitation = json_of(
        post(
            &app,
            "/sites/beta/moderators",
            &bob,
            json!({ "email": "invitee@example.com", "role": "moderator" }),
        )
        .await,
        201,
    )
    .await;
    let ids = Ids {
        invitation: invitation["id"].as_str().unwrap().to_owned(),
        comment: comment.clone(),
        user,
        ban: ban["id"].as_str().unwrap().to_owned(),
        rule: rule["id"].as_str().unwrap().to_owned(),
        moderator: bob_id.to_string(),
        token: token["id"].as_str().unwrap().to_owned(),
        // The author's appeal against B's comment (as `POST /api/v1/comments/{id}/appeal`
        // would file it once the comment is rejected; its status doesn't matter here).
        appeal: sqlx::query_scalar(
            "INSERT INTO appeals (id, site_id, kind, comment_id, user_id, message)
             SELECT gen_random_uuid(), site_id, 'comment', id, user_id, 'Please reconsider'
             FROM comments WHERE id = $1::uuid
             RETURNING id::text",
        )
        .bind(&comment)
        .fetch_one(&app.db)
        .await
        .unwrap(),
    };

    let routes = colloquy::app::moderator_routes();
    let resources = colloquy::app::moderator_resources();
    // The list is the registered table: one (method, path) per non-HEAD method of each resource.
    let expected: usize = resources
        .iter()
        .map(|r| r.allow.split(", ").filter(|m| *m != "HEAD").count())
        .sum();
    assert_eq!(routes.len(), expected);
    assert!(
        resources.len() >= 20,
        "the moderator API lost resources: {}",
        resources.len()
    );
    // Every resource is mounted with exactly that Allow: an unlisted method is 405, not 404.
    for r in resources {
        let path = fill(r.path, "alpha", &ids);
        let res = call(
            &app,
            Method::from_bytes(b"PURGE").unwrap(),
            &path,
            &alice,
            None,
        )
        .await;
        assert_eq!(res.status(), 405, "{} is not mounted", r.path);
        assert_eq!(res.headers()["allow"], r.allow, "{}", r.path);
    }

    let mut walked = 0;
    let mut scoped = HashSet::new();
    for &(method, path) in &routes {
        if UNSCOPED.contains(&path) {
            assert!(!path.contains('{'));
            continue;
        }
        let m = Method::from_bytes(method.as_bytes()).unwrap();
        // B's slug and B's ids.
        let url = fill(path, "beta", &ids);
        let r = call(&app, m.clone(), &url, &alice, body_for(method, path, &ids)).await;
        assert_eq!(r.status(), 404, "{method} {url} as A's owner");
        let body: Value = r.json().await.unwrap();
        assert_eq!(body["error"]["code"], "not_found", "{method} {url}");
        walked += 1;
        // A's slug, where alice holds a role, with B's ids.
        if path.starts_with("/sites/{site}/") && path.contains("{id}") {
            let url = fill(path, "alpha", &ids);
            let r = call(&app, m.clone(), &url, &alice, body_for(method, path, &ids)).await;
            assert_eq!(r.status(), 404, "{method} {url} as A's owner");
            walked += 1;
        }
        scoped.insert((method, path));
    }
    assert!(walked >= 30, "walked only {walked} calls");
    // A's bulk action naming B's comment reports it as not found.
    let r = post(
        &app,
        "/sites/alpha/actions",
        &alice,
        json!({ "ids": [comment], "action": "approve" }),
    )
    .await;
    assert_eq!(
        json_of(r, 200).await["results"][0]["error"]["code"],
        "not_found"
    );

    // Nothing of B changed.
    assert_eq!(status_of(&app, &comment).await, ("pending".into(), 1));
    let beta: (String, i64, i64, bool) = sqlx::query_as(
        "SELECT s.name,
                (SELECT count(*) FROM bans WHERE site_id = s.id),
                (SELECT count(*) FROM moderator_roles WHERE site_id = s.id),
                (SELECT enabled FROM rules WHERE site_id = s.id)
         FROM sites s WHERE s.slug = 'beta'",
    )
    .fetch_one(&app.db)
    .await
    .unwrap();
    assert_eq!(beta, ("The beta blog".into(), 1, 1, true));
    let revisions: i64 = sqlx::query_scalar("SELECT count(*) FROM comment_revisions")
        .fetch_one(&app.db)
        .await
        .unwrap();
    assert_eq!(revisions, 0);
    let live_tokens: i64 =
        sqlx::query_scalar("SELECT count(*) FROM api_tokens WHERE revoked_at IS NULL")
            .fetch_one(&app.db)
            .await
            .unwrap();
    assert_eq!(live_tokens, 1);
    let open_invitations: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM moderator_invitations WHERE accepted_at IS NULL AND revoked_at IS NULL",
    )
    .fetch_one(&app.db)
    .await
    .unwrap();
    assert_eq!(open_invitations, 1, "only B's own invitation");

    // And each of those routes does answer B's owner (deletes last): the 404s above were the
    // scope, not a route that doesn't exist.
    let mut ordered: Vec<&(&str, &str)> = routes.iter().filter(|r| scoped.contains(*r)).collect();
    ordered.sort_by_key(|(m, _)| *m == "DELETE");
    for &&(method, path) in &ordered {
        let url = fill(path, "beta", &ids);
        let m = Method::from_bytes(method.as_bytes()).unwrap();
        let r = call(&app, m, &url, &bob, body_for(method, path, &ids)).await;
        let status = r.status().as_u16();
        assert!(
            status < 400 || status == 409,
            "{method} {url} as B's owner: {status}"
        );
    }
}
