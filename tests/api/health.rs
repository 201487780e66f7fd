//! Liveness, readiness, and behaviour while PostgreSQL is unreachable.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use colloquy::app::Application;
use serde_json::json;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;

use crate::helpers::{DropDb, assert_error, http_client, spawn_app, test_settings};

#[tokio::test]
async fn live_and_ready_answer_json() {
    let app = spawn_app().await;
    let (status, body) = app.get_json("/health/live").await;
    assert_eq!((status, body), (200, json!({ "status": "ok" })));
    let (status, body) = app.get_json("/health/ready").await;
    assert_eq!((status, body), (200, json!({ "status": "ready" })));
}

/// A TCP proxy in front of the real Postgres that the test can cut and restore, as a network
/// partition or a database restart would.
struct PgProxy {
    port: u16,
    up: Arc<AtomicBool>,
    // Bumped on every cut so live forwarded connections drop.
    generation: watch::Sender<u64>,
}

impl PgProxy {
    async fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let up = Arc::new(AtomicBool::new(false));
        let (generation, _) = watch::channel(0u64);
        let state = (up.clone(), generation.clone());
        tokio::spawn(async move {
            loop {
                let Ok((mut client, _)) = listener.accept().await else {
                    return;
                };
                if !state.0.load(Ordering::SeqCst) {
                    drop(client); // refused: Postgres is "down"
                    continue;
                }
                let mut cut = state.1.subscribe();
                tokio::spawn(async move {
                    let Ok(mut server) = TcpStream::connect("127.0.0.1:5432").await else {
                        return;
                    };
                    tokio::select! {
                        _ = tokio::io::copy_bidirectional(&mut client, &mut server) => {}
                        _ = cut.changed() => {}
                    }
                });
            }
        });
        Self {
            port,
            up,
            generation,
        }
    }

    fn set_up(&self, up: bool) {
        self.up.store(up, Ordering::SeqCst);
        if !up {
            self.generation.send_modify(|g| *g += 1);
        }
    }
}

async fn status_of(client: &reqwest::Client, url: &str) -> u16 {
    client.get(url).send().await.unwrap().status().as_u16()
}

async fn eventually(client: &reqwest::Client, url: &str, want: u16) {
    for _ in 0..400 {
        if status_of(client, url).await == want {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("{url} never answered {want}");
}

#[tokio::test]
async fn the_server_starts_without_postgres_answers_503_and_recovers_by_itself() {
    let proxy = PgProxy::start().await;
    let (mut settings, db_name) = test_settings();
    let _drop = DropDb(db_name.clone());
    settings.database.url = format!("postgres://postgres@127.0.0.1:{}/{db_name}", proxy.port);
    settings.database.acquire_timeout_ms = 500;

    // Postgres down at start: the server still starts.
    let app = Application::build(settings)
        .await
        .expect("starts with the database down");
    let base = format!("http://127.0.0.1:{}", app.port());
    tokio::spawn(app.run());
    let client = http_client();

    assert_eq!(
        status_of(&client, &format!("{base}/health/live")).await,
        200
    );
    let r = client
        .get(format!("{base}/health/ready"))
        .send()
        .await
        .unwrap();
    assert!(r.headers().contains_key("retry-after"));
    assert_error(r, 503, "unavailable").await;
    let r = client
        .get(format!("{base}/api/v1/sites/blog/thread?uri=/a/"))
        .send()
        .await
        .unwrap();
    assert!(r.headers().contains_key("retry-after"));
    assert_error(r, 503, "unavailable").await;
    let r = client
        .post(format!("{base}/api/v1/sites/blog/comments"))
        .json(&json!({ "uri": "/a/", "body": "hi", "guest": { "name": "A", "email": "a@b.co" } }))
        .send()
        .await
        .unwrap();
    assert_error(r, 503, "unavailable").await;

    // Postgres comes up: the app creates its database, migrates, and becomes ready unaided.
    proxy.set_up(true);
    eventually(&client, &format!("{base}/health/ready"), 200).await;
    let direct = sqlx::PgPool::connect(&format!("{}/{db_name}", crate::helpers::pg_base()))
        .await
        .unwrap();
    sqlx::query(
        "INSERT INTO sites (id, slug, name, origins, guests, policy, max_depth, edit_window_s, flags_to_hold)
         VALUES (gen_random_uuid(), 'blog', 'Blog', '{}', true, 'post', 5, 900, 3)",
    )
    .execute(&direct)
    .await
    .unwrap();
    let post = |text: &'static str| {
        client
            .post(format!("{base}/api/v1/sites/blog/comments"))
            .json(
                &json!({ "uri": "/a/", "body": text, "guest": { "name": "A", "email": "a@b.co" } }),
            )
            .send()
    };
    assert_eq!(post("before the outage").await.unwrap().status(), 201);

    // Postgres goes away mid-flight: 503s, never 500s.
    proxy.set_up(false);
    for _ in 0..3 {
        let r = client
            .get(format!("{base}/api/v1/sites/blog/thread?uri=/a/"))
            .send()
            .await
            .unwrap();
        // The site may still be cached; either way the thread needs the database.
        assert_error(r, 503, "unavailable").await;
    }
    assert_eq!(
        status_of(&client, &format!("{base}/health/ready")).await,
        503
    );

    // And back.
    proxy.set_up(true);
    eventually(&client, &format!("{base}/health/ready"), 200).await;
    let mut stored = false;
    for _ in 0..100 {
        let r = post("after the outage").await.unwrap();
        if r.status() == 201 {
            stored = true;
            break;
        }
        assert_eq!(r.status(), 503, "only 503 while reconnecting");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(stored);
    let n: i64 = sqlx::query_scalar("SELECT count(*) FROM comments")
        .fetch_one(&direct)
        .await
        .unwrap();
    assert_eq!(n, 2);
    direct.close().await;
}
