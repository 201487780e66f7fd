//! The audit trail. A status change and its audit row are written in the same transaction, by
//! the caller's connection, so neither exists without the other.
//!
//! Three append-only tables (the database refuses UPDATE, DELETE and TRUNCATE on them; see
//! migration `20261130000001_audit_actions.sql`): `moderation_events` (comment status changes,
//! `record`/`record_many`), `ban_events` (ban appeal decisions, `record_ban`) and
//! `audit_actions` (every other administrative action, `record_action`).

use serde_json::Value;
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
    /// The server's operator through the CLI (`colloquy moderator ...`): no account, no id.
    /// Only `audit_actions` accepts it.
    Operator,
}

impl Actor {
    pub fn kind(self) -> &'static str {
        match self {
            Self::Pipeline => "pipeline",
            Self::Moderator(_) => "moderator",
            Self::Author(_) => "author",
            Self::Flags => "flags",
            Self::System => "system",
            Self::Operator => "operator",
        }
    }

    pub fn id(self) -> Option<Uuid> {
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

/// One administrative action for `record_action`.
#[derive(Debug, Clone)]
pub struct ActionRecord<'a> {
    /// The site the action concerns; `None` for account-level actions that belong to no site
    /// (API tokens, a moderator's own password). Those are listed by `GET /api/mod/v1/me/audit`.
    pub site_id: Option<Uuid>,
    /// Who did it. A `Moderator` always carries their id.
    pub actor: Actor,
    /// `<resource>.<verb>` in snake case, e.g. `ban.created`, `ban.lifted`, `rule.updated`,
    /// `site.updated`, `moderator.added`, `invitation.created`, `api_token.revoked`,
    /// `password.changed`, `appeal.overturned`. The database checks the shape.
    pub action: &'a str,
    /// What the action was done to, in snake case: `ban`, `rule`, `site`, `user`, `moderator`,
    /// `invitation`, `api_token`, `appeal`, `comment`.
    pub target_kind: &'a str,
    /// The target's id, when it has one.
    pub target_id: Option<Uuid>,
    /// The target's state before the action: `None` when it didn't exist (created). For an
    /// update, only the fields that changed (and enough to identify the target) is enough.
    pub before: Option<Value>,
    /// The target's state after the action: `None` when it no longer exists (deleted).
    pub after: Option<Value>,
    /// The actor's note or reason, if any (at most 2,000 characters).
    pub note: Option<&'a str>,
}

/// Appends one administrative action to the audit log, on the caller's connection.
///
/// Contract:
/// - Call it inside the transaction that makes the change, after the change succeeded, so the
///   change and its audit row commit (or roll back) together. An error here must abort the
///   transaction: an unaudited change never commits.
/// - `before` / `after` hold what a moderator needs to see what changed: the resource's public
///   fields (a rule's kind/pattern/action, a ban's target and expiry, a setting's old and new
///   value, a role). They must NEVER hold secrets: no token values or token hashes, no password
///   or password hash, no invitation secret, no OAuth client secret, no session id. An email
///   address of a moderator or an invitee is fine (owners see it in the team listing anyway);
///   a commenter's IP or email only where it is the target itself (an IP or email ban).
/// - Rows are append-only: nothing in the application updates or deletes them, and the database
///   refuses to (a row goes only when its whole site is deleted).
pub async fn record_action(
    conn: &mut PgConnection,
    a: &ActionRecord<'_>,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO audit_actions
             (site_id, actor_kind, actor_id, action, target_kind, target_id, before, after, note)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )
    .bind(a.site_id)
    .bind(a.actor.kind())
    .bind(a.actor.id())
    .bind(a.action)
    .bind(a.target_kind)
    .bind(a.target_id)
    .bind(a.before.as_ref().map(sqlx::types::Json))
    .bind(a.after.as_ref().map(sqlx::types::Json))
    .bind(a.note)
    .execute(conn)
    .await?;
    Ok(())
}
