//! The password-less dev login (`auth.dev_provider`, on in development) only ever listens on a
//! loopback address: start-up refuses anything else, and the log says it is on.

use std::process::Stdio;
use std::time::Duration;

use colloquy::app::Application;

use crate::helpers::cli::{colloquy, fresh_db};
use crate::helpers::{DropDb, http_client, test_settings, wait_ready};

#[tokio::test]
async fn the_dev_login_refuses_to_listen_beyond_loopback() {
    for host in ["0.0.0.0", "::", "192.0.2.1"] {
        let (mut settings, _db) = test_settings();
        settings.auth.dev_provider = true;
        settings.server.host = host.to_owned();
        let err = match Application::build(settings).await {
            Ok(_) => panic!("{host}: the dev login started on a public listener"),
            Err(e) => e.to_string(),
        };
        assert!(err.contains("auth.dev_provider"), "{host}: {err}");
        assert!(err.contains("loopback"), "{host}: {err}");
    }
    // Without the dev login, any host is the operator's business.
    let (mut settings, db) = test_settings();
    let _drop = DropDb(db);
    settings.server.host = "0.0.0.0".to_owned();
    let app = Application::build(settings).await.unwrap();
    let base = format!("http://127.0.0.1:{}", app.port());
    tokio::spawn(app.run());
    wait_ready(&http_client(), &base).await;
}

#[tokio::test]
async fn the_dev_login_starts_on_loopback() {
    let mut dbs = vec![];
    for host in ["127.0.0.1", "localhost"] {
        let (mut settings, db) = test_settings();
        dbs.push(DropDb(db));
        settings.auth.dev_provider = true;
        settings.server.host = host.to_owned();
        let app = Application::build(settings)
            .await
            .unwrap_or_else(|e| panic!("{host}: {e:#}"));
        let base = format!("http://127.0.0.1:{}", app.port());
        tokio::spawn(app.run());
        wait_ready(&http_client(), &base).await;
    }
}

/// The binary with `COLLOQUY_ENV` unset (development: dev login and demo on), as the README's
/// `cargo run` does: a public host stops start-up with the reason; the default host starts,
/// serves the demo, and warns in the log.
#[tokio::test]
async fn development_binary_refuses_a_public_host_and_warns_on_loopback() {
    let (url, _drop) = fresh_db();
    let out = colloquy(&url)
        .env_remove("COLLOQUY_ENV")
        .env("COLLOQUY__SERVER__HOST", "0.0.0.0")
        .env("COLLOQUY__SERVER__PORT", "0")
        .arg("serve")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{stderr}");
    assert!(stderr.contains("auth.dev_provider"), "{stderr}");
    assert!(stderr.contains("loopback"), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");

    // A loopback listener behind a proxy, or with a public address for browsers, would publish
    // the dev login all the same: refused too.
    for (key, value, named) in [
        (
            "COLLOQUY__SERVER__TRUSTED_PROXIES",
            "127.0.0.1/32",
            "a proxy in front",
        ),
        (
            "COLLOQUY__SERVER__PUBLIC_URL",
            "https://comments.example.com",
            "is not a loopback address",
        ),
    ] {
        let out = colloquy(&url)
            .env_remove("COLLOQUY_ENV")
            .env("COLLOQUY__SERVER__PORT", "0")
            .env(key, value)
            .arg("serve")
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{key}: {stderr}");
        assert!(stderr.contains(named), "{key}: {stderr}");
    }

    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let log_path = std::env::temp_dir().join(format!(
        "colloquy-devlog-{}.txt",
        uuid::Uuid::new_v4().simple()
    ));
    let log = std::fs::File::create(&log_path).unwrap();
    let mut child = colloquy(&url)
        .env_remove("COLLOQUY_ENV")
        .env("COLLOQUY__SERVER__PORT", port.to_string())
        .env(
            "COLLOQUY__SERVER__PUBLIC_URL",
            format!("http://localhost:{port}"),
        )
        .arg("serve")
        .stdout(Stdio::null())
        .stderr(log)
        .spawn()
        .unwrap();
    let base = format!("http://127.0.0.1:{port}");
    let client = http_client();
    wait_ready(&client, &base).await;
    let demo = client.get(format!("{base}/demo/")).send().await.unwrap();
    assert_eq!(demo.status(), 200);
    let _ = child.kill();
    let _ = child.wait();
    tokio::time::sleep(Duration::from_millis(50)).await;
    let logged = std::fs::read_to_string(&log_path).unwrap();
    let _ = std::fs::remove_file(&log_path);
    assert!(
        logged.contains("auth.dev_provider is on"),
        "the log warns:\n{logged}"
    );
}
