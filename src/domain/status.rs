use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::Invalid;

/// Where a comment stands in moderation.
// Read from and written to `comments.status` (and the audit's from/to columns) as text,
// matching the `comments_status_check` constraint.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema, sqlx::Type)]
#[serde(rename_all = "lowercase")]
#[sqlx(type_name = "text", rename_all = "lowercase")]
pub enum CommentStatus {
    Pending,
    Approved,
    Spam,
    Rejected,
    Deleted,
}

impl CommentStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Approved => "approved",
            Self::Spam => "spam",
            Self::Rejected => "rejected",
            Self::Deleted => "deleted",
        }
    }

    pub fn parse(s: &str) -> Result<Self, Invalid> {
        Ok(match s {
            "pending" => Self::Pending,
            "approved" => Self::Approved,
            "spam" => Self::Spam,
            "rejected" => Self::Rejected,
            "deleted" => Self::Deleted,
            _ => {
                return Err(Invalid::new(
                    "must be one of pending, approved, spam, rejected, deleted",
                ));
            }
        })
    }
}

/// A site's moderation policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Policy {
    /// Everything waits for a moderator.
    Pre,
    /// Published unless a rule holds it.
    Post,
    /// An author's comments wait until one of theirs was approved (WordPress's default).
    FirstTime,
}

impl Policy {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pre => "pre",
            Self::Post => "post",
            Self::FirstTime => "first_time",
        }
    }

    pub fn parse(s: &str) -> Result<Self, Invalid> {
        match s {
            "pre" => Ok(Self::Pre),
            "post" => Ok(Self::Post),
            "first_time" => Ok(Self::FirstTime),
            _ => Err(Invalid::new("must be one of pre, post, first_time")),
        }
    }
}

/// Order of a thread's top-level comments.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, ToSchema)]
#[schema(rename_all = "lowercase")]
pub enum SortOrder {
    #[default]
    Oldest,
    Newest,
    Top,
}

impl SortOrder {
    pub fn parse(s: &str) -> Result<Self, Invalid> {
        match s {
            "oldest" => Ok(Self::Oldest),
            "newest" => Ok(Self::Newest),
            "top" => Ok(Self::Top),
            _ => Err(Invalid::new("must be one of oldest, newest, top")),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Oldest => "oldest",
            Self::Newest => "newest",
            Self::Top => "top",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_round_trip() {
        for s in ["pending", "approved", "spam", "rejected", "deleted"] {
            assert_eq!(CommentStatus::parse(s).unwrap().as_str(), s);
        }
        assert!(CommentStatus::parse("Approved").is_err());
    }

    #[test]
    fn policies_and_sorts_parse_only_known_names() {
        assert_eq!(Policy::parse("first_time").unwrap(), Policy::FirstTime);
        assert!(Policy::parse("firsttime").is_err());
        assert_eq!(SortOrder::parse("top").unwrap(), SortOrder::Top);
        assert!(SortOrder::parse("").is_err());
    }
}
