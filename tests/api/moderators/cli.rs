//! The CLI, and what reaches the logs

use super::*;

#[tokio::test]
async fn moderator_create_reads_the_password_from_stdin_and_never_prints_it() {
    let (url, _drop) = fresh_db();
    let out = colloquy(&url)
        .args(["site", "create", "--slug", "blog", "--name", "Blog"])
        .args(["--origin", "https://blog.example"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    let help = colloquy(&url)
        .args(["moderator", "create", "--help"])
        .output()
        .unwrap();
    let help = String::from_utf8_lossy(&help.stdout).into_owned();
    for flag in ["--email", "--site", "--role"] {
        assert!(help.contains(flag), "{flag} missing:\n{help}");
    }

    let secret = "cli-chosen passphrase 42";
    let args = [
        "--email",
        "Owner@Example.com",
        "--site",
        "blog",
        "--role",
        "owner",
    ];
    let (out, stdout, stderr) = moderator_create(&url, &args, &format!("{secret}\n"));
    assert!(out.status.success(), "{stdout}\n{stderr}");
    assert!(stdout.contains("created moderator"), "{stdout}");
    assert!(stdout.contains("added to site blog as owner"), "{stdout}");

    let pool = sqlx::PgPool::connect(&url).await.unwrap();
    let (email, hash): (String, String) =
        sqlx::query_as("SELECT email, password_hash FROM moderators")
            .fetch_one(&pool)
            .await
            .unwrap();
    assert_eq!(email, "owner@example.com");
    assert!(hash.starts_with(HASH_PREFIX), "{hash}");

    // Existing account: refused, so a password typed for "a new account" can't silently end
    // up meaning a role for an account someone else holds the password of.
    let (out, stdout, stderr) = moderator_create(&url, &args, "some other password\n");
    assert!(!out.status.success(), "{stdout}");
    assert!(stderr.contains("exists already"), "{stderr}");
    assert!(stderr.contains("reset-password"), "{stderr}");
    assert!(stderr.contains("--existing"), "{stderr}");
    // With --existing the role is added or kept, the password left alone (stdin unused).
    let existing = [&args[..], &["--existing"]].concat();
    let (out, stdout, stderr) = moderator_create(&url, &existing, "some other password\n");
    assert!(out.status.success(), "{stderr}");
    assert!(stdout.contains("password unchanged"), "{stdout}");
    assert!(stdout.contains("already owner"), "{stdout}");
    let unchanged: String = sqlx::query_scalar("SELECT password_hash FROM moderators")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(unchanged, hash);
    // --existing for an email without an account creates nothing.
    let (out, _, stderr) = moderator_create(
        &url,
        &[
            "--email",
            "nobody@example.com",
            "--site",
            "blog",
            "--existing",
        ],
        "long enough password\n",
    );
    assert!(!out.status.success());
    assert!(stderr.contains("no account"), "{stderr}");
    // Demoting the only owner is refused here too.
    let (out, _, stderr) = moderator_create(
        &url,
        &[
            "--email",
            "owner@example.com",
            "--site",
            "blog",
            "--role",
            "moderator",
            "--existing",
        ],
        "",
    );
    assert!(!out.status.success());
    assert!(stderr.contains("only owner"), "{stderr}");

    // Refusals for a new account: empty or short password, unknown site, bad role.
    let new = ["--email", "new@example.com", "--site", "blog"];
    for (stdin, says) in [
        ("", "must not be empty"),
        ("\n", "must not be empty"),
        ("too short\n", "at least 12"),
    ] {
        let (out, stdout, stderr) = moderator_create(&url, &new, stdin);
        assert!(!out.status.success(), "{stdin:?} accepted: {stdout}");
        assert!(stderr.contains(says), "{stdin:?}: {stderr}");
        assert!(
            !stderr.contains("too short"),
            "the password is not echoed: {stderr}"
        );
    }
    let (out, _, stderr) = moderator_create(
        &url,
        &["--email", "new@example.com", "--site", "nope"],
        "long enough password\n",
    );
    assert!(!out.status.success());
    assert!(stderr.contains("no site"), "{stderr}");
    let (out, _, _) = moderator_create(
        &url,
        &[
            "--email",
            "new@example.com",
            "--site",
            "blog",
            "--role",
            "admin",
        ],
        "long enough password\n",
    );
    assert!(!out.status.success());
    let count: i64 = sqlx::query_scalar("SELECT count(*) FROM moderators")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(count, 1, "nothing was created by the refused commands");

    // The default role is the lesser one.
    let (out, stdout, stderr) = moderator_create(&url, &new, "long enough password\n");
    assert!(out.status.success(), "{stderr}");
    assert!(stdout.contains("as moderator"), "{stdout}");
    pool.close().await;

    // The account logs in over HTTP with the password typed into the CLI.
    let (mut settings, _) = test_settings();
    settings.database.url = url.clone();
    let app = Application::build(settings).await.unwrap();
    let base = format!("http://127.0.0.1:{}", app.port());
    let server = tokio::spawn(app.run());
    let client = http_client();
    wait_ready(&client, &base).await;
    let r = client
        .post(format!("{base}/api/mod/v1/login"))
        .json(&json!({ "email": "owner@example.com", "password": secret }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let body: Value = r.json().await.unwrap();
    assert_eq!(
        body["moderator"]["roles"],
        json!([{ "site": "blog", "role": "owner" }])
    );
    server.abort();
}

#[tokio::test]
async fn serve_logs_no_password_email_token_or_hash() {
    let (url, _drop) = fresh_db();
    let out = colloquy(&url)
        .args(["site", "create", "--slug", "blog", "--name", "Blog"])
        .args(["--origin", "https://blog.example"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    let email = "log-check.owner@example.org";
    let secret = "log-check passphrase 7f3a";
    let (out, stdout, stderr) = moderator_create(
        &url,
        &["--email", email, "--site", "blog", "--role", "owner"],
        &format!("{secret}\n"),
    );
    assert!(out.status.success(), "{stderr}");
    for text in [&stdout, &stderr] {
        assert!(!text.contains(secret), "password printed: {text}");
    }

    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let log_path =
        std::env::temp_dir().join(format!("colloquy-modlog-{}.txt", Uuid::new_v4().simple()));
    let log = std::fs::File::create(&log_path).unwrap();
    let mut child = colloquy(&url)
        .env("COLLOQUY__SERVER__PORT", port.to_string())
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

    let login = |password: &'static str| {
        client
            .post(format!("{base}/api/mod/v1/login"))
            .json(&json!({ "email": email, "password": password }))
            .send()
    };
    assert_eq!(login("wrong-guess-9c1d").await.unwrap().status(), 401);
    let r = login("log-check passphrase 7f3a").await.unwrap();
    assert_eq!(r.status(), 200);
    let session: Value = r.json().await.unwrap();
    let session = session["token"].as_str().unwrap().to_owned();
    let r = client
        .post(format!("{base}/api/mod/v1/tokens"))
        .bearer_auth(&session)
        .json(&json!({ "name": "script" }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let api_token: Value = r.json().await.unwrap();
    let api_token = api_token["token"].as_str().unwrap().to_owned();
    let r = client
        .get(format!("{base}/api/mod/v1/sites"))
        .bearer_auth(&api_token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let pool = sqlx::PgPool::connect(&url).await.unwrap();
    let hash: String = sqlx::query_scalar("SELECT password_hash FROM moderators")
        .fetch_one(&pool)
        .await
        .unwrap();
    pool.close().await;

    let _ = child.kill();
    let _ = child.wait();
    tokio::time::sleep(Duration::from_millis(50)).await;
    let logged = std::fs::read_to_string(&log_path).unwrap();
    let _ = std::fs::remove_file(&log_path);
    assert!(logged.contains("moderator logged in"), "{logged}");
    let salt_and_hash = hash.rsplit('$').next().unwrap();
    for leak in [
        email,
        secret,
        "wrong-guess-9c1d",
        session.as_str(),
        api_token.as_str(),
        salt_and_hash,
    ] {
        assert!(
            !logged.contains(leak),
            "{leak} leaked into the log:\n{logged}"
        );
    }
}
