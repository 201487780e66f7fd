//! Nothing lost

use super::*;

#[tokio::test]
async fn a_barrage_of_bad_requests_loses_nothing_stored() {
    let app = spawn_app_with(|s| s.limits.json_max_bytes = 1024).await;
    app.create_site(SiteOpts::default()).await;
    let id = app.comment("blog", "/p/", "A *good* comment").await;
    let thread_before = app.thread("blog", "uri=/p/").await;
    let count_before = app.comment_count().await;

    let bad_bodies: Vec<Vec<u8>> = vec![
        b"{".to_vec(),
        b"[1,2".to_vec(),
        b"".to_vec(),
        b"\xff\xfe".to_vec(),
        padded_comment(4096),
        serde_json::to_vec(&comment_with("body", json!(42))).unwrap(),
        serde_json::to_vec(&comment_with("uri", json!("//evil.example/p/"))).unwrap(),
        serde_json::to_vec(&comment_with(
            "parent_id",
            json!("01a220f8-71aa-77a6-9621-3512f3f20107"),
        ))
        .unwrap(),
        serde_json::to_vec(&comment_with("parent_id", json!("not-a-uuid"))).unwrap(),
        serde_json::to_vec(&comment_with("admin", json!(true))).unwrap(),
        serde_json::to_vec(&comment_without("guest")).unwrap(),
    ];
    for bytes in bad_bodies {
        let r = post_json_bytes(&app, bytes).await;
        assert!(r.status().is_client_error(), "{}", r.status());
    }
    let r = post_bytes(
        &app,
        Some("text/plain"),
        serde_json::to_string(&good_comment()).unwrap(),
    )
    .await;
    assert!(r.status().is_client_error());
    let r = post_with_idempotency_key(&app, HeaderValue::from_static("bad key")).await;
    assert!(r.status().is_client_error());
    let r = app.post_raw("nosuchsite", &good_comment()).await;
    assert!(r.status().is_client_error());
    for path in [
        "/api/v1/sites/blog/thread?uri=/p/&limit=0",
        "/api/v1/sites/blog/thread?uri=/p/&cursor=garbage",
        "/api/v1/sites/blog/counts",
        &format!(
            "/api/v1/sites/blog/counts?{}",
            vec!["uri=/p/"; 101].join("&")
        ),
    ] {
        assert!(app.get(path).await.status().is_client_error(), "{path}");
    }
    let r = app
        .client
        .delete(app.url("/api/v1/sites/blog"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 405);

    assert_eq!(app.comment_count().await, count_before);
    let thread_after = app.thread("blog", "uri=/p/").await;
    assert_eq!(
        thread_after, thread_before,
        "the stored comment is served unchanged"
    );
    assert_eq!(thread_after["comments"][0]["id"], id.as_str());
    assert_eq!(
        thread_after["comments"][0]["html"],
        "<p>A <em>good</em> comment</p>\n"
    );
}
