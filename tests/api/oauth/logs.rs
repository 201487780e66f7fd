use super::*;

/// A full login through the real binary, debug logging on: neither the client secret, the
/// provider's access token, the authorization code nor the session token reaches the log.
#[tokio::test]
async fn a_full_login_leaves_no_secret_in_the_log() {
    let double = Double::start(Kind::WordPress).await;
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
        ])
        .args(["--provider", "wordpress"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let base = double.server.uri();
    let log_path = std::env::temp_dir().join(format!(
        "colloquy-oauth-log-{}.txt",
        uuid::Uuid::new_v4().simple()
    ));
    let mut child = colloquy(&url)
        .env("COLLOQUY__SERVER__PORT", port.to_string())
        .env(
            "COLLOQUY__SERVER__PUBLIC_URL",
            crate::doubles::REDIRECT_BASE,
        )
        .env("COLLOQUY__LOG__LEVEL", "debug")
        .env(
            "COLLOQUY__AUTH__PROVIDERS__WORDPRESS__CLIENT_ID",
            crate::doubles::CLIENT_ID,
        )
        .env(
            "COLLOQUY__AUTH__PROVIDERS__WORDPRESS__CLIENT_SECRET",
            CLIENT_SECRET,
        )
        .env(
            "COLLOQUY__AUTH__PROVIDERS__WORDPRESS__AUTHORIZE_URL",
            format!("{base}/oauth2/authorize"),
        )
        .env(
            "COLLOQUY__AUTH__PROVIDERS__WORDPRESS__TOKEN_URL",
            format!("{base}/oauth2/token"),
        )
        .env(
            "COLLOQUY__AUTH__PROVIDERS__WORDPRESS__PROFILE_URL",
            format!("{base}/rest/v1.1/me"),
        )
        .arg("serve")
        .stdout(std::process::Stdio::null())
        .stderr(std::fs::File::create(&log_path).unwrap())
        .spawn()
        .unwrap();
    let app_base = format!("http://127.0.0.1:{port}");
    let client = crate::helpers::http_client();
    crate::helpers::wait_ready(&client, &app_base).await;

    let r = client
        .get(format!(
            "{app_base}/auth/wordpress/login?site=blog&origin=https://blog.example"
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 302);
    let authorize = r.headers()["location"].to_str().unwrap().to_owned();
    let code = double.consent(&authorize);
    let page = client
        .get(format!("{app_base}/auth/wordpress/callback"))
        .query(&[("code", code.as_str()), ("state", &state_of(&authorize))])
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let msg = posted(&page)["message"].clone();
    assert_eq!(msg["type"], "colloquy:login", "{page}");
    let session = msg["token"].as_str().unwrap().to_owned();
    let me = client
        .get(format!("{app_base}/api/v1/me"))
        .bearer_auth(&session)
        .send()
        .await
        .unwrap();
    assert_eq!(me.status(), 200);

    let _ = child.kill();
    let _ = child.wait();
    let logged = std::fs::read_to_string(&log_path).unwrap();
    let _ = std::fs::remove_file(&log_path);
    assert!(
        logged.contains("commenter logged in"),
        "the login is logged:\n{logged}"
    );
    let mut secrets = vec![
        CLIENT_SECRET.to_owned(),
        session.clone(),
        code,
        state_of(&authorize),
        "jane@example.com".into(),
    ];
    secrets.extend(double.issued_tokens());
    assert!(secrets.len() >= 6, "the double issued an access token");
    for secret in secrets {
        assert!(
            !logged.contains(&secret),
            "{secret} leaked into the log:\n{logged}"
        );
        assert!(!page.contains(CLIENT_SECRET));
    }
}
