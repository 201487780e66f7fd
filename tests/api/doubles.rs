//! Local doubles of the four login providers (PROVIDERS.md), on a wiremock server. Each behaves
//! like the real one where it matters to us: it checks the client authentication method the
//! provider documents, the redirect URI, the PKCE verifier against the challenge sent to its
//! authorize page, single-use codes; and answers the provider's own token and profile JSON.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use openidconnect::core::{CoreJwsSigningAlgorithm, CoreRsaPrivateSigningKey};
use openidconnect::{JsonWebKeyId, PrivateSigningKey};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

use colloquy::config::Settings;
use colloquy::config::providers::{OAuthSettings, OidcSettings, Secret};

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Kind {
    WordPress,
    Twitter,
    Facebook,
    Google,
}

impl Kind {
    pub fn name(self) -> &'static str {
        match self {
            Kind::WordPress => "wordpress",
            Kind::Twitter => "twitter",
            Kind::Facebook => "facebook",
            Kind::Google => "google",
        }
    }
}

pub const CLIENT_ID: &str = "client-id-1234";
pub const CLIENT_SECRET: &str = "client-secret-s3cr3t-9f8e7d";
pub const REDIRECT_BASE: &str = "http://localhost:8080";
pub const ISSUER: &str = "https://accounts.google.example";

/// What the double's "authorize page" saw, per code it handed out.
#[derive(Clone, Debug)]
struct Grant {
    challenge: Option<String>,
    redirect_uri: String,
    nonce: Option<String>,
    scope: String,
}

#[derive(Default)]
struct State {
    grants: HashMap<String, Grant>,
    used: Vec<String>,
    tokens: Vec<String>,
    token_calls: usize,
    profile_calls: usize,
}

/// How the double misbehaves, for failure tests.
#[derive(Clone, Default)]
pub struct Faults {
    pub token_500: bool,
    pub profile_401: bool,
    /// Google: sign the id_token with a key the JWKS doesn't hold.
    pub rogue_signature: bool,
    pub wrong_aud: bool,
    pub wrong_nonce: bool,
    pub expired: bool,
}

pub struct Double {
    pub kind: Kind,
    pub server: MockServer,
    state: Arc<Mutex<State>>,
    pub profile: Arc<Mutex<Value>>,
    pub faults: Arc<Mutex<Faults>>,
    /// The `iss` the double signs into id_tokens (and announces in its discovery document).
    pub issuer: Arc<Mutex<String>>,
    /// The provider name the app uses for this double (its callback path), e.g. `oidc-corp`.
    pub name: Mutex<String>,
}

