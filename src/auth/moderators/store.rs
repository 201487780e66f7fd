//! All SQL about moderators: accounts, roles (the team), sessions, API tokens and login failures.
//!
//! Functions about one site take a [`SiteScope`](super::SiteScope), which only the caller's own roles (or the
//! operator's CLI) can produce, so a query can't reach a site the caller holds no role on.

use sqlx::{FromRow, PgConnection, PgPool};
use time::{Duration, OffsetDateTime};
use uuid::Uuid;

use super::Role;
use crate::auth::token;

mod failures;
mod team;

pub use failures::*;
pub use team::*;

// ---------------------------------------------------------------------------------------------
// Accounts

/// What password login needs of an account.
#[derive(FromRow)]
pub struct LoginRow {
    pub id: Uuid,
    pub email: String,
    pub password_hash: String,
}

// The hash and the email stay out of Debug output (and so out of logs).
impl std::fmt::Debug for LoginRow {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LoginRow").field("id", &self.id).finish()
    }
}

/// `email` is the case-folded address (`Email::identity_key`).
pub async fn find_login(pool: &PgPool, email: &str) -> Result<Option<LoginRow>, sqlx::Error> {
    sqlx::query_as("SELECT id, email, password_hash FROM moderators WHERE lower(email) = lower($1)")
        .bind(email)
        .fetch_optional(pool)
        .await
}

pub async fn find_id_by_email(
    conn: &mut PgConnection,
    email: &str,
) -> Result<Option<Uuid>, sqlx::Error> {
    sqlx::query_scalar("SELECT id FROM moderators WHERE lower(email) = lower($1)")
        .bind(email)
        .fetch_optional(conn)
        .await
}

pub enum CreateAccountError {
    EmailTaken,
    Db(sqlx::Error),
}

impl From<sqlx::Error> for CreateAccountError {
    fn from(e: sqlx::Error) -> Self {
        Self::Db(e)
    }
}

/// Creates an account; `email` case-folded, `password_hash` a PHC string from `password::hash`.
pub async fn create_account(
    conn: &mut PgConnection,
    email: &str,
    password_hash: &str,
) -> Result<Uuid, CreateAccountError> {
    let id = Uuid::now_v7();
    let res = sqlx::query("INSERT INTO moderators (id, email, password_hash) VALUES ($1, $2, $3)")
        .bind(id)
        .bind(email)
        .bind(password_hash)
        .execute(conn)
        .await;
    match res {
        Ok(_) => Ok(id),
        Err(e) if crate::db::violated_constraint(&e) == Some("moderators_email_key") => {
            Err(CreateAccountError::EmailTaken)
        }
        Err(e) => Err(e.into()),
    }
}

/// Sets an account's password (a PHC string from `password::hash`).
pub async fn set_password(
    conn: &mut PgConnection,
    moderator_id: Uuid,
    password_hash: &str,
) -> Result<bool, sqlx::Error> {
    let res =
        sqlx::query("UPDATE moderators SET password_hash = $2, updated_at = now() WHERE id = $1")
            .bind(moderator_id)
            .bind(password_hash)
            .execute(conn)
            .await?;
    Ok(res.rows_affected() == 1)
}

/// Ends the account's live sessions, all but `keep`; returns how many ended.
pub async fn revoke_sessions(
    conn: &mut PgConnection,
    moderator_id: Uuid,
    keep: Option<Uuid>,
) -> Result<u64, sqlx::Error> {
    let res = sqlx::query(
        "UPDATE moderator_sessions SET revoked_at = now()
         WHERE moderator_id = $1 AND revoked_at IS NULL AND expires_at > now()
           AND ($2::uuid IS NULL OR id <> $2)",
    )
    .bind(moderator_id)
    .bind(keep)
    .execute(conn)
    .await?;
    Ok(res.rows_affected())
}

