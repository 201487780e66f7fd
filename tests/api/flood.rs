//! Flood limits can't be dodged (issue 10, point 6): the per-IP comment limit counts an IPv6
//! client by its /64, a site caps guest comments per minute, and author edits are limited.

use colloquy::auth::moderators::Role;
use colloquy::domain::Policy;
use reqwest::{Method, Response};
use serde_json::json;

use crate::helpers::moderator::{add_moderator, call, login};
use crate::helpers::reader::login as reader_login;
use crate::helpers::reader::{Reader, published, send};
use crate::helpers::{SiteOpts, TestApp, assert_error, spawn_app_with};

async fn post_from(app: &TestApp, site: &str, ip: &str, email: &str, body: &str) -> Response {
    app.client
        .post(app.url(&format!("/api/v1/sites/{site}/comments")))
        .header("X-Forwarded-For", ip)
        .json(&json!({ "uri": "/p/", "body": body,
                       "guest": { "name": "Ann", "email": email, "key": crate::helpers::guest_key(email) } }))
        .send()
        .await
        .unwrap()
}

async fn limited(r: Response) {
    let retry: u64 = r.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=60).contains(&retry), "{retry}");
    let body = assert_error(r, 429, "rate_limited").await;
    assert_eq!(body["error"]["details"]["retry_after_s"], retry);
}

#[tokio::test]
async fn addresses_of_one_ipv6_64_share_the_per_ip_limit_and_other_64s_do_not() {
    let app = spawn_app_with(|s| {
        s.server.trusted_proxies = vec!["127.0.0.1/32".parse().unwrap()];
        s.limits.comments_per_minute_ip = 2;
    })
    .await;
    app.create_site(SiteOpts::default()).await;
    for (ip, email) in [
        ("2001:db8:1:2::1", "a@example.com"),
        ("2001:db8:1:2:ffff:ffff:ffff:fffe", "b@example.com"),
    ] {
        assert_eq!(post_from(&app, "blog", ip, email, "hi").await.status(), 201);
    }
    // A third address of the same /64, a new author: the network's limit is reached.
    limited(post_from(&app, "blog", "2001:db8:1:2::abcd", "c@example.com", "hi").await).await;
    // The neighbouring /64 and an IPv4 client are other networks.
    assert_eq!(
        post_from(&app, "blog", "2001:db8:1:3::1", "d@example.com", "hi")
            .await
            .status(),
        201
    );
    assert_eq!(
        post_from(&app, "blog", "192.0.2.7", "e@example.com", "hi")
            .await
            .status(),
        201
    );
    // IPv4 addresses stay exact: a neighbour in the same /24 has its own count.
    assert_eq!(
        post_from(&app, "blog", "192.0.2.7", "f@example.com", "hi")
            .await
            .status(),
        201
    );
    limited(post_from(&app, "blog", "192.0.2.7", "g@example.com", "hi").await).await;
    assert_eq!(
        post_from(&app, "blog", "192.0.2.8", "g@example.com", "hi")
            .await
            .status(),
        201
    );
    // The address itself is stored exactly; only the count is by network.
    let ips: Vec<String> = sqlx::query_scalar(
        "SELECT host(author_ip) FROM comments WHERE author_ip << '2001:db8:1:2::/64' ORDER BY created_at",
    )
    .fetch_all(&app.db)
    .await
    .unwrap();
    assert_eq!(ips, ["2001:db8:1:2::1", "2001:db8:1:2:ffff:ffff:ffff:fffe"]);
}

