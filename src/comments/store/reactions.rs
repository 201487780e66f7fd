//! Readers' flags and votes, real and shadow (a shadow-banned reader's, never counted).

use sqlx::{FromRow, PgConnection};
use uuid::Uuid;
/// Records a reader's flag; false when they had flagged this comment already.
pub async fn insert_flag(
    conn: &mut PgConnection,
    site_id: Uuid,
    comment_id: Uuid,
    user_id: Uuid,
    reason: &str,
    note: Option<&str>,
) -> Result<bool, sqlx::Error> {
    let inserted: Option<i32> = sqlx::query_scalar(
        "INSERT INTO flags (comment_id, user_id, site_id, reason, note) VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT ON CONSTRAINT flags_pkey DO NOTHING
         RETURNING 1",
    )
    .bind(comment_id)
    .bind(user_id)
    .bind(site_id)
    .bind(reason)
    .bind(note)
    .fetch_optional(conn)
    .await?;
    Ok(inserted.is_some())
}

#[derive(Debug, Clone, Copy, FromRow)]
pub struct FlagCount {
    /// Every flag the comment has.
    pub total: i64,
    /// Flags since a moderator last approved it: a comment a moderator kept despite its flags
    /// goes back to the queue only when enough new readers flag it.
    pub since_approval: i64,
}

pub async fn flag_count(
    conn: &mut PgConnection,
    site_id: Uuid,
    comment_id: Uuid,
) -> Result<FlagCount, sqlx::Error> {
    sqlx::query_as(
        "WITH approved AS (
             SELECT max(created_at) AS at FROM moderation_events
             WHERE comment_id = $1 AND actor_kind = 'moderator' AND to_status = 'approved'
         )
         SELECT count(*) AS total,
                count(*) FILTER (WHERE f.created_at > coalesce((SELECT at FROM approved), '-infinity'))
                    AS since_approval
         FROM flags f WHERE f.comment_id = $1 AND f.site_id = $2",
    )
    .bind(comment_id)
    .bind(site_id)
    .fetch_one(conn)
    .await
}

/// Remembers a shadow-banned reader's flag (never counted anywhere, see `shadow_reactions`);
/// false when they already flagged the comment, shadow or not, as `insert_flag` answers.
pub async fn insert_shadow_flag(
    conn: &mut PgConnection,
    site_id: Uuid,
    comment_id: Uuid,
    user_id: Uuid,
    reason: &str,
    note: Option<&str>,
) -> Result<bool, sqlx::Error> {
    let real: bool = sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM flags WHERE comment_id = $1 AND user_id = $2)",
    )
    .bind(comment_id)
    .bind(user_id)
    .fetch_one(&mut *conn)
    .await?;
    if real {
        return Ok(false);
    }
    let stored: Option<i32> = sqlx::query_scalar(
        "INSERT INTO shadow_reactions (comment_id, user_id, site_id, flag_reason, flag_note)
         VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT ON CONSTRAINT shadow_reactions_pkey DO UPDATE
             SET flag_reason = EXCLUDED.flag_reason, flag_note = EXCLUDED.flag_note
             WHERE shadow_reactions.flag_reason IS NULL
         RETURNING 1",
    )
    .bind(comment_id)
    .bind(user_id)
    .bind(site_id)
    .bind(reason)
    .bind(note)
    .fetch_optional(conn)
    .await?;
    Ok(stored.is_some())
}

/// Remembers a shadow-banned reader's vote and answers the score they would see had it
/// counted: the stored score with their real vote (from before the ban, if any) replaced by this
/// one. Repeating it answers the same; nothing real changes.
pub async fn set_shadow_vote(
    conn: &mut PgConnection,
    site_id: Uuid,
    comment_id: Uuid,
    user_id: Uuid,
    value: i16,
) -> Result<i32, sqlx::Error> {
    sqlx::query(
        "INSERT INTO shadow_reactions (comment_id, user_id, site_id, vote) VALUES ($1, $2, $3, $4)
         ON CONFLICT ON CONSTRAINT shadow_reactions_pkey DO UPDATE SET vote = EXCLUDED.vote",
    )
    .bind(comment_id)
    .bind(user_id)
    .bind(site_id)
    .bind(value)
    .execute(&mut *conn)
    .await?;
    sqlx::query_scalar(
        "SELECT c.score - COALESCE((SELECT v.value FROM votes v
                                    WHERE v.comment_id = c.id AND v.user_id = $3), 0)::int + $4
         FROM comments c WHERE c.id = $1 AND c.site_id = $2",
    )
    .bind(comment_id)
    .bind(site_id)
    .bind(user_id)
    .bind(i32::from(value))
    .fetch_one(conn)
    .await
}

/// Sets (or with 0 removes) a reader's vote and keeps `comments.score` their sum; returns the
/// new score. The caller holds the comment's row lock, so a reader's concurrent votes can't
/// both count.
pub async fn set_vote(
    conn: &mut PgConnection,
    site_id: Uuid,
    comment_id: Uuid,
    user_id: Uuid,
    value: i16,
) -> Result<i32, sqlx::Error> {
    let old: Option<i16> = if value == 0 {
        sqlx::query_scalar(
            "DELETE FROM votes WHERE comment_id = $1 AND user_id = $2 RETURNING value",
        )
        .bind(comment_id)
        .bind(user_id)
        .fetch_optional(&mut *conn)
        .await?
    } else {
        sqlx::query_scalar(
            "WITH old AS (
                 SELECT value FROM votes WHERE comment_id = $1 AND user_id = $2
             ), up AS (
                 INSERT INTO votes (comment_id, user_id, site_id, value) VALUES ($1, $2, $3, $4)
                 ON CONFLICT ON CONSTRAINT votes_pkey DO UPDATE SET value = EXCLUDED.value
                 RETURNING 1
             )
             SELECT (SELECT value FROM old) FROM up",
        )
        .bind(comment_id)
        .bind(user_id)
        .bind(site_id)
        .bind(value)
        .fetch_one(&mut *conn)
        .await?
    };
    let delta = i32::from(value) - i32::from(old.unwrap_or(0));
    if delta == 0 {
        // Nothing changed: don't touch the row (every update re-renders the thread everywhere).
        return sqlx::query_scalar("SELECT score FROM comments WHERE id = $1 AND site_id = $2")
            .bind(comment_id)
            .bind(site_id)
            .fetch_one(conn)
            .await;
    }
    sqlx::query_scalar(
        "UPDATE comments SET score = score + $3 WHERE id = $1 AND site_id = $2 RETURNING score",
    )
    .bind(comment_id)
    .bind(site_id)
    .bind(delta)
    .fetch_one(conn)
    .await
}
