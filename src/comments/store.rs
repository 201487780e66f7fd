//! All SQL about threads, comments, guest authors and idempotency keys.

use std::net::IpAddr;

use sqlx::types::Json;
use sqlx::{FromRow, PgConnection, PgPool};
use time::OffsetDateTime;
use uuid::Uuid;

use super::Cursor;
use crate::domain::SortOrder;
use crate::moderation::Reason;

/// The columns of `CommentRow`, for queries over `comments c JOIN users u` (a macro, because
/// sqlx takes only static SQL and `concat!` only literals).
macro_rules! comment_row_columns {
    () => {
        "c.id, c.thread_id, c.parent_id, c.root_id, c.depth, c.user_id, c.author_provider, c.author_name,
         c.author_url, c.author_avatar_url AS avatar_url, c.body_html, c.status, c.score, c.created_at, c.edited_at, c.shadow"
    };
}

#[derive(Debug, Clone, FromRow)]
pub struct ThreadRow {
    pub id: Uuid,
    pub uri: String,
    pub title: Option<String>,
    pub url: Option<String>,
    pub locked: bool,
}

/// The thread of a page, created by its first comment. Concurrent first comments share one row.
/// The first title and url reported stick, so a later commenter can't rename a thread.
///
/// An existing thread is read without a row lock (an upsert's `DO UPDATE` would lock it and
/// serialize every comment on a busy page); the row is only written when it is new or still
/// lacks a title or url.
pub async fn upsert_thread(
    conn: &mut PgConnection,
    site_id: Uuid,
    uri: &str,
    title: Option<&str>,
    url: Option<&str>,
) -> Result<ThreadRow, sqlx::Error> {
    for _ in 0..2 {
        let row: Option<ThreadRow> = sqlx::query_as(
            "WITH found AS (
                 SELECT id, uri, title, url, locked FROM threads WHERE site_id = $2 AND uri = $3
             ), created AS (
                 INSERT INTO threads (id, site_id, uri, title, url)
                 SELECT $1, $2, $3, $4, $5 WHERE NOT EXISTS (SELECT 1 FROM found)
                 ON CONFLICT ON CONSTRAINT threads_site_uri_key DO NOTHING
                 RETURNING id, uri, title, url, locked
             )
             SELECT * FROM found UNION ALL SELECT * FROM created",
        )
        .bind(Uuid::now_v7())
        .bind(site_id)
        .bind(uri)
        .bind(title)
        .bind(url)
        .fetch_optional(&mut *conn)
        .await?;
        // None: a concurrent first comment created it between our read and insert; read again.
        let Some(row) = row else { continue };
        let fills_gap =
            (row.title.is_none() && title.is_some()) || (row.url.is_none() && url.is_some());
        if !fills_gap {
            return Ok(row);
        }
        return sqlx::query_as(
            "UPDATE threads SET title = COALESCE(title, $2), url = COALESCE(url, $3) WHERE id = $1
             RETURNING id, uri, title, url, locked",
        )
        .bind(row.id)
        .bind(title)
        .bind(url)
        .fetch_one(&mut *conn)
        .await;
    }
    Err(sqlx::Error::RowNotFound)
}

pub async fn find_thread(
    pool: &PgPool,
    site_id: Uuid,
    uri: &str,
) -> Result<Option<ThreadRow>, sqlx::Error> {
    sqlx::query_as(
        "SELECT id, uri, title, url, locked FROM threads WHERE site_id = $1 AND uri = $2",
    )
    .bind(site_id)
    .bind(uri)
    .fetch_optional(pool)
    .await
}

#[derive(Debug, FromRow)]
pub struct ParentRow {
    pub thread_id: Uuid,
    pub root_id: Uuid,
    pub depth: i32,
    pub status: String,
    pub user_id: Uuid,
}