#[tokio::test]
async fn a_site_takes_at_most_its_guest_comments_per_minute() {
    let app = spawn_app_with(|s| {
        s.server.trusted_proxies = vec!["127.0.0.1/32".parse().unwrap()];
        s.limits.guest_comments_per_minute = 3;
    })
    .await;
    // A site whose approvals are a moderator's (under `post` everyone is approved, and an
    // approval proves nothing).
    let site = app
        .create_site(SiteOpts {
            policy: colloquy::domain::Policy::FirstTime,
            ..Default::default()
        })
        .await;
    app.create_site(SiteOpts {
        slug: "other",
        ..Default::default()
    })
    .await;
    // Three guests from three networks: the site's guest minute is full.
    for i in 1..=3 {
        let r = post_from(
            &app,
            "blog",
            &format!("198.51.100.{i}"),
            &format!("g{i}@example.com"),
            "hello",
        )
        .await;
        assert_eq!(r.status(), 201);
    }
    limited(post_from(&app, "blog", "203.0.113.4", "g4@example.com", "hello").await).await;
    // A guest the site already approved (same email and key) isn't shut out by the strangers'
    // flood: the cap is for newcomers.
    sqlx::query("UPDATE comments SET status = 'approved' WHERE author_email = 'g1@example.com'")
        .execute(&app.db)
        .await
        .unwrap();
    assert_eq!(
        post_from(
            &app,
            "blog",
            "203.0.113.9",
            "g1@example.com",
            "still welcome"
        )
        .await
        .status(),
        201
    );
    // Another site has its own count.
    assert_eq!(
        post_from(&app, "other", "203.0.113.4", "g4@example.com", "hello")
            .await
            .status(),
        201
    );
    // The owner raises the site's own limit.
    add_moderator(&app, "owner@example.com", &site, Role::Owner).await;
    let token = login(&app, "owner@example.com").await;
    let r = call(
        &app,
        Method::PATCH,
        "/sites/blog",
        &token,
        Some(json!({ "limits": { "guest_comments_per_minute": 10 } })),
    )
    .await;
    assert_eq!(r.status(), 200);
    assert_eq!(
        post_from(&app, "blog", "203.0.113.4", "g4@example.com", "hello")
            .await
            .status(),
        201
    );
    let r = call(
        &app,
        Method::PATCH,
        "/sites/blog",
        &token,
        Some(json!({ "limits": { "guest_comments_per_minute": 10001 } })),
    )
    .await;
    let body = assert_error(r, 400, "validation_failed").await;
    assert!(body["error"]["details"]["limits.guest_comments_per_minute"].is_string());
}

async fn edit(app: &TestApp, who: &Reader, id: &str, body: &str) -> Response {
    send(
        app,
        Method::PATCH,
        &format!("/api/v1/comments/{id}"),
        Some(who),
        Some(json!({ "body": body })),
    )
    .await
}

#[tokio::test]
async fn author_edits_are_limited_per_comment_and_per_author() {
    let app = spawn_app_with(|s| {
        s.auth.dev_provider = true;
        s.limits.edits_per_minute_comment = 3;
        s.limits.edits_per_minute_user = 5;
    })
    .await;
    app.create_site(SiteOpts {
        policy: Policy::Post,
        ..Default::default()
    })
    .await;
    sqlx::query("UPDATE sites SET providers = '{dev}'")
        .execute(&app.db)
        .await
        .unwrap();
    let token = reader_login(&app, "Ann").await;
    let ann = Reader {
        token,
        id: String::new(),
    };
    let a = published(&app, &ann, "First version of a", None).await;
    let b = published(&app, &ann, "First version of b", None).await;
    for n in 1..=3 {
        let r = edit(&app, &ann, &a, &format!("a, edit {n}")).await;
        assert_eq!(r.status(), 200);
    }
    // The comment's minute is full; nothing more is stored for it.
    limited(edit(&app, &ann, &a, "a, edit 4").await).await;
    for n in 1..=2 {
        let r = edit(&app, &ann, &b, &format!("b, edit {n}")).await;
        assert_eq!(r.status(), 200);
    }
    // Five edits by the author this minute, across comments.
    limited(edit(&app, &ann, &b, "b, edit 3").await).await;
    let revisions: i64 = sqlx::query_scalar("SELECT count(*) FROM comment_revisions")
        .fetch_one(&app.db)
        .await
        .unwrap();
    assert_eq!(revisions, 5);
    let body: String = sqlx::query_scalar("SELECT body_markdown FROM comments WHERE id = $1::uuid")
        .bind(&a)
        .fetch_one(&app.db)
        .await
        .unwrap();
    assert_eq!(body, "a, edit 3");
}
