//! All SQL about threads, comments, guest authors and idempotency keys, by what it owns:
//! threads, comment writes (and guest authors), thread reads, the comments people act on
//! (edits), reactions (flags and votes) and idempotency keys.

mod context;
mod idempotency;
mod reactions;
mod reads;
mod targets;
mod threads;
mod writes;

pub use context::*;
pub use idempotency::*;
pub use reactions::*;
pub use reads::*;
pub use targets::*;
pub use threads::*;
pub use writes::*;

/// The columns of `CommentRow`, for queries over `comments c JOIN users u` (a macro, because
/// sqlx takes only static SQL and `concat!` only literals).
macro_rules! comment_row_columns {
    () => {
        "c.id, c.thread_id, c.parent_id, c.root_id, c.depth, c.user_id, c.author_provider, c.author_name,
         c.author_url, c.author_avatar_url AS avatar_url, c.body_html, c.status, c.score, c.created_at, c.edited_at, c.shadow"
    };
}

pub(crate) use comment_row_columns;

/// The "which comments may this reader see" predicate, once, for the comment alias `$c` and
/// the viewer parameter `$viewer`: approved, or the reader's own comment while pending or
/// shadow-banned (its author sees it as if published). A macro, like the column list, because
/// sqlx takes only static SQL.
macro_rules! visible_to_reader {
    ($c:literal, $viewer:literal) => {
        concat!(
            "(",
            $c,
            ".status = 'approved' OR (",
            $c,
            ".user_id = ",
            $viewer,
            " AND (",
            $c,
            ".status = 'pending' OR (",
            $c,
            ".status = 'spam' AND ",
            $c,
            ".shadow))))"
        )
    };
}
pub(crate) use visible_to_reader;
