//! SQL for linking identities, exporting and erasing a commenter's account.

use serde::Serialize;
use serde_json::Value;
use sqlx::{FromRow, PgConnection, PgPool};
use time::OffsetDateTime;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::auth::users::Profile;

/// The name erased accounts and their kept comments show.
pub const DELETED_NAME: &str = "deleted user";

/// The account a login was linked to (its public part).
#[derive(Debug, Clone, FromRow, Serialize, ToSchema)]
#[schema(as = LinkedUser)]
pub struct PublicUser {
    pub id: Uuid,
    pub name: String,
    pub avatar_url: Option<String>,
    pub profile_url: Option<String>,
}

/// How a link attempt ended.
#[derive(Debug)]
pub enum Link {
    /// The identity now belongs to the user (new, already theirs, or moved from an empty user).
    Linked(PublicUser),
    /// The identity belongs to another user who has history (comments or a ban).
    InUse,
    /// The user is gone (erased while the popup was open).
    UserGone,
}

/// How long the widget has to confirm a finished linking popup.
const CONFIRM_TTL_MINUTES: i32 = 5;

/// Parks the profile a linking popup brought back until the linking user confirms it; returns
/// the one-time code (only its hash is stored). Codes nobody confirmed are ignored once expired
/// and deleted by the janitor's sweep.
pub async fn park(pool: &PgPool, user_id: Uuid, p: &Profile) -> Result<String, sqlx::Error> {
    let code = crate::auth::token::generate();
    sqlx::query(
        "INSERT INTO link_confirmations (code_hash, user_id, provider, subject, name, email,
                email_verified, avatar_url, profile_url, profile, expires_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, now() + make_interval(mins => $11))",
    )
    .bind(crate::auth::token::hash(&code))
    .bind(user_id)
    .bind(&p.provider)
    .bind(&p.subject)
    .bind(&p.name)
    .bind(&p.email)
    .bind(p.email_verified)
    .bind(&p.avatar_url)
    .bind(&p.profile_url)
    .bind(&p.raw)
    .bind(CONFIRM_TTL_MINUTES)
    .execute(pool)
    .await?;
    Ok(code)
}

#[derive(FromRow)]
struct Parked {
    user_id: Uuid,
    provider: String,
    subject: String,
    name: String,
    email: Option<String>,
    email_verified: bool,
    avatar_url: Option<String>,
    profile_url: Option<String>,
    profile: Value,
    live: bool,
}

/// Takes a parked profile: the code is spent by this call whether or not it is then accepted,
/// so a leaked code can't be tried twice. None when unknown or expired.
pub async fn take_parked(
    pool: &PgPool,
    code: &str,
) -> Result<Option<(Uuid, Profile)>, sqlx::Error> {
    let row: Option<Parked> = sqlx::query_as(
        "DELETE FROM link_confirmations WHERE code_hash = $1
         RETURNING user_id, provider, subject, name, email, email_verified, avatar_url,
                   profile_url, profile, expires_at > now() AS live",
    )
    .bind(crate::auth::token::hash(code))
    .fetch_optional(pool)
    .await?;
    Ok(row.filter(|r| r.live).map(|r| {
        (
            r.user_id,
            Profile {
                provider: r.provider,
                subject: r.subject,
                name: r.name,
                email: r.email,
                email_verified: r.email_verified,
                avatar_url: r.avatar_url,
                profile_url: r.profile_url,
                raw: r.profile,
            },
        )
    }))
}

