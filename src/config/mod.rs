//! Typed settings: `config/default.toml` < `config/{COLLOQUY_ENV}.toml` < `COLLOQUY__SECTION__KEY`.
//!
//! Every struct denies unknown keys so a typo in a deployment's file or env var stops start-up
//! instead of being silently ignored.

pub mod providers;
mod show;

use std::path::{Path, PathBuf};

use ipnet::IpNet;
use serde::Deserialize;

use crate::domain::{Origin, Policy};

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    pub server: ServerSettings,
    pub database: DatabaseSettings,
    pub auth: AuthSettings,
    pub limits: Limits,
    pub moderation: ModerationSettings,
    pub log: LogSettings,
    pub metrics: MetricsSettings,
    pub streams: StreamSettings,
    pub cache: CacheSettings,
    /// Not a file key: the environment name the settings were loaded for.
    #[serde(skip)]
    pub env: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServerSettings {
    pub host: String,
    pub port: u16,
    pub public_url: String,
    pub workers: usize,
    pub trusted_proxies: Vec<IpNet>,
    pub demo: bool,
}

#[derive(Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DatabaseSettings {
    pub url: String,
    pub max_connections: u32,
    pub acquire_timeout_ms: u64,
    pub create_if_missing: bool,
}

// The URL may carry a password: never print it.
impl std::fmt::Debug for DatabaseSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DatabaseSettings")
            .field("url", &"<redacted>")
            .field("max_connections", &self.max_connections)
            .field("acquire_timeout_ms", &self.acquire_timeout_ms)
            .finish()
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuthSettings {
    pub dev_provider: bool,
    pub session_ttl_days: u32,
    /// How long a moderator's password-login session lasts.
    pub moderator_session_ttl_hours: u32,
    /// The sliding window every login-failure counter looks back over, in seconds.
    pub login_failure_window_s: u32,
    /// Failed logins for one email from one client address (IPv6 by /64) before that pair
    /// gets 429.
    pub login_max_failures_per_email_ip: u32,
    /// Failed logins from one client address, whatever the emails (password spraying).
    pub login_max_failures_per_ip: u32,
    /// Failed logins for one email from all addresses together after which every further
    /// attempt waits out an exponential backoff (distributed guessing).
    pub login_email_backoff_after: u32,
    /// The longest that backoff gets, in seconds.
    pub login_email_backoff_max_s: u32,
    /// How long an address an account logged in from stays exempt from its backoff, in days.
    pub login_known_address_days: u32,
    pub providers: crate::config::providers::ProvidersSettings,
    #[serde(default)]
    pub oidc: crate::config::providers::OidcProviders,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Limits {
    pub body_max_chars: usize,
    pub json_max_bytes: usize,
    pub name_max_chars: usize,
    pub uri_max_chars: usize,
    pub title_max_chars: usize,
    pub url_max_chars: usize,
    pub counts_max_uris: usize,
    pub page_default: u32,
    pub page_max: u32,
    pub comment_interval_s: u32,
    pub comments_per_minute_user: u32,
    pub comments_per_minute_ip: u32,
    /// Guest comments per minute on one site, all guests together (0 = off).
    pub guest_comments_per_minute: u32,
    /// Author edits per minute of one comment, and of one author on a site (0 = off).
    pub edits_per_minute_comment: u32,
    pub edits_per_minute_user: u32,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModerationSettings {
    pub default_policy: Policy,
    pub flags_to_hold: u32,
    pub edit_window_s: u32,
    pub max_depth: u32,
    pub max_links: u32,
    pub spam_hold_score: f64,
    pub spam_score: f64,
    pub duplicate_window_s: u32,
    /// Most auto-moderation rules one site may have (enabled or not); more is a 409.
    pub max_rules_per_site: u32,
    pub akismet: AkismetSettings,
}

/// An Akismet-compatible spam service; off while `key` is empty.
#[derive(Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AkismetSettings {
    pub url: String,
    pub key: String,
    pub timeout_ms: u64,
}

// The key is a secret.
impl std::fmt::Debug for AkismetSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AkismetSettings")
            .field("url", &self.url)
            .field("key", &"<redacted>")
            .finish()
    }
}

