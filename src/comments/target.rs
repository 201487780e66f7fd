//! The comment an author action (edit, delete) or a reader reaction (flag, vote) is about, with
//! its site, and who may act on it.

use std::sync::Arc;

use sqlx::PgPool;
use uuid::Uuid;

use super::store::{self, TargetRow};
use crate::domain::CommentStatus;
use crate::error::{ApiError, ApiResult};
use crate::moderation::Reason;
use crate::sites::Site;
use crate::sites::cache::SiteCache;

pub struct Target {
    pub row: TargetRow,
    pub status: CommentStatus,
    pub site: Arc<Site>,
}

pub use crate::error::unknown_comment;

impl Target {
    /// The comment and its site, or 404.
    pub async fn load(pool: &PgPool, sites: &SiteCache, id: Uuid) -> ApiResult<Self> {
        let row = store::find_target(pool, id)
            .await?
            .ok_or_else(unknown_comment)?;
        let site = sites
            .get(pool, &row.site_slug)
            .await?
            .ok_or_else(crate::sites::unknown_site)?;
        let status = row.status;
        Ok(Self { row, status, site })
    }

    /// Edits and deletes are the author's alone, while the site's edit window is open. Someone
    /// else's published comment is 403; one they can't see (pending, spam, deleted...) is 404,
    /// so its existence isn't confirmed.
    pub fn check_author(&self, user_id: Uuid) -> ApiResult<()> {
        if self.row.user_id != user_id {
            return Err(if self.status == CommentStatus::Approved {
                ApiError::forbidden("forbidden", "Only its author can change this comment.")
            } else {
                unknown_comment()
            });
        }
        let window = self.site.edit_window_s;
        if self.row.age_s > f64::from(window) {
            return Err(ApiError::forbidden(
                "edit_window_closed",
                format!(
                    "Comments can be edited or deleted for {} after posting; this one can't be anymore.",
                    human_duration(window)
                ),
            )
            .with_details(serde_json::json!({ "edit_window_s": window })));
        }
        Ok(())
    }

    /// Flags and votes are for published comments (anything else is 404, as readers don't see
    /// it), and never for one's own.
    pub fn check_reader(&self, user_id: Uuid) -> ApiResult<()> {
        if self.status != CommentStatus::Approved {
            return Err(unknown_comment());
        }
        if self.row.user_id == user_id {
            return Err(ApiError::forbidden(
                "own_comment",
                "You can't do that to your own comment.",
            ));
        }
        Ok(())
    }

    /// Shown to its author as published: a shadow-banned author's comment, stored as spam.
    pub fn shadowed(&self) -> bool {
        self.status == CommentStatus::Spam && self.row.shadow
    }

    /// The stored reasons that parse (every reason is written as a `Reason`).
    pub fn reasons(&self) -> Vec<Reason> {
        match &self.row.reasons {
            serde_json::Value::Array(items) => items
                .iter()
                .filter_map(|v| serde_json::from_value(v.clone()).ok())
                .collect(),
            _ => vec![],
        }
    }
}

fn human_duration(s: i32) -> String {
    match s {
        s if s >= 3600 && s % 3600 == 0 => format!("{} h", s / 3600),
        s if s >= 60 && s % 60 == 0 => format!("{} min", s / 60),
        s => format!("{s} s"),
    }
}
