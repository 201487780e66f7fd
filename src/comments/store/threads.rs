//! Threads: created by their first comment, counted by their published comments.

use sqlx::{FromRow, PgConnection, PgPool};
use uuid::Uuid;
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
) -> Result<Vec<(String, Uuid, i64)>, sqlx::Error> {
    sqlx::query_as(
        "SELECT t.uri, t.id, count(c.id)
         FROM threads t LEFT JOIN comments c ON c.thread_id = t.id AND c.status = 'approved'
         WHERE t.site_id = $1 AND t.uri = ANY ($2)
         GROUP BY t.uri, t.id",
    )
    .bind(site_id)
    .bind(uris)
    .fetch_all(pool)
    .await
}
