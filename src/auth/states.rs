//! OAuth login attempts in flight: created at `/login`, consumed once at `/callback`.

use sqlx::{FromRow, PgPool};
use time::{Duration, OffsetDateTime};
use uuid::Uuid;

use super::token;

/// How long a user has to finish logging in at the provider.
const LIFETIME: Duration = Duration::minutes(10);

pub struct NewState<'a> {
    pub provider: &'a str,
    pub site_id: Uuid,
    pub origin: &'a str,
    /// Set when a signed-in commenter links this provider to their user (see `auth::account`).
    pub link_user_id: Option<Uuid>,
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
    sqlx::query(
        "INSERT INTO login_states (state_hash, provider, site_id, origin, pkce_verifier, nonce, expires_at, link_user_id)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(token::hash(&started.state))
    .bind(s.provider)
    .bind(s.site_id)
    .bind(s.origin)
    .bind(&started.pkce_verifier)
    .bind(&started.nonce)
    .bind(OffsetDateTime::now_utc() + LIFETIME)
    .bind(s.link_user_id)
    .execute(pool)
    .await?;
    Ok(started)
}

#[derive(Debug, FromRow)]
pub struct LoginState {
    pub provider: String,
    pub site_id: Uuid,
    pub origin: String,
    pub pkce_verifier: String,
    pub nonce: String,
    pub expired: bool,
    /// The user this login links a new identity to, when it was started by a linking request.
    pub link_user_id: Option<Uuid>,
}

/// Takes a state out of the table: a second use finds nothing. Expired states are consumed too
/// (and reported as such) so they can't be retried.
pub async fn consume(pool: &PgPool, state: &str) -> Result<Option<LoginState>, sqlx::Error> {
    sqlx::query_as(
        "DELETE FROM login_states WHERE state_hash = $1
         RETURNING provider, site_id, origin, pkce_verifier, nonce, expires_at <= now() AS expired,
                   link_user_id",
    )
    .bind(token::hash(state))
    .fetch_optional(pool)
    .await
}

/// The origin a state was started for, without consuming it (to address an error message).
pub async fn peek_origin(pool: &PgPool, state: &str) -> Result<Option<String>, sqlx::Error> {
    sqlx::query_scalar("SELECT origin FROM login_states WHERE state_hash = $1")
        .bind(token::hash(state))
        .fetch_optional(pool)
        .await
}
