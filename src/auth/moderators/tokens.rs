//! A moderator's named API tokens, created and revoked each in one transaction with its audit
//! row (account-level: the row belongs to no site). The audit keeps a token's name and expiry,
//! never its secret or hash.

use sqlx::PgPool;
use time::OffsetDateTime;
use uuid::Uuid;

use super::store::{self, CreateTokenError, TokenRow};
use crate::audit::{self, ActionRecord};
use crate::domain::datetime::rfc3339;
use crate::error::{ApiError, ApiResult};

/// What the audit log keeps of a token: its name and expiry, never its secret or hash.
fn token_audit(t: &TokenRow) -> serde_json::Value {
    serde_json::json!({
        "name": t.name,
        "expires_at": t.expires_at.map(rfc3339),
    })
}

/// Creates a token named `name` (unique among the moderator's: 409 otherwise); answers it with
/// its secret, which is never stored.
pub async fn create(
    pool: &PgPool,
    moderator_id: Uuid,
    name: &str,
    expires_at: Option<OffsetDateTime>,
) -> ApiResult<(TokenRow, String)> {
    let mut tx = pool.begin().await?;
    let (row, secret) = match store::create_token(&mut tx, moderator_id, name, expires_at).await {
        Ok(created) => created,
        Err(CreateTokenError::NameTaken) => {
            return Err(ApiError::conflict(
                "conflict",
                "You already have a token with this name; pick another or revoke that one.",
            ));
        }
        Err(CreateTokenError::Db(e)) => return Err(e.into()),
    };
    let record =
        ActionRecord::by_moderator(None, moderator_id, "api_token.created", "api_token", row.id)
            .after(token_audit(&row));
    audit::record_action(&mut tx, &record).await?;
    tx.commit().await?;
    tracing::info!(moderator.id = %moderator_id, api_token.id = %row.id, "API token created");
    Ok((row, secret))
}

/// Revokes one of the moderator's tokens; it stops working at once. Someone else's token is
/// "not found": its existence is none of the caller's business.
pub async fn revoke(pool: &PgPool, moderator_id: Uuid, id: Uuid) -> ApiResult<()> {
    let mut tx = pool.begin().await?;
    let Some(row) = store::revoke_token(&mut tx, moderator_id, id).await? else {
        return Err(ApiError::not_found("Token"));
    };
    let record =
        ActionRecord::by_moderator(None, moderator_id, "api_token.revoked", "api_token", row.id)
            .before(token_audit(&row));
    audit::record_action(&mut tx, &record).await?;
    tx.commit().await?;
    tracing::info!(moderator.id = %moderator_id, api_token.id = %id, "API token revoked");
    Ok(())
}