#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    Pretty,
    Json,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LogSettings {
    pub format: LogFormat,
    pub level: String,
}

/// `GET /metrics` (Prometheus text). It has no authentication: keep it off the public internet.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MetricsSettings {
    pub enabled: bool,
}

/// Bounds on Server-Sent Events streams (see `[streams]` in config/default.toml).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StreamSettings {
    /// Streams one client IP (IPv6: one /64) may hold open at once; one more answers 429.
    pub per_ip: u32,
    /// Streams one IPv6 /48 (one customer's allocation) may hold at once; one more answers 429.
    pub per_network: u32,
    /// Streams this node holds at most (kept below the open-files limit); one more answers 503.
    pub per_node: u32,
    /// A stream ends after this long (minus up to 10 % jitter); the client reconnects.
    pub max_lifetime_s: u64,
    /// An idle stream sends a keepalive comment this often; writing it is also how a client
    /// that went away is noticed, and its slot freed.
    pub keepalive_s: u64,
    /// The `retry:` hint (ms) sent when a stream's lifetime is over.
    pub reconnect_ms: u64,
    /// `Retry-After` (s) of the 429 and 503 answers.
    pub retry_after_s: u64,
}

/// In-process caches of database rows (see `[cache]` in config/default.toml).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CacheSettings {
    /// How long a node trusts its copy of a site's settings, in ms; 0 re-reads every time.
    pub site_ttl_ms: u64,
    /// The longest a cached thread page or count is served, in ms: the bound for a change
    /// whose announcement never arrived. 0 serves nothing from the page cache.
    pub page_ttl_ms: u64,
}

/// A configuration problem, phrased as the one line an operator needs to fix it.
#[derive(Debug, thiserror::Error)]
#[error("configuration error: {0}")]
pub struct ConfigError(String);

/// Every key with its default, compiled in: the binary needs no file to start.
const DEFAULTS: &str = include_str!("../../config/default.toml");

/// Where overlays are read from: `COLLOQUY_CONFIG_DIR` (which must exist), else `./config` if
/// present, else `/etc/colloquy` if present, else nowhere (defaults and variables only).
pub fn config_dir() -> Result<Option<PathBuf>, ConfigError> {
    if let Some(dir) = std::env::var_os("COLLOQUY_CONFIG_DIR") {
        let dir = PathBuf::from(dir);
        if !dir.is_dir() {
            return Err(ConfigError(format!(
                "COLLOQUY_CONFIG_DIR: {} is not a directory",
                dir.display()
            )));
        }
        return Ok(Some(dir));
    }
    Ok(["config", "/etc/colloquy"]
        .into_iter()
        .map(PathBuf::from)
        .find(|d| d.is_dir()))
}

fn from_environment() -> Result<(Option<PathBuf>, String), ConfigError> {
    let env = std::env::var("COLLOQUY_ENV").unwrap_or_else(|_| "development".to_owned());
    Ok((config_dir()?, env))
}

/// The layered sources, unparsed: compiled-in defaults < `{dir}/default.toml` <
/// `{dir}/{env}.toml` < `COLLOQUY__SECTION__KEY` variables.
fn raw(
    dir: Option<&Path>,
    env: &str,
    vars: impl IntoIterator<Item = (String, String)>,
) -> Result<config::Config, ConfigError> {
    if env.is_empty()
        || !env
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    {
        return Err(ConfigError(format!(
            "COLLOQUY_ENV: {env:?} is not a valid environment name"
        )));
    }
    // COLLOQUY_ENV itself must not be read as a key; only double-underscore names are keys.
    let env_map: std::collections::HashMap<String, String> = vars
        .into_iter()
        .filter(|(k, _)| k.starts_with("COLLOQUY__"))
        .collect();
    let mut builder = config::Config::builder()
        .add_source(config::File::from_str(DEFAULTS, config::FileFormat::Toml));
    if let Some(dir) = dir {
        builder = builder
            .add_source(config::File::from(dir.join("default.toml")).required(false))
            .add_source(config::File::from(dir.join(format!("{env}.toml"))).required(false));
    }
    builder
        .add_source(
            config::Environment::with_prefix("COLLOQUY")
                .prefix_separator("__")
                .separator("__")
                .list_separator(",")
                .with_list_parse_key("server.trusted_proxies")
                .try_parsing(true)
                .source(Some(env_map)),
        )
        .build()
        .map_err(|e| ConfigError(e.to_string()))
}

