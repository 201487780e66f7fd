//! The `colloquy` binary itself: CLI, configuration errors, start-up, and what reaches its logs.

use std::process::Stdio;
use std::time::Duration;

use serde_json::json;
use uuid::Uuid;

use crate::helpers::cli::{colloquy, fresh_db, text};
use crate::helpers::{http_client, wait_ready};

#[test]
fn help_lists_every_command() {
    let out = colloquy("postgres://unused/x")
        .arg("--help")
        .output()
        .unwrap();
    assert!(out.status.success());
    let (stdout, _) = text(&out);
    for cmd in ["serve", "migrate", "site"] {
        assert!(stdout.contains(cmd), "{cmd} missing from --help:\n{stdout}");
    }
    for args in [
        &["site", "--help"][..],
        &["site", "create", "--help"],
        &["serve", "--help"],
        &["migrate", "--help"],
    ] {
        let out = colloquy("postgres://unused/x").args(args).output().unwrap();
        assert!(out.status.success(), "{args:?}");
    }
    let (stdout, _) = text(
        &colloquy("postgres://unused/x")
            .args(["site", "create", "--help"])
            .output()
            .unwrap(),
    );
    for flag in ["--slug", "--name", "--origin", "--policy", "--guests"] {
        assert!(stdout.contains(flag), "{flag} missing:\n{stdout}");
    }
}

/// A bad value stops start-up with one line naming the key, exit code 2, no panic.
#[test]
fn invalid_configuration_stops_with_one_line_naming_the_key() {
    let cases: &[(&str, &str, &str)] = &[
        ("COLLOQUY__SERVER__PORT", "not-a-port", "port"),
        (
            "COLLOQUY__DATABASE__URL",
            "mysql://localhost/x",
            "database.url",
        ),
        (
            "COLLOQUY__SERVER__PUBLIC_URL",
            "not a url",
            "server.public_url",
        ),
        (
            "COLLOQUY__DATABASE__MAX_CONNECTIONS",
            "0",
            "database.max_connections",
        ),
        (
            "COLLOQUY__MODERATION__DEFAULT_POLICY",
            "sometimes",
            "default_policy",
        ),
        ("COLLOQUY__LOG__FORMAT", "xml", "format"),
        (
            "COLLOQUY__AUTH__LOGIN_MAX_FAILURES_PER_EMAIL_IP",
            "0",
            "auth.login_max_failures_per_email_ip",
        ),
        // The retired key is named, with what replaced it, rather than refused as "unknown".
        (
            "COLLOQUY__AUTH__LOGIN_MAX_FAILURES",
            "5",
            "auth.login_max_failures_per_email_ip",
        ),
    ];
    for (key, value, named) in cases {
        let out = colloquy("postgres://postgres@127.0.0.1:5432/unused")
            .env(key, value)
            .arg("migrate")
            .output()
            .unwrap();
        let (stdout, stderr) = text(&out);
        assert_eq!(out.status.code(), Some(2), "{key}={value}: {stderr}");
        assert!(stdout.is_empty());
        let lines: Vec<&str> = stderr.lines().collect();
        assert_eq!(lines.len(), 1, "{key}={value}: one line, got:\n{stderr}");
        assert!(lines[0].contains(named), "{key}={value}: {stderr}");
        assert!(!stderr.contains("panicked"), "{stderr}");
    }
}

#[test]
fn the_dev_provider_cannot_be_switched_on_in_production() {
    let out = colloquy("postgres://postgres@127.0.0.1:5432/unused")
        .env("COLLOQUY_ENV", "production")
        .env("COLLOQUY__AUTH__DEV_PROVIDER", "true")
        .arg("migrate")
        .output()
        .unwrap();
    let (_, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("auth.dev_provider"), "{stderr}");
}

