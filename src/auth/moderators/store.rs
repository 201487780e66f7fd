//! All SQL about moderators: accounts, roles (the team), sessions, API tokens and login failures.
//!
//! Functions about one site take a [`SiteScope`], which only the caller's own roles (or the
//! operator's CLI) can produce, so a query can't reach a site the caller holds no role on.

use sqlx::{FromRow, PgConnection, PgPool};
use time::{Duration, OffsetDateTime};
use uuid::Uuid;

use super::{Role, SiteScope};
use crate::auth::token;

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
    pub role: String,
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

// ---------------------------------------------------------------------------------------------
// The team of a site

/// A member of a site's team.
#[derive(Clone, FromRow)]
pub struct MemberRow {
    pub id: Uuid,
    pub email: String,
    pub role: String,
    pub added_at: OffsetDateTime,
}

impl std::fmt::Debug for MemberRow {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MemberRow")
            .field("id", &self.id)
            .field("role", &self.role)
            .finish()
    }
}

/// The site's team, in the order members were added, after the keyset `after`.
pub async fn team(
    pool: &PgPool,
    scope: &SiteScope,
    after: Option<(OffsetDateTime, Uuid)>,
    limit: i64,
) -> Result<Vec<MemberRow>, sqlx::Error> {
    let (at, id) = after.unzip();
    sqlx::query_as(
        "SELECT m.id, m.email, r.role, r.created_at AS added_at
         FROM moderator_roles r JOIN moderators m ON m.id = r.moderator_id
         WHERE r.site_id = $1
           AND ($2::timestamptz IS NULL OR (r.created_at, r.moderator_id) > ($2, $3))
         ORDER BY r.created_at, r.moderator_id
         LIMIT $4",
    )
    .bind(scope.site_id())
    .bind(at)
    .bind(id)
    .bind(limit)
    .fetch_all(pool)
    .await
}

pub async fn member(
    conn: &mut PgConnection,
    scope: &SiteScope,
    moderator_id: Uuid,
) -> Result<Option<MemberRow>, sqlx::Error> {
    sqlx::query_as(
        "SELECT m.id, m.email, r.role, r.created_at AS added_at
         FROM moderator_roles r JOIN moderators m ON m.id = r.moderator_id
         WHERE r.site_id = $1 AND r.moderator_id = $2",
    )
    .bind(scope.site_id())
    .bind(moderator_id)
    .fetch_optional(conn)
    .await
}

/// What putting someone on a team did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PutOutcome {
    Added,
    Changed {
        from: Role,
    },
    Unchanged,
    /// Refused: this would demote the site's only owner.
    LastOwner,
}

/// What removing someone from a team did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RemoveOutcome {
    Removed {
        role: Role,
    },
    NotMember,
    /// Refused: this is the site's only owner.
    LastOwner,
}

/// Serializes team changes of one site (invitations included), so two owners removing each
/// other at the same moment can't leave the site with none, and an invitation can't be accepted
/// while its inviter is being removed. `NO KEY UPDATE` doesn't block comment inserts, whose foreign
/// key check only takes `KEY SHARE` on the site row.
pub async fn lock_team(conn: &mut PgConnection, scope: &SiteScope) -> Result<(), sqlx::Error> {
    sqlx::query("SELECT 1 FROM sites WHERE id = $1 FOR NO KEY UPDATE")
        .bind(scope.site_id())
        .execute(conn)
        .await?;
    Ok(())
}

async fn current_role(
    conn: &mut PgConnection,
    scope: &SiteScope,
    moderator_id: Uuid,
) -> Result<Option<Role>, sqlx::Error> {
    let role: Option<String> = sqlx::query_scalar(
        "SELECT role FROM moderator_roles WHERE site_id = $1 AND moderator_id = $2",
    )
    .bind(scope.site_id())
    .bind(moderator_id)
    .fetch_optional(&mut *conn)
    .await?;
    role.map(|r| Role::parse(&r).map_err(|e| sqlx::Error::Decode(format!("role: {e}").into())))
        .transpose()
}

