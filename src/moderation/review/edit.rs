//! A moderator's edit of a comment's body.

use serde_json::json;
use sqlx::PgConnection;
use uuid::Uuid;

use crate::audit::{self, ActionRecord, Actor};
use crate::auth::moderators::SiteScope;

pub enum Edit {
    NotFound,
    /// `If-Match` named another version; this is the current one.
    Stale(i32),
    Edited {
        thread_id: Uuid,
    },
}

/// Replaces a comment's body, keeping the old one in `comment_revisions`, in the caller's
/// transaction. The status is left alone: a moderator's words are not run past the pipeline.
pub async fn edit_body(
    conn: &mut PgConnection,
    scope: &SiteScope,
    comment_id: Uuid,
    editor: Uuid,
    markdown: &str,
    html: &str,
    if_match: Option<i32>,
) -> Result<Edit, sqlx::Error> {
    let current: Option<(i32, String)> = sqlx::query_as(
        "SELECT version, body_markdown FROM comments WHERE id = $1 AND site_id = $2 FOR UPDATE",
    )
    .bind(comment_id)
    .bind(scope.site_id())
    .fetch_optional(&mut *conn)
    .await?;
    let Some((version, old_body)) = current else {
        return Ok(Edit::NotFound);
    };
    if if_match.is_some_and(|v| v != version) {
        return Ok(Edit::Stale(version));
    }
    sqlx::query(
        "INSERT INTO comment_revisions (comment_id, site_id, editor_kind, editor_id, body_markdown)
         VALUES ($1, $2, 'moderator', $3, $4)",
    )
    .bind(comment_id)
    .bind(scope.site_id())
    .bind(editor)
    .bind(&old_body)
    .execute(&mut *conn)
    .await?;
    let thread_id: Uuid = sqlx::query_scalar(
        "UPDATE comments SET body_markdown = $3, body_html = $4, version = version + 1,
                edited_at = now(), updated_at = now()
         WHERE id = $1 AND site_id = $2
         RETURNING thread_id",
    )
    .bind(comment_id)
    .bind(scope.site_id())
    .bind(markdown)
    .bind(html)
    .fetch_one(&mut *conn)
    .await?;
    audit::record_action(
        conn,
        &ActionRecord {
            site_id: Some(scope.site_id()),
            actor: Actor::Moderator(editor),
            action: "comment.edited",
            target_kind: "comment",
            target_id: Some(comment_id),
            before: Some(json!({ "body_markdown": old_body, "version": version })),
            after: Some(json!({ "body_markdown": markdown, "version": version + 1 })),
            note: None,
        },
    )
    .await?;
    Ok(Edit::Edited { thread_id })
}