pub async fn find_parent(
    conn: &mut PgConnection,
    site_id: Uuid,
    id: Uuid,
) -> Result<Option<ParentRow>, sqlx::Error> {
    sqlx::query_as("SELECT thread_id, root_id, depth, status, user_id FROM comments WHERE id = $1 AND site_id = $2")
        .bind(id)
        .bind(site_id)
        .fetch_optional(conn)
        .await
}

/// The user behind a guest identity, if they commented before.
pub async fn find_guest_user(pool: &PgPool, subject: &str) -> Result<Option<Uuid>, sqlx::Error> {
    sqlx::query_scalar("SELECT user_id FROM identities WHERE provider = 'guest' AND subject = $1")
        .bind(subject)
        .fetch_optional(pool)
        .await
}

/// The user behind a guest email on a site, created on their first comment. Guest identities
/// are per site so a guest's author id can't be used to follow them across blogs.
pub async fn guest_user(
    conn: &mut PgConnection,
    subject: &str,
    name: &str,
    email: &str,
    website: Option<&str>,
) -> Result<Uuid, sqlx::Error> {
    // Two attempts: a concurrent first comment by the same guest can win the identity insert,
    // after which the second attempt finds its row.
    for _ in 0..2 {
        let found: Option<Uuid> = sqlx::query_scalar(
            "WITH existing AS (
                 SELECT user_id FROM identities WHERE provider = 'guest' AND subject = $1
             ), new_user AS (
                 INSERT INTO users (id, name, email, profile_url)
                 SELECT $2, $3, $4, $5 WHERE NOT EXISTS (SELECT 1 FROM existing)
                 RETURNING id
             ), new_identity AS (
                 INSERT INTO identities (id, user_id, provider, subject, email)
                 SELECT $6, id, 'guest', $1, $4 FROM new_user
                 ON CONFLICT ON CONSTRAINT identities_provider_subject_key DO NOTHING
                 RETURNING user_id
             )
             SELECT user_id FROM existing UNION ALL SELECT user_id FROM new_identity LIMIT 1",
        )
        .bind(subject)
        .bind(Uuid::now_v7())
        .bind(name)
        .bind(email)
        .bind(website)
        .bind(Uuid::now_v7())
        .fetch_optional(&mut *conn)
        .await?;
        if let Some(id) = found {
            return Ok(id);
        }
    }
    Err(sqlx::Error::RowNotFound)
}

pub struct NewComment<'a> {
    pub id: Uuid,
    pub site_id: Uuid,
    pub thread_id: Uuid,
    pub parent_id: Option<Uuid>,
    pub root_id: Uuid,
    pub depth: i32,
    pub user_id: Uuid,
    pub author_provider: &'a str,
    pub author_name: &'a str,
    pub author_url: Option<&'a str>,
    /// A snapshot, like the name: the avatar of the login the comment was posted with.
    pub author_avatar_url: Option<&'a str>,
    pub author_email: Option<&'a str>,
    pub author_ip: Option<IpAddr>,
    pub author_user_agent: Option<&'a str>,
    pub body_markdown: &'a str,
    pub body_html: &'a str,
    pub status: &'a str,
    pub reasons: &'a [Reason],
    pub shadow: bool,
}

/// A comment as the thread and the author see it.
#[derive(Debug, Clone, FromRow)]
pub struct CommentRow {
    pub id: Uuid,
    pub thread_id: Uuid,
    pub parent_id: Option<Uuid>,
    pub root_id: Uuid,
    pub depth: i32,
    pub user_id: Uuid,
    pub author_provider: String,
    pub author_name: String,
    pub author_url: Option<String>,
    pub avatar_url: Option<String>,
    pub body_html: String,
    pub status: String,
    pub score: i32,
    pub created_at: OffsetDateTime,
    pub edited_at: Option<OffsetDateTime>,
    pub shadow: bool,
}

