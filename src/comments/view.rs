//! The public JSON shape of comments and threads (API.md "Comment object").

use serde::Serialize;
use time::OffsetDateTime;
use uuid::Uuid;

use super::store::{CommentRow, ThreadRow};

#[derive(Serialize)]
pub struct AuthorView<'a> {
    /// Null on a deleted comment's placeholder.
    pub id: Option<Uuid>,
    pub name: &'a str,
    pub avatar_url: Option<&'a str>,
    pub profile_url: Option<&'a str>,
    pub provider: &'a str,
}

#[derive(Serialize)]
pub struct CommentView<'a> {
    pub id: Uuid,
    pub thread_id: Uuid,
    pub parent_id: Option<Uuid>,
    pub depth: i32,
    pub author: AuthorView<'a>,
    pub html: &'a str,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339::option")]
    pub edited_at: Option<OffsetDateTime>,
    pub score: i32,
    /// Shown only to the comment's author (and moderators): others only ever see approved ones.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<&'a str>,
    pub replies_count: usize,
    /// A deleted comment kept as a placeholder so its replies keep their parent: no text, no
    /// author.
    pub deleted: bool,
    /// The author's latest appeal about this comment and its outcome: only in the author's own
    /// view of the thread.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub appeal: Option<crate::moderation::appeals::Outcome>,
}

/// What a deleted comment's placeholder shows instead of its author.
const DELETED_AUTHOR: &str = "deleted";

impl<'a> CommentView<'a> {
    pub fn new(c: &'a CommentRow, viewer: Option<Uuid>, replies_count: usize) -> Self {
        let deleted = c.status == "deleted";
        let author = if deleted {
            AuthorView {
                id: None,
                name: DELETED_AUTHOR,
                avatar_url: None,
                profile_url: None,
                provider: DELETED_AUTHOR,
            }
        } else {
            AuthorView {
                id: Some(c.user_id),
                name: &c.author_name,
                avatar_url: c.avatar_url.as_deref(),
                profile_url: c.author_url.as_deref(),
                provider: &c.author_provider,
            }
        };
        Self {
            id: c.id,
            thread_id: c.thread_id,
            parent_id: c.parent_id,
            depth: c.depth,
            author,
            html: if deleted { "" } else { &c.body_html },
            created_at: c.created_at,
            edited_at: c.edited_at,
            score: c.score,
            // A shadow-banned author sees their comment as published.
            status: (viewer == Some(c.user_id)).then_some(if c.shadow {
                "approved"
            } else {
                c.status.as_str()
            }),
            replies_count,
            deleted,
            appeal: None,
        }
    }
}

#[derive(Serialize)]
pub struct ThreadView<'a> {
    /// Null until the first comment creates the thread.
    pub id: Option<Uuid>,
    pub uri: &'a str,
    pub title: Option<&'a str>,
    pub url: Option<&'a str>,
    pub locked: bool,
    pub comment_count: i64,
}

impl<'a> ThreadView<'a> {
    pub fn new(uri: &'a str, t: Option<&'a ThreadRow>, comment_count: i64) -> Self {
        Self {
            id: t.map(|t| t.id),
            uri,
            title: t.and_then(|t| t.title.as_deref()),
            url: t.and_then(|t| t.url.as_deref()),
            locked: t.is_some_and(|t| t.locked),
            comment_count,
        }
    }
}

#[derive(Serialize)]
pub struct ThreadPage<'a> {
    pub thread: ThreadView<'a>,
    pub comments: Vec<CommentView<'a>>,
    pub next_cursor: Option<String>,
}
