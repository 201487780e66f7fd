//! Login failures, counted in Postgres (see throttle.rs for the policy).

use sqlx::{FromRow, PgPool};
use time::OffsetDateTime;

/// Records a login attempt as a failure before the password is checked, so concurrent guesses
/// count against each other; a success deletes it again. Returns the row id.
pub async fn record_attempt(
    pool: &PgPool,
    email_hash: &[u8],
    ip_hash: Option<&[u8]>,
) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar(
        "INSERT INTO login_failures (email_hash, ip_hash) VALUES ($1, $2) RETURNING id",
    )
    .bind(email_hash)
    .bind(ip_hash)
    .fetch_one(pool)
    .await
}

/// What the throttle needs to decide about one attempt, not counting the attempt `own` itself.
/// `pair_nth`/`ip_nth`: the time of the `nth` most recent failure (0-based) inside the window for
/// the email from this address, and for this address whatever the email; None when there are
/// fewer. `email_failures`: failures for the email from every address (counted up to a cap),
/// `email_latest` the newest of them. `known_address`: this account logged in from this address
/// recently. Also the database's now, so every time compared is the database's.
#[derive(Debug, FromRow)]
pub struct RecentFailures {
    pub pair_nth: Option<OffsetDateTime>,
    pub ip_nth: Option<OffsetDateTime>,
    pub email_failures: i64,
    pub email_latest: Option<OffsetDateTime>,
    pub known_address: bool,
    pub now: OffsetDateTime,
}

/// The limits `recent_failures` reads against.
#[derive(Debug, Clone, Copy)]
pub struct FailureQuery {
    pub window_s: u32,
    pub pair_nth: u32,
    pub ip_nth: u32,
    /// Count the email's failures up to this many (enough to know how far past the ceiling).
    pub email_cap: u32,
    pub known_address_days: u32,
}

pub async fn recent_failures(
    pool: &PgPool,
    email_hash: &[u8],
    ip_hash: Option<&[u8]>,
    own: i64,
    q: FailureQuery,
) -> Result<RecentFailures, sqlx::Error> {
    sqlx::query_as(
        "SELECT
            (SELECT at FROM login_failures
             WHERE email_hash = $1 AND ip_hash IS NOT DISTINCT FROM $2 AND id <> $3
               AND at > now() - make_interval(secs => $4)
             ORDER BY at DESC OFFSET $5 LIMIT 1) AS pair_nth,
            (SELECT at FROM login_failures
             WHERE ip_hash = $2 AND id <> $3 AND at > now() - make_interval(secs => $4)
             ORDER BY at DESC OFFSET $6 LIMIT 1) AS ip_nth,
            (SELECT count(*) FROM (
                SELECT 1 FROM login_failures
                WHERE email_hash = $1 AND id <> $3 AND at > now() - make_interval(secs => $4)
                LIMIT $7) AS capped) AS email_failures,
            (SELECT max(at) FROM login_failures
             WHERE email_hash = $1 AND id <> $3
               AND at > now() - make_interval(secs => $4)) AS email_latest,
            EXISTS (SELECT 1 FROM login_known_addresses
                    WHERE email_hash = $1 AND ip_hash = $2
                      AND last_success_at > now() - make_interval(days => $8)) AS known_address,
            now() AS now",
    )
    .bind(email_hash)
    .bind(ip_hash)
    .bind(own)
    .bind(f64::from(q.window_s))
    .bind(i64::from(q.pair_nth))
    .bind(i64::from(q.ip_nth))
    .bind(i64::from(q.email_cap))
    .bind(i32::try_from(q.known_address_days).unwrap_or(i32::MAX))
    .fetch_one(pool)
    .await
}

pub async fn forget_attempt(pool: &PgPool, id: i64) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM login_failures WHERE id = $1")
        .bind(id)
        .execute(pool)
        .await?;
    Ok(())
}

/// After a successful login: this email's failures from this IP are forgiven. Failures from
/// other IPs stay, or a guesser could reset the counter by letting the victim log in.
pub async fn clear_failures(
    pool: &PgPool,
    email_hash: &[u8],
    ip_hash: Option<&[u8]>,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "DELETE FROM login_failures WHERE email_hash = $1 AND ip_hash IS NOT DISTINCT FROM $2",
    )
    .bind(email_hash)
    .bind(ip_hash)
    .execute(pool)
    .await?;
    Ok(())
}

/// Every failure counted against one email (all addresses): the operator's unlock.
pub async fn forget_email_failures(pool: &PgPool, email_hash: &[u8]) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM login_failures WHERE email_hash = $1")
        .bind(email_hash)
        .execute(pool)
        .await?;
    Ok(())
}

/// After a successful login: remember the address, so the per-email backoff never stands
/// between this account and the place it logs in from; forget addresses unused for `days`.
pub async fn remember_address(
    pool: &PgPool,
    email_hash: &[u8],
    ip_hash: &[u8],
    days: u32,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO login_known_addresses (email_hash, ip_hash) VALUES ($1, $2)
         ON CONFLICT ON CONSTRAINT login_known_addresses_pkey
         DO UPDATE SET last_success_at = now()",
    )
    .bind(email_hash)
    .bind(ip_hash)
    .execute(pool)
    .await?;
    sqlx::query(
        "DELETE FROM login_known_addresses
         WHERE email_hash = $1 AND last_success_at < now() - make_interval(days => $2)",
    )
    .bind(email_hash)
    .bind(i32::try_from(days).unwrap_or(i32::MAX))
    .execute(pool)
    .await?;
    Ok(())
}

/// Deletes failures that fell out of the window (any key).
pub async fn sweep_failures(pool: &PgPool, window_s: u32) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM login_failures WHERE at < now() - make_interval(secs => $1)")
        .bind(f64::from(window_s))
        .execute(pool)
        .await?;
    Ok(())
}
