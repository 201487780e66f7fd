//! The public JSON shape of comments and threads (API.md "Comment object").

use serde::Serialize;
use time::OffsetDateTime;
use utoipa::ToSchema;
use uuid::Uuid;

use super::store::{CommentRow, ThreadRow};
use crate::domain::CommentStatus;

/// A comment's author as the public sees them (never an email or IP).
#[derive(Serialize, ToSchema)]
pub struct AuthorView<'a> {
    /// The author's user id. Null on a deleted comment's placeholder.
    pub id: Option<Uuid>,
    /// Display name (`deleted` on a deleted comment's placeholder).
    #[schema(example = "Ada")]
    pub name: &'a str,
    /// Avatar image from the login provider, if any.
    pub avatar_url: Option<&'a str>,
    /// Profile page (a guest's website), if any.
    pub profile_url: Option<&'a str>,
    /// The login the comment came through: `guest`, `google`, `wordpress`, `oidc-<name>`...
    /// (`deleted` on a deleted comment's placeholder).
    #[schema(example = "google")]
    pub provider: &'a str,
}

/// A comment as readers see it (API.md "Comment object").
#[derive(Serialize, ToSchema)]
pub struct CommentView<'a> {
    pub id: Uuid,
    pub thread_id: Uuid,
    /// The comment this one replies to; null for a top-level comment.
    pub parent_id: Option<Uuid>,
    /// Nesting level: 1 for a top-level comment.
    #[schema(example = 1)]
    pub depth: i32,
    pub author: AuthorView<'a>,
    /// The rendered, sanitized HTML of the comment's markdown (empty on a deleted placeholder).
    pub html: &'a str,
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub created_at: OffsetDateTime,
    /// When its author last edited it; null if never.
    #[serde(with = "time::serde::rfc3339::option")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub edited_at: Option<OffsetDateTime>,
    /// Upvotes minus downvotes.
    pub score: i32,
    /// Shown only to the comment's author (and moderators): others only ever see approved ones.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<crate::domain::CommentStatus>)]
    pub status: Option<&'a str>,
    /// How many visible replies hang directly below it.
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
        let deleted = c.status == CommentStatus::Deleted;
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

/// One page of a site (a thread of comments), keyed by its path.
#[derive(Serialize, ToSchema)]
pub struct ThreadView<'a> {
    /// Null until the first comment creates the thread.
    pub id: Option<Uuid>,
    /// The page's path on the site.
    #[schema(example = "/2013/02/26/kerry-lavrov/")]
    pub uri: &'a str,
    /// The page's title, as the first commenter's widget sent it.
    pub title: Option<&'a str>,
    /// The page's full URL, as the first commenter's widget sent it.
    pub url: Option<&'a str>,
    /// A locked thread takes no new comments.
    pub locked: bool,
    /// Approved comments in the whole thread.
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

/// A page of a thread: top-level comments, each followed by its visible replies (oldest first).
#[derive(Serialize, ToSchema)]
pub struct ThreadPage<'a> {
    pub thread: ThreadView<'a>,
    /// In display order: every top-level comment is followed by its reply tree.
    pub comments: Vec<CommentView<'a>>,
    /// Pass as `cursor` for the next page; null on the last page.
    pub next_cursor: Option<String>,
}

/// What posting or editing a comment answers: `{comment, status, reasons}`. `status` tells the
/// widget whether the comment shows now (`approved`) or awaits moderation (`pending`); `reasons`
/// say why it was held, in sentences the widget can show its author.
#[derive(Serialize, ToSchema)]
pub struct PostedComment<'a> {
    pub comment: CommentView<'a>,
    pub status: crate::domain::CommentStatus,
    pub reasons: &'a [crate::moderation::Reason],
}