pub async fn insert_comment(
    conn: &mut PgConnection,
    c: &NewComment<'_>,
) -> Result<CommentRow, sqlx::Error> {
    sqlx::query_as(
        concat!(
            r#"WITH c AS (
             INSERT INTO comments (id, site_id, thread_id, parent_id, root_id, depth, user_id, author_provider,
                 author_name, author_url, author_email, author_ip, author_user_agent, body_markdown, body_html,
                 status, reasons, shadow, author_avatar_url)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19)
             RETURNING *
         )
         SELECT "#,
            comment_row_columns!(),
            " FROM c JOIN users u ON u.id = c.user_id"
        ),
    )
    .bind(c.id)
    .bind(c.site_id)
    .bind(c.thread_id)
    .bind(c.parent_id)
    .bind(c.root_id)
    .bind(c.depth)
    .bind(c.user_id)
    .bind(c.author_provider)
    .bind(c.author_name)
    .bind(c.author_url)
    .bind(c.author_email)
    .bind(c.author_ip.map(ipnet::IpNet::from))
    .bind(c.author_user_agent)
    .bind(c.body_markdown)
    .bind(c.body_html)
    .bind(c.status)
    .bind(Json(c.reasons))
    .bind(c.shadow)
    .bind(c.author_avatar_url)
    .fetch_one(conn)
    .await
}

// A comment is visible to a reader when approved, or when it is the reader's own and pending
// (or shadow-banned: its author sees it as if published).
// The same predicate serves top-level comments and replies. A deleted comment stays in its thread
// as a placeholder while replies under it are visible, so they keep their parent: a deleted
// top-level comment is fetched only when its tree has a visible reply, and `service::arrange`
// drops every deleted comment left without a visible descendant.
const ROOTS_OLDEST: &str = concat!(
    "SELECT ",
    comment_row_columns!(),
    "
    FROM comments c JOIN users u ON u.id = c.user_id
    WHERE c.thread_id = $1 AND c.parent_id IS NULL
      AND (c.status = 'approved' OR (c.user_id = $2 AND (c.status = 'pending' OR (c.status = 'spam' AND c.shadow)))
           OR (c.status = 'deleted' AND EXISTS (
               SELECT 1 FROM comments r
               WHERE r.root_id = c.id AND r.parent_id IS NOT NULL
                 AND (r.status = 'approved' OR (r.user_id = $2 AND (r.status = 'pending' OR (r.status = 'spam' AND r.shadow)))))))
      AND ($3::timestamptz IS NULL OR (c.created_at, c.id) > ($3, $4))
    ORDER BY c.created_at, c.id
    LIMIT $5"
);

const ROOTS_NEWEST: &str = concat!(
    "SELECT ",
    comment_row_columns!(),
    "
    FROM comments c JOIN users u ON u.id = c.user_id
    WHERE c.thread_id = $1 AND c.parent_id IS NULL
      AND (c.status = 'approved' OR (c.user_id = $2 AND (c.status = 'pending' OR (c.status = 'spam' AND c.shadow)))
           OR (c.status = 'deleted' AND EXISTS (
               SELECT 1 FROM comments r
               WHERE r.root_id = c.id AND r.parent_id IS NOT NULL
                 AND (r.status = 'approved' OR (r.user_id = $2 AND (r.status = 'pending' OR (r.status = 'spam' AND r.shadow)))))))
      AND ($3::timestamptz IS NULL OR (c.created_at, c.id) < ($3, $4))
    ORDER BY c.created_at DESC, c.id DESC
    LIMIT $5"
);

const ROOTS_TOP: &str = concat!(
    "SELECT ",
    comment_row_columns!(),
    "
    FROM comments c JOIN users u ON u.id = c.user_id
    WHERE c.thread_id = $1 AND c.parent_id IS NULL
      AND (c.status = 'approved' OR (c.user_id = $2 AND (c.status = 'pending' OR (c.status = 'spam' AND c.shadow)))
           OR (c.status = 'deleted' AND EXISTS (
               SELECT 1 FROM comments r
               WHERE r.root_id = c.id AND r.parent_id IS NOT NULL
                 AND (r.status = 'approved' OR (r.user_id = $2 AND (r.status = 'pending' OR (r.status = 'spam' AND r.shadow)))))))
      AND ($3::timestamptz IS NULL
           OR c.score < $6
           OR (c.score = $6 AND (c.created_at, c.id) > ($3, $4)))
    ORDER BY c.score DESC, c.created_at, c.id
    LIMIT $5"
);

