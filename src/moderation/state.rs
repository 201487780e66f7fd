//! The one state machine of a comment's status. Every change after creation — a moderator's
//! action, reader flags, the author deleting, an edit re-running the pipeline — goes through
//! `transition`, which locks the row, checks the move is allowed (and, for moderators, that
//! nobody changed the comment since they looked: `If-Match`), updates it and writes the audit
//! row in the caller's transaction.

use sqlx::PgConnection;
use uuid::Uuid;

use super::Reason;
use super::audit::{self, Actor, Change};
use crate::domain::CommentStatus;
use crate::error::ApiError;

/// What a moderator does to a comment: `approve`, `reject`, `spam`, `not_spam` (a spam comment
/// is approved), `delete` or `restore` (a deleted comment goes back to where it was).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize, serde::Serialize, utoipa::ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum ModAction {
    Approve,
    Reject,
    Spam,
    NotSpam,
    Delete,
    Restore,
}

impl ModAction {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Approve => "approve",
            Self::Reject => "reject",
            Self::Spam => "spam",
            Self::NotSpam => "not_spam",
            Self::Delete => "delete",
            Self::Restore => "restore",
        }
    }
}

/// A requested move, before the current status is known.
#[derive(Debug, Clone, Copy)]
pub enum Move {
    Moderator(ModAction),
    /// N distinct reader flags: an approved comment goes back to the queue.
    Flagged,
    /// The author removes their comment.
    AuthorDelete,
    /// The author edited it and the pipeline decided anew.
    Reevaluated(CommentStatus),
}

/// The status a move leads to from `from`, or None when the move isn't allowed from there.
/// `restore` returns a deleted comment to where it was before (`before_delete`).
pub fn target(
    from: CommentStatus,
    m: Move,
    before_delete: Option<CommentStatus>,
) -> Option<CommentStatus> {
    use CommentStatus::*;
    match (m, from) {
        (Move::Moderator(ModAction::Approve), Pending | Spam | Rejected) => Some(Approved),
        (Move::Moderator(ModAction::Reject), Pending | Approved | Spam) => Some(Rejected),
        (Move::Moderator(ModAction::Spam), Pending | Approved | Rejected) => Some(Spam),
        (Move::Moderator(ModAction::NotSpam), Spam) => Some(Approved),
        (Move::Moderator(ModAction::Delete), Pending | Approved | Spam | Rejected) => Some(Deleted),
        (Move::Moderator(ModAction::Restore), Deleted) => Some(before_delete.unwrap_or(Pending)),
        (Move::Flagged, Approved) => Some(Pending),
        (Move::AuthorDelete, Pending | Approved | Spam | Rejected) => Some(Deleted),
        (Move::Reevaluated(to), Pending | Approved) => Some(to),
        _ => None,
    }
}

/// The comment after a change.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Changed {
    pub id: Uuid,
    pub site_id: Uuid,
    pub thread_id: Uuid,
    pub status: String,
    pub version: i32,
    /// For the decision metrics: the site's slug and the comment's age in seconds.
    pub site_slug: String,
    pub age_s: f64,
}

pub struct Request<'a> {
    pub site_id: Uuid,
    pub comment_id: Uuid,
    pub m: Move,
    pub actor: Actor,
    pub reasons: &'a [Reason],
    pub note: Option<&'a str>,
    /// `If-Match`: the version the caller saw.
    pub if_match: Option<i32>,
}

