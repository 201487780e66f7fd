//! The commenter login providers: WordPress.com, X, Facebook (OAuth 2.0 with the `oauth2`
//! crate), Google and any generic OpenID Connect provider (`openidconnect`, id_token verified
//! against the provider's JWKS). PKCE S256 is sent to every provider; `state` and `nonce` are
//! generated and checked by the login flow (`auth::states`).

mod http;
mod profiles;

use oauth2::basic::BasicClient;
use oauth2::{
    AuthType, AuthUrl, AuthorizationCode, ClientId, ClientSecret, CsrfToken, PkceCodeChallenge,
    PkceCodeVerifier, RedirectUrl, Scope, TokenResponse, TokenUrl,
};
use openidconnect::core::{
    CoreAuthenticationFlow, CoreClient, CoreJsonWebKeySet, CoreProviderMetadata,
};
use openidconnect::{IssuerUrl, JsonWebKeySetUrl, Nonce};
use serde_json::Value;

pub use http::{OAuthHttp, install_crypto_provider};

use crate::auth::users::Profile;
use crate::config::AuthSettings;
use crate::config::providers::{OAuthSettings, OidcSettings};

/// Why a login could not complete. The message is for the log (no secrets in it); the code
/// goes to the popup.
#[derive(Debug, thiserror::Error)]
pub enum ProviderError {
    #[error("provider not configured")]
    Unavailable,
    #[error("provider configuration: {0}")]
    Config(String),
    #[error("token exchange failed: {0}")]
    Token(String),
    #[error("profile request failed: {0}")]
    Profile(String),
    #[error("id_token rejected: {0}")]
    IdToken(String),
}

impl ProviderError {
    /// The `code` of the `colloquy:login-error` message.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Unavailable | Self::Config(_) => "provider_unavailable",
            Self::Token(_) => "token_error",
            Self::Profile(_) => "profile_error",
            Self::IdToken(_) => "invalid_id_token",
        }
    }
}

/// What a login attempt carries to the provider and back.
pub struct Attempt<'a> {
    pub state: &'a str,
    pub pkce_verifier: &'a str,
    pub nonce: &'a str,
}

#[derive(Clone)]
pub struct Providers {
    http: OAuthHttp,
    auth: AuthSettings,
    public_url: String,
}

