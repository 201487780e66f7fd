//! Queue claims: a moderator leases the oldest unclaimed pending comments of a site for a few
//! minutes, so a team working one queue never reviews the same item twice. A lease that has run
//! out counts as no lease at all (nothing sweeps them); a decision that takes the comment out of
//! the pending queue ends its lease (`transitions::transition`).

use std::collections::HashMap;
use std::time::Duration;

use serde::Serialize;
use sqlx::{FromRow, PgPool};
use time::OffsetDateTime;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::auth::moderators::SiteScope;

/// How long a claim holds an item.
pub const LEASE: Duration = Duration::from_secs(5 * 60);

/// Leases up to `limit` of the oldest pending comments of the site that nobody holds (or whose
/// lease ran out) to `moderator`; answers their ids, oldest first.
///
/// Two claims running at once never get the same comment: rows another claim has locked are
/// skipped (`SKIP LOCKED`), and a comment whose lease a claim committed after this statement's
/// snapshot was taken collides on the primary key, where `ON CONFLICT ... WHERE` re-reads the
/// committed lease and leaves it alone (so this claim answers fewer items, never a shared one).
/// One statement, so it needs no transaction of its own.
pub async fn claim(
    pool: &PgPool,
    scope: &SiteScope,
    moderator: Uuid,
    limit: i64,
) -> Result<Vec<Uuid>, sqlx::Error> {
    let mut ids: Vec<(Uuid, OffsetDateTime)> = sqlx::query_as(
        "WITH picked AS (
             SELECT c.id, c.created_at FROM comments c
             WHERE c.site_id = $1 AND c.status = 'pending'
               AND NOT EXISTS (SELECT 1 FROM comment_claims k
                               WHERE k.comment_id = c.id AND k.claimed_until > now())
             ORDER BY c.created_at, c.id
             LIMIT $3
             FOR UPDATE OF c SKIP LOCKED
         ), taken AS (
             INSERT INTO comment_claims (comment_id, site_id, moderator_id, claimed_until)
             SELECT id, $1, $2, now() + make_interval(secs => $4) FROM picked
             ON CONFLICT ON CONSTRAINT comment_claims_pkey DO UPDATE
                 SET moderator_id = EXCLUDED.moderator_id, claimed_at = now(),
                     claimed_until = EXCLUDED.claimed_until
                 WHERE comment_claims.claimed_until <= now()
                   AND comment_claims.site_id = EXCLUDED.site_id
             RETURNING comment_id
         )
         SELECT p.id, p.created_at FROM picked p JOIN taken t ON t.comment_id = p.id",
    )
    .bind(scope.site_id())
    .bind(moderator)
    .bind(limit)
    .bind(LEASE.as_secs_f64())
    .fetch_all(pool)
    .await?;
    ids.sort_unstable_by_key(|&(id, at)| (at, id));
    tracing::info!(moderator.id = %moderator, site.slug = scope.slug(), claimed = ids.len(), "queue claimed");
    Ok(ids.into_iter().map(|(id, _)| id).collect())
}

/// What a release found.
pub enum Released {
    Released,
    /// The comment is the site's, but the caller holds no live lease on it.
    NotHeld,
}

/// Ends the caller's live lease on a comment of the site.
pub async fn release(
    pool: &PgPool,
    scope: &SiteScope,
    moderator: Uuid,
    comment_id: Uuid,
) -> Result<Released, sqlx::Error> {
    let gone = sqlx::query(
        "DELETE FROM comment_claims
         WHERE comment_id = $1 AND site_id = $2 AND moderator_id = $3 AND claimed_until > now()",
    )
    .bind(comment_id)
    .bind(scope.site_id())
    .bind(moderator)
    .execute(pool)
    .await?
    .rows_affected();
    Ok(if gone > 0 {
        Released::Released
    } else {
        Released::NotHeld
    })
}

/// Who holds a comment.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(as = ClaimHolder)]
pub struct Holder {
    pub id: Uuid,
    pub email: String,
}

/// A live lease, as the queue shows it.
#[derive(Debug, Clone)]
pub struct Claim {
    pub claimed_by: Holder,
    pub claimed_until: OffsetDateTime,
}

#[derive(FromRow)]
struct ClaimRow {
    comment_id: Uuid,
    moderator_id: Uuid,
    email: String,
    claimed_until: OffsetDateTime,
}

/// The live leases on these comments of the site, in one query.
pub async fn live(
    pool: &PgPool,
    site_id: Uuid,
    comment_ids: &[Uuid],
) -> Result<HashMap<Uuid, Claim>, sqlx::Error> {
    let rows: Vec<ClaimRow> = sqlx::query_as(
        "SELECT k.comment_id, k.moderator_id, m.email, k.claimed_until
         FROM comment_claims k JOIN moderators m ON m.id = k.moderator_id
         WHERE k.comment_id = ANY ($1) AND k.site_id = $2 AND k.claimed_until > now()",
    )
    .bind(comment_ids)
    .bind(site_id)
    .fetch_all(pool)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| {
            (
                r.comment_id,
                Claim {
                    claimed_by: Holder {
                        id: r.moderator_id,
                        email: r.email,
                    },
                    claimed_until: r.claimed_until,
                },
            )
        })
        .collect())
}
