use super::*;

/// `[auth.oidc.corp]` with nothing but the issuer: endpoints come from discovery, and the
/// provider is used as `oidc-corp`.
#[tokio::test]
async fn a_generic_oidc_provider_works_from_its_discovery_document() {
    let double = Double::start(Kind::Google).await;
    let issuer = double.server.uri();
    *double.issuer.lock().unwrap() = issuer.clone();
    let app = spawn_app_with(|s| {
        s.server.public_url = crate::doubles::REDIRECT_BASE.into();
        s.auth.oidc.insert(
            "corp".into(),
            colloquy::config::providers::OidcSettings {
                client_id: crate::doubles::CLIENT_ID.into(),
                client_secret: colloquy::config::providers::Secret::new(CLIENT_SECRET),
                issuer: issuer.clone(),
                authorize_url: String::new(),
                token_url: String::new(),
                jwks_url: String::new(),
                issuer_aliases: vec![],
                display_name: "Corp SSO".into(),
            },
        );
    })
    .await;
    app.create_site(SiteOpts::default()).await;
    sqlx::query("UPDATE sites SET providers = '{oidc-corp}'")
        .execute(&app.db)
        .await
        .unwrap();

    *double.name.lock().unwrap() = "oidc-corp".into();
    let r = app
        .get("/auth/oidc-corp/login?site=blog&origin=https://blog.example")
        .await;
    assert_eq!(r.status(), 302);
    let url = r.headers()["location"].to_str().unwrap().to_owned();
    assert!(
        url.starts_with(&format!("{issuer}/o/oauth2/v2/auth?")),
        "{url}"
    );
    let code = double.consent(&url);
    let r = app
        .client
        .get(app.url("/auth/oidc-corp/callback"))
        .query(&[("code", code.as_str()), ("state", &state_of(&url))])
        .send()
        .await
        .unwrap();
    let msg = posted(&r.text().await.unwrap())["message"].clone();
    assert_eq!(msg["type"], "colloquy:login", "{msg}");
    assert_eq!(msg["user"]["provider"], "oidc-corp");
    let (provider, subject): (String, String) =
        sqlx::query_as("SELECT provider, subject FROM identities")
            .fetch_one(&app.db)
            .await
            .unwrap();
    assert_eq!(
        (provider.as_str(), subject.as_str()),
        ("oidc-corp", "110169484474386276334")
    );
}