/// One page of a thread's top-level comments, `limit + 1` rows so the caller knows if more exist.
pub async fn roots_page(
    pool: &PgPool,
    thread_id: Uuid,
    viewer: Option<Uuid>,
    sort: SortOrder,
    after: Option<&Cursor>,
    limit: i64,
) -> Result<Vec<CommentRow>, sqlx::Error> {
    let sql = match sort {
        SortOrder::Oldest => ROOTS_OLDEST,
        SortOrder::Newest => ROOTS_NEWEST,
        SortOrder::Top => ROOTS_TOP,
    };
    let q = sqlx::query_as(sql)
        .bind(thread_id)
        .bind(viewer)
        .bind(after.map(|c| c.created_at))
        .bind(after.map(|c| c.id))
        .bind(limit + 1);
    let q = if sort == SortOrder::Top {
        q.bind(after.map(|c| c.score))
    } else {
        q
    };
    q.fetch_all(pool).await
}

/// Every visible reply under the given top-level comments, and every deleted one (the caller
/// keeps those that still have visible replies), oldest first (parents before children, since a
/// reply is always newer than what it answers).
pub async fn replies(
    pool: &PgPool,
    root_ids: &[Uuid],
    viewer: Option<Uuid>,
) -> Result<Vec<CommentRow>, sqlx::Error> {
    sqlx::query_as(concat!(
        "SELECT ",
        comment_row_columns!(),
        " FROM comments c JOIN users u ON u.id = c.user_id
         WHERE c.root_id = ANY ($1) AND c.parent_id IS NOT NULL
           AND (c.status IN ('approved', 'deleted')
                OR (c.user_id = $2 AND (c.status = 'pending' OR (c.status = 'spam' AND c.shadow))))
         ORDER BY c.created_at, c.id"
    ))
    .bind(root_ids)
    .bind(viewer)
    .fetch_all(pool)
    .await
}

pub async fn approved_count(pool: &PgPool, thread_id: Uuid) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar("SELECT count(*) FROM comments WHERE thread_id = $1 AND status = 'approved'")
        .bind(thread_id)
        .fetch_one(pool)
        .await
}

/// Approved comments per uri; uris without a thread are absent from the answer.
pub async fn counts(
    pool: &PgPool,
    site_id: Uuid,
    uris: &[String],
) -> Result<Vec<(String, i64)>, sqlx::Error> {
    sqlx::query_as(
        "SELECT t.uri, count(c.id)
         FROM threads t LEFT JOIN comments c ON c.thread_id = t.id AND c.status = 'approved'
         WHERE t.site_id = $1 AND t.uri = ANY ($2)
         GROUP BY t.uri",
    )
    .bind(site_id)
    .bind(uris)
    .fetch_all(pool)
    .await
}

#[derive(Debug, FromRow)]
pub struct StoredResponse {
    pub request_hash: String,
    pub response_status: i16,
    pub response_body: serde_json::Value,
}

/// Keys are remembered for a day; after that the same key is a new request.
pub async fn find_idempotent(
    pool: &PgPool,
    site_id: Uuid,
    author: &str,
    key: &str,
) -> Result<Option<StoredResponse>, sqlx::Error> {
    sqlx::query_as(
        "SELECT request_hash, response_status, response_body FROM idempotency_keys
         WHERE site_id = $1 AND author = $2 AND key = $3 AND created_at > now() - interval '24 hours'",
    )
    .bind(site_id)
    .bind(author)
    .bind(key)
    .fetch_optional(pool)
    .await
}