async fn owner_count(conn: &mut PgConnection, scope: &SiteScope) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar("SELECT count(*) FROM moderator_roles WHERE site_id = $1 AND role = 'owner'")
        .bind(scope.site_id())
        .fetch_one(conn)
        .await
}

/// Gives `moderator_id` the role on the scope's site (adding them to the team or changing
/// their role). Run it in a transaction: it locks the site's team until commit.
pub async fn put_member(
    conn: &mut PgConnection,
    scope: &SiteScope,
    moderator_id: Uuid,
    role: Role,
) -> Result<PutOutcome, sqlx::Error> {
    lock_team(conn, scope).await?;
    let current = current_role(conn, scope, moderator_id).await?;
    if current == Some(role) {
        return Ok(PutOutcome::Unchanged);
    }
    if current == Some(Role::Owner) && owner_count(conn, scope).await? <= 1 {
        return Ok(PutOutcome::LastOwner);
    }
    sqlx::query(
        "INSERT INTO moderator_roles (site_id, moderator_id, role) VALUES ($1, $2, $3)
         ON CONFLICT ON CONSTRAINT moderator_roles_pkey DO UPDATE SET role = EXCLUDED.role",
    )
    .bind(scope.site_id())
    .bind(moderator_id)
    .bind(role.as_str())
    .execute(&mut *conn)
    .await?;
    Ok(match current {
        None => PutOutcome::Added,
        Some(from) => PutOutcome::Changed { from },
    })
}

/// What changing a member's role did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChangeOutcome {
    Changed {
        from: Role,
    },
    Unchanged,
    NotMember,
    /// Refused: this would demote the site's only owner.
    LastOwner,
}

/// Changes the role of someone already on the scope's team (never adds anyone: people join by
/// invitation). Run it in a transaction (it locks the team).
pub async fn change_role(
    conn: &mut PgConnection,
    scope: &SiteScope,
    moderator_id: Uuid,
    role: Role,
) -> Result<ChangeOutcome, sqlx::Error> {
    lock_team(conn, scope).await?;
    let Some(current) = current_role(conn, scope, moderator_id).await? else {
        return Ok(ChangeOutcome::NotMember);
    };
    if current == role {
        return Ok(ChangeOutcome::Unchanged);
    }
    if current == Role::Owner && owner_count(conn, scope).await? <= 1 {
        return Ok(ChangeOutcome::LastOwner);
    }
    sqlx::query("UPDATE moderator_roles SET role = $3 WHERE site_id = $1 AND moderator_id = $2")
        .bind(scope.site_id())
        .bind(moderator_id)
        .bind(role.as_str())
        .execute(&mut *conn)
        .await?;
    Ok(ChangeOutcome::Changed { from: current })
}

/// Takes `moderator_id` off the scope's team. Run it in a transaction (it locks the team).
pub async fn remove_member(
    conn: &mut PgConnection,
    scope: &SiteScope,
    moderator_id: Uuid,
) -> Result<RemoveOutcome, sqlx::Error> {
    lock_team(conn, scope).await?;
    let role = match current_role(conn, scope, moderator_id).await? {
        None => return Ok(RemoveOutcome::NotMember),
        Some(Role::Owner) if owner_count(conn, scope).await? <= 1 => {
            return Ok(RemoveOutcome::LastOwner);
        }
        Some(role) => role,
    };
    sqlx::query("DELETE FROM moderator_roles WHERE site_id = $1 AND moderator_id = $2")
        .bind(scope.site_id())
        .bind(moderator_id)
        .execute(&mut *conn)
        .await?;
    Ok(RemoveOutcome::Removed { role })
}

// ---------------------------------------------------------------------------------------------
// Login failures (see throttle.rs for the policy)

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