fn idp_key(file: &str) -> CoreRsaPrivateSigningKey {
    let pem = std::fs::read_to_string(format!(
        "{}/tests/api/fixtures/{file}",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap();
    CoreRsaPrivateSigningKey::from_pem(&pem, Some(JsonWebKeyId::new("test-key-1".into()))).unwrap()
}

/// A compact RS256 JWT signed with the given key.
pub fn sign_jwt(claims: &Value, key: &CoreRsaPrivateSigningKey) -> String {
    let header = json!({ "alg": "RS256", "typ": "JWT", "kid": "test-key-1" });
    let input = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(header.to_string()),
        URL_SAFE_NO_PAD.encode(claims.to_string())
    );
    let sig = key
        .sign(
            &CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha256,
            input.as_bytes(),
        )
        .unwrap();
    format!("{input}.{}", URL_SAFE_NO_PAD.encode(sig))
}

pub fn default_profile(kind: Kind) -> Value {
    match kind {
        Kind::WordPress => json!({
            "ID": 12345678, "display_name": "Jane Blogger", "username": "janeblogger", "email": "jane@example.com",
            "email_verified": true, "verified": true, "avatar_URL": "https://0.gravatar.com/avatar/abc?s=96&d=identicon&r=G",
            "profile_URL": "https://gravatar.com/janeblogger", "primary_blog": 987654,
            "primary_blog_url": "https://janeblogger.wordpress.com", "language": "en", "token_site_id": 987654,
            "token_scope": ["auth"], "token_client_id": 11111, "date": "2014-03-01T12:00:00+00:00", "site_count": 1,
            "phone_account": false
        }),
        Kind::Twitter => json!({ "data": {
            "id": "2244994945", "name": "X Developers", "username": "XDevelopers",
            "profile_image_url": "https://pbs.twimg.com/profile_images/1234567890/abcd_normal.jpg",
            "created_at": "2013-12-14T04:35:55.000Z", "verified": false
        }}),
        Kind::Facebook => json!({
            "id": "10223344556677889", "name": "Jane Doe", "email": "jane@example.com",
            "picture": { "data": { "height": 50, "width": 50, "is_silhouette": false,
                "url": "https://platform-lookaside.fbsbx.com/platform/profilepic/?asid=1&height=50&width=50" } }
        }),
        Kind::Google => json!({
            "sub": "110169484474386276334", "name": "Jane Doe", "given_name": "Jane", "family_name": "Doe",
            "picture": "https://lh3.googleusercontent.com/a/ACg8ocK=s96-c", "email": "jane@example.com",
            "email_verified": true, "hd": "example.com", "locale": "en"
        }),
    }
}

impl Double {
    pub async fn start(kind: Kind) -> Self {
        let server = MockServer::start().await;
        let d = Double {
            kind,
            server,
            state: Arc::default(),
            profile: Arc::new(Mutex::new(default_profile(kind))),
            faults: Arc::default(),
            issuer: Arc::new(Mutex::new(ISSUER.to_owned())),
            name: Mutex::new(kind.name().to_owned()),
        };
        let (token_method, token_path, profile_path) = match kind {
            Kind::WordPress => (
                "POST",
                "/oauth2/token".to_owned(),
                "/rest/v1.1/me".to_owned(),
            ),
            Kind::Twitter => (
                "POST",
                "/2/oauth2/token".to_owned(),
                "/2/users/me".to_owned(),
            ),
            Kind::Facebook => (
                "POST",
                "/v19.0/oauth/access_token".to_owned(),
                "/v19.0/me".to_owned(),
            ),
            Kind::Google => ("POST", "/token".to_owned(), "/userinfo".to_owned()),
        };
        Mock::given(method(token_method))
            .and(path(token_path))
            .respond_with(TokenEndpoint {
                kind,
                state: d.state.clone(),
                profile: d.profile.clone(),
                faults: d.faults.clone(),
                issuer: d.issuer.clone(),
            })
            .mount(&d.server)
            .await;
        Mock::given(method("GET"))
            .and(path(profile_path))
            .respond_with(ProfileEndpoint {
                kind,
                state: d.state.clone(),
                profile: d.profile.clone(),
                faults: d.faults.clone(),
            })
            .mount(&d.server)
            .await;
        if kind == Kind::Google {
            // Discovery, for generic OIDC providers configured by issuer alone.
            let base = d.server.uri();
            Mock::given(method("GET"))
                .and(path("/.well-known/openid-configuration"))
                .respond_with(ResponseTemplate::new(200).set_body_json(json!({
                    "issuer": base,
                    "authorization_endpoint": format!("{base}/o/oauth2/v2/auth"),
                    "token_endpoint": format!("{base}/token"),
                    "jwks_uri": format!("{base}/jwks"),
                    "response_types_supported": ["code"],
                    "subject_types_supported": ["public"],
                    "id_token_signing_alg_values_supported": ["RS256"],
                    "token_endpoint_auth_methods_supported": ["client_secret_post", "client_secret_basic"],
                    "code_challenge_methods_supported": ["S256"],
                    "scopes_supported": ["openid", "email", "profile"]
                })))
                .mount(&d.server)
                .await;
            let jwk = idp_key("idp_key.pem").as_verification_key();
            Mock::given(method("GET"))
                .and(path("/jwks"))
                .respond_with(ResponseTemplate::new(200).set_body_json(json!({ "keys": [jwk] })))
                .mount(&d.server)
                .await;
        }
        d
    }

    /// Points the app's settings for this provider at the double.
    pub fn configure(&self, s: &mut Settings) {
        let base = self.server.uri();
        let p = &mut s.auth.providers;
        let oauth = |authorize: &str, token: &str, profile: &str| OAuthSettings {
            client_id: CLIENT_ID.into(),
            client_secret: Secret::new(CLIENT_SECRET),
            authorize_url: format!("{base}{authorize}"),
            token_url: format!("{base}{token}"),
            profile_url: format!("{base}{profile}"),
        };
        match self.kind {
            Kind::WordPress => {
                p.wordpress = oauth("/oauth2/authorize", "/oauth2/token", "/rest/v1.1/me")
            }
            Kind::Twitter => {
                p.twitter = oauth(
                    "/i/oauth2/authorize",
                    "/2/oauth2/token",
                    "/2/users/me?user.fields=profile_image_url",
                )
            }
            Kind::Facebook => {
                p.facebook.client_id = CLIENT_ID.into();
                p.facebook.client_secret = Secret::new(CLIENT_SECRET);
                p.facebook.graph_version = "v19.0".into();
                p.facebook.authorize_url = format!("{base}/{{version}}/dialog/oauth");
                p.facebook.token_url = format!("{base}/{{version}}/oauth/access_token");
                p.facebook.profile_url =
                    format!("{base}/{{version}}/me?fields=id,name,email,picture");
            }
            Kind::Google => {
                p.google = OidcSettings {
                    client_id: CLIENT_ID.into(),
                    client_secret: Secret::new(CLIENT_SECRET),
                    issuer: ISSUER.into(),
                    authorize_url: format!("{base}/o/oauth2/v2/auth"),
                    token_url: format!("{base}/token"),
                    jwks_url: format!("{base}/jwks"),
                    issuer_aliases: vec!["accounts.google.example".into()],
                    display_name: String::new(),
                }
            }
        }
        s.server.public_url = REDIRECT_BASE.into();
    }

    /// Plays the user consenting on the provider's page: checks the authorize URL the app sent
    /// the browser to, hands out a code bound to what it saw, and returns the code.
    pub fn consent(&self, authorize_url: &str) -> String {
        let url = url::Url::parse(authorize_url).unwrap();
        assert!(
            authorize_url.starts_with(&self.server.uri()),
            "authorize URL goes to the provider: {authorize_url}"
        );
        let q: HashMap<String, String> = url.query_pairs().into_owned().collect();
        assert_eq!(q["client_id"], CLIENT_ID);
        assert_eq!(q["response_type"], "code");
        let name = self.name.lock().unwrap().clone();
        assert_eq!(
            q["redirect_uri"],
            format!("{REDIRECT_BASE}/auth/{name}/callback")
        );
        assert!(q.contains_key("state"));
        assert_eq!(
            q.get("code_challenge_method").map(String::as_str),
            Some("S256"),
            "PKCE S256 always"
        );
        let scope = q.get("scope").cloned().unwrap_or_default();
        match self.kind {
            Kind::WordPress => assert_eq!(scope, "auth"),
            Kind::Twitter => {
                assert!(
                    scope.split(' ').any(|s| s == "users.read")
                        && scope.split(' ').any(|s| s == "tweet.read"),
                    "{scope}"
                )
            }
            Kind::Facebook => assert_eq!(scope, "public_profile,email"),
            Kind::Google => {
                for s in ["openid", "email", "profile"] {
                    assert!(scope.split(' ').any(|x| x == s), "{scope}");
                }
                assert!(q.contains_key("nonce"), "OIDC nonce");
            }
        }
        let code = format!("code-{}", uuid::Uuid::new_v4().simple());
        self.state.lock().unwrap().grants.insert(
            code.clone(),
            Grant {
                challenge: q.get("code_challenge").cloned(),
                redirect_uri: q["redirect_uri"].clone(),
                nonce: q.get("nonce").cloned(),
                scope,
            },
        );
        code
    }

    pub fn token_calls(&self) -> usize {
        self.state.lock().unwrap().token_calls
    }

    pub fn profile_calls(&self) -> usize {
        self.state.lock().unwrap().profile_calls
    }

    /// Access tokens the double issued (to check they never reach logs or pages).
    pub fn issued_tokens(&self) -> Vec<String> {
        self.state.lock().unwrap().tokens.clone()
    }
}

struct TokenEndpoint {
    kind: Kind,
    state: Arc<Mutex<State>>,
    profile: Arc<Mutex<Value>>,
    faults: Arc<Mutex<Faults>>,
    issuer: Arc<Mutex<String>>,
}

fn oauth_error(status: u16, error: &str, description: &str) -> ResponseTemplate {
    ResponseTemplate::new(status)
        .set_body_json(json!({ "error": error, "error_description": description }))
}

impl Respond for TokenEndpoint {
    fn respond(&self, req: &Request) -> ResponseTemplate {
        let faults = self.faults.lock().unwrap().clone();
        let mut st = self.state.lock().unwrap();
        st.token_calls += 1;
        if faults.token_500 {
            return ResponseTemplate::new(500).set_body_string("upstream exploded");
        }
        let form: HashMap<String, String> = url::form_urlencoded::parse(&req.body)
            .into_owned()
            .collect();
        let basic = req
            .headers
            .get("authorization")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Basic "))
            .and_then(|b| STANDARD.decode(b).ok())
            .and_then(|b| String::from_utf8(b).ok());
        // Client authentication, exactly as each provider documents it.
        let body_creds = form.get("client_id").map(String::as_str) == Some(CLIENT_ID)
            && form.get("client_secret").map(String::as_str) == Some(CLIENT_SECRET);
        let basic_creds = basic.as_deref() == Some(&format!("{CLIENT_ID}:{CLIENT_SECRET}"));
        let authenticated = match self.kind {
            // WordPress.com and Facebook: secret in the form body; Basic isn't documented.
            Kind::WordPress | Kind::Facebook => body_creds && basic.is_none(),
            // X: confidential clients must use Basic; client_secret_post is not supported.
            Kind::Twitter => basic_creds && !form.contains_key("client_secret"),
            // Google: either.
            Kind::Google => body_creds || basic_creds,
        };
        if !authenticated {
            return oauth_error(401, "invalid_client", "client authentication failed");
        }
        if form.get("grant_type").map(String::as_str) != Some("authorization_code") {
            return oauth_error(400, "unsupported_grant_type", "grant_type");
        }
        let code = form.get("code").cloned().unwrap_or_default();
        if st.used.contains(&code) {
            return oauth_error(400, "invalid_grant", "code already used");
        }
        let Some(grant) = st.grants.remove(&code) else {
            return oauth_error(400, "invalid_grant", "unknown code");
        };
        st.used.push(code);
        if form.get("redirect_uri") != Some(&grant.redirect_uri) {
            return oauth_error(400, "invalid_grant", "redirect_uri mismatch");
        }
        match (&grant.challenge, form.get("code_verifier")) {
            (Some(challenge), Some(verifier)) => {
                let computed = URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()));
                if &computed != challenge {
                    return oauth_error(
                        400,
                        "invalid_grant",
                        "code_verifier does not match the challenge",
                    );
                }
            }
            // PKCE is mandatory at X.
            (_, None) if self.kind == Kind::Twitter => {
                return oauth_error(400, "invalid_request", "code_verifier required");
            }
            _ => {}
        }
        let access = format!("at-{}", uuid::Uuid::new_v4().simple());
        st.tokens.push(access.clone());
        let body = match self.kind {
            // No expires_in; string blog_id/blog_url.
            Kind::WordPress => {
                json!({ "access_token": access, "blog_id": "0", "blog_url": "", "token_type": "bearer" })
            }
            Kind::Twitter => {
                let mut b = json!({ "token_type": "bearer", "expires_in": 7200, "access_token": access, "scope": grant.scope });
                if grant.scope.split(' ').any(|s| s == "offline.access") {
                    b["refresh_token"] = json!("refresh-1");
                }
                b
            }
            Kind::Facebook => {
                json!({ "access_token": access, "token_type": "bearer", "expires_in": 5183944 })
            }
            Kind::Google => {
                let profile = self.profile.lock().unwrap().clone();
                let now = time::OffsetDateTime::now_utc().unix_timestamp();
                let mut claims = profile;
                claims["iss"] = json!(self.issuer.lock().unwrap().clone());
                claims["aud"] = json!(if faults.wrong_aud {
                    "someone-else"
                } else {
                    CLIENT_ID
                });
                claims["iat"] = json!(now - 5);
                claims["exp"] = json!(if faults.expired { now - 60 } else { now + 3600 });
                claims["nonce"] = json!(if faults.wrong_nonce {
                    Some("not-the-nonce".to_owned())
                } else {
                    grant.nonce.clone()
                });
                let key = idp_key(if faults.rogue_signature {
                    "rogue_key.pem"
                } else {
                    "idp_key.pem"
                });
                json!({
                    "access_token": access, "expires_in": 3599, "token_type": "Bearer",
                    "scope": "openid https://www.googleapis.com/auth/userinfo.email https://www.googleapis.com/auth/userinfo.profile",
                    "id_token": sign_jwt(&claims, &key)
                })
            }
        };
        ResponseTemplate::new(200).set_body_json(body)
    }
}

