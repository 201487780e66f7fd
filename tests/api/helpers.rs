//! Spawns the real application in-process on a random port, against its own fresh PostgreSQL
//! database (created by the app itself, as in production), and drops that database afterwards.

use std::path::Path;
use std::time::Duration;

use colloquy::app::Application;
use colloquy::config::Settings;
use colloquy::domain::{Origin, Policy, SiteName, SiteSlug};
use colloquy::sites::{NewSite, Site, store as site_store};
use reqwest::Response;
use serde_json::{Value, json};
use sqlx::PgPool;
use sqlx::postgres::PgPoolOptions;
use uuid::Uuid;

/// Server part of the Postgres URL tests use; override with COLLOQUY_TEST_PG.
pub fn pg_base() -> String {
    std::env::var("COLLOQUY_TEST_PG")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432".to_owned())
}

pub fn config_dir() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/config"))
}

/// The `test` settings with a fresh database name.
pub fn test_settings() -> (Settings, String) {
    let mut settings = Settings::load_from(config_dir(), "test", std::iter::empty())
        .expect("config/test.toml loads");
    let db_name = format!("colloquy_t_{}", Uuid::new_v4().simple());
    settings.database.url = format!("{}/{}", pg_base(), db_name);
    (settings, db_name)
}

pub struct TestApp {
    pub address: String,
    pub client: reqwest::Client,
    pub db: PgPool,
    /// The settings the app runs with (a second node can be started from them).
    pub settings: Settings,
    _drop_db: DropDb,
}

pub async fn spawn_app() -> TestApp {
    spawn_app_with(|_| {}).await
}

pub async fn spawn_app_with(customize: impl FnOnce(&mut Settings)) -> TestApp {
    let (mut settings, db_name) = test_settings();
    customize(&mut settings);
    let app = Application::build(settings.clone())
        .await
        .expect("app builds");
    let address = format!("http://127.0.0.1:{}", app.port());
    tokio::spawn(app.run());
    let client = http_client();
    wait_ready(&client, &address).await;
    let db = PgPoolOptions::new()
        .max_connections(2)
        .connect(&settings.database.url)
        .await
        .expect("test pool connects");
    TestApp {
        address,
        client,
        db,
        settings,
        _drop_db: DropDb(db_name),
    }
}

