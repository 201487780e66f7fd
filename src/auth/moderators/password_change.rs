//! A moderator's password change, written once for the account's own change
//! (`POST /api/mod/v1/me/password`) and the operator's reset (`colloquy moderator
//! reset-password`): the new hash, the sessions and tokens it ends, and its audit row commit
//! together.

use serde::Serialize;
use sqlx::PgPool;
use utoipa::ToSchema;
use uuid::Uuid;

use super::{password, store};
use crate::audit::{self, ActionRecord, Actor};

/// What a password change ended.
#[derive(Serialize, ToSchema)]
pub struct PasswordChanged {
    /// The account's other login sessions, now ended.
    pub sessions_ended: u64,
    /// API tokens revoked (0 with `keep_api_tokens`).
    pub api_tokens_revoked: u64,
}

/// Sets a new password, ends every session but `keep_session`, and revokes the API tokens
/// unless `keep_api_tokens`, with its audit row; one transaction. The hash is made before it
/// opens.
pub async fn set_password(
    pool: &PgPool,
    moderator_id: Uuid,
    new_password: password::NewPassword,
    keep_session: Option<Uuid>,
    keep_api_tokens: bool,
    actor: Actor,
) -> anyhow::Result<PasswordChanged> {
    let hash = password::hash(new_password).await?;
    let mut tx = pool.begin().await?;
    if !store::set_password(&mut tx, moderator_id, &hash).await? {
        anyhow::bail!("moderator {moderator_id} vanished");
    }
    let sessions_ended = store::revoke_sessions(&mut tx, moderator_id, keep_session).await?;
    let api_tokens_revoked = if keep_api_tokens {
        0
    } else {
        store::revoke_all_tokens(&mut tx, moderator_id).await?
    };
    audit::record_action(
        &mut tx,
        &ActionRecord {
            site_id: None,
            actor,
            // The account's own change, or the operator's reset (`colloquy moderator
            // reset-password`). Never the password or its hash: only what it ended.
            action: match actor {
                Actor::Operator => "password.reset",
                _ => "password.changed",
            },
            target_kind: "moderator",
            target_id: Some(moderator_id),
            before: None,
            after: Some(serde_json::json!({
                "sessions_ended": sessions_ended,
                "api_tokens_revoked": api_tokens_revoked,
            })),
            note: None,
        },
    )
    .await?;
    tx.commit().await?;
    Ok(PasswordChanged {
        sessions_ended,
        api_tokens_revoked,
    })
}
