//! OAuth login attempts in flight: created at `/login`, consumed once at `/callback`.

use sqlx::{FromRow, PgPool};
use time::{Duration, OffsetDateTime};
use uuid::Uuid;

use super::token;

/// How long a user has to finish logging in at the provider.
const LIFETIME: Duration = Duration::minutes(10);

pub struct NewState<'a> {
    pub provider: &'a str,
    pub purpose: Purpose<'a>,
}

/// What a login attempt is for, decided when it starts and kept on the server: the callback
/// (one per provider, shared) reads it back and can't be talked into the other outcome.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Purpose<'a> {
    /// A blog's popup: a site session, posted to the site's registered origin.
    Site { site_id: Uuid, origin: &'a str },
    /// The account page on Colloquy's origin: an account cookie and a redirect, nothing posted.
    /// Bound to the browser that started it (SHA-256 of its login cookie's secret); with
    /// `link_user_id`, it links the provider's identity to that user instead of logging in.
    Account {
        browser_hash: Vec<u8>,
        link_user_id: Option<Uuid>,
    },
}

/// The secrets of a login attempt: `state` and `nonce` go to the provider, the verifier stays.
pub struct Started {
    pub state: String,
    pub pkce_verifier: String,
    pub nonce: String,
}

pub async fn start(pool: &PgPool, s: &NewState<'_>) -> Result<Started, sqlx::Error> {
    let started = Started {
        state: token::generate(),
        pkce_verifier: token::generate(),
        nonce: token::generate(),
    };
    // Abandoned attempts are swept as new ones start (a day late, so a late callback still
    // hears "expired" rather than "unknown"); the expires_at index keeps this a range delete.
    sqlx::query("DELETE FROM login_states WHERE expires_at < now() - interval '1 day'")
        .execute(pool)
        .await?;
    let (purpose, site_id, origin, browser_hash, link_user_id) = match &s.purpose {
        Purpose::Site { site_id, origin } => ("site", Some(*site_id), Some(*origin), None, None),
        Purpose::Account {
            browser_hash,
            link_user_id,
        } => (
            "account",
            None,
            None,
            Some(browser_hash.as_slice()),
            *link_user_id,
        ),
    };
    sqlx::query(
        "INSERT INTO login_states (state_hash, provider, site_id, origin, pkce_verifier, nonce, expires_at, link_user_id,
                                   purpose, browser_hash)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
    )
    .bind(token::hash(&started.state))
    .bind(s.provider)
    .bind(site_id)
    .bind(origin)
    .bind(&started.pkce_verifier)
    .bind(&started.nonce)
    .bind(OffsetDateTime::now_utc() + LIFETIME)
    .bind(link_user_id)
    .bind(purpose)
    .bind(browser_hash)
    .execute(pool)
    .await?;
    Ok(started)
}

#[derive(Debug, FromRow)]
struct Row {
    provider: String,
    purpose: String,
    site_id: Option<Uuid>,
    origin: Option<String>,
    browser_hash: Option<Vec<u8>>,
    pkce_verifier: String,
    nonce: String,
    expired: bool,
    link_user_id: Option<Uuid>,
}

/// A consumed login attempt.
#[derive(Debug)]
pub struct LoginState {
    pub provider: String,
    pub pkce_verifier: String,
    pub nonce: String,
    pub expired: bool,
    pub target: Target,
}

/// Where a consumed attempt's result goes (the owned form of [`Purpose`]).
#[derive(Debug)]
pub enum Target {
    Site {
        site_id: Uuid,
        origin: String,
    },
    Account {
        browser_hash: Vec<u8>,
        link_user_id: Option<Uuid>,
    },
}

impl Row {
    /// The table's check makes every row one of the two shapes; anything else is refused.
    fn into_state(self) -> Option<LoginState> {
        let target = match (
            self.purpose.as_str(),
            self.site_id,
            self.origin,
            self.browser_hash,
        ) {
            ("site", Some(site_id), Some(origin), None) if self.link_user_id.is_none() => {
                Target::Site { site_id, origin }
            }
            ("account", None, None, Some(browser_hash)) => Target::Account {
                browser_hash,
                link_user_id: self.link_user_id,
            },
            _ => return None,
        };
        Some(LoginState {
            provider: self.provider,
            pkce_verifier: self.pkce_verifier,
            nonce: self.nonce,
            expired: self.expired,
            target,
        })
    }
}

/// Takes a state out of the table: a second use finds nothing. Expired states are consumed too
/// (and reported as such) so they can't be retried.
pub async fn consume(pool: &PgPool, state: &str) -> Result<Option<LoginState>, sqlx::Error> {
    let row: Option<Row> = sqlx::query_as(
        "DELETE FROM login_states WHERE state_hash = $1
         RETURNING provider, purpose, site_id, origin, browser_hash, pkce_verifier, nonce,
                   expires_at <= now() AS expired, link_user_id",
    )
    .bind(token::hash(state))
    .fetch_optional(pool)
    .await?;
    Ok(row.and_then(Row::into_state))
}

/// Whether a state is waiting to be used, without consuming it.
pub async fn exists(pool: &PgPool, state: &str) -> Result<bool, sqlx::Error> {
    sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM login_states WHERE state_hash = $1)")
        .bind(token::hash(state))
        .fetch_one(pool)
        .await
}