/// Attaches a provider identity to `user_id`, in the caller's transaction.
///
/// An identity already held by another user is moved only when that user has no comments and
/// no ban: merging two people's histories (or washing a ban off by linking) must never happen
/// silently. The other user's row lock makes the check and the move atomic with respect to a
/// comment being posted by them at the same moment (its foreign key check takes a key-share lock
/// on the same row).
pub async fn link(
    conn: &mut PgConnection,
    user_id: Uuid,
    p: &Profile,
) -> Result<Link, sqlx::Error> {
    let user: Option<PublicUser> = sqlx::query_as(
        "SELECT u.id, u.name, u.avatar_url, u.profile_url FROM users u
         WHERE u.id = $1 AND EXISTS (SELECT 1 FROM identities i WHERE i.user_id = u.id)
         FOR UPDATE OF u",
    )
    .bind(user_id)
    .fetch_optional(&mut *conn)
    .await?;
    let Some(user) = user else {
        return Ok(Link::UserGone);
    };
    let inserted = sqlx::query(
        "INSERT INTO identities (id, user_id, provider, subject, email, email_verified, profile)
         VALUES ($1, $2, $3, $4, $5, $6, $7)
         ON CONFLICT ON CONSTRAINT identities_provider_subject_key DO NOTHING",
    )
    .bind(Uuid::now_v7())
    .bind(user_id)
    .bind(&p.provider)
    .bind(&p.subject)
    .bind(&p.email)
    .bind(p.email_verified)
    .bind(&p.raw)
    .execute(&mut *conn)
    .await?
    .rows_affected()
        == 1;
    if inserted {
        // Linking an erased, banned account's identity brings its ban along.
        crate::moderation::bans::inherit_erased(conn, user_id, &p.provider, &p.subject).await?;
    }
    let owner: Uuid = sqlx::query_scalar(
        "SELECT user_id FROM identities WHERE provider = $1 AND subject = $2 FOR UPDATE",
    )
    .bind(&p.provider)
    .bind(&p.subject)
    .fetch_one(&mut *conn)
    .await?;
    if owner != user_id {
        // Locked first, in its own statement, so the check below reads after any comment the
        // other user was committing meanwhile.
        sqlx::query("SELECT id FROM users WHERE id = $1 FOR UPDATE")
            .bind(owner)
            .execute(&mut *conn)
            .await?;
        let has_history: bool = sqlx::query_scalar(
            "SELECT EXISTS (SELECT 1 FROM comments WHERE user_id = $1)
                 OR EXISTS (SELECT 1 FROM bans WHERE user_id = $1)",
        )
        .bind(owner)
        .fetch_one(&mut *conn)
        .await?;
        if has_history {
            return Ok(Link::InUse);
        }
        sqlx::query("UPDATE identities SET user_id = $3 WHERE provider = $1 AND subject = $2")
            .bind(&p.provider)
            .bind(&p.subject)
            .bind(user_id)
            .execute(&mut *conn)
            .await?;
        // Sessions the other user opened through this identity would keep posting as them.
        sqlx::query(
            "UPDATE sessions SET revoked_at = now()
             WHERE user_id = $1 AND provider = $2 AND revoked_at IS NULL",
        )
        .bind(owner)
        .bind(&p.provider)
        .execute(&mut *conn)
        .await?;
    }
    sqlx::query(
        "UPDATE identities SET email = $3, email_verified = $4, profile = $5, updated_at = now()
         WHERE provider = $1 AND subject = $2",
    )
    .bind(&p.provider)
    .bind(&p.subject)
    .bind(&p.email)
    .bind(p.email_verified)
    .bind(&p.raw)
    .execute(&mut *conn)
    .await?;
    Ok(Link::Linked(user))
}

// ---------------------------------------------------------------------------------------------
// Export

#[derive(Debug, FromRow, Serialize, ToSchema)]
pub struct UserRow {
    pub id: Uuid,
    pub name: String,
    pub email: Option<String>,
    pub avatar_url: Option<String>,
    pub profile_url: Option<String>,
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub created_at: OffsetDateTime,
}

#[derive(Debug, FromRow, Serialize, ToSchema)]
pub struct IdentityRow {
    pub provider: String,
    pub subject: String,
    pub email: Option<String>,
    pub email_verified: bool,
    /// The provider's profile as it was received (never a token: those aren't stored).
    #[schema(value_type = Object)]
    pub profile: Value,
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub created_at: OffsetDateTime,
}

#[derive(Debug, FromRow, Serialize, ToSchema)]
pub struct CommentRow {
    pub id: Uuid,
    pub site: String,
    #[serde(rename = "uri")]
    pub thread_uri: String,
    pub parent_id: Option<Uuid>,
    pub status: String,
    pub author_name: String,
    pub author_url: Option<String>,
    pub author_email: Option<String>,
    pub author_ip: Option<String>,
    pub author_user_agent: Option<String>,
    /// The Markdown as written.
    #[serde(rename = "body")]
    pub body_markdown: String,
    /// The HTML as shown.
    #[serde(rename = "html")]
    pub body_html: String,
    pub score: i32,
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339::option")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub edited_at: Option<OffsetDateTime>,
}

