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

use crate::domain::Reason;

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

/// The audit rows of one batch of moves (see `transitions::transition_many`): same site, actor,
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

/// One administrative action for `record_action`. No Debug: before/after may hold an email
/// address or IP (of a ban's target), which never goes to a log.
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

impl<'a> ActionRecord<'a> {
    /// A moderator's action on one resource; `before`, `after` and `note` start empty. Most
    /// administrative actions are this shape, so their audit rows are built in one place.
    pub fn by_moderator(
        site_id: Option<Uuid>,
        moderator_id: Uuid,
        action: &'a str,
        target_kind: &'a str,
        target_id: Uuid,
    ) -> Self {
        Self {
            site_id,
            actor: Actor::Moderator(moderator_id),
            action,
            target_kind,
            target_id: Some(target_id),
            before: None,
            after: None,
            note: None,
        }
    }

    /// With the target's state before the action.
    pub fn before(self, before: Value) -> Self {
        Self {
            before: Some(before),
            ..self
        }
    }

    /// With the target's state after the action.
    pub fn after(self, after: Value) -> Self {
        Self {
            after: Some(after),
            ..self
        }
    }
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

/// The fields that differ between two JSON objects, as (before, after) objects holding only
/// those keys: what a settings change's audit row shows. Keys missing on one side are `null`
/// there. `None` when nothing changed (and no row should be written).
pub fn changed_fields(before: &Value, after: &Value) -> Option<(Value, Value)> {
    let empty = serde_json::Map::new();
    let b = before.as_object().unwrap_or(&empty);
    let a = after.as_object().unwrap_or(&empty);
    let mut old = serde_json::Map::new();
    let mut new = serde_json::Map::new();
    for key in b.keys().chain(a.keys().filter(|k| !b.contains_key(*k))) {
        let (x, y) = (b.get(key), a.get(key));
        if x != y {
            old.insert(key.clone(), x.cloned().unwrap_or(Value::Null));
            new.insert(key.clone(), y.cloned().unwrap_or(Value::Null));
        }
    }
    (!old.is_empty()).then_some((Value::Object(old), Value::Object(new)))
}

// ---------------------------------------------------------------------------------------------
// Reading the log

/// Which entries a listing wants.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EntryType {
    /// Comment status changes (`moderation_events`).
    Status,
    /// Administrative actions (`audit_actions`).
    Action,
}

impl EntryType {
    pub fn parse(raw: &str) -> Option<Self> {
        match raw {
            "status" => Some(Self::Status),
            "action" => Some(Self::Action),
            _ => None,
        }
    }

    fn as_str(self) -> &'static str {
        match self {
            Self::Status => "status",
            Self::Action => "action",
        }
    }
}

/// Filters of a listing; `action` is a full action name (`ban.created`) or a resource
/// (`ban`, every `ban.*`), and implies `Action` entries.
#[derive(Debug, Default, Clone, Copy)]
pub struct Filter<'a> {
    pub entry_type: Option<EntryType>,
    pub action: Option<&'a str>,
}

/// One entry of the merged log: a status change (comment_id, from/to, reasons set) or an
/// administrative action (action, target, before/after set), by `entry_type`.
#[derive(sqlx::FromRow)]
pub struct EntryRow {
    pub entry_type: String,
    pub id: i64,
    pub created_at: time::OffsetDateTime,
    pub actor_kind: String,
    pub actor_id: Option<Uuid>,
    pub moderator_email: Option<String>,
    pub note: Option<String>,
    pub comment_id: Option<Uuid>,
    pub from_status: Option<String>,
    pub to_status: Option<String>,
    pub reasons: Option<Value>,
    pub action: Option<String>,
    pub target_kind: Option<String>,
    pub target_id: Option<Uuid>,
    pub before: Option<Value>,
    pub after: Option<Value>,
}