enum Kind<'a> {
    WordPress(&'a OAuthSettings),
    Twitter(&'a OAuthSettings),
    Facebook,
    Oidc(&'a OidcSettings),
}

impl Providers {
    pub fn new(auth: &AuthSettings, public_url: &str) -> anyhow::Result<Self> {
        Ok(Self {
            http: OAuthHttp::new()?,
            auth: auth.clone(),
            public_url: public_url.trim_end_matches('/').to_owned(),
        })
    }

    fn kind(&self, provider: &str) -> Option<Kind<'_>> {
        let p = &self.auth.providers;
        match provider {
            "wordpress" if p.wordpress.enabled() => Some(Kind::WordPress(&p.wordpress)),
            "twitter" if p.twitter.enabled() => Some(Kind::Twitter(&p.twitter)),
            "facebook" if p.facebook.enabled() => Some(Kind::Facebook),
            "google" if p.google.enabled() => Some(Kind::Oidc(&p.google)),
            other => other
                .strip_prefix("oidc-")
                .and_then(|name| self.auth.oidc.get(name))
                .filter(|s| s.enabled())
                .map(Kind::Oidc),
        }
    }

    /// The outbound HTTP client (redirects off, timeouts on), shared with other outbound calls.
    pub fn http(&self) -> &reqwest::Client {
        &self.http.0
    }

    /// Whether this server can log people in with `provider` (the `dev` provider included).
    pub fn is_available(&self, provider: &str) -> bool {
        (provider == crate::auth::dev::PROVIDER && self.auth.dev_provider)
            || self.kind(provider).is_some()
    }

    /// Every provider this server can log people in with (the account page offers them all;
    /// a blog offers the ones its settings name).
    pub fn configured(&self) -> Vec<String> {
        let mut out: Vec<String> = ["wordpress", "twitter", "facebook", "google"]
            .into_iter()
            .filter(|p| self.kind(p).is_some())
            .map(str::to_owned)
            .collect();
        let mut oidc: Vec<String> = self
            .auth
            .oidc
            .iter()
            .filter(|(_, s)| s.enabled())
            .map(|(name, _)| format!("oidc-{name}"))
            .collect();
        oidc.sort();
        out.extend(oidc);
        if self.auth.dev_provider {
            out.push(crate::auth::dev::PROVIDER.to_owned());
        }
        out
    }

    /// The exact redirect URI registered with the provider.
    pub fn redirect_uri(&self, provider: &str) -> String {
        format!("{}/auth/{provider}/callback", self.public_url)
    }

    fn redirect(&self, provider: &str) -> Result<RedirectUrl, ProviderError> {
        RedirectUrl::new(self.redirect_uri(provider))
            .map_err(|e| ProviderError::Config(e.to_string()))
    }

    /// Where to send the browser.
    pub async fn authorize_url(
        &self,
        provider: &str,
        a: &Attempt<'_>,
    ) -> Result<String, ProviderError> {
        let challenge = PkceCodeChallenge::from_code_verifier_sha256(&PkceCodeVerifier::new(
            a.pkce_verifier.to_owned(),
        ));
        let state = a.state.to_owned();
        let url = match self.kind(provider).ok_or(ProviderError::Unavailable)? {
            Kind::WordPress(s) => {
                let client = oauth_client(s, WORDPRESS_AUTH, self.redirect(provider)?)?;
                // `auth` grants the /me endpoints only: what a login needs, nothing more.
                let (url, _) = client
                    .authorize_url(move || CsrfToken::new(state))
                    .add_scope(Scope::new("auth".into()))
                    .set_pkce_challenge(challenge)
                    .url();
                url
            }
            Kind::Twitter(s) => {
                let client = oauth_client(s, TWITTER_AUTH, self.redirect(provider)?)?;
                let (url, _) = client
                    .authorize_url(move || CsrfToken::new(state))
                    .add_scope(Scope::new("users.read".into()))
                    .add_scope(Scope::new("tweet.read".into()))
                    .set_pkce_challenge(challenge)
                    .url();
                url
            }
            Kind::Facebook => {
                let client = self.facebook_client(provider)?;
                // Facebook separates scopes with commas, not spaces.
                let (url, _) = client
                    .authorize_url(move || CsrfToken::new(state))
                    .add_extra_param("scope", "public_profile,email")
                    .set_pkce_challenge(challenge)
                    .url();
                url
            }
            Kind::Oidc(s) => {
                let endpoints = self.oidc_endpoints(s).await?;
                let client =
                    self.oidc_client(s, &endpoints, CoreJsonWebKeySet::new(vec![]), provider)?;
                let nonce = a.nonce.to_owned();
                let (url, _, _) = client
                    .authorize_url(
                        CoreAuthenticationFlow::AuthorizationCode,
                        move || CsrfToken::new(state),
                        move || Nonce::new(nonce),
                    )
                    .add_scope(Scope::new("email".into()))
                    .add_scope(Scope::new("profile".into()))
                    .set_pkce_challenge(challenge)
                    .url();
                url
            }
        };
        Ok(url.to_string())
    }

    /// Exchanges the code and returns the user's profile. Nothing is stored here.
    pub async fn finish(
        &self,
        provider: &str,
        code: &str,
        a: &Attempt<'_>,
    ) -> Result<Profile, ProviderError> {
        let verifier = || PkceCodeVerifier::new(a.pkce_verifier.to_owned());
        let code = AuthorizationCode::new(code.to_owned());
        match self.kind(provider).ok_or(ProviderError::Unavailable)? {
            Kind::WordPress(s) => {
                let raw = self
                    .exchange_for_profile(s, WORDPRESS_AUTH, provider, code, verifier())
                    .await?;
                profiles::wordpress(raw).map_err(ProviderError::Profile)
            }
            Kind::Twitter(s) => {
                let raw = self
                    .exchange_for_profile(s, TWITTER_AUTH, provider, code, verifier())
                    .await?;
                profiles::twitter(raw).map_err(ProviderError::Profile)
            }
            Kind::Facebook => {
                let fb = &self.auth.providers.facebook;
                let client = self.facebook_client(provider)?;
                let token = client
                    .exchange_code(code)
                    .set_pkce_verifier(verifier())
                    .request_async(&self.http)
                    .await
                    .map_err(|e| ProviderError::Token(describe(&e)))?;
                let raw = self
                    .profile(&fb.url(&fb.profile_url), token.access_token().secret())
                    .await?;
                profiles::facebook(raw, &fb.client_id).map_err(ProviderError::Profile)
            }
            Kind::Oidc(s) => {
                self.finish_oidc(provider, s, code, verifier(), a.nonce)
                    .await
            }
        }
    }

    fn facebook_client(&self, provider: &str) -> Result<ConfiguredClient, ProviderError> {
        let fb = &self.auth.providers.facebook;
        let s = OAuthSettings {
            client_id: fb.client_id.clone(),
            client_secret: fb.client_secret.clone(),
            authorize_url: fb.url(&fb.authorize_url),
            token_url: fb.url(&fb.token_url),
            profile_url: fb.url(&fb.profile_url),
        };
        oauth_client(&s, FACEBOOK_AUTH, self.redirect(provider)?)
    }

    /// An OAuth 2 code exchange (with PKCE) then the profile read with the access token: the
    /// whole finish of the plain OAuth providers (WordPress.com, X).
    async fn exchange_for_profile(
        &self,
        s: &OAuthSettings,
        auth: AuthType,
        provider: &str,
        code: AuthorizationCode,
        verifier: PkceCodeVerifier,
    ) -> Result<Value, ProviderError> {
        let client = oauth_client(s, auth, self.redirect(provider)?)?;
        let token = client
            .exchange_code(code)
            .set_pkce_verifier(verifier)
            .request_async(&self.http)
            .await
            .map_err(|e| ProviderError::Token(describe(&e)))?;
        self.profile(&s.profile_url, token.access_token().secret())
            .await
    }

    async fn profile(&self, url: &str, access_token: &str) -> Result<Value, ProviderError> {
        let res = self
            .http
            .0
            .get(url)
            .bearer_auth(access_token)
            .header("Accept", "application/json")
            .send()
            .await
            .map_err(|e| ProviderError::Profile(e.without_url().to_string()))?;
        let status = res.status();
        if !status.is_success() {
            return Err(ProviderError::Profile(format!("HTTP {}", status.as_u16())));
        }
        res.json()
            .await
            .map_err(|e| ProviderError::Profile(format!("not JSON: {}", e.without_url())))
    }

    async fn oidc_endpoints(&self, s: &OidcSettings) -> Result<OidcEndpoints, ProviderError> {
        if !s.authorize_url.is_empty() && !s.token_url.is_empty() && !s.jwks_url.is_empty() {
            return Ok(OidcEndpoints {
                authorize: s.authorize_url.clone(),
                token: s.token_url.clone(),
                jwks: s.jwks_url.clone(),
            });
        }
        let issuer =
            IssuerUrl::new(s.issuer.clone()).map_err(|e| ProviderError::Config(e.to_string()))?;
        let meta = CoreProviderMetadata::discover_async(issuer, &self.http)
            .await
            .map_err(|e| ProviderError::Config(format!("discovery: {}", describe(&e))))?;
        let pick = |configured: &str, discovered: Option<String>| {
            if configured.is_empty() {
                discovered.unwrap_or_default()
            } else {
                configured.to_owned()
            }
        };
        Ok(OidcEndpoints {
            authorize: pick(
                &s.authorize_url,
                Some(meta.authorization_endpoint().to_string()),
            ),
            token: pick(&s.token_url, meta.token_endpoint().map(|t| t.to_string())),
            jwks: pick(&s.jwks_url, Some(meta.jwks_uri().to_string())),
        })
    }

    fn oidc_client(
        &self,
        s: &OidcSettings,
        e: &OidcEndpoints,
        jwks: CoreJsonWebKeySet,
        provider: &str,
    ) -> Result<OidcClient, ProviderError> {
        let bad = |e: oauth2::url::ParseError| ProviderError::Config(e.to_string());
        Ok(CoreClient::new(
            ClientId::new(s.client_id.clone()),
            IssuerUrl::new(s.issuer.clone()).map_err(bad)?,
            jwks,
        )
        .set_client_secret(ClientSecret::new(s.client_secret.expose().to_owned()))
        .set_auth_uri(AuthUrl::new(e.authorize.clone()).map_err(bad)?)
        .set_token_uri(TokenUrl::new(e.token.clone()).map_err(bad)?)
        .set_redirect_uri(self.redirect(provider)?)
        // Google lists both post and basic; post works everywhere that lists it.
        .set_auth_type(AuthType::RequestBody))
    }

    async fn finish_oidc(
        &self,
        provider: &str,
        s: &OidcSettings,
        code: AuthorizationCode,
        verifier: PkceCodeVerifier,
        nonce: &str,
    ) -> Result<Profile, ProviderError> {
        let endpoints = self.oidc_endpoints(s).await?;
        let jwks_url = JsonWebKeySetUrl::new(endpoints.jwks.clone())
            .map_err(|e| ProviderError::Config(e.to_string()))?;
        let jwks = CoreJsonWebKeySet::fetch_async(&jwks_url, &self.http)
            .await
            .map_err(|e| ProviderError::IdToken(format!("JWKS: {}", describe(&e))))?;
        let client = self.oidc_client(s, &endpoints, jwks, provider)?;
        let token = client
            .exchange_code(code)
            .set_pkce_verifier(verifier)
            .request_async(&self.http)
            .await
            .map_err(|e| ProviderError::Token(describe(&e)))?;
        let id_token = openidconnect::TokenResponse::id_token(&token)
            .ok_or_else(|| ProviderError::IdToken("no id_token in the token response".into()))?;
        // The issuer is checked below against the configured spellings (Google uses two).
        let verifier = client.id_token_verifier().require_issuer_match(false);
        let claims = id_token
            .claims(&verifier, &Nonce::new(nonce.to_owned()))
            .map_err(|e| ProviderError::IdToken(e.to_string()))?;
        let iss = claims.issuer().as_str();
        if iss != s.issuer && !s.issuer_aliases.iter().any(|a| a == iss) {
            return Err(ProviderError::IdToken(format!("unexpected issuer {iss}")));
        }
        let raw = serde_json::to_value(claims).unwrap_or(Value::Null);
        let name = claims
            .name()
            .and_then(|n| n.get(None))
            .map(|n| n.as_str().to_owned())
            .or_else(|| claims.preferred_username().map(|u| u.as_str().to_owned()));
        let verified = claims.email_verified().unwrap_or(false);
        Ok(Profile {
            provider: provider.to_owned(),
            subject: claims.subject().as_str().to_owned(),
            name: name
                .map(|n| {
                    n.chars()
                        .filter(|c| !c.is_control())
                        .take(80)
                        .collect::<String>()
                })
                .filter(|n| !n.trim().is_empty())
                .unwrap_or_else(|| "User".to_owned()),
            // An unverified email is not the user's as far as we know.
            email: claims
                .email()
                .map(|e| e.as_str().to_owned())
                .filter(|_| verified),
            email_verified: verified,
            avatar_url: claims
                .picture()
                .and_then(|p| p.get(None))
                .map(|u| u.as_str().to_owned())
                .filter(|u| u.starts_with("https://") || u.starts_with("http://")),
            profile_url: None,
            raw,
        })
    }
}

/// Client authentication at each token endpoint, as the provider documents it (PROVIDERS.md):
/// WordPress.com and Facebook take the secret in the form body; X's confidential clients must
/// use HTTP Basic (it doesn't support client_secret_post).
const WORDPRESS_AUTH: AuthType = AuthType::RequestBody;
const TWITTER_AUTH: AuthType = AuthType::BasicAuth;
const FACEBOOK_AUTH: AuthType = AuthType::RequestBody;

struct OidcEndpoints {
    authorize: String,
    token: String,
    jwks: String,
}

type ConfiguredClient = BasicClient<
    oauth2::EndpointSet,
    oauth2::EndpointNotSet,
    oauth2::EndpointNotSet,
    oauth2::EndpointNotSet,
    oauth2::EndpointSet,
>;

type OidcClient = CoreClient<
    oauth2::EndpointSet,
    oauth2::EndpointNotSet,
    oauth2::EndpointNotSet,
    oauth2::EndpointNotSet,
    oauth2::EndpointSet,
    oauth2::EndpointNotSet,
>;

fn oauth_client(
    s: &OAuthSettings,
    auth: AuthType,
    redirect: RedirectUrl,
) -> Result<ConfiguredClient, ProviderError> {
    let bad = |e: oauth2::url::ParseError| ProviderError::Config(e.to_string());
    Ok(BasicClient::new(ClientId::new(s.client_id.clone()))
        .set_client_secret(ClientSecret::new(s.client_secret.expose().to_owned()))
        .set_auth_uri(AuthUrl::new(s.authorize_url.clone()).map_err(bad)?)
        .set_token_uri(TokenUrl::new(s.token_url.clone()).map_err(bad)?)
        .set_redirect_uri(redirect)
        .set_auth_type(auth))
}

/// An error's chain as one line for the log.
fn describe(e: &dyn std::error::Error) -> String {
    let mut out = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        out.push_str(": ");
        out.push_str(&s.to_string());
        source = s.source();
    }
    out
}
