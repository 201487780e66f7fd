//! Reading threads: pages of visible comments, single comments for responses and live updates.

use sqlx::{FromRow, PgConnection, PgPool};
use uuid::Uuid;

use super::super::Cursor;
use super::{CommentRow, comment_row_columns, visible_to_reader};
use crate::domain::SortOrder;
// A comment is visible to a reader when approved, or when it is the reader's own and pending
// (or shadow-banned: its author sees it as if published).
// The same predicate serves top-level comments and replies. A deleted comment stays in its thread
// as a placeholder while replies under it are visible, so they keep their parent: a deleted
// top-level comment is fetched only when its tree has a visible reply, and `service::arrange`
// drops every deleted comment left without a visible descendant.
/// Top-level comments of thread `$1` the reader `$2` may see, and deleted ones that still have a
/// visible reply (they stay as placeholders).
macro_rules! visible_roots {
    () => {
        concat!(
            "SELECT ",
            comment_row_columns!(),
            "
    FROM comments c JOIN users u ON u.id = c.user_id
    WHERE c.thread_id = $1 AND c.parent_id IS NULL
      AND (",
            visible_to_reader!("c", "$2"),
            "
           OR (c.status = 'deleted' AND EXISTS (
               SELECT 1 FROM comments r
               WHERE r.root_id = c.id AND r.parent_id IS NOT NULL AND ",
            visible_to_reader!("r", "$2"),
            ")))"
        )
    };
}

const ROOTS_OLDEST: &str = concat!(
    visible_roots!(),
    "
      AND ($3::timestamptz IS NULL OR (c.created_at, c.id) > ($3, $4))
    ORDER BY c.created_at, c.id
    LIMIT $5"
);

const ROOTS_NEWEST: &str = concat!(
    visible_roots!(),
    "
      AND ($3::timestamptz IS NULL OR (c.created_at, c.id) < ($3, $4))
    ORDER BY c.created_at DESC, c.id DESC
    LIMIT $5"
);

const ROOTS_TOP: &str = concat!(
    visible_roots!(),
    "
      AND ($3::timestamptz IS NULL
           OR c.score < $6
           OR (c.score = $6 AND (c.created_at, c.id) > ($3, $4)))
    ORDER BY c.score DESC, c.created_at, c.id
    LIMIT $5"
);

/// One page of a thread's top-level comments, `limit + 1` rows so the caller knows if more exist.
pub async fn roots_page(
    pool: &PgPool,
    thread_id: Uuid,
    viewer: Option<Uuid>,
    sort: SortOrder,
    after: Option<&Cursor>,
    limit: i64,
) -> Result<Vec<CommentRow>, sqlx::Error> {
    let sql = match sort {
        SortOrder::Oldest => ROOTS_OLDEST,
        SortOrder::Newest => ROOTS_NEWEST,
        SortOrder::Top => ROOTS_TOP,
    };
    let q = sqlx::query_as(sql)
        .bind(thread_id)
        .bind(viewer)
        .bind(after.map(|c| c.created_at))
        .bind(after.map(|c| c.id))
        .bind(limit + 1);
    let q = if sort == SortOrder::Top {
        q.bind(after.map(|c| c.score))
    } else {
        q
    };
    q.fetch_all(pool).await
}

/// Every visible reply under the given top-level comments, and every deleted one (the caller
/// keeps those that still have visible replies), oldest first (parents before children, since a
/// reply is always newer than what it answers).
pub async fn replies(
    pool: &PgPool,
    root_ids: &[Uuid],
    viewer: Option<Uuid>,
) -> Result<Vec<CommentRow>, sqlx::Error> {
    sqlx::query_as(concat!(
        "SELECT ",
        comment_row_columns!(),
        " FROM comments c JOIN users u ON u.id = c.user_id
         WHERE c.root_id = ANY ($1) AND c.parent_id IS NOT NULL
           AND (c.status = 'deleted' OR ",
        visible_to_reader!("c", "$2"),
        ")
         ORDER BY c.created_at, c.id"
    ))
    .bind(root_ids)
    .bind(viewer)
    .fetch_all(pool)
    .await
}

/// A comment as its author sees it in a response.
pub async fn comment_row(conn: &mut PgConnection, id: Uuid) -> Result<CommentRow, sqlx::Error> {
    sqlx::query_as(concat!(
        "SELECT ",
        comment_row_columns!(),
        " FROM comments c JOIN users u ON u.id = c.user_id WHERE c.id = $1"
    ))
    .bind(id)
    .fetch_one(conn)
    .await
}

/// Published direct replies of a comment.
pub async fn reply_count(
    conn: &mut PgConnection,
    root_id: Uuid,
    id: Uuid,
) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT count(*) FROM comments WHERE root_id = $1 AND parent_id = $2 AND status = 'approved'",
    )
    .bind(root_id)
    .bind(id)
    .fetch_one(conn)
    .await
}

/// One comment as readers see it, with its count of visible direct replies and whether it was
/// ever published (live updates).
/// A changed comment as live updates need it: the row, its visible replies, whether it was
/// ever public, and where it lives (site and thread uri, so a reader of a thread that didn't
/// exist yet recognizes its first comment without a query).
#[derive(FromRow)]
pub struct LiveComment {
    #[sqlx(flatten)]
    pub comment: CommentRow,
    pub replies: i64,
    pub ever_public: bool,
    pub site_id: Uuid,
    pub thread_uri: String,
}

pub async fn public_comment(pool: &PgPool, id: Uuid) -> Result<Option<LiveComment>, sqlx::Error> {
    sqlx::query_as(concat!(
        "SELECT ",
        comment_row_columns!(),
        ", (SELECT count(*) FROM comments r WHERE r.parent_id = c.id AND r.status = 'approved') AS replies,
           EXISTS (SELECT 1 FROM moderation_events e WHERE e.comment_id = c.id AND e.to_status = 'approved') AS ever_public,
           c.site_id, t.uri AS thread_uri
         FROM comments c JOIN users u ON u.id = c.user_id JOIN threads t ON t.id = c.thread_id
         WHERE c.id = $1"
    ))
    .bind(id)
    .fetch_optional(pool)
    .await
}
