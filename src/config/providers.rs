//! Settings of the OAuth / OpenID Connect providers (`[auth.providers.*]`, `[auth.oidc.*]`).
//! URL defaults are the real providers' (PROVIDERS.md); tests point them at local doubles.

use std::collections::BTreeMap;

use serde::Deserialize;

/// A client secret: deserialized from config, never printed.
#[derive(Clone, Default, Deserialize)]
#[serde(transparent)]
pub struct Secret(String);

impl Secret {
    pub fn new(s: impl Into<String>) -> Self {
        Self(s.into())
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("<redacted>")
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProvidersSettings {
    pub wordpress: OAuthSettings,
    pub twitter: OAuthSettings,
    pub facebook: FacebookSettings,
    pub google: OidcSettings,
}

/// A plain OAuth 2.0 provider. Off while `client_id` is empty.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OAuthSettings {
    pub client_id: String,
    pub client_secret: Secret,
    pub authorize_url: String,
    pub token_url: String,
    pub profile_url: String,
}

/// Facebook: URLs contain `{version}`, replaced by `graph_version`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FacebookSettings {
    pub client_id: String,
    pub client_secret: Secret,
    pub graph_version: String,
    pub authorize_url: String,
    pub token_url: String,
    pub profile_url: String,
}

/// An OpenID Connect provider (Google, or `[auth.oidc.NAME]`). URLs left empty are taken from
/// the issuer's discovery document.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OidcSettings {
    pub client_id: String,
    pub client_secret: Secret,
    pub issuer: String,
    #[serde(default)]
    pub authorize_url: String,
    #[serde(default)]
    pub token_url: String,
    #[serde(default)]
    pub jwks_url: String,
    /// Other spellings of the issuer accepted in `iss` (Google also issues `accounts.google.com`).
    #[serde(default)]
    pub issuer_aliases: Vec<String>,
    /// Shown on the login button for generic OIDC providers.
    #[serde(default)]
    pub display_name: String,
}

pub type OidcProviders = BTreeMap<String, OidcSettings>;

impl OAuthSettings {
    pub fn enabled(&self) -> bool {
        !self.client_id.trim().is_empty()
    }
}

impl FacebookSettings {
    pub fn enabled(&self) -> bool {
        !self.client_id.trim().is_empty()
    }

    pub fn url(&self, template: &str) -> String {
        template.replace("{version}", &self.graph_version)
    }
}

impl OidcSettings {
    pub fn enabled(&self) -> bool {
        !self.client_id.trim().is_empty()
    }
}
