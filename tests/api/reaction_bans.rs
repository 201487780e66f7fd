//! Bans apply to flags and votes (issue 10, point 8c): a banned account, email or network can't
//! flag comments back into the queue nor vote; a shadow-banned one is answered as if it counted
//! and changes nothing.

use colloquy::domain::Policy;
use reqwest::{Method, Response};
use serde_json::{Value, json};

use crate::helpers::reader::{Reader, ids, public_thread, published, reader};
use crate::helpers::{SiteOpts, TestApp, assert_error, spawn_app_with};

async fn app() -> TestApp {
    let app = spawn_app_with(|s| {
        s.auth.dev_provider = true;
        s.server.trusted_proxies = vec!["127.0.0.1/32".parse().unwrap()];
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
    app
}

async fn react(
    app: &TestApp,
    who: &Reader,
    ip: &str,
    method: Method,
    path: String,
    body: Value,
) -> Response {
    app.client
        .request(method, app.url(&path))
        .bearer_auth(&who.token)
        .header("X-Forwarded-For", ip)
        .json(&body)
        .send()
        .await
        .unwrap()
}

async fn flag(app: &TestApp, who: &Reader, ip: &str, id: &str) -> Response {
    react(
        app,
        who,
        ip,
        Method::POST,
        format!("/api/v1/comments/{id}/flags"),
        json!({ "reason": "abuse" }),
    )
    .await
}

async fn vote(app: &TestApp, who: &Reader, ip: &str, id: &str, value: i64) -> Response {
    react(
        app,
        who,
        ip,
        Method::PUT,
        format!("/api/v1/comments/{id}/vote"),
        json!({ "value": value }),
    )
    .await
}

async fn ban(app: &TestApp, column: &str, value: &str, extra: &str) {
    let sql = format!(
        "INSERT INTO bans (id, site_id, kind, {column}, shadow, until)
         SELECT gen_random_uuid(), id, '{kind}', $1::{ty}, {extra} FROM sites WHERE slug = 'blog'",
        kind = match column {
            "user_id" => "user",
            "ip" => "ip",
            _ => "email",
        },
        ty = match column {
            "user_id" => "uuid",
            "ip" => "cidr",
            _ => "text",
        },
    );
    sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(value)
        .execute(&app.db)
        .await
        .unwrap();
}

async fn count(app: &TestApp, table: &str) -> i64 {
    sqlx::query_scalar(sqlx::AssertSqlSafe(format!("SELECT count(*) FROM {table}")))
        .fetch_one(&app.db)
        .await
        .unwrap()
}

#[tokio::test]
async fn a_banned_account_or_network_can_neither_flag_nor_vote() {
    let app = app().await;
    let alice = reader(&app, "Alice").await;
    let bob = reader(&app, "Bob").await;
    let carol = reader(&app, "Carol").await;
    let id = published(&app, &alice, "An opinion", None).await;

    // A user ban.
    ban(&app, "user_id", &bob.id, "false, NULL").await;
    let body = assert_error(flag(&app, &bob, "192.0.2.1", &id).await, 403, "banned").await;
    assert!(body["error"]["details"]["ban_id"].is_string(), "{body}");
    assert_error(vote(&app, &bob, "192.0.2.1", &id, -1).await, 403, "banned").await;

    // A ban of an IPv6 /64 stops every address in it, and no other.
    ban(&app, "ip", "2001:db8:5:6::/64", "false, NULL").await;
    assert_error(
        flag(&app, &carol, "2001:db8:5:6::99", &id).await,
        403,
        "banned",
    )
    .await;
    assert_error(
        vote(&app, &carol, "2001:db8:5:6:ffff::1", &id, 1).await,
        403,
        "banned",
    )
    .await;
    assert_eq!(
        (count(&app, "flags").await, count(&app, "votes").await),
        (0, 0)
    );
    assert_eq!(
        vote(&app, &carol, "2001:db8:5:7::1", &id, 1).await.status(),
        200
    );
    assert_eq!(
        flag(&app, &carol, "2001:db8:5:7::1", &id).await.status(),
        201
    );
    assert_eq!(
        (count(&app, "flags").await, count(&app, "votes").await),
        (1, 1)
    );
}

#[tokio::test]
async fn a_timed_ban_stops_flags_and_votes_until_it_ends() {
    let app = app().await;
    let alice = reader(&app, "Alice").await;
    let bob = reader(&app, "Bob").await;
    let dave = reader(&app, "Dave").await;
    let id = published(&app, &alice, "An opinion", None).await;
    ban(&app, "user_id", &bob.id, "false, now() + interval '1 hour'").await;
    ban(
        &app,
        "user_id",
        &dave.id,
        "false, now() - interval '1 second'",
    )
    .await;
    assert_error(flag(&app, &bob, "192.0.2.1", &id).await, 403, "banned").await;
    assert_error(vote(&app, &bob, "192.0.2.1", &id, 1).await, 403, "banned").await;
    // Dave's ban is over.
    assert_eq!(flag(&app, &dave, "192.0.2.2", &id).await.status(), 201);
    assert_eq!(vote(&app, &dave, "192.0.2.2", &id, 1).await.status(), 200);
}

#[tokio::test]
async fn shadow_banned_flags_and_votes_are_answered_as_counted_and_change_nothing() {
    let app = app().await;
    let alice = reader(&app, "Alice").await;
    let id = published(&app, &alice, "An opinion", None).await;
    // The site holds a comment at three flags; three shadow-banned readers flag it.
    for name in ["Bob", "Carol", "Dave"] {
        let r = reader(&app, name).await;
        ban(&app, "user_id", &r.id, "true, NULL").await;
        let res = flag(&app, &r, "192.0.2.1", &id).await;
        assert_eq!(res.status(), 201);
        let body: Value = res.json().await.unwrap();
        assert_eq!(body["flags"], 1, "as if theirs counted: {body}");
        let res = vote(&app, &r, "192.0.2.1", &id, -1).await;
        assert_eq!(res.status(), 200);
        let body: Value = res.json().await.unwrap();
        assert_eq!(body["score"], -1, "{body}");
        assert_eq!(body["value"], -1, "{body}");
    }
    assert_eq!(
        (count(&app, "flags").await, count(&app, "votes").await),
        (0, 0)
    );
    let score: i32 = sqlx::query_scalar("SELECT score FROM comments WHERE id = $1::uuid")
        .bind(&id)
        .fetch_one(&app.db)
        .await
        .unwrap();
    assert_eq!(score, 0);
    assert_eq!(
        ids(&public_thread(&app).await),
        vec![id.as_str()],
        "still published"
    );
}

/// A shadow-banned reader's repeated flag and vote answer exactly as anyone's do (409
/// `already_flagged`; the same score), so trying twice doesn't give the ban away, and still
/// nothing counts.
#[tokio::test]
async fn a_shadow_ban_answers_repeated_flags_and_votes_like_anyones() {
    let app = app().await;
    let alice = reader(&app, "Alice").await;
    let bob = reader(&app, "Bob").await;
    let mallory = reader(&app, "Mallory").await;
    let id = published(&app, &alice, "An opinion", None).await;
    ban(&app, "user_id", &mallory.id, "true, NULL").await;

    async fn answer(r: Response) -> (u16, Value) {
        let status = r.status().as_u16();
        (status, r.json().await.unwrap())
    }
    // Bob (not banned) and Mallory (shadow-banned) do the same things; each sees the same.
    for who in [&bob, &mallory] {
        let (s, first) = answer(flag(&app, who, "192.0.2.1", &id).await).await;
        assert_eq!(
            (s, &first["flags"]),
            (201, &json!(1)),
            "{}: {first}",
            who.id
        );
        let (s, second) = answer(flag(&app, who, "192.0.2.1", &id).await).await;
        assert_eq!(s, 409, "{}: {second}", who.id);
        assert_eq!(second["error"]["code"], "already_flagged");
        // Undo Bob's, so both start from the same count.
        sqlx::query("DELETE FROM flags")
            .execute(&app.db)
            .await
            .unwrap();

        let (s, up) = answer(vote(&app, who, "192.0.2.1", &id, 1).await).await;
        assert_eq!((s, &up["score"]), (200, &json!(1)), "{up}");
        let (s, again) = answer(vote(&app, who, "192.0.2.1", &id, 1).await).await;
        assert_eq!((s, &again["score"]), (200, &json!(1)), "a repeat: {again}");
        let (s, down) = answer(vote(&app, who, "192.0.2.1", &id, -1).await).await;
        assert_eq!((s, &down["score"]), (200, &json!(-1)), "{down}");
        let (s, none) = answer(vote(&app, who, "192.0.2.1", &id, 0).await).await;
        assert_eq!((s, &none["score"]), (200, &json!(0)), "{none}");
    }
    // Mallory's changed nothing that counts.
    assert_eq!(
        (count(&app, "flags").await, count(&app, "votes").await),
        (0, 0)
    );
    let score: i32 = sqlx::query_scalar("SELECT score FROM comments WHERE id = $1::uuid")
        .bind(&id)
        .fetch_one(&app.db)
        .await
        .unwrap();
    assert_eq!(score, 0);
}
