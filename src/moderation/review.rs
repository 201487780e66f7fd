//! What moderators read and change about comments: the queue, search, one comment, a
//! moderator's edit, a comment's history and a site's audit log. All of it SQL scoped by a
//! [`SiteScope`] (or, for a comment addressed by id, by the caller's site ids), and the JSON
//! shapes moderators get — which, unlike the public ones, carry the author's email and IP.
//!
//! Pages are keysets on `(created_at, id)`. The bound is written with `COALESCE` on both halves
//! instead of `$n IS NULL OR ...`, so the first page and the next ones are the same statement
//! and both keep a range condition on `comments_site_status_idx` (a generic plan of the `OR`
//! form would filter instead, and page N would read the N-1 pages before it).

use std::collections::HashMap;

use serde::Serialize;
use serde_json::{Value, json};
use sqlx::{FromRow, PgConnection, PgPool};
use time::OffsetDateTime;
use utoipa::ToSchema;
use uuid::Uuid;

use super::audit::{self, ActionRecord, Actor};
use super::claims::{self, Holder};
use crate::auth::moderators::SiteScope;

/// Which queue.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Queue {
    Pending,
    Spam,
    /// Approved or pending comments with at least one reader flag.
    Flagged,
}

impl Queue {
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "pending" => Some(Self::Pending),
            "spam" => Some(Self::Spam),
            "flagged" => Some(Self::Flagged),
            _ => None,
        }
    }
}

macro_rules! item_columns {
    () => {
        "c.id, c.site_id, c.thread_id, t.uri AS thread_uri, t.title AS thread_title, c.parent_id,
         c.body_markdown, c.body_html, c.status, c.version, c.created_at, c.edited_at, c.score,
         c.reasons, c.user_id, c.author_name, c.author_provider, c.author_email,
         host(c.author_ip) AS author_ip, c.author_user_agent, c.shadow"
    };
}

/// A comment as a moderator sees it. No Debug: it holds the author's email and IP.
#[derive(FromRow)]
pub struct ItemRow {
    pub id: Uuid,
    pub site_id: Uuid,
    pub thread_id: Uuid,
    pub thread_uri: String,
    pub thread_title: Option<String>,
    pub parent_id: Option<Uuid>,
    pub body_markdown: String,
    pub body_html: String,
    pub status: String,
    pub version: i32,
    pub created_at: OffsetDateTime,
    pub edited_at: Option<OffsetDateTime>,
    pub score: i32,
    pub reasons: Value,
    pub user_id: Uuid,
    pub author_name: String,
    pub author_provider: String,
    pub author_email: Option<String>,
    pub author_ip: Option<String>,
    pub author_user_agent: Option<String>,
    pub shadow: bool,
}

const QUEUE_BY_STATUS: &str = concat!(
    "SELECT ",
    item_columns!(),
    " FROM comments c JOIN threads t ON t.id = c.thread_id
     WHERE c.site_id = $1 AND c.status = $2
       AND (c.created_at, c.id) > (COALESCE($3::timestamptz, '-infinity'),
                                   COALESCE($4::uuid, '00000000-0000-0000-0000-000000000000'))
     ORDER BY c.created_at, c.id
     LIMIT $5"
);

// Flagged comments are few next to the approved ones, so they are found from `flags` (by site)
// and then ordered, rather than by walking every approved comment of the site.
const QUEUE_FLAGGED: &str = concat!(
    "SELECT ",
    item_columns!(),
    " FROM comments c JOIN threads t ON t.id = c.thread_id
     WHERE c.site_id = $1 AND c.status IN ('approved', 'pending')
       AND c.id IN (SELECT f.comment_id FROM flags f WHERE f.site_id = $1)
       AND (c.created_at, c.id) > (COALESCE($2::timestamptz, '-infinity'),
                                   COALESCE($3::uuid, '00000000-0000-0000-0000-000000000000'))
     ORDER BY c.created_at, c.id
     LIMIT $4"
);

