//! The queries behind the metrics: the per-site queue at scrape time, and the facts of a
//! comment a decision metric needs.

use sqlx::{FromRow, PgPool};

#[derive(Debug, FromRow)]
pub struct QueueRow {
    pub slug: String,
    pub pending: i64,
    pub oldest_age_s: f64,
}

/// Every site's pending depth and the age of its oldest pending comment, in one grouped query
/// (an index-only walk of `comments_site_status_idx` per site).
pub async fn queues(pool: &PgPool) -> Result<Vec<QueueRow>, sqlx::Error> {
    sqlx::query_as(
        "SELECT s.slug,
                count(c.id) AS pending,
                COALESCE(EXTRACT(EPOCH FROM now() - min(c.created_at)), 0)::float8 AS oldest_age_s
         FROM sites s
         LEFT JOIN comments c ON c.site_id = s.id AND c.status = 'pending'
         GROUP BY s.slug
         ORDER BY s.slug",
    )
    .fetch_all(pool)
    .await
}
