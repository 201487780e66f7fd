//! The submit-time decision. Every new comment's status comes from `evaluate`, and only from
//! there: bans, limits, rules and spam checks plug in here, in DESIGN.md's order, without the
//! comment service changing.

use serde::{Deserialize, Serialize};
use sqlx::PgConnection;
use uuid::Uuid;

use crate::domain::{CommentStatus, Policy};
use crate::sites::Site;

/// Why the pipeline decided what it did; stored in `comments.reasons`, shown to the author and
/// to moderators.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Reason {
    /// What produced it: `policy`, later a rule id, `akismet`, ...
    pub rule: String,
    /// Machine-readable kind, e.g. `policy_pre`, `first_comment`.
    pub kind: String,
    /// What matched, when something in the comment did.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub matched: Option<String>,
    /// A plain sentence the widget can show the author.
    pub message: String,
}

#[derive(Debug, Clone)]
pub struct Verdict {
    pub status: CommentStatus,
    pub reasons: Vec<Reason>,
}

/// What the pipeline knows about the comment being submitted.
pub struct Submission<'a> {
    pub site: &'a Site,
    pub user_id: Uuid,
}

/// Decides a new comment's status. Runs inside the submit transaction so its reads see the
/// same snapshot the insert commits against.
pub async fn evaluate(conn: &mut PgConnection, s: &Submission<'_>) -> Result<Verdict, sqlx::Error> {
    let mut reasons = Vec::new();
    let status = match s.site.policy {
        Policy::Post => CommentStatus::Approved,
        Policy::Pre => {
            reasons.push(Reason {
                rule: "policy".into(),
                kind: "policy_pre".into(),
                matched: None,
                message: "Every comment on this site is reviewed by a moderator before it appears."
                    .into(),
            });
            CommentStatus::Pending
        }
        Policy::FirstTime => {
            if has_approved_comment(conn, s.site.id, s.user_id).await? {
                CommentStatus::Approved
            } else {
                reasons.push(Reason {
                    rule: "policy".into(),
                    kind: "first_comment".into(),
                    matched: None,
                    message: "Your first comment on this site waits for a moderator; later ones appear at once.".into(),
                });
                CommentStatus::Pending
            }
        }
    };
    Ok(Verdict { status, reasons })
}

async fn has_approved_comment(
    conn: &mut PgConnection,
    site_id: Uuid,
    user_id: Uuid,
) -> Result<bool, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM comments WHERE site_id = $1 AND user_id = $2 AND status = 'approved')",
    )
    .bind(site_id)
    .bind(user_id)
    .fetch_one(conn)
    .await
}
