use super::*;

#[tokio::test]
async fn the_page_lists_comments_from_every_blog_as_their_author_sees_them() {
    let app = two_blogs().await;
    let on_blog = blog_login(&app, "Ann").await;
    let on_other = other_login(&app, "Ann").await;
    for i in 0..3 {
        post_on(&app, "blog", &on_blog, &format!("blog words {i}")).await;
    }
    post_on(&app, "other", &on_other, "other words").await;
    // Someone else's comment is never listed.
    let bob = blog_login(&app, "Bob").await;
    post_on(&app, "blog", &bob, "bob's words").await;

    let secret = dev_account_login(&app, "Ann").await;
    let page = account_json(&app, "/comments?limit=3", &secret).await;
    let items = page["items"].as_array().unwrap();
    assert_eq!(items.len(), 3);
    assert_eq!(items[0]["site"], "other", "newest first");
    assert_eq!(items[0]["site_name"], "The other blog");
    assert_eq!(items[0]["uri"], "/p/");
    assert_eq!(items[0]["url"], "https://other.example/p/");
    assert_eq!(items[0]["status"], "approved");
    assert!(items[0]["html"].as_str().unwrap().contains("other words"));
    let cursor = page["next_cursor"].as_str().unwrap();
    let rest = account_json(&app, &format!("/comments?limit=3&cursor={cursor}"), &secret).await;
    assert_eq!(rest["items"].as_array().unwrap().len(), 1);
    assert!(rest["next_cursor"].is_null());
    let all = format!("{page}{rest}");
    assert!(all.contains("blog words 0") && !all.contains("bob's words"));
    for bad in ["/comments?limit=0", "/comments?cursor=%%%"] {
        let r = account(&app, Method::GET, bad, &secret)
            .send()
            .await
            .unwrap();
        assert_error(r, 400, "validation_failed").await;
    }

    // A blog's appeals list shows that blog's appeals only (it used to list every blog's).
    let appeal = |token: String, id: String| {
        let app = &app;
        async move {
            app.set_status(&id, "rejected").await;
            let r = app
                .client
                .post(app.url(&format!("/api/v1/comments/{id}/appeal")))
                .bearer_auth(token)
                .json(&json!({ "message": "please" }))
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), 201, "{}", r.text().await.unwrap());
        }
    };
    let blog_one = page["items"][1]["id"].as_str().unwrap().to_owned();
    let other_one = page["items"][0]["id"].as_str().unwrap().to_owned();
    appeal(on_blog.clone(), blog_one.clone()).await;
    appeal(on_other.clone(), other_one.clone()).await;
    for (token, id) in [(&on_blog, &blog_one), (&on_other, &other_one)] {
        let r = app
            .client
            .get(app.url("/api/v1/me/appeals"))
            .bearer_auth(token)
            .send()
            .await
            .unwrap();
        let list: Value = r.json().await.unwrap();
        let items = list["items"].as_array().unwrap();
        assert_eq!(items.len(), 1, "{list}");
        assert_eq!(items[0]["comment_id"], id.as_str());
    }
}