/// One page of a queue, oldest first, `limit` rows after the keyset `after`.
pub async fn queue(
    pool: &PgPool,
    scope: &SiteScope,
    which: Queue,
    after: Option<(OffsetDateTime, Uuid)>,
    limit: i64,
) -> Result<Vec<ItemRow>, sqlx::Error> {
    let (at, id) = after.unzip();
    match which {
        Queue::Flagged => {
            sqlx::query_as(QUEUE_FLAGGED)
                .bind(scope.site_id())
                .bind(at)
                .bind(id)
                .bind(limit)
                .fetch_all(pool)
                .await
        }
        Queue::Pending | Queue::Spam => {
            let status = if which == Queue::Pending {
                "pending"
            } else {
                "spam"
            };
            sqlx::query_as(QUEUE_BY_STATUS)
                .bind(scope.site_id())
                .bind(status)
                .bind(at)
                .bind(id)
                .bind(limit)
                .fetch_all(pool)
                .await
        }
    }
}

/// Search filters; each `None` matches everything.
#[derive(Debug, Default)]
pub struct Search {
    pub status: Option<&'static str>,
    pub author: Option<Uuid>,
    pub thread_id: Option<Uuid>,
    pub thread_uri: Option<String>,
    /// Words, matched with `plainto_tsquery('simple', q)`.
    pub q: Option<String>,
}

const SEARCH: &str = concat!(
    "SELECT ",
    item_columns!(),
    " FROM comments c JOIN threads t ON t.id = c.thread_id
     WHERE c.site_id = $1
       AND ($2::text IS NULL OR c.status = $2)
       AND ($3::uuid IS NULL OR c.user_id = $3)
       AND ($4::uuid IS NULL OR c.thread_id = $4)
       AND ($5::text IS NULL OR t.uri = $5)
       AND ($6::text IS NULL OR to_tsvector('simple', c.body_markdown) @@ plainto_tsquery('simple', $6))
       AND (c.created_at, c.id) < (COALESCE($7::timestamptz, 'infinity'),
                                   COALESCE($8::uuid, 'ffffffff-ffff-ffff-ffff-ffffffffffff'))
     ORDER BY c.created_at DESC, c.id DESC
     LIMIT $9"
);

/// Every comment of the site matching the filters, newest first, before the keyset `before`.
pub async fn search(
    pool: &PgPool,
    scope: &SiteScope,
    filter: &Search,
    before: Option<(OffsetDateTime, Uuid)>,
    limit: i64,
) -> Result<Vec<ItemRow>, sqlx::Error> {
    let (at, id) = before.unzip();
    sqlx::query_as(SEARCH)
        .bind(scope.site_id())
        .bind(filter.status)
        .bind(filter.author)
        .bind(filter.thread_id)
        .bind(filter.thread_uri.as_deref())
        .bind(filter.q.as_deref())
        .bind(at)
        .bind(id)
        .bind(limit)
        .fetch_all(pool)
        .await
}

/// One comment of the site.
pub async fn one(
    pool: &PgPool,
    scope: &SiteScope,
    id: Uuid,
) -> Result<Option<ItemRow>, sqlx::Error> {
    sqlx::query_as(concat!(
        "SELECT ",
        item_columns!(),
        " FROM comments c JOIN threads t ON t.id = c.thread_id WHERE c.id = $1 AND c.site_id = $2"
    ))
    .bind(id)
    .bind(scope.site_id())
    .fetch_optional(pool)
    .await
}

/// Comments of the site by id, oldest first (ids of other sites are left out).
pub async fn many(
    pool: &PgPool,
    scope: &SiteScope,
    ids: &[Uuid],
) -> Result<Vec<ItemRow>, sqlx::Error> {
    sqlx::query_as(concat!(
        "SELECT ",
        item_columns!(),
        " FROM comments c JOIN threads t ON t.id = c.thread_id
          WHERE c.id = ANY ($1) AND c.site_id = $2
          ORDER BY c.created_at, c.id"
    ))
    .bind(ids)
    .bind(scope.site_id())
    .fetch_all(pool)
    .await
}

