use super::*;

#[tokio::test]
async fn bans_by_email_ip_range_and_user_refuse_with_403_and_store_nothing() {
    let app = trusted_proxy_app().await;
    let site = site_id(&app).await;
    let before = counts(&app).await;
    sqlx::query("INSERT INTO bans (id, site_id, kind, email) VALUES (gen_random_uuid(), $1, 'email', 'troll@example.com')")
        .bind(site)
        .execute(&app.db)
        .await
        .unwrap();
    sqlx::query("INSERT INTO bans (id, site_id, kind, ip) VALUES (gen_random_uuid(), $1, 'ip', '198.51.100.0/24')")
        .bind(site)
        .execute(&app.db)
        .await
        .unwrap();
    // The address is matched case-insensitively; the IP by range.
    assert_error(
        post_from(&app, "203.0.113.5", "Troll@Example.COM", "hi").await,
        403,
        "banned",
    )
    .await;
    assert_error(
        post_from(&app, "198.51.100.77", "other@example.com", "hi").await,
        403,
        "banned",
    )
    .await;
    assert_eq!(
        counts(&app).await,
        before,
        "a refused comment leaves nothing behind"
    );
    // Outside the range: fine.
    assert_eq!(
        post_from(&app, "198.51.101.1", "other@example.com", "hi")
            .await
            .status(),
        201
    );

    // A user ban follows the user whatever their address.
    let user: uuid::Uuid = sqlx::query_scalar("SELECT user_id FROM comments")
        .fetch_one(&app.db)
        .await
        .unwrap();
    sqlx::query(
        "INSERT INTO bans (id, site_id, kind, user_id) VALUES (gen_random_uuid(), $1, 'user', $2)",
    )
    .bind(site)
    .bind(user)
    .execute(&app.db)
    .await
    .unwrap();
    assert_error(
        post_from(&app, "192.0.2.1", "other@example.com", "again").await,
        403,
        "banned",
    )
    .await;
}

#[tokio::test]
async fn timed_bans_expire() {
    let app = trusted_proxy_app().await;
    let site = site_id(&app).await;
    sqlx::query(
        "INSERT INTO bans (id, site_id, kind, email, until) VALUES (gen_random_uuid(), $1, 'email', 'a@example.com', now() + interval '1 hour'),
                                                                  (gen_random_uuid(), $1, 'email', 'b@example.com', now() - interval '1 second')",
    )
    .bind(site)
    .execute(&app.db)
    .await
    .unwrap();
    assert_error(
        post_from(&app, "192.0.2.1", "a@example.com", "hi").await,
        403,
        "banned",
    )
    .await;
    assert_eq!(
        post_from(&app, "192.0.2.2", "b@example.com", "hi")
            .await
            .status(),
        201,
        "expired ban"
    );
}

#[tokio::test]
async fn a_shadow_banned_author_sees_their_comment_published_and_nobody_else_does() {
    let app = spawn_app_with(|s| s.auth.dev_provider = true).await;
    app.create_site(SiteOpts::default()).await;
    sqlx::query("UPDATE sites SET providers = '{dev}'")
        .execute(&app.db)
        .await
        .unwrap();
    let token = crate::helpers::reader::login(&app, "Shady").await;
    let me: Value = app
        .client
        .get(app.url("/api/v1/me"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    sqlx::query("INSERT INTO bans (id, site_id, kind, user_id, shadow) VALUES (gen_random_uuid(), $1, 'user', $2::uuid, true)")
        .bind(site_id(&app).await)
        .bind(me["id"].as_str().unwrap())
        .execute(&app.db)
        .await
        .unwrap();
    let r = app
        .client
        .post(app.url("/api/v1/sites/blog/comments"))
        .bearer_auth(&token)
        .json(&json!({ "uri": "/p/", "body": "buy my stuff" }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["status"], "approved", "looks published to its author");
    assert_eq!(body["reasons"], json!([]));
    let (status, shadow, reasons): (String, bool, Value) =
        sqlx::query_as("SELECT status, shadow, reasons FROM comments")
            .fetch_one(&app.db)
            .await
            .unwrap();
    assert_eq!((status.as_str(), shadow), ("spam", true));
    assert_eq!(reasons[0]["kind"], "shadow_ban", "moderators see why");

    let own: Value = app
        .client
        .get(app.url("/api/v1/sites/blog/thread?uri=/p/"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(own["comments"].as_array().unwrap().len(), 1);
    assert_eq!(own["comments"][0]["status"], "approved");
    assert_eq!(
        app.thread("blog", "uri=/p/").await["comments"],
        json!([]),
        "others don't see it"
    );
}

/// A ban on a bare IPv6 address covers its /64 (what one host holds; stepping to the next
/// address dodged it), a bare IPv4-mapped address is the IPv4 one, and a CIDR stays as given.
#[tokio::test]
async fn a_ban_on_one_ipv6_address_covers_its_64() {
    use crate::helpers::moderator::{add_moderator, login, post};
    let app =
        spawn_app_with(|s| s.server.trusted_proxies = vec!["127.0.0.1/32".parse().unwrap()]).await;
    let blog = app.create_site(SiteOpts::default()).await;
    add_moderator(
        &app,
        "owner@example.com",
        &blog,
        colloquy::auth::moderators::Role::Owner,
    )
    .await;
    let owner = login(&app, "owner@example.com").await;
    for ip in ["2001:db8:77:1::5", "::ffff:198.51.100.9"] {
        let r = post(&app, "/sites/blog/bans", &owner, json!({ "ip": ip })).await;
        assert_eq!(r.status(), 201, "{ip}");
    }
    let stored: Vec<String> = sqlx::query_scalar("SELECT ip::text FROM bans ORDER BY ip")
        .fetch_all(&app.db)
        .await
        .unwrap();
    assert_eq!(stored, ["198.51.100.9/32", "2001:db8:77:1::/64"]);
    for ip in [
        "2001:db8:77:1::5",
        "2001:db8:77:1::6",
        "2001:db8:77:1:ffff::1",
        "198.51.100.9",
    ] {
        assert_error(
            post_from(&app, ip, "x@example.com", &format!("from {ip}")).await,
            403,
            "banned",
        )
        .await;
    }
    let r = post_from(&app, "2001:db8:77:2::1", "x@example.com", "next /64").await;
    assert_eq!(r.status(), 201);
}
