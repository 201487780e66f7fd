//! Commenter sessions (SQL and lifecycle).

use sqlx::{FromRow, PgConnection, PgPool};
use time::{Duration, OffsetDateTime};
use uuid::Uuid;

use super::token;
use super::users::Login;

/// The user behind a valid session.
#[derive(Debug, Clone, FromRow)]
pub struct SessionUser {
    pub session_id: Uuid,
    pub user_id: Uuid,
    pub provider: String,
    pub name: String,
    pub email: Option<String>,
    pub avatar_url: Option<String>,
    pub profile_url: Option<String>,
    /// The site a blog session was opened on; None for an account session.
    pub site_id: Option<Uuid>,
}

/// Creates a session bound to the site it was opened on (see `extract::resolve`) and returns
/// its secret (shown to the client once, never stored).
pub async fn create_for_site(
    conn: &mut PgConnection,
    login: Login,
    provider: &str,
    ttl_days: u32,
    site_id: Uuid,
) -> Result<String, sqlx::Error> {
    insert(conn, login, provider, ttl_days, Some(site_id)).await
}

/// Creates an account session (the `/account/` page's cookie, site-less) and returns its
/// secret. Only `find_account` accepts it.
pub async fn create_account(
    conn: &mut PgConnection,
    login: Login,
    provider: &str,
    ttl_days: u32,
) -> Result<String, sqlx::Error> {
    insert(conn, login, provider, ttl_days, None).await
}

/// The user behind an account-page cookie: `account` sessions only, never a blog's token.
pub async fn find_account(pool: &PgPool, secret: &str) -> Result<Option<SessionUser>, sqlx::Error> {
    sqlx::query_as(
        "SELECT s.id AS session_id, u.id AS user_id, s.provider, u.name, u.email, u.avatar_url, u.profile_url,
                s.site_id
         FROM sessions s JOIN users u ON u.id = s.user_id
         WHERE s.token_hash = $1 AND s.kind = 'account' AND s.site_id IS NULL
           AND s.revoked_at IS NULL AND s.expires_at > now()",
    )
    .bind(token::hash(secret))
    .fetch_optional(pool)
    .await
}

/// `site_id` None makes an account session (the table's check holds the two together).
async fn insert(
    conn: &mut PgConnection,
    login: Login,
    provider: &str,
    ttl_days: u32,
    site_id: Option<Uuid>,
) -> Result<String, sqlx::Error> {
    let secret = token::generate();
    let expires = OffsetDateTime::now_utc() + Duration::days(i64::from(ttl_days));
    let kind = if site_id.is_some() { "site" } else { "account" };
    sqlx::query(
        "INSERT INTO sessions (id, token_hash, user_id, provider, expires_at, site_id, kind, identity_id)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(Uuid::now_v7())
    .bind(token::hash(&secret))
    .bind(login.user_id)
    .bind(provider)
    .bind(expires)
    .bind(site_id)
    .bind(kind)
    .bind(login.identity_id)
    .execute(conn)
    .await?;
    Ok(secret)
}

/// The user behind a blog's session token, when the token is known, unexpired and not revoked.
/// The name, email, avatar and profile URL are those of the login (identity) the session was
/// opened with, never the shared `users` row: a reader's other logins, linked on `/account/`
/// and used on other blogs, stay unknown to this blog. A session whose identity is gone (or
/// moved to another user) is no longer valid: 401, log in again.
/// Only `site` sessions: an account session (the `/account/` cookie) is never a Bearer token of
/// the public API, even if its secret were sent as one.
pub async fn find(pool: &PgPool, secret: &str) -> Result<Option<SessionUser>, sqlx::Error> {
    sqlx::query_as(
        "SELECT s.id AS session_id, u.id AS user_id, s.provider,
                COALESCE(i.name, '') AS name, i.email, i.avatar_url, i.profile_url, s.site_id
         FROM sessions s JOIN users u ON u.id = s.user_id
         JOIN identities i ON i.id = s.identity_id AND i.user_id = s.user_id
         WHERE s.token_hash = $1 AND s.kind = 'site' AND s.site_id IS NOT NULL
           AND s.revoked_at IS NULL AND s.expires_at > now()",
    )
    .bind(token::hash(secret))
    .fetch_optional(pool)
    .await
}

pub async fn revoke(pool: &PgPool, session_id: Uuid) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE sessions SET revoked_at = now() WHERE id = $1 AND revoked_at IS NULL")
        .bind(session_id)
        .execute(pool)
        .await?;
    Ok(())
}