/// The site of a comment, if it is one of `site_ids` (the caller's sites): a comment of any
/// other site is indistinguishable from none.
pub async fn comment_site(
    pool: &PgPool,
    id: Uuid,
    site_ids: &[Uuid],
) -> Result<Option<Uuid>, sqlx::Error> {
    sqlx::query_scalar("SELECT site_id FROM comments WHERE id = $1 AND site_id = ANY ($2)")
        .bind(id)
        .bind(site_ids)
        .fetch_optional(pool)
        .await
}

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
    fn add(&mut self, status: &str, n: i64) {
        match status {
            "approved" => self.approved += n,
            "pending" => self.pending += n,
            "spam" => self.spam += n,
            "rejected" => self.rejected += n,
            "deleted" => self.deleted += n,
            _ => {}
        }
    }
}

/// Counts by status of these users' comments on the site, in one query
/// (`comments_site_user_idx`).
pub async fn status_counts(
    pool: &PgPool,
    site_id: Uuid,
    user_ids: &[Uuid],
) -> Result<HashMap<Uuid, StatusCounts>, sqlx::Error> {
    let rows: Vec<(Uuid, String, i64)> = sqlx::query_as(
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
        out.entry(user).or_default().add(&status, n);
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
                    status: &r.status,
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

// ---------------------------------------------------------------------------------------------
// A moderator's edit

pub enum Edit {
    NotFound,
    /// `If-Match` named another version; this is the current one.
    Stale(i32),
    Edited {
        thread_id: Uuid,
    },
}

/// Replaces a comment's body, keeping the old one in `comment_revisions`, in the caller's
/// transaction. The status is left alone: a moderator's words are not run past the pipeline.
pub async fn edit_body(
    conn: &mut PgConnection,
    scope: &SiteScope,
    comment_id: Uuid,
    editor: Uuid,
    markdown: &str,
    html: &str,
    if_match: Option<i32>,
) -> Result<Edit, sqlx::Error> {
    let current: Option<(i32, String)> = sqlx::query_as(
        "SELECT version, body_markdown FROM comments WHERE id = $1 AND site_id = $2 FOR UPDATE",
    )
    .bind(comment_id)
    .bind(scope.site_id())
    .fetch_optional(&mut *conn)
    .await?;
    let Some((version, old_body)) = current else {
        return Ok(Edit::NotFound);
    };
    if if_match.is_some_and(|v| v != version) {
        return Ok(Edit::Stale(version));
    }
    sqlx::query(
        "INSERT INTO comment_revisions (comment_id, site_id, editor_kind, editor_id, body_markdown)
         VALUES ($1, $2, 'moderator', $3, $4)",
    )
    .bind(comment_id)
    .bind(scope.site_id())
    .bind(editor)
    .bind(&old_body)
    .execute(&mut *conn)
    .await?;
    let thread_id: Uuid = sqlx::query_scalar(
        "UPDATE comments SET body_markdown = $3, body_html = $4, version = version + 1,
                edited_at = now(), updated_at = now()
         WHERE id = $1 AND site_id = $2
         RETURNING thread_id",
    )
    .bind(comment_id)
    .bind(scope.site_id())
    .bind(markdown)
    .bind(html)
    .fetch_one(&mut *conn)
    .await?;
    audit::record_action(
        conn,
        &ActionRecord {
            site_id: Some(scope.site_id()),
            actor: Actor::Moderator(editor),
            action: "comment.edited",
            target_kind: "comment",
            target_id: Some(comment_id),
            before: Some(json!({ "body_markdown": old_body, "version": version })),
            after: Some(json!({ "body_markdown": markdown, "version": version + 1 })),
            note: None,
        },
    )
    .await?;
    Ok(Edit::Edited { thread_id })
}

// ---------------------------------------------------------------------------------------------
// History and audit

#[derive(FromRow)]
pub struct EventRow {
    pub id: i64,
    pub comment_id: Uuid,
    pub actor_kind: String,
    pub actor_id: Option<Uuid>,
    pub moderator_email: Option<String>,
    pub from_status: Option<String>,
    pub to_status: String,
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
            from: e.from_status.as_deref(),
            to: &e.to_status,
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