/// Revokes every live API token of the account; returns how many.
pub async fn revoke_all_tokens(
    conn: &mut PgConnection,
    moderator_id: Uuid,
) -> Result<u64, sqlx::Error> {
    let res = sqlx::query(
        "UPDATE api_tokens SET revoked_at = now()
         WHERE moderator_id = $1 AND revoked_at IS NULL
           AND (expires_at IS NULL OR expires_at > now())",
    )
    .bind(moderator_id)
    .execute(conn)
    .await?;
    Ok(res.rows_affected())
}

/// One of the caller's roles, with the site's slug (roles are listed by slug).
#[derive(Debug, Clone, FromRow)]
pub struct RoleRow {
    pub site_id: Uuid,
    pub slug: String,
    pub role: Role,
}

/// Every role a moderator holds, by site slug.
pub async fn roles(pool: &PgPool, moderator_id: Uuid) -> Result<Vec<RoleRow>, sqlx::Error> {
    sqlx::query_as(
        "SELECT r.site_id, s.slug, r.role
         FROM moderator_roles r JOIN sites s ON s.id = r.site_id
         WHERE r.moderator_id = $1
         ORDER BY s.slug",
    )
    .bind(moderator_id)
    .fetch_all(pool)
    .await
}

// ---------------------------------------------------------------------------------------------
// Sessions and API tokens

/// Creates a session; returns its secret (shown once, never stored) and when it expires.
pub async fn create_session(
    conn: &mut PgConnection,
    moderator_id: Uuid,
    ttl: Duration,
) -> Result<(String, OffsetDateTime), sqlx::Error> {
    let secret = token::generate();
    let expires_at = OffsetDateTime::now_utc() + ttl;
    sqlx::query(
        "INSERT INTO moderator_sessions (id, token_hash, moderator_id, expires_at) VALUES ($1, $2, $3, $4)",
    )
    .bind(Uuid::now_v7())
    .bind(token::hash(&secret))
    .bind(moderator_id)
    .bind(expires_at)
    .execute(conn)
    .await?;
    Ok((secret, expires_at))
}

/// The account behind a bearer secret, whichever kind it is.
#[derive(FromRow)]
pub struct CredentialRow {
    pub moderator_id: Uuid,
    pub email: String,
    /// `session` or `api_token`.
    pub kind: String,
    pub credential_id: Uuid,
    /// For API tokens: whether `last_used_at` is stale enough to be refreshed.
    pub touch: bool,
}

/// A live (unexpired, unrevoked) session or API token with this secret.
pub async fn find_credential(
    pool: &PgPool,
    secret: &str,
) -> Result<Option<CredentialRow>, sqlx::Error> {
    sqlx::query_as(
        "SELECT m.id AS moderator_id, m.email, 'session' AS kind, s.id AS credential_id, false AS touch
         FROM moderator_sessions s JOIN moderators m ON m.id = s.moderator_id
         WHERE s.token_hash = $1 AND s.revoked_at IS NULL AND s.expires_at > now()
         UNION ALL
         SELECT m.id, m.email, 'api_token', t.id,
                (t.last_used_at IS NULL OR t.last_used_at < now() - interval '1 minute')
         FROM api_tokens t JOIN moderators m ON m.id = t.moderator_id
         WHERE t.token_hash = $1 AND t.revoked_at IS NULL
           AND (t.expires_at IS NULL OR t.expires_at > now())
         LIMIT 1",
    )
    .bind(token::hash(secret))
    .fetch_optional(pool)
    .await
}

/// Whether a credential still stands and its moderator still holds a role on the site. Long-lived
/// streams ask before each event: a logged-out session, a revoked token or a moderator removed
/// from the team stops receiving at once.
pub async fn still_holds(
    pool: &PgPool,
    credential: super::Credential,
    moderator_id: Uuid,
    site_id: Uuid,
) -> Result<bool, sqlx::Error> {
    let (is_session, credential_id) = match credential {
        super::Credential::Session(id) => (true, id),
        super::Credential::ApiToken(id) => (false, id),
    };
    sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM moderator_roles WHERE site_id = $2 AND moderator_id = $1)
            AND CASE WHEN $3 THEN EXISTS (
                    SELECT 1 FROM moderator_sessions WHERE id = $4 AND moderator_id = $1
                      AND revoked_at IS NULL AND expires_at > now())
                ELSE EXISTS (
                    SELECT 1 FROM api_tokens WHERE id = $4 AND moderator_id = $1
                      AND revoked_at IS NULL AND (expires_at IS NULL OR expires_at > now()))
                END",
    )
    .bind(moderator_id)
    .bind(site_id)
    .bind(is_session)
    .bind(credential_id)
    .fetch_one(pool)
    .await
}

