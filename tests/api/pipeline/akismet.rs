use super::*;

/// An Akismet double speaking `comment-check`: form fields in, `true`/`false` out.
async fn akismet_double() -> MockServer {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/1.1/comment-check"))
        .and(body_string_contains("api_key=test-akismet-key"))
        .and(body_string_contains("blog=http"))
        .and(body_string_contains("comment_type=comment"))
        .and(body_string_contains("viagra-from-akismet"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_string("true")
                .insert_header("X-akismet-pro-tip", "discard"),
        )
        .with_priority(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/1.1/comment-check"))
        .and(body_string_contains("api_key=test-akismet-key"))
        .and(body_string_contains("server-trouble"))
        .respond_with(ResponseTemplate::new(500))
        .with_priority(2)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/1.1/comment-check"))
        .and(body_string_contains("api_key=test-akismet-key"))
        .respond_with(ResponseTemplate::new(200).set_body_string("false"))
        .with_priority(3)
        .mount(&server)
        .await;
    server
}

#[tokio::test]
async fn an_akismet_compatible_service_files_spam_and_failures_do_not_block() {
    let akismet = akismet_double().await;
    let url = format!("{}/1.1/comment-check", akismet.uri());
    let app = spawn_app_with(|s| {
        s.moderation.akismet.url = url.clone();
        s.moderation.akismet.key = "test-akismet-key".into();
    })
    .await;
    app.create_site(SiteOpts::default()).await;
    let (_, b) = app
        .post_guest("blog", "/p/", "hello", "a@example.com")
        .await;
    assert_eq!(b["status"], "approved", "ham: {b}");
    let (_, b) = app
        .post_guest("blog", "/p/", "viagra-from-akismet", "b@example.com")
        .await;
    assert_eq!(b["status"], "spam", "{b}");
    let reason = b["reasons"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["kind"] == "akismet")
        .unwrap()
        .clone();
    assert_eq!(reason["matched"], "discard");
    let (s, b) = app
        .post_guest("blog", "/p/", "server-trouble ahead", "c@example.com")
        .await;
    assert_eq!(
        (s, b["status"].as_str()),
        (201, Some("approved")),
        "a failing service doesn't block: {b}"
    );
    let received = akismet.received_requests().await.unwrap();
    assert_eq!(received.len(), 3);
    let form = String::from_utf8(received[0].body.clone()).unwrap();
    assert!(
        form.contains("comment_author=Ann") && form.contains("user_ip=127.0.0.1"),
        "{form}"
    );
}

#[tokio::test]
async fn akismet_is_off_without_a_key() {
    let akismet = akismet_double().await;
    let url = format!("{}/1.1/comment-check", akismet.uri());
    let app = spawn_app_with(|s| s.moderation.akismet.url = url.clone()).await;
    app.create_site(SiteOpts::default()).await;
    let (_, b) = app
        .post_guest("blog", "/p/", "viagra-from-akismet", "b@example.com")
        .await;
    assert_eq!(b["status"], "approved", "{b}");
    assert!(akismet.received_requests().await.unwrap().is_empty());
}
