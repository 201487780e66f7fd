//! Routing

use super::*;

#[tokio::test]
async fn unknown_paths_are_not_found_json() {
    let app = blog_app().await;

    for path in [
        "/api/v1/nope",
        "/api/v1/sites",
        "/api/v1/sites/",
        "/api/v1/sites/blog/nope",
        "/api/v1/sites/blog/thread/extra",
        "/api/v1/sites/blog/comments/123",
        "/api/v1",
        "/api/v2/sites/blog",
        "/api",
        "/nope",
        "/",
        "/wp-login.php",
    ] {
        let r = app.get(path).await;
        assert_clean_error(r, 404, "not_found").await;
    }
    let r = app
        .client
        .post(app.url("/api/v1/nope"))
        .json(&good_comment())
        .send()
        .await
        .unwrap();
    assert_clean_error(r, 404, "not_found").await;
}

#[tokio::test]
async fn wrong_methods_are_method_not_allowed_json() {
    let app = blog_app().await;
    use reqwest::Method;
    let cases = [
        (Method::DELETE, "/api/v1/sites/blog"),
        (Method::POST, "/api/v1/sites/blog"),
        (Method::PUT, "/api/v1/sites/blog/thread"),
        (Method::POST, "/api/v1/sites/blog/thread"),
        (Method::PATCH, "/api/v1/sites/blog/counts"),
        (Method::GET, "/api/v1/sites/blog/comments"),
        (Method::PUT, "/api/v1/sites/blog/comments"),
        (Method::DELETE, "/api/v1/sites/blog/comments"),
    ];

    for (method, path) in cases {
        let r = app
            .client
            .request(method.clone(), app.url(path))
            .send()
            .await
            .unwrap();
        assert_clean_error(r, 405, "method_not_allowed").await;
    }
}

#[tokio::test]
async fn method_errors_name_the_allowed_methods_and_head_works() {
    let app = blog_app().await;
    let r = app
        .client
        .delete(app.url("/api/v1/sites/blog/thread?uri=/a/"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.headers()["allow"], "GET, HEAD");
    assert_clean_error(r, 405, "method_not_allowed").await;
    let r = app
        .client
        .get(app.url("/api/v1/sites/blog/comments"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.headers()["allow"], "POST");
    let r = app
        .client
        .head(app.url("/api/v1/sites/blog"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
}

#[tokio::test]
async fn nul_characters_are_refused_in_json_and_query_strings() {
    let app = blog_app().await;
    let r = app
        .client
        .post(app.url("/api/v1/sites/blog/comments"))
        .header("content-type", "application/json")
        .body(r#"{"uri":"/p/","body":"a\u0000b","guest":{"name":"A","email":"a@b.co"}}"#)
        .send()
        .await
        .unwrap();
    assert_clean_error(r, 400, "validation_failed").await;
    let r = app.get("/api/v1/sites/blog/thread?uri=/p/%00").await;
    assert_clean_error(r, 400, "validation_failed").await;
    let r = app.get("/api/mod/v1/sites/blog/comments?q=%00").await;
    assert_clean_error(r, 400, "validation_failed").await;
    assert_eq!(app.comment_count().await, 0);
}
