//! The comments people act on (edit, delete, flag, vote), and the record of their edits.

use sqlx::types::Json;
use sqlx::{FromRow, PgConnection, PgPool};
use uuid::Uuid;

use crate::domain::CommentStatus;
use crate::moderation::Reason;
/// A comment someone wants to act on (edit, delete, flag, vote), with what those checks need.
#[derive(Debug, Clone, FromRow)]
pub struct TargetRow {
    pub id: Uuid,
    pub site_id: Uuid,
    pub site_slug: String,
    pub thread_id: Uuid,
    pub root_id: Uuid,
    pub user_id: Uuid,
    pub status: CommentStatus,
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
    pub status: CommentStatus,
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
