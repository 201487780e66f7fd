//! Why a moderation stage decided what it did. A value type below the pipeline and the audit
//! trail, which both carry it.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// Why the pipeline decided what it did; stored in `comments.reasons`, shown to the author and
/// to moderators.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, ToSchema)]
pub struct Reason {
    /// What produced it: a rule's id, `policy`, `spam_score`, `akismet`, `ban`, ...
    pub rule: String,
    /// Machine-readable kind, e.g. `policy_pre`, `first_comment`, `max_links`, `word`.
    pub kind: String,
    /// What matched, when something in the comment did.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub matched: Option<String>,
    /// A plain sentence the widget can show the author.
    pub message: String,
}

impl Reason {
    pub(crate) fn new(
        rule: impl Into<String>,
        kind: &str,
        matched: Option<String>,
        message: impl Into<String>,
    ) -> Self {
        Self {
            rule: rule.into(),
            kind: kind.to_owned(),
            matched,
            message: message.into(),
        }
    }
}
