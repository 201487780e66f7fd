//! Live queue events

use super::*;

/// A raw SSE client for the moderator stream.
struct Events {
    lines: tokio::io::Lines<BufReader<TcpStream>>,
}

impl Events {
    /// Opens the stream; answers the status line and, on 200, the reader.
    async fn open(app: &TestApp, site: &str, token: Option<&str>) -> (String, Option<Self>) {
        let addr = app.address.trim_start_matches("http://");
        let mut stream = TcpStream::connect(addr).await.unwrap();
        let auth = token
            .map(|t| format!("Authorization: Bearer {t}\r\n"))
            .unwrap_or_default();
        let req = format!(
            "GET /api/mod/v1/sites/{site}/events HTTP/1.1\r\nHost: {addr}\r\nAccept: text/event-stream\r\n{auth}\r\n"
        );
        stream.write_all(req.as_bytes()).await.unwrap();
        let mut lines = BufReader::new(stream).lines();
        let status = lines.next_line().await.unwrap().unwrap();
        let mut headers = vec![];
        loop {
            let l = lines.next_line().await.unwrap().unwrap();
            if l.is_empty() {
                break;
            }
            headers.push(l.to_ascii_lowercase());
        }
        if !status.contains(" 200 ") {
            return (status, None);
        }
        assert!(
            headers
                .iter()
                .any(|h| h.starts_with("content-type: text/event-stream")),
            "{headers:?}"
        );
        (status, Some(Self { lines }))
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

    /// Reads until the server ends the stream (chunked terminator or EOF); panics on any named
    /// event before that.
    async fn ended(&mut self) {
        let fut = async {
            let mut chunk_size_next = true;
            loop {
                match self.lines.next_line().await {
                    Ok(Some(line)) => {
                        assert!(
                            !line.starts_with("event: "),
                            "an event after the end: {line}"
                        );
                        if chunk_size_next && line == "0" {
                            return;
                        }
                        // Chunk-size lines come after a blank line (or first); data lines don't.
                        chunk_size_next = line.is_empty();
                    }
                    _ => return,
                }
            }
        };
        tokio::time::timeout(Duration::from_secs(10), fut)
            .await
            .expect("the stream ends within 10 s");
    }

    /// The next event of this name, skipping others.
    async fn next_named(&mut self, name: &str) -> Value {
        loop {
            let (n, data) = self.next().await;
            if n == name {
                return data;
            }
        }
    }
}

#[tokio::test]
async fn moderators_see_their_sites_queue_live() {
    let app = spawn_app().await;
    let alpha = pre_site(&app, "alpha").await;
    pre_site(&app, "beta").await;
    let alice_id = add_moderator(&app, "alice@mods.example", &alpha, Role::Moderator).await;
    let alice = login(&app, "alice@mods.example").await;

    let (status, _) = Events::open(&app, "alpha", None).await;
    assert!(status.contains(" 401 "), "{status}");
    let (status, _) = Events::open(&app, "beta", Some(&alice)).await;
    assert!(status.contains(" 404 "), "{status}");
    let (status, events) = Events::open(&app, "alpha", Some(&alice)).await;
    let mut events = events.unwrap_or_else(|| panic!("{status}"));

    // Beta's comment first: alice's stream must skip it.
    app.comment("beta", "/p/", "Not alice's business").await;
    let id = app.comment("alpha", "/p/", "Held for review").await;
    let (name, data) = events.next().await;
    assert_eq!(name, "queued");
    assert_eq!(data["id"], id);
    assert_eq!(data["status"], "pending");

    assert_eq!(
        claim(&app, "alpha", &alice, 5).await,
        std::slice::from_ref(&id)
    );
    let (name, data) = events.next().await;
    assert_eq!(name, "claimed");
    assert_eq!(data["id"], id);
    assert_eq!(data["claimed_by"]["id"], alice_id.to_string());
    assert_eq!(data["claimed_by"]["email"], "alice@mods.example");
    assert!(
        time::OffsetDateTime::parse(
            data["claimed_until"].as_str().unwrap(),
            &time::format_description::well_known::Rfc3339
        )
        .is_ok(),
        "{data}"
    );

    json_of(
        post(
            &app,
            &format!("/comments/{id}/actions"),
            &alice,
            json!({ "action": "spam" }),
        )
        .await,
        200,
    )
    .await;
    // Pending -> spam: it left the pending queue and entered the spam queue.
    let resolved = events.next_named("resolved").await;
    assert_eq!(
        resolved,
        json!({ "id": id, "from": "pending", "status": "spam" })
    );
    let queued = events.next_named("queued").await;
    assert_eq!(queued["status"], "spam");
    json_of(
        post(
            &app,
            &format!("/comments/{id}/actions"),
            &alice,
            json!({ "action": "not_spam" }),
        )
        .await,
        200,
    )
    .await;
    let resolved = events.next_named("resolved").await;
    assert_eq!(
        resolved,
        json!({ "id": id, "from": "spam", "status": "approved" })
    );
}

#[tokio::test]
async fn a_queue_stream_stops_when_its_moderator_loses_access() {
    let app = spawn_app().await;
    let alpha = pre_site(&app, "alpha").await;
    add_moderator(&app, "alice@mods.example", &alpha, Role::Moderator).await;
    let bob_id = add_moderator(&app, "bob@mods.example", &alpha, Role::Moderator).await;
    let alice = login(&app, "alice@mods.example").await;
    let bob = login(&app, "bob@mods.example").await;
    let open = |token: String| {
        let app = &app;
        async move {
            let (status, events) = Events::open(app, "alpha", Some(&token)).await;
            events.unwrap_or_else(|| panic!("{status}"))
        }
    };
    let mut alice_events = open(alice.clone()).await;
    let mut bob_events = open(bob.clone()).await;

    // Alice logs out; Bob is removed from the team. The next change reaches neither stream:
    // each ends instead.
    let r = app
        .client
        .post(app.url("/api/mod/v1/logout"))
        .bearer_auth(&alice)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 204);
    sqlx::query("DELETE FROM moderator_roles WHERE moderator_id = $1")
        .bind(bob_id)
        .execute(&app.db)
        .await
        .unwrap();
    app.comment("alpha", "/p/", "Not for former moderators")
        .await;
    alice_events.ended().await;
    bob_events.ended().await;
}
