//! Live updates: Server-Sent Events per thread, fed by Postgres NOTIFY, so an event reaches
//! readers connected to another node than the one the comment came through.

use std::time::Duration;

use colloquy::app::Application;
use serde_json::Value;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;

use crate::helpers::{SiteOpts, http_client, spawn_app, wait_ready};

/// A raw SSE client: reads `event:`/`data:` frames.
struct Events {
    lines: tokio::io::Lines<BufReader<TcpStream>>,
}

impl Events {
    async fn open(base: &str, path: &str) -> Self {
        let addr = base.trim_start_matches("http://");
        let mut stream = TcpStream::connect(addr).await.unwrap();
        let req = format!(
            "GET {path} HTTP/1.1\r\nHost: {addr}\r\nAccept: text/event-stream\r\nOrigin: https://blog.example\r\n\r\n"
        );
        stream.write_all(req.as_bytes()).await.unwrap();
        let mut lines = BufReader::new(stream).lines();
        let status = lines.next_line().await.unwrap().unwrap();
        assert!(status.contains("200"), "{status}");
        let mut headers = vec![];
        loop {
            let l = lines.next_line().await.unwrap().unwrap();
            if l.is_empty() {
                break;
            }
            headers.push(l.to_ascii_lowercase());
        }
        assert!(
            headers
                .iter()
                .any(|h| h.starts_with("content-type: text/event-stream")),
            "{headers:?}"
        );
        assert!(
            headers
                .iter()
                .any(|h| h == "access-control-allow-origin: https://blog.example"),
            "{headers:?}"
        );
        Self { lines }
    }

    /// The next named event (skipping comments, retry hints and chunk-size lines).
    async fn next(&mut self) -> (String, Value) {
        let fut = async {
            let mut name = None;
            loop {
                let line = self.lines.next_line().await.unwrap().unwrap();
                if let Some(n) = line.strip_prefix("event: ") {
                    name = Some(n.to_owned());
                } else if let Some(d) = line.strip_prefix("data: ")
                    && let Some(n) = name.take()
                {
                    return (n, serde_json::from_str(d).unwrap());
                }
            }
        };
        tokio::time::timeout(Duration::from_secs(10), fut)
            .await
            .expect("an event within 10 s")
    }
}

#[tokio::test]
async fn readers_on_another_node_get_new_and_removed_comments_live() {
    let app = spawn_app().await;
    app.create_site(SiteOpts::default()).await;
    // A second node on the same database.
    let node2 = Application::build(app.settings.clone()).await.unwrap();
    let base2 = format!("http://127.0.0.1:{}", node2.port());
    tokio::spawn(node2.run());
    wait_ready(&http_client(), &base2).await;

    // Subscribed before the thread exists: its first comment creates it.
    let mut events = Events::open(&base2, "/api/v1/sites/blog/events?uri=/live/").await;
    // Give the stream a moment to be registered before anything is posted.
    tokio::time::sleep(Duration::from_millis(200)).await;
    app.comment("blog", "/elsewhere/", "not for this stream")
        .await;
    // A comment held at submit was never public: readers hear nothing of it, not even its id.
    sqlx::query("INSERT INTO rules (id, site_id, kind, pattern, action) SELECT gen_random_uuid(), id, 'word', 'holdme', 'hold' FROM sites")
        .execute(&app.db)
        .await
        .unwrap();
    let (status, held) = app
        .post_guest("blog", "/live/", "holdme please", "zed@example.com")
        .await;
    assert_eq!((status, held["status"].as_str()), (201, Some("pending")));
    let id = app.comment("blog", "/live/", "hello **live**").await;
    let (name, data) = events.next().await;
    assert_eq!(name, "comment");
    assert_eq!(
        data["id"],
        id.as_str(),
        "the other thread's comment was not sent"
    );
    assert_eq!(data["html"], "<p>hello <strong>live</strong></p>\n");
    assert!(data.get("status").is_none());
    assert!(
        !data.to_string().contains("ann@example.com"),
        "no email in live events"
    );

    // Held again (by anyone, anywhere): readers drop it.
    app.set_status(&id, "pending").await;
    let (name, data) = events.next().await;
    assert_eq!(name, "deleted");
    assert_eq!(data["id"], id.as_str());
}

#[tokio::test]
async fn events_need_a_valid_uri_and_a_known_site() {
    let app = spawn_app().await;
    app.create_site(SiteOpts::default()).await;
    let r = app.get("/api/v1/sites/blog/events").await;
    crate::helpers::assert_error(r, 400, "validation_failed").await;
    let r = app.get("/api/v1/sites/nope/events?uri=/a/").await;
    crate::helpers::assert_error(r, 404, "not_found").await;
}