#[test]
fn migrate_creates_the_database_and_site_commands_manage_sites() {
    let (url, _drop) = fresh_db();
    let out = colloquy(&url).arg("migrate").output().unwrap();
    assert!(out.status.success(), "{:?}", text(&out));

    let out = colloquy(&url)
        .args([
            "site",
            "create",
            "--slug",
            "my-blog",
            "--name",
            "My Blog",
            "--origin",
            "https://blog.example",
        ])
        .args([
            "--origin",
            "http://localhost:4000",
            "--policy",
            "pre",
            "--guests",
        ])
        .output()
        .unwrap();
    let (stdout, stderr) = text(&out);
    assert!(out.status.success(), "{stderr}");
    assert!(stdout.contains("my-blog"), "{stdout}");

    let out = colloquy(&url).args(["site", "list"]).output().unwrap();
    let (stdout, _) = text(&out);
    assert!(
        stdout.contains("my-blog")
            && stdout.contains("policy=pre")
            && stdout.contains("guests=true"),
        "{stdout}"
    );
    assert!(
        stdout.contains("https://blog.example,http://localhost:4000"),
        "{stdout}"
    );

    let out = colloquy(&url)
        .args([
            "site",
            "create",
            "--slug",
            "my-blog",
            "--name",
            "Again",
            "--origin",
            "https://x.example",
        ])
        .output()
        .unwrap();
    let (_, stderr) = text(&out);
    assert!(!out.status.success());
    assert!(stderr.contains("already exists"), "{stderr}");

    for bad in [
        &[
            "--slug",
            "Bad Slug",
            "--name",
            "x",
            "--origin",
            "https://x.example",
        ][..],
        &[
            "--slug",
            "ok-slug",
            "--name",
            "x",
            "--origin",
            "https://x.example/path",
        ],
        &[
            "--slug",
            "ok-slug",
            "--name",
            "x",
            "--origin",
            "https://x.example",
            "--policy",
            "never",
        ],
    ] {
        let out = colloquy(&url)
            .args(["site", "create"])
            .args(bad)
            .output()
            .unwrap();
        assert!(!out.status.success(), "{bad:?} should fail");
        assert!(!text(&out).1.contains("panicked"));
    }
}