/// Applies a move inside the caller's transaction. 404 if the comment isn't on the site, 412 if
/// `if_match` is stale, 409 `conflict` if the move isn't allowed from the current status.
pub async fn transition(conn: &mut PgConnection, r: &Request<'_>) -> Result<Changed, ApiError> {
    let current: Option<(String, i32)> = sqlx::query_as(
        "SELECT status, version FROM comments WHERE id = $1 AND site_id = $2 FOR UPDATE",
    )
    .bind(r.comment_id)
    .bind(r.site_id)
    .fetch_optional(&mut *conn)
    .await?;
    let Some((status, version)) = current else {
        return Err(ApiError::not_found("Comment"));
    };
    if let Some(expected) = r.if_match
        && expected != version
    {
        return Err(ApiError::new(
            actix_web::http::StatusCode::PRECONDITION_FAILED,
            "precondition_failed",
            "Someone changed this comment since you loaded it; reload and try again.",
        )
        .with_details(serde_json::json!({ "version": version })));
    }
    let from = CommentStatus::parse(&status)
        .map_err(|e| ApiError::internal(anyhow::anyhow!("stored status: {e}")))?;
    let before_delete = if from == CommentStatus::Deleted {
        sqlx::query_scalar::<_, Option<String>>(
            "SELECT from_status FROM moderation_events WHERE comment_id = $1 AND to_status = 'deleted'
             ORDER BY id DESC LIMIT 1",
        )
        .bind(r.comment_id)
        .fetch_optional(&mut *conn)
        .await?
        .flatten()
        .and_then(|s| CommentStatus::parse(&s).ok())
    } else {
        None
    };
    let Some(to) = target(from, r.m, before_delete) else {
        return Err(ApiError::conflict(
            "conflict",
            format!(
                "This comment is {} and can't be changed that way.",
                from.as_str()
            ),
        )
        .with_details(serde_json::json!({ "status": from.as_str() })));
    };
    // A comment that leaves the pending queue is no one's to review any more: its queue claim
    // ends in the same statement (and so the same transaction) as the decision.
    let changed: Changed = sqlx::query_as(
        "WITH released AS (
             DELETE FROM comment_claims WHERE comment_id = $1 AND $3 <> 'pending'
         )
         UPDATE comments c SET status = $3, version = version + 1, updated_at = now(),
                shadow = CASE WHEN $3 = 'spam' THEN shadow ELSE false END
         FROM sites s
         WHERE c.id = $1 AND c.site_id = $2 AND s.id = c.site_id
         RETURNING c.id, c.site_id, c.thread_id, c.status, c.version, s.slug AS site_slug,
                   EXTRACT(EPOCH FROM now() - c.created_at)::float8 AS age_s",
    )
    .bind(r.comment_id)
    .bind(r.site_id)
    .bind(to.as_str())
    .fetch_one(&mut *conn)
    .await?;
    audit::record(
        conn,
        &Change {
            site_id: r.site_id,
            comment_id: r.comment_id,
            actor: r.actor,
            from: Some(from),
            to,
            reasons: r.reasons,
            note: r.note,
        },
    )
    .await?;
    crate::metrics::moved(&changed.site_slug, changed.age_s, r.m, r.actor);
    Ok(changed)
}

#[cfg(test)]
mod tests {
    use super::*;
    use CommentStatus::*;

    #[test]
    fn moderator_moves() {
        let m = |a| Move::Moderator(a);
        assert_eq!(target(Pending, m(ModAction::Approve), None), Some(Approved));
        assert_eq!(target(Approved, m(ModAction::Approve), None), None);
        assert_eq!(target(Spam, m(ModAction::NotSpam), None), Some(Approved));
        assert_eq!(target(Pending, m(ModAction::NotSpam), None), None);
        assert_eq!(target(Deleted, m(ModAction::Approve), None), None);
        assert_eq!(
            target(Deleted, m(ModAction::Restore), Some(Approved)),
            Some(Approved)
        );
        assert_eq!(target(Deleted, m(ModAction::Restore), None), Some(Pending));
        assert_eq!(target(Approved, m(ModAction::Restore), None), None);
        assert_eq!(target(Deleted, m(ModAction::Delete), None), None);
    }

    #[test]
    fn flags_and_authors() {
        assert_eq!(target(Approved, Move::Flagged, None), Some(Pending));
        assert_eq!(target(Pending, Move::Flagged, None), None);
        assert_eq!(target(Spam, Move::AuthorDelete, None), Some(Deleted));
        assert_eq!(target(Deleted, Move::AuthorDelete, None), None);
        assert_eq!(
            target(Approved, Move::Reevaluated(Pending), None),
            Some(Pending)
        );
        assert_eq!(target(Rejected, Move::Reevaluated(Approved), None), None);
    }
}
