//! The one state machine of a comment's status. Every change after creation — a moderator's
//! action, reader flags, the author deleting, an edit re-running the pipeline — goes through
//! `transition`, which locks the row, checks the move is allowed (and, for moderators, that
//! nobody changed the comment since they looked: `If-Match`), updates it and writes the audit
//! row in the caller's transaction.

use std::collections::HashMap;

use sqlx::PgConnection;
use uuid::Uuid;

use super::Reason;
use crate::audit::{self, Actor};
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
    let batch = Batch {
        site_id: r.site_id,
        m: r.m,
        actor: r.actor,
        reasons: r.reasons,
        note: r.note,
        if_match: r.if_match,
    };
    transition_many(conn, &batch, &[r.comment_id])
        .await?
        .pop()
        .unwrap_or_else(|| Err(ApiError::not_found("Comment")))
}

/// The 412 of a change made against a version the comment no longer has; details hold the
/// current `version`, so the client can reload and retry.
pub fn stale(version: i32) -> ApiError {
    ApiError::new(
        actix_web::http::StatusCode::PRECONDITION_FAILED,
        "precondition_failed",
        "Someone changed this comment since you loaded it; reload and try again.",
    )
    .with_details(serde_json::json!({ "version": version }))
}

/// The same move on many comments of one site (a bulk action; a single change is a batch of one).
pub struct Batch<'a> {
    pub site_id: Uuid,
    pub m: Move,
    pub actor: Actor,
    pub reasons: &'a [Reason],
    pub note: Option<&'a str>,
    /// The version every comment must still have (a single change's `If-Match`).
    pub if_match: Option<i32>,
}