/// Stores the response of a keyed request in the request's own transaction. Returns false when a
/// concurrent request with the same key committed first: the caller rolls back and replays that
/// one. (The insert waits on the twin's row lock, so exactly one of them commits a comment.)
pub async fn save_idempotent(
    conn: &mut PgConnection,
    site_id: Uuid,
    author: &str,
    key: &str,
    request_hash: &str,
    status: u16,
    body: &serde_json::Value,
) -> Result<bool, sqlx::Error> {
    let saved: Option<i32> = sqlx::query_scalar(
        "INSERT INTO idempotency_keys (site_id, author, key, request_hash, response_status, response_body)
         VALUES ($1, $2, $3, $4, $5, $6)
         ON CONFLICT ON CONSTRAINT idempotency_keys_pkey DO UPDATE
             SET request_hash = EXCLUDED.request_hash, response_status = EXCLUDED.response_status,
                 response_body = EXCLUDED.response_body, created_at = now()
             WHERE idempotency_keys.created_at <= now() - interval '24 hours'
         RETURNING 1",
    )
    .bind(site_id)
    .bind(author)
    .bind(key)
    .bind(request_hash)
    .bind(status as i16)
    .bind(body)
    .fetch_optional(conn)
    .await?;
    Ok(saved.is_some())
}

/// A comment someone wants to act on (edit, delete, flag, vote), with what those checks need.
#[derive(Debug, Clone, FromRow)]
pub struct TargetRow {
    pub id: Uuid,
    pub site_id: Uuid,
    pub site_slug: String,
    pub thread_id: Uuid,
    pub root_id: Uuid,
    pub user_id: Uuid,
    pub status: String,
    pub shadow: bool,
    pub body_markdown: String,
    pub author_name: String,
    pub author_url: Option<String>,
    pub author_email: Option<String>,
    /// Seconds since the comment was posted, by the database's clock (as `created_at` is).
    pub age_s: f64,
    pub reasons: serde_json::Value,
    pub thread_locked: bool,
    pub thread_url: Option<String>,
}

pub async fn find_target(pool: &PgPool, id: Uuid) -> Result<Option<TargetRow>, sqlx::Error> {
    sqlx::query_as(
        "SELECT c.id, c.site_id, s.slug AS site_slug, c.thread_id, c.root_id, c.user_id, c.status, c.shadow,
                c.body_markdown, c.author_name, c.author_url, c.author_email,
                extract(epoch FROM now() - c.created_at)::float8 AS age_s, c.reasons,
                t.locked AS thread_locked, t.url AS thread_url
         FROM comments c JOIN sites s ON s.id = c.site_id JOIN threads t ON t.id = c.thread_id
         WHERE c.id = $1",
    )
    .bind(id)
    .fetch_optional(pool)
    .await
}

/// The status and text of a comment, its row locked until the caller's transaction ends.
#[derive(Debug, Clone, FromRow)]
pub struct LockedRow {
    pub status: String,
    pub shadow: bool,
    pub user_id: Uuid,
    pub body_markdown: String,
}

pub async fn lock_comment(
    conn: &mut PgConnection,
    site_id: Uuid,
    id: Uuid,
) -> Result<Option<LockedRow>, sqlx::Error> {
    sqlx::query_as(
        "SELECT status, shadow, user_id, body_markdown FROM comments
         WHERE id = $1 AND site_id = $2 FOR UPDATE",
    )
    .bind(id)
    .bind(site_id)
    .fetch_optional(conn)
    .await
}

/// Keeps the text an edit replaces.
pub async fn insert_revision(
    conn: &mut PgConnection,
    site_id: Uuid,
    comment_id: Uuid,
    editor_kind: &str,
    editor_id: Uuid,
    body_markdown: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO comment_revisions (comment_id, site_id, editor_kind, editor_id, body_markdown)
         VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(comment_id)
    .bind(site_id)
    .bind(editor_kind)
    .bind(editor_id)
    .bind(body_markdown)
    .execute(conn)
    .await?;
    Ok(())
}

