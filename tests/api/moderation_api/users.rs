//! Commenters

use super::*;

#[tokio::test]
async fn a_commenters_view_and_trust_on_a_site() {
    let ctx = setup(Policy::Pre).await;
    let app = &ctx.app;
    let (c1, user) = comment_by(app, "blog", "/p/", "Hello there", "carol@example.com").await;
    act(&ctx, &c1, "approve").await;
    comment_by(app, "blog", "/q/", "Second word", "carol@example.com").await;
    let path = format!("/sites/blog/users/{user}");

    let view = json_of(get(app, &path, &ctx.token).await, 200).await;
    assert_eq!(view["id"], user);
    assert_eq!(view["name"], "Ann Reader");
    assert_eq!(view["email"], "carol@example.com");
    assert_eq!(view["providers"], json!(["guest"]));
    assert_eq!(view["trusted"], false);
    assert_eq!(view["premoderated"], false);
    assert_eq!(
        view["counts"],
        json!({ "approved": 1, "pending": 1, "spam": 0, "rejected": 0, "deleted": 0 })
    );
    let recent = view["recent_comments"].as_array().unwrap();
    assert_eq!(recent.len(), 2);
    assert_eq!(recent[1]["id"], c1, "newest first");
    assert_eq!(recent[1]["uri"], "/p/");

    // Trust is recorded, but a guest (whoever types the address) never skips the policy:
    // only logged-in users do (tests/api/pipeline.rs).
    let r = call(
        app,
        Method::PATCH,
        &path,
        &ctx.token,
        Some(json!({ "trusted": true })),
    )
    .await;
    assert_eq!(json_of(r, 200).await["trusted"], true);
    let (_, json) = app
        .post_guest("blog", "/r/", "Trusted now", "carol@example.com")
        .await;
    assert_eq!(json["status"], "pending");

    // Both at once is refused, whether asked together or one after the other.
    let r = call(
        app,
        Method::PATCH,
        &path,
        &ctx.token,
        Some(json!({ "trusted": true, "premoderated": true })),
    )
    .await;
    assert_error(r, 400, "validation_failed").await;
    let r = call(
        app,
        Method::PATCH,
        &path,
        &ctx.token,
        Some(json!({ "premoderated": true })),
    )
    .await;
    let e = assert_error(r, 400, "validation_failed").await;
    assert!(e["error"]["details"]["premoderated"].is_string());
    let r = call(
        app,
        Method::PATCH,
        &path,
        &ctx.token,
        Some(json!({ "trusted": false, "premoderated": true })),
    )
    .await;
    let view = json_of(r, 200).await;
    assert_eq!(
        (view["trusted"].clone(), view["premoderated"].clone()),
        (json!(false), json!(true))
    );
    let stored: (bool, bool) =
        sqlx::query_as("SELECT trusted, premoderated FROM site_users WHERE user_id = $1::uuid")
            .bind(&user)
            .fetch_one(&app.db)
            .await
            .unwrap();
    assert_eq!(stored, (false, true));

    let r = call(
        app,
        Method::PATCH,
        &path,
        &ctx.token,
        Some(json!({ "vip": true })),
    )
    .await;
    assert_error(r, 400, "validation_failed").await;
    let r = call(
        app,
        Method::PATCH,
        &path,
        &ctx.token,
        Some(json!({ "trusted": "yes" })),
    )
    .await;
    assert_error(r, 400, "validation_failed").await;
    let nobody = format!("/sites/blog/users/{}", Uuid::now_v7());
    assert_error(get(app, &nobody, &ctx.token).await, 404, "not_found").await;
    let r = call(
        app,
        Method::PATCH,
        &nobody,
        &ctx.token,
        Some(json!({ "trusted": true })),
    )
    .await;
    assert_error(r, 404, "not_found").await;
}