#[derive(Debug, FromRow, Serialize, ToSchema)]
pub struct FlagRow {
    pub comment_id: Uuid,
    pub site: String,
    pub reason: String,
    pub note: Option<String>,
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub created_at: OffsetDateTime,
}

#[derive(Debug, FromRow, Serialize, ToSchema)]
pub struct VoteRow {
    pub comment_id: Uuid,
    pub site: String,
    pub value: i16,
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub created_at: OffsetDateTime,
}

#[derive(Debug, FromRow, Serialize, ToSchema)]
pub struct SessionRow {
    pub id: Uuid,
    pub provider: String,
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub expires_at: OffsetDateTime,
}

pub struct Export {
    pub user: UserRow,
    pub identities: Vec<IdentityRow>,
    pub sessions: Vec<SessionRow>,
    pub comments: Vec<CommentRow>,
    pub flags: Vec<FlagRow>,
    pub votes: Vec<VoteRow>,
    /// None when this database has no appeals table.
    pub appeals: Option<Vec<Value>>,
}

/// Everything stored about a user, read in one snapshot (a repeatable-read transaction).
pub async fn export(pool: &PgPool, user_id: Uuid) -> Result<Option<Export>, sqlx::Error> {
    let mut tx = pool.begin().await?;
    sqlx::query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
        .execute(&mut *tx)
        .await?;
    let user: Option<UserRow> = sqlx::query_as(
        "SELECT id, name, email, avatar_url, profile_url, created_at FROM users WHERE id = $1",
    )
    .bind(user_id)
    .fetch_optional(&mut *tx)
    .await?;
    let Some(user) = user else {
        return Ok(None);
    };
    let identities = sqlx::query_as(
        "SELECT provider, subject, email, email_verified, profile, created_at
         FROM identities WHERE user_id = $1 ORDER BY created_at, id",
    )
    .bind(user_id)
    .fetch_all(&mut *tx)
    .await?;
    let sessions = sqlx::query_as(
        "SELECT id, provider, created_at, expires_at FROM sessions
         WHERE user_id = $1 AND revoked_at IS NULL AND expires_at > now()
         ORDER BY created_at, id",
    )
    .bind(user_id)
    .fetch_all(&mut *tx)
    .await?;
    let comments = sqlx::query_as(
        "SELECT c.id, s.slug AS site, t.uri AS thread_uri, c.parent_id, c.status, c.author_name,
                c.author_url, c.author_email, host(c.author_ip) AS author_ip, c.author_user_agent,
                c.body_markdown, c.body_html, c.score, c.created_at, c.edited_at
         FROM comments c JOIN sites s ON s.id = c.site_id JOIN threads t ON t.id = c.thread_id
         WHERE c.user_id = $1 ORDER BY c.created_at, c.id",
    )
    .bind(user_id)
    .fetch_all(&mut *tx)
    .await?;
    let flags = sqlx::query_as(
        "SELECT f.comment_id, s.slug AS site, f.reason, f.note, f.created_at
         FROM flags f JOIN sites s ON s.id = f.site_id
         WHERE f.user_id = $1 ORDER BY f.created_at, f.comment_id",
    )
    .bind(user_id)
    .fetch_all(&mut *tx)
    .await?;
    let votes = sqlx::query_as(
        "SELECT v.comment_id, s.slug AS site, v.value, v.created_at
         FROM votes v JOIN sites s ON s.id = v.site_id
         WHERE v.user_id = $1 ORDER BY v.created_at, v.comment_id",
    )
    .bind(user_id)
    .fetch_all(&mut *tx)
    .await?;
    let appeals = if has_appeals(&mut tx).await? {
        // The deciding moderator's id is theirs, not the commenter's: left out.
        Some(
            sqlx::query_scalar(
                "SELECT to_jsonb(a) - 'decided_by' - 'user_id' FROM appeals a
                 WHERE a.user_id = $1 ORDER BY a.created_at, a.id",
            )
            .bind(user_id)
            .fetch_all(&mut *tx)
            .await?,
        )
    } else {
        None
    };
    tx.commit().await?;
    Ok(Some(Export {
        user,
        identities,
        sessions,
        comments,
        flags,
        votes,
        appeals,
    }))
}

/// Appeals are a later feature; a database migrated before it has no such table.
async fn has_appeals(conn: &mut PgConnection) -> Result<bool, sqlx::Error> {
    sqlx::query_scalar("SELECT to_regclass('appeals') IS NOT NULL")
        .fetch_one(conn)
        .await
}