/// An author's edits of the last minute, of one comment and of all their comments on the site,
/// each counted only up to its limit (0 = off, not counted), and when the oldest counted one
/// leaves the window.
#[derive(Debug, sqlx::FromRow)]
pub struct RecentEdits {
    pub comment: i64,
    pub comment_frees_in_s: Option<f64>,
    pub user: i64,
    pub user_frees_in_s: Option<f64>,
}

pub async fn recent_edits(
    conn: &mut PgConnection,
    site_id: Uuid,
    comment_id: Uuid,
    user_id: Uuid,
    (comment_cap, user_cap): (i64, i64),
) -> Result<RecentEdits, sqlx::Error> {
    sqlx::query_as(
        "WITH of_comment AS (
             SELECT created_at FROM comment_revisions
             WHERE comment_id = $2 AND editor_kind = 'author' AND $4 > 0
               AND created_at > now() - interval '1 minute'
             ORDER BY created_at LIMIT $4
         ), of_user AS (
             SELECT created_at FROM comment_revisions
             WHERE site_id = $1 AND editor_kind = 'author' AND editor_id = $3 AND $5 > 0
               AND created_at > now() - interval '1 minute'
             ORDER BY created_at LIMIT $5
         )
         SELECT (SELECT count(*) FROM of_comment) AS comment,
                (SELECT extract(epoch FROM min(created_at) + interval '1 minute' - now())::float8 FROM of_comment) AS comment_frees_in_s,
                (SELECT count(*) FROM of_user) AS user,
                (SELECT extract(epoch FROM min(created_at) + interval '1 minute' - now())::float8 FROM of_user) AS user_frees_in_s",
    )
    .bind(site_id)
    .bind(comment_id)
    .bind(user_id)
    .bind(comment_cap)
    .bind(user_cap)
    .fetch_one(conn)
    .await
}

/// Writes an edited text and the reasons the pipeline gave for it (None keeps the stored ones).
pub async fn update_body(
    conn: &mut PgConnection,
    site_id: Uuid,
    id: Uuid,
    body_markdown: &str,
    body_html: &str,
    reasons: Option<&[Reason]>,
    shadow: bool,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE comments SET body_markdown = $3, body_html = $4, reasons = coalesce($5, reasons),
                shadow = $6, edited_at = now(), updated_at = now(), version = version + 1
         WHERE id = $1 AND site_id = $2",
    )
    .bind(id)
    .bind(site_id)
    .bind(body_markdown)
    .bind(body_html)
    .bind(reasons.map(Json))
    .bind(shadow)
    .execute(conn)
    .await?;
    Ok(())
}

/// Adds reasons to those a comment already carries (flags after publication).
pub async fn append_reasons(
    conn: &mut PgConnection,
    site_id: Uuid,
    id: Uuid,
    reasons: &[Reason],
) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE comments SET reasons = reasons || $3 WHERE id = $1 AND site_id = $2")
        .bind(id)
        .bind(site_id)
        .bind(Json(reasons))
        .execute(conn)
        .await?;
    Ok(())
}

/// A comment as its author sees it in a response.
pub async fn comment_row(conn: &mut PgConnection, id: Uuid) -> Result<CommentRow, sqlx::Error> {
    sqlx::query_as(concat!(
        "SELECT ",
        comment_row_columns!(),
        " FROM comments c JOIN users u ON u.id = c.user_id WHERE c.id = $1"
    ))
    .bind(id)
    .fetch_one(conn)
    .await
}

/// Published direct replies of a comment.
pub async fn reply_count(
    conn: &mut PgConnection,
    root_id: Uuid,
    id: Uuid,
) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT count(*) FROM comments WHERE root_id = $1 AND parent_id = $2 AND status = 'approved'",
    )
    .bind(root_id)
    .bind(id)
    .fetch_one(conn)
    .await
}

