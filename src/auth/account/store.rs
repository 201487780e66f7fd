//! SQL for linking identities, exporting and erasing a commenter's account.

use serde::Serialize;
use serde_json::Value;
use sqlx::{FromRow, PgConnection, PgPool};
use time::OffsetDateTime;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::auth::users::Profile;

/// A comment's status as its author sees it (`c` is the comment): a shadow-banned author's
/// comment is stored as spam but shown to them as published, in the widget, on the account
/// page and in their export alike, so nothing they can read gives the shadow ban away.
macro_rules! author_status {
    () => {
        "(CASE WHEN c.status = 'spam' AND c.shadow THEN 'approved' ELSE c.status END)"
    };
}

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
    let inserted = crate::auth::users::insert_identity(conn, Uuid::now_v7(), user_id, p).await?;
    if inserted {
        // Linking an erased, banned account's identity brings its ban along.
        crate::auth::ban_carryover::inherit_erased(conn, user_id, &p.provider, &p.subject).await?;
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
        "UPDATE identities SET email = $3, email_verified = $4, profile = $5, name = $6,
                avatar_url = $7, profile_url = $8, updated_at = now()
         WHERE provider = $1 AND subject = $2",
    )
    .bind(&p.provider)
    .bind(&p.subject)
    .bind(&p.email)
    .bind(p.email_verified)
    .bind(&p.raw)
    .bind(&p.name)
    .bind(&p.avatar_url)
    .bind(&p.profile_url)
    .execute(&mut *conn)
    .await?;
    Ok(Link::Linked(user))
}

/// A login of the signed-in reader, as the account page lists it.
#[derive(Debug, FromRow, Serialize, ToSchema)]
pub struct MyIdentity {
    /// Pass to `DELETE /account/api/identities/{id}` to unlink it.
    pub id: Uuid,
    #[schema(example = "google")]
    pub provider: String,
    pub email: Option<String>,
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub created_at: OffsetDateTime,
}

pub async fn identities(pool: &PgPool, user_id: Uuid) -> Result<Vec<MyIdentity>, sqlx::Error> {
    sqlx::query_as(
        "SELECT id, provider, email, created_at FROM identities WHERE user_id = $1
         ORDER BY created_at, id",
    )
    .bind(user_id)
    .fetch_all(pool)
    .await
}

/// How an unlink ended.
pub enum Unlink {
    Done,
    NotFound,
    /// The account's only login: never unlinked.
    Last,
}

/// Unlinks one of the user's identities (the caller holds the user's row lock, so two unlinks
/// at once can't leave the account without a login), and ends the sessions opened through that
/// provider: whoever held that login must not keep acting as this account.
pub async fn unlink(
    conn: &mut PgConnection,
    user_id: Uuid,
    identity_id: Uuid,
) -> Result<Unlink, sqlx::Error> {
    let held: Vec<(Uuid, String)> =
        sqlx::query_as("SELECT id, provider FROM identities WHERE user_id = $1")
            .bind(user_id)
            .fetch_all(&mut *conn)
            .await?;
    let Some((_, provider)) = held.iter().find(|(id, _)| *id == identity_id) else {
        return Ok(Unlink::NotFound);
    };
    if held.len() < 2 {
        return Ok(Unlink::Last);
    }
    // The login leaves with the user's standing bans, as an erased account's do.
    crate::auth::ban_carryover::remember_leaving_identities(conn, user_id, Some(identity_id))
        .await?;
    sqlx::query("DELETE FROM identities WHERE id = $1 AND user_id = $2")
        .bind(identity_id)
        .bind(user_id)
        .execute(&mut *conn)
        .await?;
    sqlx::query(
        "UPDATE sessions SET revoked_at = now()
         WHERE user_id = $1 AND provider = $2 AND revoked_at IS NULL",
    )
    .bind(user_id)
    .bind(provider)
    .execute(&mut *conn)
    .await?;
    Ok(Unlink::Done)
}

/// One of the reader's comments on the account page.
#[derive(Debug, FromRow, Serialize, ToSchema)]
pub struct AccountComment {
    pub id: Uuid,
    /// The blog's slug.
    #[schema(example = "my-blog")]
    pub site: String,
    /// The blog's name.
    pub site_name: String,
    /// The page's path on the blog.
    pub uri: String,
    /// The page's title, when the widget sent one.
    pub title: Option<String>,
    /// A link to the page: the one the widget reported, else the blog's first origin + `uri`.
    pub url: Option<String>,
    /// As the author sees it: `approved`, `pending`, `spam`, `rejected` or `deleted` (held by
    /// a shadow ban shows `approved`).
    pub status: String,
    /// The comment as shown (sanitized HTML).
    pub html: String,
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339::option")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub edited_at: Option<OffsetDateTime>,
}

