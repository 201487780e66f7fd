//! One page of a moderator list: `{items, next_cursor}`.

use actix_web::HttpResponse;
use serde::Serialize;
use utoipa::ToSchema;

use crate::http::private;

/// One page of a list: `{items, next_cursor}`.
#[derive(Serialize, ToSchema)]
pub struct Page<T> {
    pub items: Vec<T>,
    /// Pass as `?cursor=` for the next page; `null` on the last page.
    pub next_cursor: Option<String>,
}

pub(super) fn list<T: Serialize>(items: Vec<T>, next: Option<String>) -> HttpResponse {
    private(HttpResponse::Ok()).json(Page {
        items,
        next_cursor: next,
    })
}