pub fn http_client() -> reqwest::Client {
    colloquy::auth::providers::install_crypto_provider();
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

pub async fn wait_ready(client: &reqwest::Client, address: &str) {
    for _ in 0..300 {
        if let Ok(r) = client.get(format!("{address}/health/ready")).send().await
            && r.status() == 200
        {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("app at {address} never became ready");
}

/// Drops the named test database when it goes out of scope.
pub struct DropDb(pub String);

impl Drop for DropDb {
    fn drop(&mut self) {
        let name = self.0.clone();
        let url = format!("{}/postgres", pg_base());
        // Drop runs inside the test's runtime; a separate thread with its own runtime can block.
        let _ = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            rt.block_on(async move {
                if let Err(e) = colloquy::db::drop_database(&url, &name).await {
                    eprintln!("could not drop test database {name}: {e:#}");
                }
            });
        })
        .join();
    }
}

/// Site options for tests; defaults: guests on, policy post, origin https://blog.example.
pub struct SiteOpts {
    pub slug: &'static str,
    pub guests: bool,
    pub policy: Policy,
    pub origins: Vec<&'static str>,
    pub max_depth: i32,
}

impl Default for SiteOpts {
    fn default() -> Self {
        Self {
            slug: "blog",
            guests: true,
            policy: Policy::Post,
            origins: vec!["https://blog.example"],
            max_depth: 5,
        }
    }
}

pub const ORIGIN: &str = "https://blog.example";

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.address, path)
    }

    pub async fn create_site(&self, opts: SiteOpts) -> Site {
        let new = NewSite {
            slug: SiteSlug::parse(opts.slug).unwrap(),
            name: SiteName::parse(&format!("The {} blog", opts.slug)).unwrap(),
            origins: opts
                .origins
                .iter()
                .map(|o| Origin::parse(o).unwrap())
                .collect(),
            providers: vec![],
            guests: opts.guests,
            policy: opts.policy,
            max_depth: opts.max_depth,
            edit_window_s: 900,
            flags_to_hold: 3,
        };
        let mut conn = self.db.acquire().await.unwrap();
        match site_store::create(&mut conn, &new).await {
            Ok(site) => site,
            Err(_) => panic!("site {} could not be created", opts.slug),
        }
    }

    /// Posts a comment body as given, except that a guest with an email and no `key` gets the
    /// key that email's guest "browser" keeps ([`guest_key`]), as the widget would send: the
    /// same email is then the same guest from test to test. Post with `self.client` to send a
    /// body untouched.
    pub async fn post_raw(&self, site: &str, body: &Value) -> Response {
        let mut body = body.clone();
        if let Some(guest) = body.get_mut("guest").and_then(Value::as_object_mut)
            && !guest.contains_key("key")
            && let Some(email) = guest.get("email").and_then(Value::as_str)
        {
            let key = guest_key(email);
            guest.insert("key".to_owned(), Value::String(key));
        }
        self.client
            .post(self.url(&format!("/api/v1/sites/{site}/comments")))
            .json(&body)
            .send()
            .await
            .unwrap()
    }

    /// Posts a guest comment and returns (status, json).
    pub async fn post_guest(&self, site: &str, uri: &str, body: &str, email: &str) -> (u16, Value) {
        let r = self
            .post_raw(
                site,
                &json!({ "uri": uri, "body": body, "guest": { "name": "Ann Reader", "email": email } }),
            )
            .await;
        let status = r.status().as_u16();
        (status, r.json().await.unwrap())
    }

    /// Posts a guest comment expected to succeed; returns the comment id.
    pub async fn comment(&self, site: &str, uri: &str, body: &str) -> String {
        let (status, json) = self.post_guest(site, uri, body, "ann@example.com").await;
        assert_eq!(status, 201, "{json}");
        json["comment"]["id"].as_str().unwrap().to_owned()
    }

    pub async fn reply(&self, site: &str, uri: &str, parent: &str, body: &str) -> (u16, Value) {
        let r = self
            .post_raw(
                site,
                &json!({ "uri": uri, "body": body, "parent_id": parent,
                         "guest": { "name": "Bob", "email": "bob@example.com" } }),
            )
            .await;
        let status = r.status().as_u16();
        (status, r.json().await.unwrap())
    }

    pub async fn get(&self, path: &str) -> Response {
        self.client.get(self.url(path)).send().await.unwrap()
    }

    pub async fn get_json(&self, path: &str) -> (u16, Value) {
        let r = self.get(path).await;
        let status = r.status().as_u16();
        (status, r.json().await.unwrap())
    }

    pub async fn thread(&self, site: &str, query: &str) -> Value {
        let (status, json) = self
            .get_json(&format!("/api/v1/sites/{site}/thread?{query}"))
            .await;
        assert_eq!(status, 200, "{json}");
        json
    }

    pub async fn comment_count(&self) -> i64 {
        sqlx::query_scalar("SELECT count(*) FROM comments")
            .fetch_one(&self.db)
            .await
            .unwrap()
    }

    pub async fn set_status(&self, id: &str, status: &str) {
        sqlx::query("UPDATE comments SET status = $2 WHERE id = $1::uuid")
            .bind(id)
            .bind(status)
            .execute(&self.db)
            .await
            .unwrap();
    }
}

/// The secret key the guest "browser" of `email` keeps (deterministic, so tests can repeat it;
/// the same for any case of the address, as one person types it now one way, now another).
pub fn guest_key(email: &str) -> String {
    use base64::Engine;
    use sha2::Digest;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(sha2::Sha256::digest(format!(
        "test guest key {}",
        email.to_lowercase()
    )))
}

/// Asserts the contract's error body and returns it.
pub async fn assert_error(r: Response, status: u16, code: &str) -> Value {
    assert_eq!(
        r.status().as_u16(),
        status,
        "unexpected status for expected code {code}"
    );
    let ct = r
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned();
    assert!(ct.starts_with("application/json"), "content-type {ct}");
    let body: Value = r.json().await.expect("error body is JSON");
    assert_eq!(body["error"]["code"], code, "{body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .is_some_and(|m| !m.is_empty()),
        "{body}"
    );
    body
}
