//! What moderators read and change about comments: the queue, search, one comment, a
//! moderator's edit, a comment's history and a site's audit log. All of it SQL scoped by a
//! [`SiteScope`] (or, for a comment addressed by id, by the caller's site ids), and the JSON
//! shapes moderators get — which, unlike the public ones, carry the author's email and IP.
//!
//! Pages are keysets on `(created_at, id)`. The bound is written with `COALESCE` on both halves
//! instead of `$n IS NULL OR ...`, so the first page and the next ones are the same statement
//! and both keep a range condition on `comments_site_status_idx` (a generic plan of the `OR`
//! form would filter instead, and page N would read the N-1 pages before it).

use serde_json::Value;
use sqlx::{FromRow, PgPool};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::auth::moderators::SiteScope;
use crate::domain::CommentStatus;

mod edit;
mod history;
mod items;

pub use edit::{Edit, edit_body};
pub use history::{ActorView, EventRow, EventView, RevisionRow, RevisionView, history};
pub use items::{
    FlagView, ItemView, ModAuthorView, ModCommentView, StatusCounts, ThreadRef, items,
    status_counts,
};

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
    pub status: CommentStatus,
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
    crate::db::one_of_site(pool, concat!(
        "SELECT ",
        item_columns!(),
        " FROM comments c JOIN threads t ON t.id = c.thread_id WHERE c.id = $1 AND c.site_id = $2"
    ), id, scope.site_id()).await
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