/// Point 8a: a shadow-banned author sees their comments as published everywhere they can look
/// — the widget, the account page and their export — while moderators see spam.
#[tokio::test]
async fn a_shadow_banned_authors_export_and_page_show_what_the_author_sees() {
    use colloquy::auth::moderators::Role;

    use crate::helpers::moderator::{add_moderator, json_of, login as mod_login, post};
    let app = dev_app(Policy::Post).await;
    let site = colloquy::sites::store::find_by_slug(&app.db, "blog")
        .await
        .unwrap()
        .unwrap();
    let token = blog_login(&app, "Ann").await;
    // Known to the site (a ban names a commenter of the site).
    post_on(&app, "blog", &token, "before the ban").await;
    let me: Value = app
        .client
        .get(app.url("/api/v1/me"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    add_moderator(&app, "mod@example.com", &site, Role::Moderator).await;
    let mod_token = mod_login(&app, "mod@example.com").await;
    json_of(
        post(
            &app,
            "/sites/blog/bans",
            &mod_token,
            json!({ "user_id": me["id"], "shadow": true, "reason": "quietly" }),
        )
        .await,
        201,
    )
    .await;
    let posted = post_on(&app, "blog", &token, "quiet words").await;
    assert_eq!(posted["status"], "approved", "the widget's view");
    let id = posted["comment"]["id"].as_str().unwrap();
    let stored: String = sqlx::query_scalar("SELECT status FROM comments WHERE id = $1::uuid")
        .bind(id)
        .fetch_one(&app.db)
        .await
        .unwrap();
    assert_eq!(stored, "spam");

    let secret = dev_account_login(&app, "Ann").await;
    let r = account(&app, Method::GET, "/export", &secret)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let text = r.text().await.unwrap();
    let x: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(x["comments"][1]["id"], id);
    assert_eq!(x["comments"][1]["status"], "approved", "{text}");
    assert!(!text.contains("spam") && !text.contains("shadow"), "{text}");
    let page = account_json(&app, "/comments", &secret).await;
    assert_eq!(page["items"][0]["id"], id);
    assert_eq!(page["items"][0]["status"], "approved");
    assert!(!page.to_string().contains("spam"));
}

#[tokio::test]
async fn the_last_login_is_never_unlinked() {
    let app = dev_app(Policy::Post).await;
    let secret = dev_account_login(&app, "Ann").await;
    let me = account_json(&app, "/me", &secret).await;
    let ids = me["identities"].as_array().unwrap();
    assert_eq!(ids.len(), 1);
    let id = ids[0]["id"].as_str().unwrap();
    let r = account(&app, Method::DELETE, &format!("/identities/{id}"), &secret)
        .send()
        .await
        .unwrap();
    assert_error(r, 409, "last_identity").await;
    assert_eq!(count(&app, "SELECT count(*) FROM identities").await, 1);
    for other in ["00000000-0000-0000-0000-000000000000", "nope"] {
        let r = account(
            &app,
            Method::DELETE,
            &format!("/identities/{other}"),
            &secret,
        )
        .send()
        .await
        .unwrap();
        assert_error(r, 404, "not_found").await;
    }
}

#[tokio::test]
async fn the_page_and_its_files_are_served_under_a_strict_csp() {
    let app = dev_app(Policy::Post).await;
    let r = app.get("/account").await;
    assert_eq!(r.status(), 308);
    assert_eq!(r.headers()["location"], "/account/");
    let r = app.get("/account/").await;
    assert_eq!(r.status(), 200);
    let csp = r.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(csp.contains("script-src 'self';"), "{csp}");
    assert!(csp.contains("frame-ancestors 'none'"), "{csp}");
    assert!(!csp.contains("unsafe-inline"), "{csp}");
    let html = r.text().await.unwrap();
    assert!(html.contains("<script src=\"/account/account.js?v="));
    assert!(!html.contains("<script>"), "no inline script");
    assert!(!html.contains("https://"), "nothing from another origin");
    for (asset, ct) in [
        ("account.js", "text/javascript"),
        ("account.css", "text/css"),
    ] {
        let r = app.get(&format!("/account/{asset}")).await;
        assert_eq!(r.status(), 200);
        assert!(
            r.headers()["content-type"]
                .to_str()
                .unwrap()
                .starts_with(ct)
        );
    }
    assert_error(app.get("/account/nope.js").await, 404, "not_found").await;
    let r = app
        .client
        .get(app.url("/account/api/providers"))
        .header(CSRF, "1")
        .send()
        .await
        .unwrap();
    assert_eq!(
        r.json::<Value>().await.unwrap()["providers"],
        json!(["dev"])
    );
    // An unknown provider goes back to the page with a code.
    let r = app.get("/account/login/facebook").await;
    assert_eq!(r.status(), 303);
    assert_eq!(
        r.headers()["location"],
        "/account/#error=provider_unavailable"
    );
}
