//! The audit trail. A status change and its audit row are written in the same transaction, by
//! the caller's connection, so neither exists without the other.

use sqlx::PgConnection;
use uuid::Uuid;

use crate::domain::CommentStatus;

use super::Reason;

/// Who made a change.
#[derive(Debug, Clone, Copy)]
pub enum Actor {
    Pipeline,
    Moderator(Uuid),
    Author(Uuid),
    Flags,
    System,
}

impl Actor {
    fn kind(self) -> &'static str {
        match self {
            Self::Pipeline => "pipeline",
            Self::Moderator(_) => "moderator",
            Self::Author(_) => "author",
            Self::Flags => "flags",
            Self::System => "system",
        }
    }

    fn id(self) -> Option<Uuid> {
        match self {
            Self::Moderator(id) | Self::Author(id) => Some(id),
            _ => None,
        }
    }
}

pub struct Change<'a> {
    pub site_id: Uuid,
    pub comment_id: Uuid,
    pub actor: Actor,
    pub from: Option<CommentStatus>,
    pub to: CommentStatus,
    pub reasons: &'a [Reason],
    pub note: Option<&'a str>,
}

pub async fn record(conn: &mut PgConnection, c: &Change<'_>) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO moderation_events (site_id, comment_id, actor_kind, actor_id, from_status, to_status, reasons, note)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(c.site_id)
    .bind(c.comment_id)
    .bind(c.actor.kind())
    .bind(c.actor.id())
    .bind(c.from.map(CommentStatus::as_str))
    .bind(c.to.as_str())
    .bind(sqlx::types::Json(c.reasons))
    .bind(c.note)
    .execute(conn)
    .await?;
    Ok(())
}

/// The audit rows of one batch of moves (see `state::transition_many`): same site, actor,
/// reasons and note; per comment its from and to status.
pub struct Changes<'a> {
    pub site_id: Uuid,
    pub actor: Actor,
    pub reasons: &'a [Reason],
    pub note: Option<&'a str>,
    pub comment_ids: &'a [Uuid],
    pub from: &'a [&'a str],
    pub to: &'a [&'a str],
}

/// One INSERT for a whole batch, rows in the order given.
pub async fn record_many(conn: &mut PgConnection, c: &Changes<'_>) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO moderation_events (site_id, comment_id, actor_kind, actor_id, from_status, to_status, reasons, note)
         SELECT $1, u.id, $2, $3, u.from_status, u.to_status, $4, $5
         FROM unnest($6::uuid[], $7::text[], $8::text[]) WITH ORDINALITY AS u(id, from_status, to_status, n)
         ORDER BY u.n",
    )
    .bind(c.site_id)
    .bind(c.actor.kind())
    .bind(c.actor.id())
    .bind(sqlx::types::Json(c.reasons))
    .bind(c.note)
    .bind(c.comment_ids)
    .bind(c.from)
    .bind(c.to)
    .execute(conn)
    .await?;
    Ok(())
}

/// A decision about a ban (bans have no status machine; see the `ban_events` table).
pub struct BanChange<'a> {
    pub site_id: Uuid,
    pub ban_id: Uuid,
    pub appeal_id: Option<Uuid>,
    /// `appeal_upheld` or `appeal_overturned`.
    pub action: &'static str,
    pub actor: Actor,
    pub note: Option<&'a str>,
}

pub async fn record_ban(conn: &mut PgConnection, c: &BanChange<'_>) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO ban_events (site_id, ban_id, appeal_id, action, actor_kind, actor_id, note)
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(c.site_id)
    .bind(c.ban_id)
    .bind(c.appeal_id)
    .bind(c.action)
    .bind(c.actor.kind())
    .bind(c.actor.id())
    .bind(c.note)
    .execute(conn)
    .await?;
    Ok(())
}
