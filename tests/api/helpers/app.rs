//! Spawns the real application in-process on a random port, against its own PostgreSQL
//! database (a copy of the migrated template, see `db.rs`), and drops that database afterwards.

use std::path::Path;
use std::time::Duration;

use colloquy::app::Application;
use colloquy::config::Settings;
use colloquy::domain::{Origin, Policy, SiteName, SiteSlug};
use colloquy::sites::{NewSite, Site, store as site_store};
use reqwest::Response;
use serde_json::Value;
use sqlx::PgPool;
use sqlx::postgres::PgPoolOptions;

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
    let db_name = super::db::test_db_name();
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
    super::db::create_migrated_database(&db_name).await;
    let drop_db = DropDb(db_name);
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
        _drop_db: drop_db,
    }
}

pub fn http_client() -> reqwest::Client {
    colloquy::auth::providers::install_crypto_provider();
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        // The server closes a connection idle for 5 s (actix's keep-alive); reusing one at that
        // moment fails the request (IncompleteMessage). Stop reusing them well before.
        .pool_idle_timeout(Duration::from_secs(2))
        .build()
        .unwrap()
}

pub async fn wait_ready(client: &reqwest::Client, address: &str) {
    for _ in 0..1500 {
        if let Ok(r) = client.get(format!("{address}/health/ready")).send().await
            && r.status() == 200
        {
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("app at {address} never became ready");
}

/// Drops the named test database when it goes out of scope (in the background, see
/// [`super::db::drop_later`]).
pub struct DropDb(pub String);

impl Drop for DropDb {
    fn drop(&mut self) {
        super::db::drop_later(std::mem::take(&mut self.0));
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

    pub async fn get(&self, path: &str) -> Response {
        self.client.get(self.url(path)).send().await.unwrap()
    }

    pub async fn get_json(&self, path: &str) -> (u16, Value) {
        let r = self.get(path).await;
        let status = r.status().as_u16();
        (status, r.json().await.unwrap())
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
