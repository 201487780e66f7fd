//! "An acknowledged comment is never lost": the real `colloquy` binary is killed with SIGKILL
//! while guests post comments. Every comment it answered 201 Created must be a row in
//! PostgreSQL, and a client retrying with the same `Idempotency-Key` must never store a comment
//! twice: a post the server committed but never answered replays the stored comment, one it
//! never committed is stored now, once.

use std::collections::HashMap;
use std::fs::File;
use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use sqlx::{Connection, PgConnection};
use uuid::Uuid;

use crate::helpers::cli::{colloquy, migrated_db, text};
use crate::helpers::{ORIGIN, http_client};

/// Concurrent posting clients (the server's pool has fewer connections, so posts queue in it).
const CLIENTS: usize = 16;
/// How long the load runs before the kill, at the least...
const LOAD_FOR: Duration = Duration::from_millis(1500);
/// ...and how many posts must have been acknowledged by then, so a slow machine still kills a
/// server that has committed plenty (progress, not time, decides).
const MIN_ACKED: usize = 32;
/// Guards against a hang, never reached on a working server: no assertion is about time.
const GIVE_UP: Duration = Duration::from_secs(60);

#[tokio::test]
async fn acknowledged_comments_survive_kill_9_and_retries_store_each_once() {
    let (db_url, _drop_db) = migrated_db().await;
    create_guest_site(&db_url);
    let mut server = Server::start(&db_url).await;

    // Act 1: the load, then SIGKILL while posts are in flight.
    let killed = Arc::new(AtomicBool::new(false));
    let acked = Arc::new(AtomicUsize::new(0));
    let base: Arc<str> = server.base.clone().into();
    let clients: Vec<_> = (0..CLIENTS)
        .map(|c| {
            tokio::spawn(post_until_killed(
                c,
                base.clone(),
                killed.clone(),
                acked.clone(),
            ))
        })
        .collect();
    let started = Instant::now();
    while (started.elapsed() < LOAD_FOR || acked.load(Ordering::SeqCst) < MIN_ACKED)
        && started.elapsed() < GIVE_UP
        && !clients.iter().all(|c| c.is_finished())
    {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // Nothing awaits between the flag and the kill: on this single-threaded runtime no client
    // runs in between, so none starts a post after the flag, and those waiting on an answer
    // lose their connection.
    killed.store(true, Ordering::SeqCst);
    server.kill();
    let mut posts = Vec::new();
    for c in clients {
        posts.extend(c.await.expect("a posting client panicked"));
    }

    let mut created = Vec::new();
    let mut unknown = Vec::new();
    for (post, answer) in &posts {
        match answer {
            Answer::Created(id) => created.push((post, id.clone())),
            // No answer, or 503 (the pool or the commit failed): the client can't know whether
            // the comment was stored; retrying with the same key is how it finds out.
            Answer::Lost(_) | Answer::Refused(503, _) => unknown.push(post),
            Answer::Refused(status, body) => {
                panic!(
                    "post {} was refused before the kill: {status} {body}",
                    post.key
                )
            }
        }
    }
    assert!(
        created.len() >= MIN_ACKED,
        "the server acknowledged only {} posts before the kill (wanted {MIN_ACKED}); answers: {}",
        created.len(),
        describe(&posts)
    );
    // Every client stops after its first post without an answer, and none starts one after the
    // kill: each of these was in flight when the server died.
    assert!(
        posts.iter().any(|(_, a)| matches!(a, Answer::Lost(_))),
        "the kill landed between posts, so it tested nothing; answers: {}",
        describe(&posts)
    );

    // Assert 1: every acknowledged comment is stored, with the body it was posted with.
    let mut db = PgConnection::connect(&db_url)
        .await
        .expect("connect to the test database");
    wait_for_sessions_to_end(&mut db).await;
    let before = stored_by_body(&mut db).await;
    for (post, id) in &created {
        assert_eq!(
            before.get(&post.body),
            Some(&vec![id.clone()]),
            "comment {id} (key {}) was answered 201 but is not stored exactly once",
            post.key
        );
    }
    for post in &unknown {
        let rows = before.get(&post.body).map_or(0, Vec::len);
        assert!(rows <= 1, "post {} stored {rows} times", post.key);
    }

    // Act 2: a new server on the same database; the clients retry what got no answer, and a
    // sample of what did, with the same key and body.
    let server = Server::start(&db_url).await;
    let client = http_client();
    let retries: Vec<(&Post, Option<&String>)> = unknown
        .iter()
        .map(|p| (*p, before.get(&p.body).and_then(|ids| ids.first())))
        .chain(created.iter().step_by(4).map(|(p, id)| (*p, Some(id))))
        .collect();
    let mut committed_unanswered = 0;
    for batch in retries.chunks(CLIENTS) {
        let answers = futures_util::future::join_all(
            batch
                .iter()
                .map(|(post, _)| send(&client, &server.base, post)),
        )
        .await;
        for ((post, stored_id), answer) in batch.iter().zip(answers) {
            let (status, replayed, body) =
                answer.unwrap_or_else(|e| panic!("retry of {} got no answer: {e:#}", post.key));
            assert_eq!(status, 201, "retry of {}: {body}", post.key);
            let id = comment_id(&body);
            match stored_id {
                // Stored before the kill (acknowledged or not): the retry answers that comment.
                Some(stored) => {
                    assert!(replayed, "retry of {} was not a replay: {body}", post.key);
                    assert_eq!(id.as_ref(), Some(*stored), "retry of {}", post.key);
                    if !created.iter().any(|(p, _)| p.key == post.key) {
                        committed_unanswered += 1;
                    }
                }
                // Never committed: the retry stores it now.
                None => assert!(!replayed, "retry of {} replayed nothing: {body}", post.key),
            }
        }
    }

    // Assert 2: exactly one comment per key, and no other.
    let after = stored_by_body(&mut db).await;
    for (post, _) in &posts {
        assert_eq!(
            after.get(&post.body).map_or(0, Vec::len),
            1,
            "post {} is not stored exactly once",
            post.key
        );
    }
    assert_eq!(
        after.len(),
        posts.len(),
        "comments nobody posted are stored"
    );
    for (post, id) in &created {
        assert_eq!(after[&post.body], vec![id.clone()], "post {}", post.key);
    }
    db.close().await.expect("close the test connection");
    eprintln!(
        "durability: {} posts, {} acknowledged, {} without an answer ({} of them committed \
         before the kill), {} retried",
        posts.len(),
        created.len(),
        unknown.len(),
        committed_unanswered,
        retries.len()
    );
}

/// A guest post as a client would retry it: the same key and the same JSON. Bodies are unique,
/// so the comments of a post are counted by body.
struct Post {
    key: String,
    body: String,
    json: Value,
}

impl Post {
    fn new(client: usize, n: usize) -> Self {
        let run = Uuid::new_v4().simple().to_string();
        let body = format!("Durability check {client}-{n} ({run}): acknowledged means stored.");
        let json = json!({
            "uri": format!("/durability/{}/", n % 4),
            "body": body,
            "guest": {
                "name": format!("Guest {client}"),
                "email": format!("guest-{client}-{n}-{}@example.org", &run[..8]),
            },
        });
        Self {
            key: format!("durability-{client}-{n}-{run}"),
            body,
            json,
        }
    }
}

enum Answer {
    /// 201 Created, with the comment's id.
    Created(String),
    /// No answer: the connection failed (the error, for the failure message).
    Lost(String),
    /// Any other answer: its status and body.
    Refused(u16, String),
}

/// One client: posts one comment after another until the test kills the server. It stops after
/// the first post that gets no answer (the server is gone).
async fn post_until_killed(
    client_no: usize,
    base: Arc<str>,
    killed: Arc<AtomicBool>,
    acked: Arc<AtomicUsize>,
) -> Vec<(Post, Answer)> {
    let client = http_client();
    let mut posts = Vec::new();
    for n in 0.. {
        if killed.load(Ordering::SeqCst) {
            break;
        }
        let post = Post::new(client_no, n);
        let answer = match send(&client, &base, &post).await {
            Ok((201, _, body)) => match comment_id(&body) {
                Some(id) => {
                    acked.fetch_add(1, Ordering::SeqCst);
                    Answer::Created(id)
                }
                None => Answer::Refused(201, body.to_string()),
            },
            Ok((status, _, body)) => Answer::Refused(status, body.to_string()),
            Err(e) => Answer::Lost(format!("{e:#}")),
        };
        let lost = matches!(answer, Answer::Lost(_));
        posts.push((post, answer));
        if lost {
            break;
        }
    }
    posts
}

/// Posts `post`; `(status, Idempotency-Replayed: true, body)`, or the transport error when the
/// answer (or any part of it) never came.
async fn send(
    client: &reqwest::Client,
    base: &str,
    post: &Post,
) -> Result<(u16, bool, Value), reqwest::Error> {
    let r = client
        .post(format!("{base}/api/v1/sites/blog/comments"))
        .header("Origin", ORIGIN)
        .header("Idempotency-Key", &post.key)
        .json(&post.json)
        // A hang guard only: the kill resets every connection at once.
        .timeout(GIVE_UP)
        .send()
        .await?;
    let status = r.status().as_u16();
    let replayed = r
        .headers()
        .get("idempotency-replayed")
        .is_some_and(|v| v == "true");
    let bytes = r.bytes().await?;
    let body = serde_json::from_slice(&bytes)
        .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into_owned()));
    Ok((status, replayed, body))
}

