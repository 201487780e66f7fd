//! Idempotency keys: a keyed request's stored response, replayed for a day.

use sqlx::{FromRow, PgConnection, PgPool};
use uuid::Uuid;
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