impl Settings {
    /// Loads the compiled-in defaults, then the overlays of the configuration directory (see
    /// [`config_dir`]) for `COLLOQUY_ENV` (default development), then `COLLOQUY__…` variables.
    pub fn load() -> Result<Self, ConfigError> {
        let (dir, env) = from_environment()?;
        Self::load_in(dir.as_deref(), &env, std::env::vars())
    }

    /// The effective configuration `load` would use, as TOML with secrets redacted (what
    /// `colloquy config` prints). Checked first: an invalid configuration is the error.
    pub fn effective() -> Result<String, ConfigError> {
        let (dir, env) = from_environment()?;
        Self::load_in(dir.as_deref(), &env, std::env::vars())?;
        let value: serde_json::Value = raw(dir.as_deref(), &env, std::env::vars())?
            .try_deserialize()
            .map_err(|e| ConfigError(e.to_string()))?;
        Ok(show::toml(&show::redacted(value)))
    }

    /// Loads from an explicit overlay directory (its `default.toml` and `{env}.toml`, each
    /// optional, over the compiled-in defaults), environment name and set of env vars (tests
    /// use this).
    pub fn load_from(
        dir: &Path,
        env: &str,
        vars: impl IntoIterator<Item = (String, String)>,
    ) -> Result<Self, ConfigError> {
        Self::load_in(Some(dir), env, vars)
    }

    fn load_in(
        dir: Option<&Path>,
        env: &str,
        vars: impl IntoIterator<Item = (String, String)>,
    ) -> Result<Self, ConfigError> {
        let raw = raw(dir, env, vars)?;
        // A retired key would otherwise stop start-up as merely "unknown"; say what replaced it.
        if raw.get::<config::Value>("auth.login_max_failures").is_ok() {
            return Err(ConfigError(
                "auth.login_max_failures: retired; moderator login throttling is now \
                 auth.login_max_failures_per_email_ip (per email from one address), \
                 auth.login_max_failures_per_ip and auth.login_email_backoff_after \
                 (see config/default.toml)"
                    .to_owned(),
            ));
        }
        let mut settings: Settings = raw
            .try_deserialize()
            .map_err(|e| ConfigError(e.to_string()))?;
        settings.env = env.to_owned();
        settings.validate()?;
        Ok(settings)
    }

