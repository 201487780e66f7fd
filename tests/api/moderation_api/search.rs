//! Search

use super::*;

#[tokio::test]
async fn search_filters_by_status_author_thread_and_words() {
    let ctx = setup(Policy::Post).await;
    let app = &ctx.app;
    let (a1, ann_id) =
        comment_by(app, "blog", "/a/", "The quick brown fox", "ann@example.com").await;
    let a2 = ann(&ctx, "/b/", "Lazy dogs sleep all day").await;
    let (b1, _) = comment_by(
        app,
        "blog",
        "/a/",
        "Quick thinking, Ann!",
        "bob@example.com",
    )
    .await;
    act(&ctx, &a2, "spam").await;

    let token = &ctx.token;
    let search = |q: &str| {
        let path = format!("/sites/blog/comments{q}");
        async move { json_of(get(app, &path, token).await, 200).await }
    };
    assert_eq!(
        ids_of(&search("").await),
        [b1.clone(), a2.clone(), a1.clone()],
        "newest first"
    );
    assert_eq!(ids_of(&search("?q=quick").await), [b1.clone(), a1.clone()]);
    assert_eq!(ids_of(&search("?q=QUICK%20fox").await), [a1.as_str()]);
    assert_eq!(
        ids_of(&search("?q=nothing-like-this").await),
        Vec::<String>::new()
    );
    assert_eq!(
        ids_of(&search(&format!("?q=quick&author={ann_id}")).await),
        [a1.as_str()]
    );
    assert_eq!(ids_of(&search("?status=spam").await), [a2.as_str()]);
    assert_eq!(
        ids_of(&search("?status=approved&thread=/a/").await),
        [b1.clone(), a1.clone()]
    );
    let thread_b: Uuid = sqlx::query_scalar("SELECT thread_id FROM comments WHERE id = $1::uuid")
        .bind(&a2)
        .fetch_one(&app.db)
        .await
        .unwrap();
    assert_eq!(
        ids_of(&search(&format!("?thread={thread_b}")).await),
        [a2.as_str()]
    );
    assert_eq!(
        ids_of(&search("?thread=/nowhere/").await),
        Vec::<String>::new()
    );
    // Items carry what the queue's do.
    let page = search("?q=fox").await;
    assert_eq!(page["items"][0]["author"]["email"], "ann@example.com");
    assert_eq!(page["items"][0]["author_history"]["spam"], 1);
    // Pages.
    let (ids, pages) = all_pages(&ctx, "/sites/blog/comments", 2).await;
    assert_eq!(ids, [b1, a2, a1]);
    assert_eq!(pages, 2);

    for bad in [
        "?status=lost",
        "?author=ann",
        "?thread=no%20spaces",
        "?limit=500",
    ] {
        let r = get(app, &format!("/sites/blog/comments{bad}"), &ctx.token).await;
        assert_error(r, 400, "validation_failed").await;
    }
}