struct ProfileEndpoint {
    kind: Kind,
    state: Arc<Mutex<State>>,
    profile: Arc<Mutex<Value>>,
    faults: Arc<Mutex<Faults>>,
}

impl Respond for ProfileEndpoint {
    fn respond(&self, req: &Request) -> ResponseTemplate {
        let mut st = self.state.lock().unwrap();
        st.profile_calls += 1;
        let token = req
            .headers
            .get("authorization")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .unwrap_or("");
        if self.faults.lock().unwrap().profile_401 || !st.tokens.iter().any(|t| t == token) {
            return match self.kind {
                Kind::Facebook => ResponseTemplate::new(401).set_body_json(json!({ "error": {
                    "message": "Invalid OAuth access token.", "type": "OAuthException", "code": 190, "fbtrace_id": "x" } })),
                _ => ResponseTemplate::new(401).set_body_json(json!({ "error": "invalid_token" })),
            };
        }
        // The profile query each provider needs.
        let q: HashMap<String, String> = req.url.query_pairs().into_owned().collect();
        let fields_ok = match self.kind {
            Kind::Twitter => q.get("user.fields").map(String::as_str) == Some("profile_image_url"),
            Kind::Facebook => q.get("fields").map(String::as_str) == Some("id,name,email,picture"),
            _ => true,
        };
        if !fields_ok {
            return ResponseTemplate::new(400)
                .set_body_json(json!({ "error": "missing fields parameter" }));
        }
        ResponseTemplate::new(200).set_body_json(self.profile.lock().unwrap().clone())
    }
}