/// Applies one move to many comments in at most five statements, whatever their number: lock
/// the rows (in id order, so overlapping batches can't deadlock), decide each with [`target`],
/// update the movable ones, release their claims, write their audit rows. One result per id,
/// in `ids`' order. A refused id (unknown here, changed since `If-Match`, or a move its status
/// doesn't allow) is refused before anything of it is written; an id listed twice is decided
/// against the status its first occurrence left. An `Err` of the whole call means a database
/// failure: the caller's transaction must not commit.
pub async fn transition_many(
    conn: &mut PgConnection,
    b: &Batch<'_>,
    ids: &[Uuid],
) -> Result<Vec<Result<Changed, ApiError>>, ApiError> {
    let mut sorted = ids.to_vec();
    sorted.sort_unstable();
    sorted.dedup();
    let rows: Vec<(Uuid, String, i32)> = sqlx::query_as(
        "SELECT id, status, version FROM comments WHERE site_id = $1 AND id = ANY($2)
         ORDER BY id FOR UPDATE",
    )
    .bind(b.site_id)
    .bind(&sorted)
    .fetch_all(&mut *conn)
    .await?;
    let mut current: HashMap<Uuid, (CommentStatus, i32)> = HashMap::with_capacity(rows.len());
    for (id, status, version) in rows {
        let status = CommentStatus::parse(&status)
            .map_err(|e| ApiError::internal(anyhow::anyhow!("stored status: {e}")))?;
        current.insert(id, (status, version));
    }
    let deleted: Vec<Uuid> = current
        .iter()
        .filter(|(_, (s, _))| *s == CommentStatus::Deleted)
        .map(|(id, _)| *id)
        .collect();
    let before_delete: HashMap<Uuid, CommentStatus> = if deleted.is_empty() {
        HashMap::new()
    } else {
        sqlx::query_as::<_, (Uuid, Option<String>)>(
            "SELECT DISTINCT ON (comment_id) comment_id, from_status FROM moderation_events
             WHERE comment_id = ANY($1) AND to_status = 'deleted'
             ORDER BY comment_id, id DESC",
        )
        .bind(&deleted)
        .fetch_all(&mut *conn)
        .await?
        .into_iter()
        .filter_map(|(id, from)| Some((id, CommentStatus::parse(&from?).ok()?)))
        .collect()
    };

    // Decide every id first; nothing is written for a refused one.
    let mut decided: Vec<Result<Uuid, ApiError>> = Vec::with_capacity(ids.len());
    let mut moves: Vec<(Uuid, CommentStatus, CommentStatus)> = Vec::new();
    let mut moved: HashMap<Uuid, CommentStatus> = HashMap::new();
    for &id in ids {
        let Some(&(from, version)) = current.get(&id) else {
            decided.push(Err(ApiError::not_found("Comment")));
            continue;
        };
        if let Some(&now) = moved.get(&id) {
            decided.push(Err(refused(now)));
            continue;
        }
        if let Some(expected) = b.if_match
            && expected != version
        {
            decided.push(Err(stale(version)));
            continue;
        }
        match target(from, b.m, before_delete.get(&id).copied()) {
            Some(to) => {
                moves.push((id, from, to));
                moved.insert(id, to);
                decided.push(Ok(id));
            }
            None => decided.push(Err(refused(from))),
        }
    }
    let mut by_id: HashMap<Uuid, Changed> = HashMap::with_capacity(moves.len());
    if !moves.is_empty() {
        // Rows were locked in id order; writes go in the same order.
        moves.sort_unstable_by_key(|&(id, _, _)| id);
        let move_ids: Vec<Uuid> = moves.iter().map(|m| m.0).collect();
        let from: Vec<&str> = moves.iter().map(|m| m.1.as_str()).collect();
        let to: Vec<&str> = moves.iter().map(|m| m.2.as_str()).collect();
        let changed: Vec<Changed> = sqlx::query_as(
            "WITH m AS (SELECT * FROM unnest($2::uuid[], $3::text[]) AS m(id, to_status)),
             released AS (
                 DELETE FROM comment_claims
                 WHERE comment_id IN (SELECT id FROM m WHERE to_status <> 'pending')
             )
             UPDATE comments c SET status = m.to_status, version = c.version + 1, updated_at = now(),
                    shadow = CASE WHEN m.to_status = 'spam' THEN c.shadow ELSE false END
             FROM m, sites s
             WHERE c.id = m.id AND c.site_id = $1 AND s.id = c.site_id
             RETURNING c.id, c.site_id, c.thread_id, c.status, c.version, s.slug AS site_slug,
                       EXTRACT(EPOCH FROM now() - c.created_at)::float8 AS age_s",
        )
        .bind(b.site_id)
        .bind(&move_ids)
        .bind(&to)
        .fetch_all(&mut *conn)
        .await?;
        audit::record_many(
            conn,
            &audit::Changes {
                site_id: b.site_id,
                actor: b.actor,
                reasons: b.reasons,
                note: b.note,
                comment_ids: &move_ids,
                from: &from,
                to: &to,
            },
        )
        .await?;
        by_id = changed.into_iter().map(|c| (c.id, c)).collect();
    }
    for c in by_id.values() {
        count_move(&c.site_slug, c.age_s, b.m, b.actor);
    }
    decided
        .into_iter()
        .map(|d| match d {
            Ok(id) => by_id.remove(&id).map(Ok).ok_or_else(|| {
                // Locked above, so the UPDATE found it.
                ApiError::internal(anyhow::anyhow!("locked comment {id} was not updated"))
            }),
            Err(e) => Ok(Err(e)),
        })
        .collect()
}

/// 409 for a move the comment's status doesn't allow.
fn refused(from: CommentStatus) -> ApiError {
    ApiError::conflict(
        "conflict",
        format!(
            "This comment is {} and can't be changed that way.",
            from.as_str()
        ),
    )
    .with_details(serde_json::json!({ "status": from.as_str() }))
}

/// A status change made through the state machine, inside its
/// transaction: counted by site, actor and action; a moderator's decision also observes how long
/// the comment waited since it was submitted.
fn count_move(site_slug: &str, age_s: f64, m: Move, actor: Actor) {
    let (actor, action) = match (actor, m) {
        (_, Move::Moderator(a)) => ("moderator", a.as_str()),
        (_, Move::Flagged) => ("flags", "flagged"),
        (_, Move::AuthorDelete) => ("author", "delete"),
        (Actor::Author(_), Move::Reevaluated(_)) => ("author", "edit"),
        (_, Move::Reevaluated(_)) => ("system", "reevaluated"),
    };
    crate::metrics::decision(site_slug, actor, action);
    if actor == "moderator" {
        crate::metrics::decision_latency(site_slug, action, age_s);
    }
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