pub async fn touch_api_token(pool: &PgPool, id: Uuid) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE api_tokens SET last_used_at = now() WHERE id = $1")
        .bind(id)
        .execute(pool)
        .await?;
    Ok(())
}

pub async fn revoke_session(pool: &PgPool, session_id: Uuid) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE moderator_sessions SET revoked_at = now() WHERE id = $1 AND revoked_at IS NULL",
    )
    .bind(session_id)
    .execute(pool)
    .await?;
    Ok(())
}

/// An API token as its owner sees it (never with its secret or hash).
#[derive(Debug, Clone, FromRow)]
pub struct TokenRow {
    pub id: Uuid,
    pub name: String,
    pub created_at: OffsetDateTime,
    pub last_used_at: Option<OffsetDateTime>,
    pub expires_at: Option<OffsetDateTime>,
}

pub enum CreateTokenError {
    /// The moderator already has a live token with this name.
    NameTaken,
    Db(sqlx::Error),
}

/// Creates an API token; returns it and its secret (shown once, never stored).
pub async fn create_token(
    conn: &mut PgConnection,
    moderator_id: Uuid,
    name: &str,
    expires_at: Option<OffsetDateTime>,
) -> Result<(TokenRow, String), CreateTokenError> {
    let secret = token::generate();
    let res: Result<TokenRow, sqlx::Error> = sqlx::query_as(
        "INSERT INTO api_tokens (id, moderator_id, name, token_hash, expires_at)
         VALUES ($1, $2, $3, $4, $5)
         RETURNING id, name, created_at, last_used_at, expires_at",
    )
    .bind(Uuid::now_v7())
    .bind(moderator_id)
    .bind(name)
    .bind(token::hash(&secret))
    .bind(expires_at)
    .fetch_one(conn)
    .await;
    match res {
        Ok(row) => Ok((row, secret)),
        Err(e) if crate::db::violated_constraint(&e) == Some("api_tokens_moderator_name_key") => {
            Err(CreateTokenError::NameTaken)
        }
        Err(e) => Err(CreateTokenError::Db(e)),
    }
}

/// The moderator's live tokens, oldest first, after the keyset `after` (created_at, id).
pub async fn list_tokens(
    pool: &PgPool,
    moderator_id: Uuid,
    after: Option<(OffsetDateTime, Uuid)>,
    limit: i64,
) -> Result<Vec<TokenRow>, sqlx::Error> {
    let (at, id) = after.unzip();
    sqlx::query_as(
        "SELECT id, name, created_at, last_used_at, expires_at FROM api_tokens
         WHERE moderator_id = $1 AND revoked_at IS NULL
           AND ($2::timestamptz IS NULL OR (created_at, id) > ($2, $3))
         ORDER BY created_at, id
         LIMIT $4",
    )
    .bind(moderator_id)
    .bind(at)
    .bind(id)
    .bind(limit)
    .fetch_all(pool)
    .await
}

/// Revokes one of the moderator's own live tokens; None when there is no such token (another
/// moderator's token is "no such token").
pub async fn revoke_token(
    conn: &mut PgConnection,
    moderator_id: Uuid,
    id: Uuid,
) -> Result<Option<TokenRow>, sqlx::Error> {
    sqlx::query_as(
        "UPDATE api_tokens SET revoked_at = now()
         WHERE id = $1 AND moderator_id = $2 AND revoked_at IS NULL
         RETURNING id, name, created_at, last_used_at, expires_at",
    )
    .bind(id)
    .bind(moderator_id)
    .fetch_optional(conn)
    .await
}