/// Records a reader's flag; false when they had flagged this comment already.
pub async fn insert_flag(
    conn: &mut PgConnection,
    site_id: Uuid,
    comment_id: Uuid,
    user_id: Uuid,
    reason: &str,
    note: Option<&str>,
) -> Result<bool, sqlx::Error> {
    let inserted: Option<i32> = sqlx::query_scalar(
        "INSERT INTO flags (comment_id, user_id, site_id, reason, note) VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT ON CONSTRAINT flags_pkey DO NOTHING
         RETURNING 1",
    )
    .bind(comment_id)
    .bind(user_id)
    .bind(site_id)
    .bind(reason)
    .bind(note)
    .fetch_optional(conn)
    .await?;
    Ok(inserted.is_some())
}

#[derive(Debug, Clone, Copy, FromRow)]
pub struct FlagCount {
    /// Every flag the comment has.
    pub total: i64,
    /// Flags since a moderator last approved it: a comment a moderator kept despite its flags
    /// goes back to the queue only when enough new readers flag it.
    pub since_approval: i64,
}

pub async fn flag_count(
    conn: &mut PgConnection,
    site_id: Uuid,
    comment_id: Uuid,
) -> Result<FlagCount, sqlx::Error> {
    sqlx::query_as(
        "WITH approved AS (
             SELECT max(created_at) AS at FROM moderation_events
             WHERE comment_id = $1 AND actor_kind = 'moderator' AND to_status = 'approved'
         )
         SELECT count(*) AS total,
                count(*) FILTER (WHERE f.created_at > coalesce((SELECT at FROM approved), '-infinity'))
                    AS since_approval
         FROM flags f WHERE f.comment_id = $1 AND f.site_id = $2",
    )
    .bind(comment_id)
    .bind(site_id)
    .fetch_one(conn)
    .await
}

/// Remembers a shadow-banned reader's flag (never counted anywhere, see `shadow_reactions`);
/// false when they already flagged the comment, shadow or not, as `insert_flag` answers.
pub async fn insert_shadow_flag(
    conn: &mut PgConnection,
    site_id: Uuid,
    comment_id: Uuid,
    user_id: Uuid,
    reason: &str,
    note: Option<&str>,
) -> Result<bool, sqlx::Error> {
    let real: bool = sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM flags WHERE comment_id = $1 AND user_id = $2)",
    )
    .bind(comment_id)
    .bind(user_id)
    .fetch_one(&mut *conn)
    .await?;
    if real {
        return Ok(false);
    }
    let stored: Option<i32> = sqlx::query_scalar(
        "INSERT INTO shadow_reactions (comment_id, user_id, site_id, flag_reason, flag_note)
         VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT ON CONSTRAINT shadow_reactions_pkey DO UPDATE
             SET flag_reason = EXCLUDED.flag_reason, flag_note = EXCLUDED.flag_note
             WHERE shadow_reactions.flag_reason IS NULL
         RETURNING 1",
    )
    .bind(comment_id)
    .bind(user_id)
    .bind(site_id)
    .bind(reason)
    .bind(note)
    .fetch_optional(conn)
    .await?;
    Ok(stored.is_some())
}

/// Remembers a shadow-banned reader's vote and answers the score they would see had it
/// counted: the stored score with their real vote (from before the ban, if any) replaced by this
/// one. Repeating it answers the same; nothing real changes.
pub async fn set_shadow_vote(
    conn: &mut PgConnection,
    site_id: Uuid,
    comment_id: Uuid,
    user_id: Uuid,
    value: i16,
) -> Result<i32, sqlx::Error> {
    sqlx::query(
        "INSERT INTO shadow_reactions (comment_id, user_id, site_id, vote) VALUES ($1, $2, $3, $4)
         ON CONFLICT ON CONSTRAINT shadow_reactions_pkey DO UPDATE SET vote = EXCLUDED.vote",
    )
    .bind(comment_id)
    .bind(user_id)
    .bind(site_id)
    .bind(value)
    .execute(&mut *conn)
    .await?;
    sqlx::query_scalar(
        "SELECT c.score - COALESCE((SELECT v.value FROM votes v
                                    WHERE v.comment_id = c.id AND v.user_id = $3), 0)::int + $4
         FROM comments c WHERE c.id = $1 AND c.site_id = $2",
    )
    .bind(comment_id)
    .bind(site_id)
    .bind(user_id)
    .bind(i32::from(value))
    .fetch_one(conn)
    .await
}

