//! What readers do to others' published comments: flag them for moderators (enough distinct
//! flags send a comment back to the queue) and vote on them (`comments.score`, which
//! `sort=top` orders by).

use super::edits::FLAGS_RULE;
use super::store;
use super::target::{Target, unknown_comment};
use crate::audit::Actor;
use crate::auth::sessions::SessionUser;
use crate::domain::CommentStatus;
use crate::domain::client::ClientInfo;
use crate::error::{ApiError, ApiResult};
use crate::moderation::Reason;
use crate::moderation::transitions::{self, Move, Request};
use crate::thread_cache::ThreadCache;

/// Why a reader flags a comment (the `flags_reason_check` constraint's values).
#[derive(Debug, Clone, Copy, PartialEq, Eq, utoipa::ToSchema)]
#[schema(rename_all = "snake_case")]
pub enum FlagReason {
    Spam,
    Abuse,
    OffTopic,
    Other,
}

impl FlagReason {
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "spam" => Some(Self::Spam),
            "abuse" => Some(Self::Abuse),
            "off_topic" => Some(Self::OffTopic),
            "other" => Some(Self::Other),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Spam => "spam",
            Self::Abuse => "abuse",
            Self::OffTopic => "off_topic",
            Self::Other => "other",
        }
    }
}

/// A reader's vote: up, down, or none (removes theirs).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Vote(i16);

impl Vote {
    pub fn parse(n: i64) -> Option<Self> {
        matches!(n, -1..=1).then(|| Self(n as i16))
    }

    pub fn value(self) -> i16 {
        self.0
    }
}

/// The site must take this reader's login, as for posting.
fn check_provider(t: &Target, user: &SessionUser) -> ApiResult<()> {
    if t.site.providers.iter().any(|p| p == &user.provider) {
        Ok(())
    } else {
        Err(ApiError::forbidden(
            "provider_not_allowed",
            "This site does not take this login method.",
        ))
    }
}

/// How a site's bans treat a reader's flag or vote.
enum Standing {
    Clear,
    /// Shadow-banned: the reader is answered as if it counted, and nothing that counts is
    /// stored, so a shadow-banned account can't flag comments back into the queue or move
    /// scores. Its flags and votes are remembered apart (`shadow_reactions`), so a repeated
    /// flag is 409 `already_flagged` and a repeated vote answers the same score, exactly as for
    /// anyone: it doesn't learn it is banned (as its comments are stored as spam but shown to
    /// it as published).
    Shadow,
}

/// A banned user, email or network (site bans, timed ones until they end) may not flag or
/// vote: 403 `banned`, as for posting.
async fn standing(
    pool: &sqlx::PgPool,
    t: &Target,
    user: &SessionUser,
    client: &ClientInfo,
) -> ApiResult<Standing> {
    let bans = crate::moderation::store::matching_bans(
        pool,
        t.site.id,
        Some(user.user_id),
        user.email.as_deref(),
        client.ip,
    )
    .await?;
    if let Some(ban) = bans.iter().find(|b| !b.shadow) {
        return Err(
            ApiError::forbidden("banned", "You can't flag or vote on this site.")
                .with_details(serde_json::json!({ "ban_id": ban.id })),
        );
    }
    Ok(if bans.is_empty() {
        Standing::Clear
    } else {
        Standing::Shadow
    })
}

/// Records a reader's flag and returns how many flags the comment has. When the flags since a
/// moderator last approved it reach the site's `flags_to_hold`, the comment goes back to
/// `pending` with a `flagged` reason. The comment's row is locked throughout, so concurrent
/// flags move it once.
pub async fn flag(
    pool: &sqlx::PgPool,
    cache: &ThreadCache,
    t: &Target,
    user: &SessionUser,
    reason: FlagReason,
    note: Option<&str>,
    client: &ClientInfo,
) -> ApiResult<i64> {
    t.check_reader(user.user_id)?;
    check_provider(t, user)?;
    let standing = standing(pool, t, user, client).await?;
    let mut tx = pool.begin().await?;
    lock_published(&mut tx, t).await?;
    let shadow = matches!(standing, Standing::Shadow);
    let (site_id, id, reason) = (t.site.id, t.row.id, reason.as_str());
    // A shadow-banned reader's flag is kept apart and never counted, but answered as if it were.
    let fresh = if shadow {
        store::insert_shadow_flag(&mut tx, site_id, id, user.user_id, reason, note).await?
    } else {
        store::insert_flag(&mut tx, site_id, id, user.user_id, reason, note).await?
    };
    if !fresh {
        return Err(already_flagged());
    }
    let n = store::flag_count(&mut tx, site_id, id).await?;
    if shadow {
        tx.commit().await?;
        return Ok(n.total + 1);
    }
    let held = n.since_approval >= i64::from(t.site.flags_to_hold);
    if held {
        let reasons = [Reason {
            rule: FLAGS_RULE.to_owned(),
            kind: "flagged".to_owned(),
            matched: Some(format!("{} flags", n.since_approval)),
            message: "Held for review: readers flagged it.".to_owned(),
        }];
        transitions::transition(
            &mut tx,
            &Request {
                site_id: t.site.id,
                comment_id: t.row.id,
                m: Move::Flagged,
                actor: Actor::Flags,
                reasons: &reasons,
                note: None,
                if_match: None,
            },
        )
        .await?;
        store::append_reasons(&mut tx, t.site.id, t.row.id, &reasons).await?;
    }
    tx.commit().await?;
    if held {
        cache.invalidate(t.row.thread_id);
        tracing::info!(comment.id = %t.row.id, flags = n.since_approval, "comment held by flags");
    }
    Ok(n.total)
}

/// Sets the reader's vote and returns the comment's new score.
pub async fn vote(
    pool: &sqlx::PgPool,
    cache: &ThreadCache,
    t: &Target,
    user: &SessionUser,
    vote: Vote,
    client: &ClientInfo,
) -> ApiResult<i32> {
    t.check_reader(user.user_id)?;
    check_provider(t, user)?;
    let standing = standing(pool, t, user, client).await?;
    let mut tx = pool.begin().await?;
    lock_published(&mut tx, t).await?;
    if let Standing::Shadow = standing {
        let score =
            store::set_shadow_vote(&mut tx, t.site.id, t.row.id, user.user_id, vote.value())
                .await?;
        tx.commit().await?;
        return Ok(score);
    }
    let score = store::set_vote(&mut tx, t.site.id, t.row.id, user.user_id, vote.value()).await?;
    tx.commit().await?;
    cache.invalidate(t.row.thread_id);
    Ok(score)
}

fn already_flagged() -> ApiError {
    ApiError::conflict("already_flagged", "You already flagged this comment.")
}

/// Locks the comment's row for the transaction, re-checking it is still published.
async fn lock_published(tx: &mut sqlx::PgConnection, t: &Target) -> ApiResult<()> {
    store::lock_comment(tx, t.site.id, t.row.id)
        .await?
        .filter(|c| c.status == CommentStatus::Approved)
        .map(|_| ())
        .ok_or_else(unknown_comment)
}