/// A page of the user's comments on every site, newest first, before the `(created_at, id)`
/// cursor.
pub async fn comments_of(
    pool: &PgPool,
    user_id: Uuid,
    before: Option<(OffsetDateTime, Uuid)>,
    limit: i64,
) -> Result<Vec<AccountComment>, sqlx::Error> {
    let (at, id) = before.unzip();
    sqlx::query_as(concat!(
        "SELECT c.id, s.slug AS site, s.name AS site_name, t.uri, t.title,
                COALESCE(t.url, s.origins[1] || t.uri) AS url, ",
        author_status!(),
        " AS status, c.body_html AS html, c.created_at, c.edited_at
         FROM comments c JOIN sites s ON s.id = c.site_id JOIN threads t ON t.id = c.thread_id
         WHERE c.user_id = $1
           AND (c.created_at, c.id) < (COALESCE($2::timestamptz, 'infinity'),
                                       COALESCE($3::uuid, 'ffffffff-ffff-ffff-ffff-ffffffffffff'))
         ORDER BY c.created_at DESC, c.id DESC
         LIMIT $4"
    ))
    .bind(user_id)
    .bind(at)
    .bind(id)
    .bind(limit)
    .fetch_all(pool)
    .await
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
    /// `site` (opened through a blog's login popup; acts on that blog only) or `account` (this
    /// account page).
    pub kind: String,
    /// The blog a `site` session belongs to.
    pub site: Option<String>,
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
        "SELECT x.id, x.kind, s.slug AS site, x.provider, x.created_at, x.expires_at
         FROM sessions x LEFT JOIN sites s ON s.id = x.site_id
         WHERE x.user_id = $1 AND x.revoked_at IS NULL AND x.expires_at > now()
         ORDER BY x.created_at, x.id",
    )
    .bind(user_id)
    .fetch_all(&mut *tx)
    .await?;
    let comments = sqlx::query_as(concat!(
        "SELECT c.id, s.slug AS site, t.uri AS thread_uri, c.parent_id, ",
        author_status!(),
        " AS status, c.author_name,
                c.author_url, c.author_email, host(c.author_ip) AS author_ip, c.author_user_agent,
                c.body_markdown, c.body_html, c.score, c.created_at, c.edited_at
         FROM comments c JOIN sites s ON s.id = c.site_id JOIN threads t ON t.id = c.thread_id
         WHERE c.user_id = $1 ORDER BY c.created_at, c.id"
    ))
    .bind(user_id)
    .fetch_all(&mut *tx)
    .await?;
    let flags = sqlx::query_as(
        // A shadow-banned reader's flags and votes are theirs too, and shown as they sent them.
        "SELECT f.comment_id, s.slug AS site, f.reason, f.note, f.created_at
         FROM flags f JOIN sites s ON s.id = f.site_id WHERE f.user_id = $1
         UNION ALL
         SELECT r.comment_id, s.slug, r.flag_reason, r.flag_note, r.created_at
         FROM shadow_reactions r JOIN sites s ON s.id = r.site_id
         WHERE r.user_id = $1 AND r.flag_reason IS NOT NULL
         ORDER BY created_at, comment_id",
    )
    .bind(user_id)
    .fetch_all(&mut *tx)
    .await?;
    let votes = sqlx::query_as(
        "SELECT v.comment_id, s.slug AS site, v.value, v.created_at
         FROM votes v JOIN sites s ON s.id = v.site_id
         WHERE v.user_id = $1 AND NOT EXISTS (SELECT 1 FROM shadow_reactions r
                                              WHERE r.comment_id = v.comment_id AND r.user_id = $1
                                                AND r.vote <> 0)
         UNION ALL
         SELECT r.comment_id, s.slug, r.vote, r.created_at
         FROM shadow_reactions r JOIN sites s ON s.id = r.site_id
         WHERE r.user_id = $1 AND r.vote <> 0
         ORDER BY created_at, comment_id",
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
                author_avatar_url = NULL, author_ip = NULL, author_user_agent = NULL,
                updated_at = now()
         WHERE user_id = $1
         RETURNING thread_id",
    )
    .bind(user_id)
    .bind(DELETED_NAME)
    .fetch_all(&mut *conn)
    .await?;
    threads.extend(authored);
    crate::auth::ban_carryover::remember_leaving_identities(conn, user_id, None).await?;
    for sql in [
        "DELETE FROM flags WHERE user_id = $1",
        "DELETE FROM shadow_reactions WHERE user_id = $1",
        "DELETE FROM sessions WHERE user_id = $1",
        "DELETE FROM identities WHERE user_id = $1",
        "DELETE FROM login_states WHERE link_user_id = $1",
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
