use super::*;

#[tokio::test]
async fn a_ban_through_the_google_identity_follows_the_person_to_their_linked_x_identity() {
    let (app, google, x) = two_provider_app().await;
    let site = colloquy::sites::store::find_by_slug(&app.db, "blog")
        .await
        .unwrap()
        .unwrap();

    // Jane logs in with Google on the blog and comments.
    let (g_token, user) = login_with(&app, &google).await;
    assert_eq!(
        post_as(&app, &g_token, "hello from google").await.status(),
        201
    );

    // On her account page (Google again), she links her X account to the same user.
    let secret = account_login_with(&app, &google).await;
    assert_eq!(
        account_json(&app, "/me", &secret).await["id"],
        user.as_str()
    );
    assert_eq!(link(&app, &secret, &x).await, "/account/#linked=twitter");
    assert_eq!(identities_of(&app, &user).await, ["google", "twitter"]);
    let me = account_json(&app, "/me", &secret).await;
    assert_eq!(me["identities"].as_array().unwrap().len(), 2);
    assert_eq!(
        sqlx::query_scalar::<_, i64>("SELECT count(*) FROM users")
            .fetch_one(&app.db)
            .await
            .unwrap(),
        1,
        "no second user was created"
    );

    // A moderator bans the user id they know from the Google comment.
    add_moderator(&app, "mod@example.com", &site, Role::Moderator).await;
    let mod_token = mod_login(&app, "mod@example.com").await;
    json_of(
        post(
            &app,
            "/sites/blog/bans",
            &mod_token,
            json!({ "user_id": user, "reason": "abuse" }),
        )
        .await,
        201,
    )
    .await;

    // Later she logs in with X on the blog: the same user, and banned.
    let (x_token, x_user) = login_with(&app, &x).await;
    assert_eq!(x_user, user, "the X login is the same person");
    let me: Value = app
        .client
        .get(app.url("/api/v1/me"))
        .bearer_auth(&x_token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(me["id"], user.as_str());
    assert_eq!(me["provider"], "twitter");
    assert_error(post_as(&app, &x_token, "hello from x").await, 403, "banned").await;
    assert_error(post_as(&app, &g_token, "and google").await, 403, "banned").await;
    assert_eq!(app.comment_count().await, 1);
}

#[tokio::test]
async fn an_identity_with_history_is_never_merged_but_an_unused_one_moves() {
    let (app, google, x) = two_provider_app().await;

    // X logs in first as its own user, who comments: that identity is in use.
    let (x_token, x_user) = login_with(&app, &x).await;
    assert_eq!(post_as(&app, &x_token, "from x").await.status(), 201);
    let (_, g_user) = login_with(&app, &google).await;
    assert_ne!(x_user, g_user);
    let g_account = account_login_with(&app, &google).await;
    assert_eq!(
        link(&app, &g_account, &x).await,
        "/account/#error=identity_in_use"
    );
    assert_eq!(identities_of(&app, &x_user).await, ["twitter"]);
    assert_eq!(identities_of(&app, &g_user).await, ["google"]);
    assert_eq!(post_as(&app, &x_token, "still me").await.status(), 201);

    // Without comments (and no ban), the identity moves, and its old sessions end.
    let (app, google, x) = two_provider_app().await;
    let (x_token, x_user) = login_with(&app, &x).await;
    let (_, g_user) = login_with(&app, &google).await;
    let g_account = account_login_with(&app, &google).await;
    assert_eq!(link(&app, &g_account, &x).await, "/account/#linked=twitter");
    assert_eq!(identities_of(&app, &g_user).await, ["google", "twitter"]);
    assert!(identities_of(&app, &x_user).await.is_empty());
    assert_error(
        post_as(&app, &x_token, "old session").await,
        401,
        "unauthenticated",
    )
    .await;
    let (_, again) = login_with(&app, &x).await;
    assert_eq!(again, g_user);

    // Linking an identity the user already holds is a no-op success.
    assert_eq!(link(&app, &g_account, &x).await, "/account/#linked=twitter");
    assert_eq!(identities_of(&app, &g_user).await, ["google", "twitter"]);

    // Unlinking one of two works, ends the sessions opened through it, and the other stays;
    // the last one can't go.
    let me = account_json(&app, "/me", &g_account).await;
    let x_id = me["identities"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["provider"] == "twitter")
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let (x_token, _) = login_with(&app, &x).await;
    let r = account(
        &app,
        reqwest::Method::DELETE,
        &format!("/identities/{x_id}"),
        &g_account,
    )
    .send()
    .await
    .unwrap();
    assert_eq!(r.status(), 204);
    assert_eq!(identities_of(&app, &g_user).await, ["google"]);
    assert_error(
        post_as(&app, &x_token, "unlinked").await,
        401,
        "unauthenticated",
    )
    .await;
    let g_id = account_json(&app, "/me", &g_account).await["identities"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let r = account(
        &app,
        reqwest::Method::DELETE,
        &format!("/identities/{g_id}"),
        &g_account,
    )
    .send()
    .await
    .unwrap();
    assert_error(r, 409, "last_identity").await;
    // X now logs in as a new user of its own.
    let (_, x_again) = login_with(&app, &x).await;
    assert_ne!(x_again, g_user);
}

#[tokio::test]
async fn linking_needs_an_account_session_and_a_configured_provider() {
    let (app, google, x) = two_provider_app().await;
    let (token, user) = login_with(&app, &google).await;
    let secret = account_login_with(&app, &google).await;

    // No session, a blog's token (as Bearer or as the cookie), or a garbage cookie: 401.
    let r = app
        .client
        .post(app.url("/account/api/links/twitter"))
        .header(CSRF, "1")
        .header("origin", own_origin(&app))
        .send()
        .await
        .unwrap();
    assert_error(r, 401, "unauthenticated").await;
    let r = app
        .client
        .post(app.url("/account/api/links/twitter"))
        .bearer_auth(&token)
        .header(CSRF, "1")
        .header("origin", own_origin(&app))
        .send()
        .await
        .unwrap();
    assert_error(r, 401, "unauthenticated").await;
    for bad in [token.as_str(), "nope"] {
        assert_error(
            start_link(&app, bad, "twitter").await,
            401,
            "unauthenticated",
        )
        .await;
    }
    for provider in ["facebook", "wordpress", "dev", "guest", "oidc-x", "%00"] {
        assert_error(start_link(&app, &secret, provider).await, 404, "not_found").await;
    }

    // The link attempt is single use: replaying its callback links nothing a second time.
    let (url, binding) = link_url(&app, &secret, &x).await;
    assert!(url.starts_with(&x.server.uri()), "{url}");
    let code = x.consent(&url);
    let state = state_of(&url);
    let callback = |code: String| {
        let state = state.clone();
        let binding = binding.clone();
        let app = &app;
        async move {
            app.client
                .get(app.url("/auth/twitter/callback"))
                .header("cookie", format!("colloquy-login={binding}"))
                .query(&[("code", code.as_str()), ("state", state.as_str())])
                .send()
                .await
                .unwrap()
        }
    };
    let r = callback(code).await;
    assert_eq!(r.headers()["location"], "/account/#linked=twitter");
    assert_eq!(identities_of(&app, &user).await, ["google", "twitter"]);
    let replay = callback(x.consent(&url)).await;
    assert_eq!(replay.status(), 200);
    assert!(
        posted_or_plain(&replay.text().await.unwrap()).is_null(),
        "a replayed state posts nothing"
    );
    assert_eq!(identities_of(&app, &user).await, ["google", "twitter"]);
}

/// The login-CSRF attack on linking: Mallory starts a link from her account page and gets the
/// victim to finish it at the provider, where the victim is signed in. The attempt is bound to
/// Mallory's browser: in the victim's (no binding cookie, or the victim's own) nothing links
/// and the attempt is spent. The same for an account login URL.
#[tokio::test]
async fn a_link_url_sent_to_someone_else_never_links_their_account() {
    let (app, google, x) = two_provider_app().await;
    let (_, mallory_user) = login_with(&app, &google).await;
    let mallory = account_login_with(&app, &google).await;
    // The victim: their own user, signed in with another Google account; X is theirs too.
    google.profile.lock().unwrap()["sub"] = json!("220000000000000000002");
    let (_, victim_user) = login_with(&app, &google).await;
    let victim = account_login_with(&app, &google).await;
    assert_ne!(mallory_user, victim_user);

    // Mallory's link URL, finished in the victim's browser: without a binding cookie, or with
    // the binding of the victim's own attempt.
    let (victims_own, victim_binding) = link_url(&app, &victim, &x).await;
    for binding in ["", victim_binding.as_str()] {
        let (url, _) = link_url(&app, &mallory, &x).await;
        let r = callback_in(&app, &x, &url, binding).await;
        assert_eq!(r.status(), 303);
        assert_eq!(r.headers()["location"], "/account/#error=invalid_state");
        assert!(set_cookie(&r, "colloquy-account").is_none());
    }
    assert_eq!(identities_of(&app, &mallory_user).await, ["google"]);
    assert_eq!(identities_of(&app, &victim_user).await, ["google"]);
    assert_eq!(
        sqlx::query_scalar::<_, i64>(
            "SELECT count(*) FROM login_states WHERE link_user_id = $1::uuid"
        )
        .bind(&mallory_user)
        .fetch_one(&app.db)
        .await
        .unwrap(),
        0,
        "every one of Mallory's attempts was spent"
    );

    // A blog's popup attempt never links, even finished in a browser holding a binding.
    let r = app
        .get(&format!("/auth/twitter/login?site=blog&origin={ORIGIN}"))
        .await;
    let url = r.headers()["location"].to_str().unwrap().to_owned();
    let r = callback_in(&app, &x, &url, &victim_binding).await;
    assert_eq!(r.status(), 200);
    let msg = posted(&r.text().await.unwrap())["message"].clone();
    assert_eq!(msg["type"], "colloquy:login", "{msg}");
    assert_eq!(identities_of(&app, &victim_user).await, ["google"]);

    // The honest path still works: the victim's own attempt, in the victim's browser (the X
    // login above made a user without history, so the identity moves).
    let r = callback_in(&app, &x, &victims_own, &victim_binding).await;
    assert_eq!(r.headers()["location"], "/account/#linked=twitter");
    assert_eq!(
        identities_of(&app, &victim_user).await,
        ["google", "twitter"]
    );
    assert_eq!(identities_of(&app, &mallory_user).await, ["google"]);
}

/// The popup's posted data, or null for a page that posts nothing.
fn posted_or_plain(page: &str) -> Value {
    if page.contains("var d = ") {
        posted(page)
    } else {
        Value::Null
    }
}
