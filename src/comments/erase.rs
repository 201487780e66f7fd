//! A reader erases their account: with `remove`, each of their live comments is withdrawn
//! through the state machine (audited as the author's delete) and blanked; then everything
//! stored about them goes, in one transaction, and the threads they were on are re-rendered.

use sqlx::PgPool;
use uuid::Uuid;

use crate::audit::Actor;
use crate::auth::account::store;
use crate::error::ApiResult;
use crate::moderation::transitions::{self, Move, Request};
use crate::thread_cache::ThreadCache;

/// Erases the account; false when it was already gone.
pub async fn account(
    pool: &PgPool,
    threads: &ThreadCache,
    user_id: Uuid,
    remove: bool,
) -> ApiResult<bool> {
    let mut tx = pool.begin().await?;
    if !store::lock_user(&mut tx, user_id).await? {
        return Ok(false);
    }
    if remove {
        for c in store::live_comments(&mut tx, user_id).await? {
            transitions::transition(
                &mut tx,
                &Request {
                    site_id: c.site_id,
                    comment_id: c.id,
                    m: Move::AuthorDelete,
                    actor: Actor::Author(user_id),
                    reasons: &[],
                    note: Some("account erased"),
                    if_match: None,
                },
            )
            .await?;
        }
        store::blank_comments(&mut tx, user_id).await?;
    }
    let touched = store::erase(&mut tx, user_id).await?;
    tx.commit().await?;
    // The trigger tells every node; this one needn't wait for its own notification.
    for t in touched {
        threads.invalidate(t);
    }
    Ok(true)
}
