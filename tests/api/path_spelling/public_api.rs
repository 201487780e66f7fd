use super::*;

#[tokio::test]
async fn a_session_bound_to_no_site_is_refused_by_the_public_api() {
    let app = app().await;
    create_site(&app, "bloga", "https://bloga.example").await;
    let token = reader_login(&app, "bloga", "https://bloga.example", "Reader").await;
    // What a first-party account session looks like: bound to no blog.
    sqlx::query("UPDATE sessions SET kind = 'account', site_id = NULL")
        .execute(&app.db)
        .await
        .unwrap();
    let before = snapshot(&app).await;
    for (method, path, body) in [
        ("GET", "/api/v1/me".to_owned(), None),
        ("GET", "/api/v1/me/appeals".to_owned(), None),
        ("GET", "/api/v1/sites/bloga/thread?uri=/p/".to_owned(), None),
        (
            "POST",
            "/api/v1/sites/bloga/comments".to_owned(),
            Some(json!({ "uri": "/p/", "body": "From a site-less session" })),
        ),
        ("POST", "/api/v1/logout".to_owned(), None),
    ] {
        let mut req = app
            .client
            .request(
                Method::from_bytes(method.as_bytes()).unwrap(),
                app.url(&path),
            )
            .bearer_auth(&token);
        if let Some(b) = body {
            req = req.json(&b);
        }
        let r = req.send().await.unwrap();
        assert_eq!(r.status(), 401, "{method} {path}");
    }
    assert_eq!(snapshot(&app).await, before);
}

#[tokio::test]
async fn cors_preflight_with_an_encoded_slug_or_id_answers_for_the_right_site() {
    let app = app().await;
    create_site(&app, "bloga", "https://bloga.example").await;
    create_site(&app, "blogb", "https://blogb.example").await;
    let comment_b = post_comment(
        &app,
        "blogb",
        None,
        json!({ "uri": "/p/", "body": "On blog B",
                "guest": { "name": "Guest", "email": "guest@example.com" } }),
    )
    .await;
    let preflight = |path: String, origin: &'static str, method: &'static str| {
        let app = &app;
        async move {
            app.client
                .request(Method::OPTIONS, app.url(&path))
                .header("Origin", origin)
                .header("Access-Control-Request-Method", method)
                .send()
                .await
                .unwrap()
        }
    };
    for (_, slug) in spellings("blogb") {
        let path = format!("/api/v1/sites/{slug}/comments");
        let r = preflight(path.clone(), "https://blogb.example", "POST").await;
        assert_eq!(r.status(), 204, "{path} from blog B's origin");
        assert_eq!(
            r.headers()["access-control-allow-origin"],
            "https://blogb.example",
            "{path}"
        );
        let r = preflight(path.clone(), "https://bloga.example", "POST").await;
        assert_eq!(r.status(), 403, "{path} from blog A's origin");
        assert!(r.headers().get("access-control-allow-origin").is_none());
    }
    for (_, id) in spellings(&comment_b) {
        let path = format!("/api/v1/comments/{id}/vote");
        let r = preflight(path.clone(), "https://blogb.example", "PUT").await;
        assert_eq!(r.status(), 204, "{path} from blog B's origin");
        let r = preflight(path.clone(), "https://bloga.example", "PUT").await;
        assert_eq!(r.status(), 403, "{path} from blog A's origin");
    }
    // A slug that only looks like B's once a separator is decoded is an unknown site.
    for slug in with_separators("blogb", "bloga") {
        let path = format!("/api/v1/sites/{slug}/comments");
        let r = preflight(path.clone(), "https://blogb.example", "POST").await;
        assert_eq!(r.status(), 404, "{path}");
    }
}