fn comment_id(body: &Value) -> Option<String> {
    body["comment"]["id"].as_str().map(str::to_owned)
}

/// The answers by kind, with the first few errors, for a failure message.
fn describe(posts: &[(Post, Answer)]) -> String {
    let mut kinds: HashMap<String, usize> = HashMap::new();
    for (_, a) in posts {
        let kind = match a {
            Answer::Created(_) => "201".to_owned(),
            Answer::Lost(e) => format!("no answer ({e})"),
            Answer::Refused(status, body) => format!("{status} {body}"),
        };
        *kinds.entry(kind).or_default() += 1;
    }
    format!("{kinds:?}")
}

/// The comment ids stored for each body.
async fn stored_by_body(db: &mut PgConnection) -> HashMap<String, Vec<String>> {
    let rows: Vec<(String, Vec<String>)> = sqlx::query_as(
        "SELECT body_markdown, array_agg(id::text ORDER BY id) FROM comments GROUP BY body_markdown",
    )
    .fetch_all(db)
    .await
    .expect("read the stored comments");
    rows.into_iter().collect()
}

/// Waits until Postgres has ended every session of the killed server. A backend notices its
/// client is gone only when it next reads from it, so a commit may still be finishing after
/// the kill; once the sessions are gone, every transaction of the dead server has committed or
/// rolled back, and what is stored no longer changes under the test.
async fn wait_for_sessions_to_end(db: &mut PgConnection) {
    let started = Instant::now();
    loop {
        let others: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM pg_stat_activity \
             WHERE datname = current_database() AND pid <> pg_backend_pid()",
        )
        .fetch_one(&mut *db)
        .await
        .expect("read pg_stat_activity");
        if others == 0 {
            return;
        }
        assert!(
            started.elapsed() < GIVE_UP,
            "{others} sessions of the killed server never ended"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Site `blog` taking guest comments, published at once, created as an operator would.
fn create_guest_site(db_url: &str) {
    let out = colloquy(db_url)
        .args(["site", "create", "--slug", "blog", "--name", "Blog"])
        .args(["--origin", ORIGIN, "--guests", "--policy", "post"])
        .output()
        .expect("run colloquy site create");
    assert!(out.status.success(), "site create: {:?}", text(&out));
}

/// `colloquy serve` on a free port; SIGKILLed and reaped when dropped, so a failing test leaves
/// no server behind (its log is printed then).
struct Server {
    child: Child,
    base: String,
    log: PathBuf,
}

impl Server {
    async fn start(db_url: &str) -> Self {
        for attempt in 1.. {
            let log = std::env::temp_dir().join(format!(
                "colloquy-durability-{}.log",
                Uuid::new_v4().simple()
            ));
            let port = free_port();
            let child = colloquy(db_url)
                .env("COLLOQUY__SERVER__PORT", port.to_string())
                // All the load comes from one address and a handful of authors.
                .env("COLLOQUY__LIMITS__COMMENT_INTERVAL_S", "0")
                .env("COLLOQUY__LIMITS__COMMENTS_PER_MINUTE_USER", "0")
                .env("COLLOQUY__LIMITS__COMMENTS_PER_MINUTE_IP", "0")
                .env("COLLOQUY__LIMITS__GUEST_COMMENTS_PER_MINUTE", "0")
                // Sixteen clients queue for the pool; on a loaded machine the test config's 1 s
                // wait would answer some of them 503.
                .env("COLLOQUY__DATABASE__MAX_CONNECTIONS", "8")
                .env("COLLOQUY__DATABASE__ACQUIRE_TIMEOUT_MS", "30000")
                .arg("serve")
                .stdout(Stdio::null())
                .stderr(File::create(&log).expect("create the server log"))
                .spawn()
                .expect("start colloquy serve");
            let mut server = Self {
                child,
                base: format!("http://127.0.0.1:{port}"),
                log,
            };
            if server.wait_ready().await {
                return server;
            }
            // Another process took the port between `free_port` and the bind: try another.
            assert!(
                attempt < 3,
                "colloquy serve exited before it was ready:\n{}",
                server.log_text()
            );
        }
        unreachable!("the loop returns or panics")
    }

    /// Polls `/health/ready`; false if the process exits first.
    async fn wait_ready(&mut self) -> bool {
        let client = http_client();
        let started = Instant::now();
        loop {
            if self.exited() {
                return false;
            }
            if let Ok(r) = client
                .get(format!("{}/health/ready", self.base))
                .send()
                .await
                && r.status() == 200
            {
                // Ours, not another server that took the port: ours would have exited.
                return !self.exited();
            }
            assert!(
                started.elapsed() < GIVE_UP,
                "colloquy serve never became ready:\n{}",
                self.log_text()
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    fn exited(&mut self) -> bool {
        self.child
            .try_wait()
            .expect("poll the server process")
            .is_some()
    }

    /// SIGKILL (what `Child::kill` sends on Unix): no shutdown, no draining, no flushing.
    fn kill(&mut self) {
        assert!(
            !self.exited(),
            "the server died before the kill:\n{}",
            self.log_text()
        );
        self.child.kill().expect("kill the server");
        self.child.wait().expect("reap the server");
    }

    fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        if std::thread::panicking() {
            eprintln!("server log ({}):\n{}", self.base, self.log_text());
        }
        let _ = std::fs::remove_file(&self.log);
    }
}

/// A port nobody listens on right now (the OS picks it; it is free again once we let it go).
fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("bind a free port")
        .port()
}