// ---------------------------------------------------------------------------------------------
// Erase

/// A comment of the user that removal still has to take through the state machine.
#[derive(Debug, FromRow)]
pub struct LiveComment {
    pub id: Uuid,
    pub site_id: Uuid,
}

/// Locks the user row for the erase; false when it doesn't exist.
pub async fn lock_user(conn: &mut PgConnection, user_id: Uuid) -> Result<bool, sqlx::Error> {
    let found: Option<Uuid> = sqlx::query_scalar("SELECT id FROM users WHERE id = $1 FOR UPDATE")
        .bind(user_id)
        .fetch_optional(conn)
        .await?;
    Ok(found.is_some())
}

/// The user's comments that are not deleted yet (to be removed through the state machine).
pub async fn live_comments(
    conn: &mut PgConnection,
    user_id: Uuid,
) -> Result<Vec<LiveComment>, sqlx::Error> {
    sqlx::query_as(
        "SELECT id, site_id FROM comments WHERE user_id = $1 AND status <> 'deleted'
         ORDER BY created_at, id",
    )
    .bind(user_id)
    .fetch_all(conn)
    .await
}

/// Blanks the text of every comment of the user, and of their earlier revisions.
pub async fn blank_comments(conn: &mut PgConnection, user_id: Uuid) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE comment_revisions SET body_markdown = ''
         WHERE comment_id IN (SELECT id FROM comments WHERE user_id = $1)",
    )
    .bind(user_id)
    .execute(&mut *conn)
    .await?;
    sqlx::query(
        "UPDATE comments SET body_markdown = '', body_html = '', version = version + 1, updated_at = now()
         WHERE user_id = $1",
    )
    .bind(user_id)
    .execute(conn)
    .await?;
    Ok(())
}

/// Removes everything personal about the user and leaves an anonymous row their kept comments
/// point at. Answers the threads whose pages changed.
pub async fn erase(conn: &mut PgConnection, user_id: Uuid) -> Result<Vec<Uuid>, sqlx::Error> {
    // Votes leave the scores they made.
    let mut threads: Vec<Uuid> = sqlx::query_scalar(
        "WITH gone AS (
             DELETE FROM votes WHERE user_id = $1 RETURNING comment_id, value
         ), delta AS (
             SELECT comment_id, sum(value)::int AS total FROM gone GROUP BY comment_id
         )
         UPDATE comments c SET score = c.score - d.total
         FROM delta d WHERE c.id = d.comment_id
         RETURNING c.thread_id",
    )
    .bind(user_id)
    .fetch_all(&mut *conn)
    .await?;
    let authored: Vec<Uuid> = sqlx::query_scalar(
        "UPDATE comments SET author_name = $2, author_url = NULL, author_email = NULL,
                author_ip = NULL, author_user_agent = NULL, updated_at = now()
         WHERE user_id = $1
         RETURNING thread_id",
    )
    .bind(user_id)
    .bind(DELETED_NAME)
    .fetch_all(&mut *conn)
    .await?;
    threads.extend(authored);
    crate::moderation::bans::remember_erased_identities(conn, user_id).await?;
    for sql in [
        "DELETE FROM flags WHERE user_id = $1",
        "DELETE FROM sessions WHERE user_id = $1",
        "DELETE FROM identities WHERE user_id = $1",
        "DELETE FROM login_states WHERE link_user_id = $1",
        "DELETE FROM link_confirmations WHERE user_id = $1",
        "DELETE FROM site_users WHERE user_id = $1",
        "DELETE FROM idempotency_keys WHERE author = $1::text",
    ] {
        sqlx::query(sql).bind(user_id).execute(&mut *conn).await?;
    }
    if has_appeals(conn).await? {
        sqlx::query("DELETE FROM appeals WHERE user_id = $1")
            .bind(user_id)
            .execute(&mut *conn)
            .await?;
    }
    sqlx::query(
        "UPDATE users SET name = $2, email = NULL, avatar_url = NULL, profile_url = NULL, updated_at = now()
         WHERE id = $1",
    )
    .bind(user_id)
    .bind(DELETED_NAME)
    .execute(&mut *conn)
    .await?;
    threads.sort_unstable();
    threads.dedup();
    Ok(threads)
}