#[tokio::test]
async fn serve_logs_requests_without_emails_ips_or_keys() {
    let (url, _drop) = fresh_db();
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let out = colloquy(&url)
        .args([
            "site",
            "create",
            "--slug",
            "blog",
            "--name",
            "Blog",
            "--origin",
            "https://blog.example",
            "--guests",
            "--policy",
            "post",
        ])
        .output()
        .unwrap();
    assert!(out.status.success(), "{:?}", text(&out));

    let log_path =
        std::env::temp_dir().join(format!("colloquy-log-{}.txt", Uuid::new_v4().simple()));
    let log = std::fs::File::create(&log_path).unwrap();
    let mut child = colloquy(&url)
        .env("COLLOQUY__SERVER__PORT", port.to_string())
        .env("COLLOQUY__SERVER__TRUSTED_PROXIES", "127.0.0.1/32")
        .env("COLLOQUY__LOG__LEVEL", "debug")
        .env("COLLOQUY__LOG__FORMAT", "json")
        .arg("serve")
        .stdout(Stdio::null())
        .stderr(log)
        .spawn()
        .unwrap();
    let base = format!("http://127.0.0.1:{port}");
    let client = http_client();
    wait_ready(&client, &base).await;

    let email = "leak-check.person@example.org";
    let ip = "203.0.113.77";
    let key = "idem-secret-7f3a9c";
    let r = client
        .post(format!("{base}/api/v1/sites/blog/comments"))
        .header("X-Forwarded-For", ip)
        .header("Idempotency-Key", key)
        .header("Origin", "https://blog.example")
        .json(&json!({ "uri": "/a/", "body": "hello", "guest": { "name": "Leak Check", "email": email } }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    // A bad request that echoes a value back must not put it in the log either.
    let r = client
        .post(format!("{base}/api/v1/sites/blog/comments"))
        .header("X-Forwarded-For", ip)
        .json(
            &json!({ "uri": "/a/", "body": 5, "guest": { "name": "Leak Check", "email": email } }),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    client
        .get(format!("{base}/api/v1/sites/blog/thread?uri=/a/"))
        .send()
        .await
        .unwrap();

    // The forwarded address from a trusted proxy is what got stored.
    let pool = sqlx::PgPool::connect(&url).await.unwrap();
    let stored: String = sqlx::query_scalar("SELECT host(author_ip) FROM comments")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(stored, ip);
    pool.close().await;

    let _ = child.kill();
    let _ = child.wait();
    tokio::time::sleep(Duration::from_millis(50)).await;
    let logged = std::fs::read_to_string(&log_path).unwrap();
    let _ = std::fs::remove_file(&log_path);
    assert!(
        logged.contains("/api/v1/sites/{site}/comments"),
        "requests are logged:\n{logged}"
    );
    for secret in [email, ip, key, "127.0.0.1:5432/colloquy_t"] {
        assert!(
            !logged.contains(secret),
            "{secret} leaked into the log:\n{logged}"
        );
    }
    for line in logged.lines() {
        assert!(
            serde_json::from_str::<serde_json::Value>(line).is_ok(),
            "json log lines: {line}"
        );
    }
}

/// The binary outside the source tree: an empty working directory, no configuration directory.
fn from_empty_dir(db_url: &str) -> (std::process::Command, std::path::PathBuf) {
    let dir = std::env::temp_dir().join(format!("colloquy-nocfg-{}", Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).unwrap();
    let mut cmd = colloquy(db_url);
    cmd.current_dir(&dir)
        .env_remove("COLLOQUY_ENV")
        .env_remove("COLLOQUY_CONFIG_DIR");
    (cmd, dir)
}

#[tokio::test]
async fn the_binary_runs_from_any_directory_on_its_compiled_in_defaults() {
    let (db_url, _drop) = crate::helpers::cli::migrated_db().await;
    let (mut cmd, dir) = from_empty_dir(&db_url);
    let out = cmd.args(["site", "list"]).output().unwrap();
    let (stdout, stderr) = text(&out);
    std::fs::remove_dir_all(&dir).ok();
    assert!(out.status.success(), "stdout: {stdout}\nstderr: {stderr}");
    assert!(!stderr.contains("not found"), "{stderr}");
}

#[test]
fn config_prints_the_effective_settings_with_every_secret_redacted() {
    let (mut cmd, dir) = from_empty_dir("postgres://app:db-pass-123@127.0.0.1:5432/colloquy");
    let out = cmd
        .env(
            "COLLOQUY__AUTH__PROVIDERS__GOOGLE__CLIENT_SECRET",
            "google-secret-456",
        )
        .env("COLLOQUY__MODERATION__AKISMET__KEY", "akismet-key-789")
        .env("COLLOQUY__SERVER__PORT", "9191")
        .arg("config")
        .output()
        .unwrap();
    let (stdout, stderr) = text(&out);
    std::fs::remove_dir_all(&dir).ok();
    assert!(out.status.success(), "{stderr}");
    for secret in ["db-pass-123", "google-secret-456", "akismet-key-789"] {
        assert!(!stdout.contains(secret), "{secret} printed:\n{stdout}");
    }
    // Overrides show; the defaults fill the rest; the database url keeps all but its password.
    assert!(stdout.contains("port = 9191"), "{stdout}");
    assert!(stdout.contains("[moderation.akismet]"), "{stdout}");
    assert!(
        stdout.contains("url = \"postgres://app:%3Credacted%3E@127.0.0.1:5432/colloquy\""),
        "{stdout}"
    );

    // A configuration directory that isn't there is one clear line, exit 2.
    let (mut cmd, dir) = from_empty_dir("postgres://127.0.0.1/x");
    let out = cmd
        .env("COLLOQUY_CONFIG_DIR", "/nonexistent/colloquy")
        .arg("config")
        .output()
        .unwrap();
    std::fs::remove_dir_all(&dir).ok();
    let (_, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("COLLOQUY_CONFIG_DIR"), "{stderr}");
}

#[test]
fn version_names_the_release_and_the_commit() {
    let out = colloquy("postgres://127.0.0.1/x")
        .arg("--version")
        .output()
        .unwrap();
    let (stdout, _) = text(&out);
    assert!(out.status.success());
    assert!(
        stdout.starts_with(&format!("colloquy {} (commit ", env!("CARGO_PKG_VERSION"))),
        "{stdout}"
    );
}

#[tokio::test]
async fn migrate_check_exits_1_while_migrations_are_pending() {
    // Up to date: 0.
    let (db_url, _drop) = crate::helpers::cli::migrated_db().await;
    let out = colloquy(&db_url)
        .args(["migrate", "--check"])
        .output()
        .unwrap();
    let (stdout, stderr) = text(&out);
    assert!(out.status.success(), "{stdout}{stderr}");
    assert!(stdout.contains("up to date"), "{stdout}");

    // The newest migration forgotten: 1, and it is named.
    let pool = sqlx::PgPool::connect(&db_url).await.unwrap();
    let (version, description): (i64, String) = sqlx::query_as(
        "DELETE FROM _sqlx_migrations
         WHERE version = (SELECT max(version) FROM _sqlx_migrations)
         RETURNING version, description",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    pool.close().await;
    let out = colloquy(&db_url)
        .args(["migrate", "--check"])
        .output()
        .unwrap();
    let (stdout, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(1), "{stdout}{stderr}");
    assert!(
        stdout.contains(&format!("pending: {version} {description}")),
        "{stdout}"
    );
    assert!(stderr.contains("1 migration(s) pending"), "{stderr}");

    // A database that doesn't exist yet: everything is pending, nothing is created.
    let (fresh_url, _fresh) = fresh_db();
    let out = colloquy(&fresh_url)
        .env("COLLOQUY__DATABASE__CREATE_IF_MISSING", "true")
        .args(["migrate", "--check"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(
        sqlx::PgPool::connect(&fresh_url).await.is_err(),
        "--check created the database"
    );
}
