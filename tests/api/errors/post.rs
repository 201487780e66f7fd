//! POST /api/v1/sites/{site}/comments

use super::*;

#[tokio::test]
async fn post_malformed_json_is_invalid_json() {
    let app = blog_app().await;
    let valid = serde_json::to_string(&good_comment()).unwrap();
    let cases: Vec<(&str, Vec<u8>)> = vec![
        ("unclosed object", b"{".to_vec()),
        ("unclosed array", b"[1,2".to_vec()),
        ("trailing garbage after an empty object", b"{} x".to_vec()),
        ("trailing garbage after a valid comment", format!("{valid} x").into_bytes()),
        ("two documents", format!("{valid}{valid}").into_bytes()),
        ("trailing comma", br#"{"uri": "/p/", "body": "hi",}"#.to_vec()),
        ("single quotes", b"{'uri': '/p/'}".to_vec()),
        ("empty body", b"".to_vec()),
        ("only whitespace", b"  \n ".to_vec()),
        ("non-UTF-8 bytes", b"\xff\xfe\xfd".to_vec()),
        (
            "non-UTF-8 inside a string",
            b"{\"uri\": \"/p/\", \"body\": \"caf\xe9\", \"guest\": {\"name\": \"Ann\", \"email\": \"ann@example.com\"}}".to_vec(),
        ),
    ];

    let mut wrong = Vec::new();
    for (case, bytes) in cases {
        let r = post_json_bytes(&app, bytes).await;
        let (status, body) = clean_error_parts(r).await;
        if status != 400 || body["error"]["code"] != "invalid_json" {
            wrong.push(format!("{case}: {status} {body}"));
        }
    }
    assert!(
        wrong.is_empty(),
        "expected 400 invalid_json for:\n{}",
        wrong.join("\n")
    );
    assert_eq!(app.comment_count().await, 0);
}

#[tokio::test]
async fn post_fields_of_the_wrong_type_name_the_field_path() {
    let app = blog_app().await;
    let cases = [
        ("body", json!(42)),
        ("body", json!(null)),
        ("uri", json!(["/p/"])),
        ("title", json!({ "text": "x" })),
        ("url", json!(true)),
        ("parent_id", json!(12345)),
        ("guest", json!("ann@example.com")),
        ("guest.email", json!(7)),
        ("guest.name", json!(["Ann"])),
        ("guest.website", json!(1.5)),
    ];

    for (field, value) in cases {
        let r = app
            .post_raw("blog", &comment_with(field, value.clone()))
            .await;
        let body = assert_clean_error(r, 400, "validation_failed").await;
        assert!(
            body["error"]["details"][field].is_string(),
            "{field} = {value}: details should name {field:?}: {body}"
        );
    }
    assert_eq!(app.comment_count().await, 0);
}

#[tokio::test]
async fn post_a_json_document_that_is_not_an_object_is_refused() {
    let app = blog_app().await;

    for doc in [
        json!(42),
        json!("hello"),
        json!(null),
        json!([]),
        json!(["/p/", "hi"]),
    ] {
        let r = app.post_raw("blog", &doc).await;
        assert_clean_error(r, 400, "validation_failed").await;
    }
    assert_eq!(app.comment_count().await, 0);
}

#[tokio::test]
async fn post_unknown_fields_are_refused_at_top_level_and_inside_guest() {
    let app = blog_app().await;

    let r = app
        .post_raw("blog", &comment_with("admin", json!(true)))
        .await;
    let body = assert_clean_error(r, 400, "validation_failed").await;
    assert!(
        body["error"]["details"]["admin"].is_string(),
        "details should name the field: {body}"
    );

    let r = app
        .post_raw("blog", &comment_with("guest.role", json!("moderator")))
        .await;
    let body = assert_clean_error(r, 400, "validation_failed").await;
    assert!(
        body["error"]["details"]["guest.role"].is_string(),
        "details should name the field path: {body}"
    );

    assert_eq!(app.comment_count().await, 0);
}

#[tokio::test]
async fn post_missing_required_fields_are_named() {
    let app = blog_app().await;

    let mut wrong = Vec::new();
    for field in ["uri", "body", "guest.name", "guest.email"] {
        let r = app.post_raw("blog", &comment_without(field)).await;
        let (status, body) = clean_error_parts(r).await;
        if status != 400
            || body["error"]["code"] != "validation_failed"
            || !body["error"]["details"][field].is_string()
        {
            wrong.push(format!("without {field}: {status} {body}"));
        }
    }
    assert!(
        wrong.is_empty(),
        "expected 400 validation_failed naming the missing field:\n{}",
        wrong.join("\n")
    );

    let r = app.post_raw("blog", &json!({})).await;
    assert_clean_error(r, 400, "validation_failed").await;
    assert_eq!(app.comment_count().await, 0);
}

#[tokio::test]
async fn post_body_length_is_counted_in_characters_not_bytes() {
    let app = spawn_app_with(|s| s.limits.body_max_chars = 50).await;
    app.create_site(SiteOpts::default()).await;

    // 50 characters of 2, 3 and 4 bytes: at the limit, accepted although well over 50 bytes.
    for ch in ["é", "€", "🦀"] {
        let r = app
            .post_raw("blog", &comment_with("body", json!(ch.repeat(50))))
            .await;
        assert_eq!(r.status(), 201, "50 × {ch}: {}", r.text().await.unwrap());
    }
    let r = app
        .post_raw("blog", &comment_with("body", json!("a".repeat(50))))
        .await;
    assert_eq!(r.status(), 201);

    // One character more is refused, whatever its width.
    for ch in ["a", "é", "€", "🦀"] {
        let r = app
            .post_raw("blog", &comment_with("body", json!(ch.repeat(51))))
            .await;
        assert_invalid_field(r, "body", format!("51 × {ch}")).await;
    }
    assert_eq!(app.comment_count().await, 4);
}

#[tokio::test]
async fn post_larger_than_json_max_bytes_is_payload_too_large() {
    let app = spawn_app_with(|s| s.limits.json_max_bytes = 1024).await;
    app.create_site(SiteOpts::default()).await;
    let exactly_at_limit = padded_comment(1024);
    let one_byte_over = padded_comment(1025);
    let far_over = padded_comment(8 * 1024);

    let r = post_json_bytes(&app, exactly_at_limit).await;
    assert_eq!(r.status(), 201, "{}", r.text().await.unwrap());

    let r = post_json_bytes(&app, one_byte_over).await;
    assert_clean_error(r, 413, "payload_too_large").await;
    let r = post_json_bytes(&app, far_over).await;
    assert_clean_error(r, 413, "payload_too_large").await;
    assert_eq!(app.comment_count().await, 1);
}

#[tokio::test]
async fn post_chunked_body_larger_than_json_max_bytes_is_payload_too_large() {
    let app = spawn_app_with(|s| s.limits.json_max_bytes = 1024).await;
    app.create_site(SiteOpts::default()).await;
    let small = padded_comment(600);
    let large = padded_comment(2048);

    // Without Content-Length the limit must hold while reading.
    let r = post_chunked(&app, COMMENTS, &small.chunks(100).collect::<Vec<_>>()).await;
    assert_eq!(r.status, 201, "{}", r.body);

    let r = post_chunked(&app, COMMENTS, &large.chunks(256).collect::<Vec<_>>()).await;
    assert_eq!(r.status, 413, "{}", r.body);
    assert!(
        r.content_type.starts_with("application/json"),
        "content-type {:?}",
        r.content_type
    );
    assert_no_leak(&r.body);
    let body: Value = serde_json::from_str(&r.body).expect("error body is JSON");
    assert_eq!(body["error"]["code"], "payload_too_large", "{body}");
    assert_eq!(app.comment_count().await, 1);
}

#[tokio::test]
async fn post_without_a_json_content_type_is_unsupported_media_type() {
    let app = blog_app().await;
    let valid = serde_json::to_string(&good_comment()).unwrap();

    for ct in [
        Some("text/plain"),
        Some("application/x-www-form-urlencoded"),
        Some("text/json"),
        None,
    ] {
        let r = post_bytes(&app, ct, valid.clone()).await;
        assert_clean_error(r, 415, "unsupported_media_type").await;
    }

    // Parameters and +json types are still JSON.
    let r = post_bytes(&app, Some("application/json; charset=utf-8"), valid.clone()).await;
    assert_eq!(r.status(), 201);
    assert_eq!(app.comment_count().await, 1);
}

#[tokio::test]
async fn post_invalid_uris_are_refused() {
    let app = blog_app().await;
    let longest = format!("/{}", "a".repeat(1023));
    let too_long = format!("/{}", "a".repeat(1024));
    let bad = [
        "",
        "p/",
        "https://blog.example/p/",
        "//evil.example/x",
        "/a b",
        "/a\tb",
        "/a\nb",
        "/a\u{7}b",
        "/a\u{0}b",
        "/a\u{202e}b",
        "/a#comments",
        too_long.as_str(),
    ];

    for uri in bad {
        let r = app.post_raw("blog", &comment_with("uri", json!(uri))).await;
        assert_invalid_field(r, "uri", uri).await;
    }
    assert_eq!(app.comment_count().await, 0);

    let r = app
        .post_raw("blog", &comment_with("uri", json!(longest)))
        .await;
    assert_eq!(r.status(), 201, "a uri of exactly uri_max_chars is fine");
}

#[tokio::test]
async fn post_invalid_idempotency_keys_are_refused() {
    let app = blog_app().await;
    let bad = [
        HeaderValue::from_static(""),
        HeaderValue::from_str(&"k".repeat(256)).unwrap(),
        HeaderValue::from_static("two words"),
        HeaderValue::from_static("tab\there"),
        HeaderValue::from_bytes(b"caf\xe9").unwrap(),
    ];

    for key in bad {
        let r = post_with_idempotency_key(&app, key.clone()).await;
        assert_invalid_field(r, "Idempotency-Key", &key).await;
    }
    assert_eq!(app.comment_count().await, 0);

    let r = post_with_idempotency_key(&app, HeaderValue::from_str(&"k".repeat(255)).unwrap()).await;
    assert_eq!(r.status(), 201, "a 255-character key is fine");
}

#[tokio::test]
async fn post_to_an_unknown_or_malformed_site_is_not_found() {
    let app = blog_app().await;
    let too_long = "a".repeat(65);

    for site in [
        "nosuchsite",
        "BLOG",
        "Blog",
        "my_blog",
        "b",
        too_long.as_str(),
        "bl%C3%B6g",
    ] {
        let r = app.post_raw(site, &good_comment()).await;
        assert_clean_error(r, 404, "not_found").await;
    }
    assert_eq!(app.comment_count().await, 0);
}