/// Both tables share one id sequence (see the migration), so (created_at, id) orders the merged
/// log totally and one keyset cursor pages through it. Each branch reads at most `limit` rows
/// from its own (site_id, created_at, id) index.
const SITE_LOG: &str = "
    WITH s AS (
        SELECT 'status'::text AS entry_type, e.id, e.created_at, e.actor_kind, e.actor_id, e.note,
               e.comment_id, e.from_status, e.to_status, e.reasons,
               NULL::text AS action, NULL::text AS target_kind, NULL::uuid AS target_id,
               NULL::jsonb AS before, NULL::jsonb AS after
        FROM moderation_events e
        WHERE e.site_id = $1
          AND $5::text IS DISTINCT FROM 'action' AND $6::text IS NULL
          AND (e.created_at, e.id) < (COALESCE($2::timestamptz, 'infinity'),
                                      COALESCE($3::bigint, 9223372036854775807))
        ORDER BY e.created_at DESC, e.id DESC
        LIMIT $4
    ), a AS (
        SELECT 'action'::text, a.id, a.created_at, a.actor_kind, a.actor_id, a.note,
               NULL::uuid, NULL::text, NULL::text, NULL::jsonb,
               a.action, a.target_kind, a.target_id, a.before, a.after
        FROM audit_actions a
        WHERE a.site_id = $1
          AND $5::text IS DISTINCT FROM 'status'
          AND ($6::text IS NULL OR a.action = $6 OR split_part(a.action, '.', 1) = $6)
          AND (a.created_at, a.id) < (COALESCE($2::timestamptz, 'infinity'),
                                      COALESCE($3::bigint, 9223372036854775807))
        ORDER BY a.created_at DESC, a.id DESC
        LIMIT $4
    )
    SELECT u.*, m.email AS moderator_email
    FROM (SELECT * FROM s UNION ALL SELECT * FROM a) u
    LEFT JOIN moderators m ON u.actor_kind = 'moderator' AND m.id = u.actor_id
    ORDER BY u.created_at DESC, u.id DESC
    LIMIT $4";

/// A site's log: status changes of its comments and administrative actions on it, newest first,
/// before the keyset `before` (created_at, id).
pub async fn site_log(
    pool: &sqlx::PgPool,
    site_id: Uuid,
    filter: Filter<'_>,
    before: Option<(time::OffsetDateTime, i64)>,
    limit: i64,
) -> Result<Vec<EntryRow>, sqlx::Error> {
    let (at, id) = before.unzip();
    sqlx::query_as(SITE_LOG)
        .bind(site_id)
        .bind(at)
        .bind(id)
        .bind(limit)
        .bind(filter.entry_type.map(EntryType::as_str))
        .bind(filter.action)
        .fetch_all(pool)
        .await
}

/// A moderator's account-level log (rows with no site): what they did to their own account
/// (API tokens, password) and what was done to it (e.g. an operator's password reset), newest
/// first. Two index scans (by actor, by target), merged.
pub async fn account_log(
    pool: &sqlx::PgPool,
    moderator_id: Uuid,
    action: Option<&str>,
    before: Option<(time::OffsetDateTime, i64)>,
    limit: i64,
) -> Result<Vec<EntryRow>, sqlx::Error> {
    let (at, id) = before.unzip();
    sqlx::query_as(
        "WITH mine AS (
             (SELECT a.* FROM audit_actions a
              WHERE a.site_id IS NULL AND a.actor_id = $1 AND a.actor_kind = 'moderator'
                AND ($5::text IS NULL OR a.action = $5 OR split_part(a.action, '.', 1) = $5)
                AND (a.created_at, a.id) < (COALESCE($2::timestamptz, 'infinity'),
                                            COALESCE($3::bigint, 9223372036854775807))
              ORDER BY a.created_at DESC, a.id DESC LIMIT $4)
             UNION
             (SELECT a.* FROM audit_actions a
              WHERE a.site_id IS NULL AND a.target_id = $1 AND a.target_kind = 'moderator'
                AND ($5::text IS NULL OR a.action = $5 OR split_part(a.action, '.', 1) = $5)
                AND (a.created_at, a.id) < (COALESCE($2::timestamptz, 'infinity'),
                                            COALESCE($3::bigint, 9223372036854775807))
              ORDER BY a.created_at DESC, a.id DESC LIMIT $4)
         )
         SELECT 'action'::text AS entry_type, u.id, u.created_at, u.actor_kind, u.actor_id, u.note,
                NULL::uuid AS comment_id, NULL::text AS from_status, NULL::text AS to_status,
                NULL::jsonb AS reasons, u.action, u.target_kind, u.target_id, u.before, u.after,
                m.email AS moderator_email
         FROM mine u
         LEFT JOIN moderators m ON u.actor_kind = 'moderator' AND m.id = u.actor_id
         ORDER BY u.created_at DESC, u.id DESC
         LIMIT $4",
    )
    .bind(moderator_id)
    .bind(at)
    .bind(id)
    .bind(limit)
    .bind(action)
    .fetch_all(pool)
    .await
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn changed_fields_keeps_only_what_differs() {
        let before = json!({"name": "A", "guests": true, "limits": {}, "gone": 1});
        let after = json!({"name": "B", "guests": true, "limits": {"x": 2}, "new": [1]});
        let (old, new) = changed_fields(&before, &after).unwrap();
        assert_eq!(
            old,
            json!({"name": "A", "limits": {}, "gone": 1, "new": null})
        );
        assert_eq!(
            new,
            json!({"name": "B", "limits": {"x": 2}, "gone": null, "new": [1]})
        );
        assert!(changed_fields(&before, &before).is_none());
    }
}
