//! A comment's history: its status changes and the edits of its body.

use serde::Serialize;
use serde_json::Value;
use sqlx::{FromRow, PgPool};
use time::OffsetDateTime;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::auth::moderators::SiteScope;
use crate::domain::CommentStatus;

#[derive(FromRow)]
pub struct EventRow {
    pub id: i64,
    pub comment_id: Uuid,
    pub actor_kind: String,
    pub actor_id: Option<Uuid>,
    pub moderator_email: Option<String>,
    pub from_status: Option<CommentStatus>,
    pub to_status: CommentStatus,
    pub reasons: Value,
    pub note: Option<String>,
    pub created_at: OffsetDateTime,
}

#[derive(FromRow)]
pub struct RevisionRow {
    pub id: i64,
    pub editor_kind: String,
    pub editor_id: Option<Uuid>,
    pub moderator_email: Option<String>,
    pub body_markdown: String,
    pub created_at: OffsetDateTime,
}

/// Who did something: a moderator is named by id and email, an author by user id; the pipeline,
/// reader flags and the system by kind only.
#[derive(Serialize, ToSchema)]
#[schema(as = Actor)]
pub struct ActorView<'a> {
    /// `moderator`, `author`, `pipeline`, `flags` or `system`.
    #[schema(example = "moderator")]
    pub kind: &'a str,
    /// The moderator's or the author's id; `null` for the others.
    pub id: Option<Uuid>,
    /// A moderator's email (absent for everyone else).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub email: Option<&'a str>,
}

/// A status change of a comment (an audit log entry).
#[derive(Serialize, ToSchema)]
#[schema(as = StatusEvent)]
pub struct EventView<'a> {
    /// Always `status`.
    #[serde(rename = "type")]
    #[schema(example = "status")]
    pub kind: &'static str,
    pub id: String,
    pub comment_id: Uuid,
    pub actor: ActorView<'a>,
    /// The status before (`null` when the comment was created).
    pub from: Option<&'a str>,
    /// The status after.
    pub to: &'a str,
    /// The moderator's note, if any.
    pub note: Option<&'a str>,
    /// The pipeline's reasons for this change, if it made it.
    #[schema(value_type = Vec<crate::moderation::Reason>)]
    pub reasons: &'a Value,
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub created_at: OffsetDateTime,
}

impl<'a> EventView<'a> {
    pub fn new(e: &'a EventRow) -> Self {
        Self {
            kind: "status",
            id: e.id.to_string(),
            comment_id: e.comment_id,
            actor: ActorView {
                kind: &e.actor_kind,
                id: e.actor_id,
                email: e.moderator_email.as_deref(),
            },
            from: e.from_status.map(CommentStatus::as_str),
            to: e.to_status.as_str(),
            note: e.note.as_deref(),
            reasons: &e.reasons,
            created_at: e.created_at,
        }
    }
}

/// An edit of a comment's body.
#[derive(Serialize, ToSchema)]
#[schema(as = EditRevision)]
pub struct RevisionView<'a> {
    /// Always `edit`.
    #[serde(rename = "type")]
    #[schema(example = "edit")]
    pub kind: &'static str,
    pub id: String,
    pub actor: ActorView<'a>,
    /// The text this edit replaced.
    pub previous_body_markdown: &'a str,
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub created_at: OffsetDateTime,
}

impl<'a> RevisionView<'a> {
    pub fn new(r: &'a RevisionRow) -> Self {
        Self {
            kind: "edit",
            id: r.id.to_string(),
            actor: ActorView {
                kind: &r.editor_kind,
                id: r.editor_id,
                email: r.moderator_email.as_deref(),
            },
            previous_body_markdown: &r.body_markdown,
            created_at: r.created_at,
        }
    }
}

macro_rules! event_columns {
    () => {
        "e.id, e.comment_id, e.actor_kind, e.actor_id, m.email AS moderator_email, e.from_status,
         e.to_status, e.reasons, e.note, e.created_at"
    };
}

/// Every status change and every edit of a comment of the site, each oldest first.
pub async fn history(
    pool: &PgPool,
    scope: &SiteScope,
    comment_id: Uuid,
) -> Result<(Vec<EventRow>, Vec<RevisionRow>), sqlx::Error> {
    let events = sqlx::query_as(concat!(
        "SELECT ",
        event_columns!(),
        " FROM moderation_events e
          LEFT JOIN moderators m ON e.actor_kind = 'moderator' AND m.id = e.actor_id
          WHERE e.comment_id = $1 AND e.site_id = $2
          ORDER BY e.id"
    ))
    .bind(comment_id)
    .bind(scope.site_id())
    .fetch_all(pool)
    .await?;
    let revisions = sqlx::query_as(
        "SELECT r.id, r.editor_kind, r.editor_id, m.email AS moderator_email, r.body_markdown,
                r.created_at
         FROM comment_revisions r
         LEFT JOIN moderators m ON r.editor_kind = 'moderator' AND m.id = r.editor_id
         WHERE r.comment_id = $1 AND r.site_id = $2
         ORDER BY r.id",
    )
    .bind(comment_id)
    .bind(scope.site_id())
    .fetch_all(pool)
    .await?;
    Ok((events, revisions))
}
