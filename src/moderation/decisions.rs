//! A moderator's decisions on comments, each written once: open the transaction, run the state
//! machine (`transitions`), which writes the audit rows, commit, and drop the changed threads
//! from this node's cache (the database trigger tells the other nodes; this one needn't wait
//! for its own notification). Handlers call these and never touch a transaction.

use sqlx::PgPool;
use uuid::Uuid;

use super::review;
use super::transitions::{self, Batch, Changed, ModAction, Move};
use crate::audit::Actor;
use crate::auth::moderators::SiteScope;
use crate::domain::CommentBody;
use crate::error::{ApiError, ApiResult};
use crate::markdown;
use crate::thread_cache::ThreadCache;

/// Who decides what, on which site.
pub struct Decision<'a> {
    pub scope: &'a SiteScope,
    pub moderator_id: Uuid,
    pub action: ModAction,
    /// Kept in the comment's history and the audit log.
    pub note: Option<&'a str>,
}

impl Decision<'_> {
    fn batch(&self, if_match: Option<i32>) -> Batch<'_> {
        Batch {
            site_id: self.scope.site_id(),
            m: Move::Moderator(self.action),
            actor: Actor::Moderator(self.moderator_id),
            reasons: &[],
            note: self.note,
            if_match,
        }
    }
}

/// One comment, in its own transaction (the status change and its audit row commit together,
/// or neither does). With `if_match`, only if the comment still has that version (412).
pub async fn decide(
    pool: &PgPool,
    threads: &ThreadCache,
    d: &Decision<'_>,
    comment_id: Uuid,
    if_match: Option<i32>,
) -> ApiResult<Changed> {
    let mut tx = pool.begin().await?;
    let changed = transitions::transition_many(&mut tx, &d.batch(if_match), &[comment_id])
        .await?
        .pop()
        .unwrap_or_else(|| Err(comment_not_found()))?;
    tx.commit().await?;
    threads.invalidate(changed.thread_id);
    tracing::info!(
        moderator.id = %d.moderator_id,
        comment.id = %comment_id,
        action = d.action.as_str(),
        comment.status = %changed.status,
        "moderator action"
    );
    Ok(changed)
}

/// Many comments in one transaction and a handful of statements (see
/// `transitions::transition_many`): the rows are locked in id order, whatever the request's
/// order, so two overlapping bulk actions can't deadlock; a refused id is refused before
/// anything of it is written and the others go on; a database failure changes nothing. One
/// result per id, in `ids`' order; `None` (not a UUID) is simply not found.
pub async fn decide_many(
    pool: &PgPool,
    threads: &ThreadCache,
    d: &Decision<'_>,
    ids: &[Option<Uuid>],
) -> ApiResult<Vec<ApiResult<Changed>>> {
    let valid: Vec<Uuid> = ids.iter().flatten().copied().collect();
    let mut tx = pool.begin().await?;
    let mut outcomes = transitions::transition_many(&mut tx, &d.batch(None), &valid)
        .await?
        .into_iter();
    let results: Vec<ApiResult<Changed>> = ids
        .iter()
        .map(|id| match id {
            Some(_) => outcomes.next().unwrap_or_else(|| Err(comment_not_found())),
            None => Err(comment_not_found()),
        })
        .collect();
    tx.commit().await?;
    for c in results.iter().flatten() {
        threads.invalidate(c.thread_id);
        tracing::info!(
            moderator.id = %d.moderator_id,
            comment.id = %c.id,
            action = d.action.as_str(),
            "moderator action (bulk)"
        );
    }
    Ok(results)
}

/// Replaces a comment's text with a moderator's; the old one stays in its history and the
/// status is left alone (a moderator's words are not run past the pipeline). With `if_match`, only if the comment
/// still has that version (412).
pub async fn edit(
    pool: &PgPool,
    threads: &ThreadCache,
    scope: &SiteScope,
    moderator_id: Uuid,
    comment_id: Uuid,
    text: &CommentBody,
    if_match: Option<i32>,
) -> ApiResult<()> {
    let html = markdown::render(text.as_str());
    let mut tx = pool.begin().await?;
    let edit = review::edit_body(
        &mut tx,
        scope,
        comment_id,
        moderator_id,
        text.as_str(),
        &html,
        if_match,
    )
    .await?;
    let thread_id = match edit {
        review::Edit::NotFound => return Err(comment_not_found()),
        review::Edit::Stale(current) => return Err(transitions::stale(current)),
        review::Edit::Edited { thread_id } => thread_id,
    };
    tx.commit().await?;
    threads.invalidate(thread_id);
    tracing::info!(moderator.id = %moderator_id, comment.id = %comment_id, "moderator edited a comment");
    Ok(())
}

pub fn comment_not_found() -> ApiError {
    ApiError::not_found("Comment")
}
