//! The queue's items as moderators see them: with flags, the author's history and live claims.

use std::collections::HashMap;

use serde::Serialize;
use serde_json::Value;
use sqlx::{FromRow, PgPool};
use time::OffsetDateTime;
use utoipa::ToSchema;
use uuid::Uuid;

use super::super::claims::{self, Holder};
use super::ItemRow;
use crate::domain::CommentStatus;

#[derive(FromRow)]
struct FlagRow {
    comment_id: Uuid,
    reason: String,
    note: Option<String>,
    created_at: OffsetDateTime,
}

/// A reader's flag on a comment (who flagged is not shown).
#[derive(Serialize, ToSchema)]
#[schema(as = CommentFlag)]
pub struct FlagView {
    /// `spam`, `abuse`, `off_topic` or `other`.
    #[schema(example = "spam")]
    pub reason: String,
    pub note: Option<String>,
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub created_at: OffsetDateTime,
}

/// A commenter's comments on one site, by status.
#[derive(Debug, Clone, Copy, Default, Serialize, ToSchema)]
pub struct StatusCounts {
    pub approved: i64,
    pub pending: i64,
    pub spam: i64,
    pub rejected: i64,
    pub deleted: i64,
}

impl StatusCounts {
    fn add(&mut self, status: CommentStatus, n: i64) {
        *match status {
            CommentStatus::Approved => &mut self.approved,
            CommentStatus::Pending => &mut self.pending,
            CommentStatus::Spam => &mut self.spam,
            CommentStatus::Rejected => &mut self.rejected,
            CommentStatus::Deleted => &mut self.deleted,
        } += n;
    }
}

/// Counts by status of these users' comments on the site, in one query
/// (`comments_site_user_created_idx`, which carries the status).
pub async fn status_counts(
    pool: &PgPool,
    site_id: Uuid,
    user_ids: &[Uuid],
) -> Result<HashMap<Uuid, StatusCounts>, sqlx::Error> {
    let rows: Vec<(Uuid, CommentStatus, i64)> = sqlx::query_as(
        "SELECT user_id, status, count(*) FROM comments
         WHERE site_id = $1 AND user_id = ANY ($2)
         GROUP BY user_id, status",
    )
    .bind(site_id)
    .bind(user_ids)
    .fetch_all(pool)
    .await?;
    let mut out: HashMap<Uuid, StatusCounts> = HashMap::new();
    for (user, status, n) in rows {
        out.entry(user).or_default().add(status, n);
    }
    Ok(out)
}

/// The thread (page) a comment is on.
#[derive(Serialize, ToSchema)]
#[schema(as = ModThreadRef)]
pub struct ThreadRef<'a> {
    pub id: Uuid,
    pub uri: &'a str,
    pub title: Option<&'a str>,
}

/// A comment as moderators see it: with its Markdown source, status and version.
#[derive(Serialize, ToSchema)]
#[schema(as = ModComment)]
pub struct ModCommentView<'a> {
    pub id: Uuid,
    pub thread: ThreadRef<'a>,
    pub parent_id: Option<Uuid>,
    /// The author's Markdown.
    pub body_markdown: &'a str,
    /// The sanitized HTML readers see.
    pub html: &'a str,
    /// `pending`, `approved`, `spam`, `rejected` or `deleted`.
    #[schema(example = "pending")]
    pub status: &'a str,
    /// A shadow-banned author's comment (stored as spam, shown to its author as published).
    pub shadow: bool,
    /// Send it back as `If-Match` with an action or edit.
    pub version: i32,
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339::option")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub edited_at: Option<OffsetDateTime>,
    pub score: i32,
}

/// The author as moderators see them: with the email and IP the comment was sent with.
#[derive(Serialize, ToSchema)]
#[schema(as = ModAuthor)]
pub struct ModAuthorView<'a> {
    /// The user's id.
    pub id: Uuid,
    pub name: &'a str,
    /// `wordpress`, `twitter`, `facebook`, `google`, `oidc-<name>` or `guest`.
    #[schema(example = "google")]
    pub provider: &'a str,
    pub email: Option<&'a str>,
    pub ip: Option<&'a str>,
    pub user_agent: Option<&'a str>,
}

/// A comment with everything a moderator needs to decide on it (a queue item).
#[derive(Serialize, ToSchema)]
#[schema(as = QueueItem)]
pub struct ItemView<'a> {
    pub comment: ModCommentView<'a>,
    pub author: ModAuthorView<'a>,
    /// Why the pipeline decided what it did, as stored with the comment.
    #[schema(value_type = Vec<crate::moderation::Reason>)]
    pub reasons: &'a Value,
    pub flags: Vec<FlagView>,
    pub flags_count: usize,
    /// The author's comments on this site, by status.
    pub author_history: StatusCounts,
    /// The moderator holding a live queue claim on it (`null` when nobody does).
    pub claimed_by: Option<Holder>,
    /// When that claim runs out (`null` when nobody holds it).
    #[serde(with = "time::serde::rfc3339::option")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub claimed_until: Option<OffsetDateTime>,
}

/// Items with their flags, their authors' history and their live claims, read in three batched
/// queries (never one per item).
pub async fn items<'a>(
    pool: &PgPool,
    site_id: Uuid,
    rows: &'a [ItemRow],
) -> Result<Vec<ItemView<'a>>, sqlx::Error> {
    if rows.is_empty() {
        return Ok(Vec::new());
    }
    let ids: Vec<Uuid> = rows.iter().map(|r| r.id).collect();
    let mut users: Vec<Uuid> = rows.iter().map(|r| r.user_id).collect();
    users.sort_unstable();
    users.dedup();
    let flag_rows: Vec<FlagRow> = sqlx::query_as(
        "SELECT comment_id, reason, note, created_at FROM flags
         WHERE comment_id = ANY ($1) AND site_id = $2
         ORDER BY created_at, user_id",
    )
    .bind(&ids)
    .bind(site_id)
    .fetch_all(pool)
    .await?;
    let mut flags: HashMap<Uuid, Vec<FlagView>> = HashMap::new();
    for f in flag_rows {
        flags.entry(f.comment_id).or_default().push(FlagView {
            reason: f.reason,
            note: f.note,
            created_at: f.created_at,
        });
    }
    let counts = status_counts(pool, site_id, &users).await?;
    let mut leases = claims::live(pool, site_id, &ids).await?;
    Ok(rows
        .iter()
        .map(|r| {
            let flags = flags.remove(&r.id).unwrap_or_default();
            ItemView {
                comment: ModCommentView {
                    id: r.id,
                    thread: ThreadRef {
                        id: r.thread_id,
                        uri: &r.thread_uri,
                        title: r.thread_title.as_deref(),
                    },
                    parent_id: r.parent_id,
                    body_markdown: &r.body_markdown,
                    html: &r.body_html,
                    status: r.status.as_str(),
                    shadow: r.shadow,
                    version: r.version,
                    created_at: r.created_at,
                    edited_at: r.edited_at,
                    score: r.score,
                },
                author: ModAuthorView {
                    id: r.user_id,
                    name: &r.author_name,
                    provider: &r.author_provider,
                    email: r.author_email.as_deref(),
                    ip: r.author_ip.as_deref(),
                    user_agent: r.author_user_agent.as_deref(),
                },
                reasons: &r.reasons,
                flags_count: flags.len(),
                flags,
                author_history: counts.get(&r.user_id).copied().unwrap_or_default(),
                claimed_until: leases.get(&r.id).map(|c| c.claimed_until),
                claimed_by: leases.remove(&r.id).map(|c| c.claimed_by),
            }
        })
        .collect())
}
