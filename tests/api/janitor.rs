//! The sweep of expired rows: what has expired goes, what is live stays.

use colloquy::domain::Policy;
use serde_json::json;

use crate::helpers::TestApp;
use crate::helpers::reader::{dev_app, login};

async fn count(app: &TestApp, sql: &'static str) -> i64 {
    sqlx::query_scalar(sql).fetch_one(&app.db).await.unwrap()
}

#[tokio::test]
async fn a_sweep_deletes_expired_sessions_attempts_and_keys_and_nothing_live() {
    let app = dev_app(Policy::Post).await;
    let old = login(&app, "Old").await;
    let live = login(&app, "Live").await;
    // Two login attempts left open, and two comments with idempotency keys.
    for _ in 0..2 {
        let r = app
            .get("/auth/dev/login?site=blog&origin=https://blog.example")
            .await;
        assert_eq!(r.status(), 302);
    }
    for (token, key) in [(&old, "k-old"), (&live, "k-live")] {
        let r = app
            .client
            .post(app.url("/api/v1/sites/blog/comments"))
            .bearer_auth(token)
            .header("Idempotency-Key", key)
            .json(&json!({ "uri": "/p/", "body": format!("from {key}") }))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 201);
    }
    let sessions = count(&app, "SELECT count(*) FROM sessions").await;
    let states = count(&app, "SELECT count(*) FROM login_states").await;
    assert_eq!((sessions, states), (2, 2));

    // Age one of each past its lifetime.
    for sql in [
        "UPDATE sessions SET expires_at = now() - interval '1 second'
         WHERE id = (SELECT id FROM sessions ORDER BY created_at LIMIT 1)",
        "UPDATE login_states SET expires_at = now() - interval '1 second'
         WHERE ctid = (SELECT ctid FROM login_states LIMIT 1)",
        "UPDATE idempotency_keys SET created_at = now() - interval '25 hours' WHERE key = 'k-old'",
        "UPDATE idempotency_keys SET created_at = now() - interval '23 hours' WHERE key = 'k-live'",
    ] {
        assert_eq!(
            sqlx::query(sql)
                .execute(&app.db)
                .await
                .unwrap()
                .rows_affected(),
            1,
            "{sql}"
        );
    }

    let swept = colloquy::janitor::sweep(&app.db).await.unwrap();
    let of = |t: &str| swept.iter().find(|(n, _)| *n == t).unwrap().1;
    assert_eq!(of("sessions"), 1);
    assert_eq!(of("login_states"), 1);
    assert_eq!(of("idempotency_keys"), 1);
    assert_eq!(count(&app, "SELECT count(*) FROM sessions").await, 1);
    assert_eq!(count(&app, "SELECT count(*) FROM login_states").await, 1);
    assert_eq!(
        sqlx::query_scalar::<_, String>("SELECT key FROM idempotency_keys")
            .fetch_all(&app.db)
            .await
            .unwrap(),
        ["k-live"]
    );
    // The live session still works; the comments are untouched.
    let r = app
        .client
        .get(app.url("/api/v1/me"))
        .bearer_auth(&live)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(app.comment_count().await, 2);
    // A second sweep finds nothing.
    let again = colloquy::janitor::sweep(&app.db).await.unwrap();
    assert!(again.iter().all(|(_, n)| *n == 0), "{again:?}");
}
