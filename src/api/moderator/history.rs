//! A comment's history: its status changes and edits, oldest first.

use actix_web::{HttpResponse, web};
use serde::Serialize;
use time::OffsetDateTime;
use utoipa::ToSchema;
use uuid::Uuid;

use super::comment::comment_scope;
use super::page::{Page, list};
use crate::auth::moderators::Moderator;
use crate::error::{ApiResult, ErrorBody};
use crate::moderation::review::{self, EventView, RevisionView};
use crate::state::AppState;

/// A status change (`type: status`) or an edit (`type: edit`).
#[derive(Serialize, ToSchema)]
#[serde(untagged)]
pub enum HistoryEntry<'a> {
    Status(EventView<'a>),
    Edit(RevisionView<'a>),
}

impl HistoryEntry<'_> {
    fn at(&self) -> OffsetDateTime {
        match self {
            Self::Status(e) => e.created_at,
            Self::Edit(r) => r.created_at,
        }
    }
}

/// A comment's history: every status change and edit, oldest first.
///
/// Who, when, from, to and the note; an edit holds the text it replaced. `next_cursor` is always
/// `null`.
#[utoipa::path(
    get,
    path = "/api/mod/v1/comments/{id}/history",
    tag = "moderation",
    security(("moderator" = [])),
    params(
        ("id" = Uuid, Path, description = "The comment's id.")
    ),
    responses(
        (status = 200, description = "The whole history.", body = Page<HistoryEntry>),
        (status = 404, description = "`not_found`: no such comment on a site where the caller holds a role.", body = ErrorBody)
    )
)]
pub async fn comment_history(
    state: web::Data<AppState>,
    moderator: Moderator,
    path: web::Path<Uuid>,
) -> ApiResult<HttpResponse> {
    let id = path.into_inner();
    let scope = comment_scope(&state, &moderator, id).await?;
    let (events, revisions) = review::history(&state.db.pool, &scope, id).await?;
    let mut entries: Vec<HistoryEntry> = events
        .iter()
        .map(|e| HistoryEntry::Status(EventView::new(e)))
        .chain(
            revisions
                .iter()
                .map(|r| HistoryEntry::Edit(RevisionView::new(r))),
        )
        .collect();
    // Stable: at the same instant a status change comes before an edit.
    entries.sort_by_key(HistoryEntry::at);
    Ok(list(entries, None))
}