    fn validate(&self) -> Result<(), ConfigError> {
        let bad = |key: &str, why: &str| Err(ConfigError(format!("{key}: {why}")));
        let public = url::Url::parse(&self.server.public_url);
        match public {
            Ok(u) if matches!(u.scheme(), "http" | "https") && u.host().is_some() => {}
            _ => return bad("server.public_url", "must be an absolute http(s) URL"),
        }
        if Origin::parse(&self.server.public_url_origin()).is_err() {
            return bad("server.public_url", "must be an absolute http(s) URL");
        }
        match url::Url::parse(&self.database.url) {
            Ok(u) if matches!(u.scheme(), "postgres" | "postgresql") => {
                if database_name(&self.database.url).is_none() {
                    return bad(
                        "database.url",
                        "must name a database, e.g. postgres://host/colloquy",
                    );
                }
            }
            _ => return bad("database.url", "must be a postgres:// URL"),
        }
        if self.database.max_connections == 0 {
            return bad("database.max_connections", "must be at least 1");
        }
        if self.database.acquire_timeout_ms == 0 {
            return bad("database.acquire_timeout_ms", "must be at least 1");
        }
        if self.auth.session_ttl_days == 0 {
            return bad("auth.session_ttl_days", "must be at least 1");
        }
        for (key, v) in [
            (
                "auth.moderator_session_ttl_hours",
                self.auth.moderator_session_ttl_hours,
            ),
            (
                "auth.login_failure_window_s",
                self.auth.login_failure_window_s,
            ),
            (
                "auth.login_max_failures_per_email_ip",
                self.auth.login_max_failures_per_email_ip,
            ),
            (
                "auth.login_max_failures_per_ip",
                self.auth.login_max_failures_per_ip,
            ),
            (
                "auth.login_email_backoff_after",
                self.auth.login_email_backoff_after,
            ),
            (
                "auth.login_email_backoff_max_s",
                self.auth.login_email_backoff_max_s,
            ),
            (
                "auth.login_known_address_days",
                self.auth.login_known_address_days,
            ),
        ] {
            if v == 0 {
                return bad(key, "must be at least 1");
            }
        }
        if self.auth.login_known_address_days > 365 {
            return bad("auth.login_known_address_days", "must be at most 365");
        }
        if self.auth.dev_provider && self.env == "production" {
            return bad(
                "auth.dev_provider",
                "the dev login provider cannot be enabled when COLLOQUY_ENV=production",
            );
        }
        let l = &self.limits;
        for (key, v) in [
            ("limits.body_max_chars", l.body_max_chars),
            ("limits.json_max_bytes", l.json_max_bytes),
            ("limits.name_max_chars", l.name_max_chars),
            ("limits.uri_max_chars", l.uri_max_chars),
            ("limits.title_max_chars", l.title_max_chars),
            ("limits.url_max_chars", l.url_max_chars),
            ("limits.counts_max_uris", l.counts_max_uris),
        ] {
            if v == 0 {
                return bad(key, "must be at least 1");
            }
        }
        if l.page_max == 0 || l.page_default == 0 || l.page_default > l.page_max {
            return bad(
                "limits.page_default",
                "must be between 1 and limits.page_max",
            );
        }
        if !(1..=50).contains(&self.moderation.max_depth) {
            return bad("moderation.max_depth", "must be between 1 and 50");
        }
        if self.moderation.max_rules_per_site == 0 {
            return bad("moderation.max_rules_per_site", "must be at least 1");
        }
        if self.moderation.flags_to_hold == 0 {
            return bad("moderation.flags_to_hold", "must be at least 1");
        }
        let st = &self.streams;
        for (key, v) in [
            ("streams.per_ip", u64::from(st.per_ip)),
            ("streams.per_network", u64::from(st.per_network)),
            ("streams.per_node", u64::from(st.per_node)),
            ("streams.max_lifetime_s", st.max_lifetime_s),
            ("streams.keepalive_s", st.keepalive_s),
            ("streams.reconnect_ms", st.reconnect_ms),
            ("streams.retry_after_s", st.retry_after_s),
        ] {
            if v == 0 {
                return bad(key, "must be at least 1");
            }
        }
        if tracing_subscriber::EnvFilter::try_new(&self.log.level).is_err() {
            return bad("log.level", "is not a valid tracing filter (e.g. \"info\")");
        }
        Ok(())
    }
}

impl ServerSettings {
    /// `scheme://host[:port]` of `public_url`.
    pub fn public_url_origin(&self) -> String {
        url::Url::parse(&self.public_url)
            .map(|u| u.origin().ascii_serialization())
            .unwrap_or_default()
    }
}

/// The database name in a postgres URL's path, if any.
pub fn database_name(url: &str) -> Option<String> {
    let u = url::Url::parse(url).ok()?;
    let name = u.path().trim_start_matches('/');
    let name = percent_encoding::percent_decode_str(name)
        .decode_utf8()
        .ok()?;
    (!name.is_empty()).then(|| name.into_owned())
}
