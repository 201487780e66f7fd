//! Bans

use super::*;

async fn post_from(app: &TestApp, ip: &str, email: &str, body: &str) -> Response {
    app.client
        .post(app.url("/api/v1/sites/blog/comments"))
        .header("X-Forwarded-For", ip)
        .json(
            &json!({ "uri": "/p/", "body": body, "guest": { "name": "Someone", "email": email } }),
        )
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn bans_are_created_listed_and_lifted_by_user_email_or_ip_range() {
    let app =
        spawn_app_with(|s| s.server.trusted_proxies = vec!["127.0.0.1/32".parse().unwrap()]).await;
    let ctx = with_app(app, Policy::Post).await;
    let app = &ctx.app;
    let (_, troll) = comment_by(app, "blog", "/p/", "I am a troll", "troll@example.com").await;

    let until = (time::OffsetDateTime::now_utc() + time::Duration::days(7))
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap();
    let r = post(
        app,
        "/sites/blog/bans",
        &ctx.token,
        json!({ "ip": "203.0.113.77/24", "until": until, "reason": "spam wave" }),
    )
    .await;
    let ip_ban = json_of(r, 201).await;
    assert_eq!(ip_ban["kind"], "ip");
    assert_eq!(ip_ban["ip"], "203.0.113.0/24", "stored as its network");
    assert_eq!(ip_ban["active"], true);
    assert_eq!(ip_ban["reason"], "spam wave");
    assert_eq!(ip_ban["created_by"], ctx.mod_id.to_string());
    assert!(ip_ban["until"].is_string());
    let r = post(
        app,
        "/sites/blog/bans",
        &ctx.token,
        json!({ "email": "Spammer@Example.COM" }),
    )
    .await;
    let email_ban = json_of(r, 201).await;
    assert_eq!(email_ban["email"], "spammer@example.com");
    assert_eq!(email_ban["until"], Value::Null);
    let r = post(
        app,
        "/sites/blog/bans",
        &ctx.token,
        json!({ "user_id": troll, "shadow": true }),
    )
    .await;
    let user_ban = json_of(r, 201).await;
    assert_eq!(user_ban["shadow"], true);

    // They bite.
    assert_error(
        post_from(app, "203.0.113.200", "new@example.com", "From the range").await,
        403,
        "banned",
    )
    .await;
    assert_error(
        post_from(app, "198.51.100.1", "spammer@example.com", "By email").await,
        403,
        "banned",
    )
    .await;
    let r = post_from(app, "198.51.100.1", "fine@example.com", "Allowed").await;
    assert_eq!(r.status(), 201);

    let list = json_of(get(app, "/sites/blog/bans", &ctx.token).await, 200).await;
    let ids: Vec<&str> = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["id"].as_str().unwrap())
        .collect();
    assert_eq!(
        ids,
        [
            ip_ban["id"].as_str().unwrap(),
            email_ban["id"].as_str().unwrap(),
            user_ban["id"].as_str().unwrap()
        ]
    );
    let page = json_of(get(app, "/sites/blog/bans?limit=2", &ctx.token).await, 200).await;
    assert_eq!(page["items"].as_array().unwrap().len(), 2);
    assert!(page["next_cursor"].is_string());
    let one = json_of(
        get(
            app,
            &format!("/sites/blog/bans/{}", ip_ban["id"].as_str().unwrap()),
            &ctx.token,
        )
        .await,
        200,
    )
    .await;
    assert_eq!(one["ip"], "203.0.113.0/24");

    // An expired ban is listed but inactive, and doesn't bite.
    sqlx::query("UPDATE bans SET until = now() - interval '1 minute' WHERE kind = 'email'")
        .execute(&app.db)
        .await
        .unwrap();
    let one = json_of(
        get(
            app,
            &format!("/sites/blog/bans/{}", email_ban["id"].as_str().unwrap()),
            &ctx.token,
        )
        .await,
        200,
    )
    .await;
    assert_eq!(one["active"], false);
    assert_eq!(
        post_from(app, "198.51.100.1", "spammer@example.com", "Expired now")
            .await
            .status(),
        201
    );

    // Lifting.
    let path = format!("/sites/blog/bans/{}", ip_ban["id"].as_str().unwrap());
    assert_eq!(delete(app, &path, &ctx.token).await.status(), 204);
    assert_error(delete(app, &path, &ctx.token).await, 404, "not_found").await;
    assert_eq!(
        post_from(app, "203.0.113.200", "new@example.com", "Range lifted")
            .await
            .status(),
        201
    );

    // Validation: exactly one target, real values, a future `until`.
    let past = "2001-01-01T00:00:00Z";
    let bad: [(Value, &str); 7] = [
        (json!({}), "target"),
        (
            json!({ "email": "a@b.example", "ip": "10.0.0.1" }),
            "target",
        ),
        (json!({ "ip": "10.0.0.0/33" }), "ip"),
        (json!({ "ip": "example.com" }), "ip"),
        (json!({ "email": "not an email" }), "email"),
        (json!({ "ip": "10.0.0.1", "until": past }), "until"),
        (json!({ "ip": "10.0.0.1", "until": "tomorrow" }), "until"),
    ];
    for (body, field) in bad {
        let r = post(app, "/sites/blog/bans", &ctx.token, body.clone()).await;
        let e = assert_error(r, 400, "validation_failed").await;
        assert!(e["error"]["details"][field].is_string(), "{body}: {e}");
    }
    let r = post(
        app,
        "/sites/blog/bans",
        &ctx.token,
        json!({ "ip": "10.0.0.1", "shadow": "yes" }),
    )
    .await;
    assert_error(r, 400, "validation_failed").await;
    // A user who never commented here is unknown here.
    let r = post(
        app,
        "/sites/blog/bans",
        &ctx.token,
        json!({ "user_id": Uuid::now_v7() }),
    )
    .await;
    assert_error(r, 404, "not_found").await;
}