/// Sets (or with 0 removes) a reader's vote and keeps `comments.score` their sum; returns the
/// new score. The caller holds the comment's row lock, so a reader's concurrent votes can't
/// both count.
pub async fn set_vote(
    conn: &mut PgConnection,
    site_id: Uuid,
    comment_id: Uuid,
    user_id: Uuid,
    value: i16,
) -> Result<i32, sqlx::Error> {
    let old: Option<i16> = if value == 0 {
        sqlx::query_scalar(
            "DELETE FROM votes WHERE comment_id = $1 AND user_id = $2 RETURNING value",
        )
        .bind(comment_id)
        .bind(user_id)
        .fetch_optional(&mut *conn)
        .await?
    } else {
        sqlx::query_scalar(
            "WITH old AS (
                 SELECT value FROM votes WHERE comment_id = $1 AND user_id = $2
             ), up AS (
                 INSERT INTO votes (comment_id, user_id, site_id, value) VALUES ($1, $2, $3, $4)
                 ON CONFLICT ON CONSTRAINT votes_pkey DO UPDATE SET value = EXCLUDED.value
                 RETURNING 1
             )
             SELECT (SELECT value FROM old) FROM up",
        )
        .bind(comment_id)
        .bind(user_id)
        .bind(site_id)
        .bind(value)
        .fetch_one(&mut *conn)
        .await?
    };
    let delta = i32::from(value) - i32::from(old.unwrap_or(0));
    if delta == 0 {
        // Nothing changed: don't touch the row (every update re-renders the thread everywhere).
        return sqlx::query_scalar("SELECT score FROM comments WHERE id = $1 AND site_id = $2")
            .bind(comment_id)
            .bind(site_id)
            .fetch_one(conn)
            .await;
    }
    sqlx::query_scalar(
        "UPDATE comments SET score = score + $3 WHERE id = $1 AND site_id = $2 RETURNING score",
    )
    .bind(comment_id)
    .bind(site_id)
    .bind(delta)
    .fetch_one(conn)
    .await
}

/// One comment as readers see it, with its count of visible direct replies and whether it was
/// ever published (live updates).
/// A changed comment as live updates need it: the row, its visible replies, whether it was
/// ever public, and where it lives (site and thread uri, so a reader of a thread that didn't
/// exist yet recognizes its first comment without a query).
#[derive(FromRow)]
pub struct LiveComment {
    #[sqlx(flatten)]
    pub comment: CommentRow,
    pub replies: i64,
    pub ever_public: bool,
    pub site_id: Uuid,
    pub thread_uri: String,
}

pub async fn public_comment(pool: &PgPool, id: Uuid) -> Result<Option<LiveComment>, sqlx::Error> {
    sqlx::query_as(concat!(
        "SELECT ",
        comment_row_columns!(),
        ", (SELECT count(*) FROM comments r WHERE r.parent_id = c.id AND r.status = 'approved') AS replies,
           EXISTS (SELECT 1 FROM moderation_events e WHERE e.comment_id = c.id AND e.to_status = 'approved') AS ever_public,
           c.site_id, t.uri AS thread_uri
         FROM comments c JOIN users u ON u.id = c.user_id JOIN threads t ON t.id = c.thread_id
         WHERE c.id = $1"
    ))
    .bind(id)
    .fetch_optional(pool)
    .await
}
