//! GET /api/v1/sites/{site}

use super::*;

#[tokio::test]
async fn get_site_unknown_or_malformed_is_not_found() {
    let app = blog_app().await;
    let too_long = "a".repeat(65);

    for site in ["nosuchsite", "BLOG", "my_blog", "b", too_long.as_str()] {
        let r = app.get(&format!("/api/v1/sites/{site}")).await;
        assert_clean_error(r, 404, "not_found").await;
    }
    let (status, _) = app.get_json("/api/v1/sites/blog").await;
    assert_eq!(status, 200);
}

// ---------------------------------------------------------------------------------------------
// GET /api/v1/sites/{site}/thread
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn thread_without_or_with_an_invalid_uri_names_uri() {
    let app = blog_app().await;
    let too_long = format!("/{}", "a".repeat(1024));

    for query in [
        "".to_owned(),
        "uri=".to_owned(),
        "sort=oldest".to_owned(),
        "uri=p/".to_owned(),
        "uri=//evil.example/x".to_owned(),
        "uri=/a%20b".to_owned(),
        "uri=/a%0Ab".to_owned(),
        "uri=/a%23frag".to_owned(),
        format!("uri={too_long}"),
    ] {
        let r = app.get(&format!("/api/v1/sites/blog/thread?{query}")).await;
        assert_invalid_field(r, "uri", &query).await;
    }
}

#[tokio::test]
async fn thread_bad_sort_and_limit_name_the_parameter() {
    let app = blog_app().await;

    for sort in ["bogus", "", "OLDEST", "best"] {
        let r = app
            .get(&format!("/api/v1/sites/blog/thread?uri=/p/&sort={sort}"))
            .await;
        assert_invalid_field(r, "sort", sort).await;
    }
    for limit in ["0", "201", "-1", "abc", "1.5", "", "99999999999999999999"] {
        let r = app
            .get(&format!("/api/v1/sites/blog/thread?uri=/p/&limit={limit}"))
            .await;
        assert_invalid_field(r, "limit", limit).await;
    }

    for ok in ["sort=oldest&limit=1", "sort=newest&limit=200", "sort=top"] {
        app.thread("blog", &format!("uri=/p/&{ok}")).await;
    }
}

#[tokio::test]
async fn thread_reports_every_bad_parameter_at_once() {
    let app = blog_app().await;

    let r = app
        .get("/api/v1/sites/blog/thread?uri=nope&sort=bogus&limit=0")
        .await;

    let body = assert_clean_error(r, 400, "validation_failed").await;
    for field in ["uri", "sort", "limit"] {
        assert!(
            body["error"]["details"][field].is_string(),
            "{field} missing in {body}"
        );
    }
}

#[tokio::test]
async fn thread_garbage_cursors_are_refused() {
    let app = blog_app().await;
    let too_long = "a".repeat(300);

    for cursor in [
        "garbage",
        "!!!",
        "bw",
        "o.1.x.0",
        too_long.as_str(),
        "%FF%FE",
    ] {
        let r = app
            .get(&format!(
                "/api/v1/sites/blog/thread?uri=/p/&cursor={cursor}"
            ))
            .await;
        assert_invalid_field(r, "cursor", cursor).await;
    }
}

#[tokio::test]
async fn thread_cursor_issued_for_another_sort_is_refused() {
    let app = blog_app().await;
    for body in ["one", "two", "three"] {
        app.comment("blog", "/p/", body).await;
    }
    let first_page = app.thread("blog", "uri=/p/&limit=1").await;
    let cursor = first_page["next_cursor"]
        .as_str()
        .expect("a next page exists")
        .to_owned();

    let r = app
        .get(&format!(
            "/api/v1/sites/blog/thread?uri=/p/&limit=1&sort=newest&cursor={cursor}"
        ))
        .await;
    assert_invalid_field(r, "cursor", "an oldest cursor").await;
    let r = app
        .get(&format!(
            "/api/v1/sites/blog/thread?uri=/p/&limit=1&sort=top&cursor={cursor}"
        ))
        .await;
    assert_invalid_field(r, "cursor", "an oldest cursor").await;

    // The same cursor with its own sort still works.
    let second_page = app
        .thread(
            "blog",
            &format!("uri=/p/&limit=1&sort=oldest&cursor={cursor}"),
        )
        .await;
    assert_eq!(
        second_page["comments"].as_array().unwrap().len(),
        1,
        "{second_page}"
    );
    assert_ne!(
        second_page["comments"][0]["id"],
        first_page["comments"][0]["id"]
    );
}

#[tokio::test]
async fn thread_with_a_repeated_parameter_is_a_validation_error() {
    let app = blog_app().await;

    let r = app.get("/api/v1/sites/blog/thread?uri=/a/&uri=/b/").await;

    assert_clean_error(r, 400, "validation_failed").await;
}

#[tokio::test]
async fn thread_of_an_unknown_or_malformed_site_is_not_found() {
    let app = blog_app().await;

    for site in ["nosuchsite", "BLOG", "my_blog"] {
        let r = app
            .get(&format!("/api/v1/sites/{site}/thread?uri=/p/"))
            .await;
        assert_clean_error(r, 404, "not_found").await;
    }
}

// ---------------------------------------------------------------------------------------------
// GET /api/v1/sites/{site}/counts
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn counts_without_uris_is_a_validation_error() {
    let app = blog_app().await;

    for query in ["", "?", "?url=/p/", "?uris=/p/"] {
        let r = app.get(&format!("/api/v1/sites/blog/counts{query}")).await;
        assert_invalid_field(r, "uri", query).await;
    }
}

#[tokio::test]
async fn counts_accepts_100_uris_and_refuses_101() {
    let app = blog_app().await;
    let query = |n: usize| {
        (0..n)
            .map(|i| format!("uri=/p/{i}/"))
            .collect::<Vec<_>>()
            .join("&")
    };

    let (status, counts) = app
        .get_json(&format!("/api/v1/sites/blog/counts?{}", query(100)))
        .await;
    assert_eq!(status, 200, "{counts}");
    assert_eq!(counts.as_object().unwrap().len(), 100, "{counts}");
    assert_eq!(counts["/p/99/"], 0);

    let r = app
        .get(&format!("/api/v1/sites/blog/counts?{}", query(101)))
        .await;
    assert_invalid_field(r, "uri", "101 uris").await;
}

#[tokio::test]
async fn counts_with_an_invalid_uri_names_it() {
    let app = blog_app().await;

    for bad in ["p/", "//evil.example/x", "/a%20b", "/a%23frag", ""] {
        let r = app
            .get(&format!("/api/v1/sites/blog/counts?uri=/ok/&uri={bad}"))
            .await;
        let body = assert_clean_error(r, 400, "validation_failed").await;
        let details = body["error"]["details"]
            .as_object()
            .expect("details is an object");
        assert!(
            details.keys().any(|k| k.starts_with("uri")),
            "{bad:?}: details should name the uri: {body}"
        );
    }
}

#[tokio::test]
async fn counts_of_an_unknown_or_malformed_site_is_not_found() {
    let app = blog_app().await;

    for site in ["nosuchsite", "BLOG", "my_blog"] {
        let r = app
            .get(&format!("/api/v1/sites/{site}/counts?uri=/p/"))
            .await;
        assert_clean_error(r, 404, "not_found").await;
    }
}
