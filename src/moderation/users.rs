//! A commenter as a site's moderators see them: who they are, how the site treats them
//! (`trusted` skips rules, spam checks and the policy; `premoderated` always waits), and their
//! comments there. A user who never commented on the site doesn't exist for its moderators.

use serde::{Deserialize, Serialize};
use sqlx::{FromRow, PgConnection, PgPool};
use time::OffsetDateTime;
use utoipa::ToSchema;
use uuid::Uuid;

use serde_json::json;

use super::review::{self, StatusCounts};
use crate::audit::{self, ActionRecord};
use crate::auth::moderators::SiteScope;
use crate::error::{ApiError, ApiResult};

/// How many of the user's latest comments the user view lists.
pub const RECENT: i64 = 20;

/// How the site treats a commenter; absent fields stay as they are. Not both `true`.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TrustPatch {
    /// Their comments skip rules, spam checks and the policy.
    #[serde(default)]
    pub trusted: Option<bool>,
    /// Their comments always wait for a moderator.
    #[serde(default)]
    pub premoderated: Option<bool>,
}

/// No Debug: it holds an email address.
#[derive(FromRow, Serialize, ToSchema)]
#[schema(as = Commenter)]
pub struct UserRow {
    pub id: Uuid,
    pub name: String,
    pub email: Option<String>,
    pub avatar_url: Option<String>,
    pub profile_url: Option<String>,
    /// The providers they commented with on this site.
    pub providers: Vec<String>,
    pub trusted: bool,
    pub premoderated: bool,
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub first_comment_at: OffsetDateTime,
}

/// The user, if they commented on the site. Everything shown comes from this site only: the
/// name, avatar and profile URL of their latest comment here, and the email of their latest
/// comment here that has one, else of a login they opened a session with here. Never the shared
/// `users` row, which a login on another blog (linked on `/account/`) may have written.
pub async fn find(
    conn: &mut PgConnection,
    scope: &SiteScope,
    user_id: Uuid,
) -> Result<Option<UserRow>, sqlx::Error> {
    sqlx::query_as(
        "WITH theirs AS (
             SELECT array_agg(DISTINCT author_provider ORDER BY author_provider) AS providers,
                    min(created_at) AS first_comment_at
             FROM comments WHERE site_id = $1 AND user_id = $2
         ), latest AS (
             SELECT author_name, author_url, author_avatar_url FROM comments
             WHERE site_id = $1 AND user_id = $2
             ORDER BY created_at DESC, id DESC LIMIT 1
         )
         SELECT u.id, latest.author_name AS name,
                COALESCE(
                    (SELECT c.author_email FROM comments c
                     WHERE c.site_id = $1 AND c.user_id = $2 AND c.author_email IS NOT NULL
                     ORDER BY c.created_at DESC, c.id DESC LIMIT 1),
                    (SELECT i.email FROM sessions s JOIN identities i ON i.id = s.identity_id
                     WHERE s.site_id = $1 AND s.user_id = $2 AND i.user_id = $2
                       AND i.email IS NOT NULL
                     ORDER BY s.created_at DESC, s.id DESC LIMIT 1)
                ) AS email,
                latest.author_avatar_url AS avatar_url, latest.author_url AS profile_url,
                theirs.providers,
                COALESCE(su.trusted, false) AS trusted,
                COALESCE(su.premoderated, false) AS premoderated,
                theirs.first_comment_at
         FROM users u
         CROSS JOIN theirs
         CROSS JOIN latest
         LEFT JOIN site_users su ON su.site_id = $1 AND su.user_id = u.id
         WHERE u.id = $2 AND theirs.first_comment_at IS NOT NULL",
    )
    .bind(scope.site_id())
    .bind(user_id)
    .fetch_optional(conn)
    .await
}

/// One of a commenter's latest comments on the site.
#[derive(FromRow, Serialize, ToSchema)]
#[schema(as = CommenterComment)]
pub struct RecentRow {
    pub id: Uuid,
    pub thread_id: Uuid,
    /// The thread's path.
    pub uri: String,
    pub status: String,
    pub html: String,
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub created_at: OffsetDateTime,
}

/// The user's latest comments on the site, newest first.
pub async fn recent(
    pool: &PgPool,
    scope: &SiteScope,
    user_id: Uuid,
) -> Result<Vec<RecentRow>, sqlx::Error> {
    sqlx::query_as(
        "SELECT c.id, c.thread_id, t.uri, c.status, c.body_html AS html, c.created_at
         FROM comments c JOIN threads t ON t.id = c.thread_id
         WHERE c.site_id = $1 AND c.user_id = $2
         ORDER BY c.created_at DESC, c.id DESC
         LIMIT $3",
    )
    .bind(scope.site_id())
    .bind(user_id)
    .bind(RECENT)
    .fetch_all(pool)
    .await
}

/// A commenter's trust on a site, as it is before a change.
#[derive(Debug, Clone, Copy, FromRow)]
pub struct Trust {
    pub trusted: bool,
    pub premoderated: bool,
}

/// The user's trust on the site, its row created (with the defaults, which mean the same as no
/// row) and locked in the caller's transaction, so the audit row's "before" is exactly what a
/// concurrent change left. Call it only for a user who commented on the site.
pub async fn lock_trust(
    conn: &mut PgConnection,
    scope: &SiteScope,
    user_id: Uuid,
) -> Result<Trust, sqlx::Error> {
    sqlx::query(
        "INSERT INTO site_users (site_id, user_id) VALUES ($1, $2)
         ON CONFLICT ON CONSTRAINT site_users_pkey DO NOTHING",
    )
    .bind(scope.site_id())
    .bind(user_id)
    .execute(&mut *conn)
    .await?;
    sqlx::query_as(
        "SELECT trusted, premoderated FROM site_users
         WHERE site_id = $1 AND user_id = $2 FOR UPDATE",
    )
    .bind(scope.site_id())
    .bind(user_id)
    .fetch_one(conn)
    .await
}

pub enum TrustOutcome {
    Saved,
    /// Both flags would be on: a user is trusted or premoderated, not both.
    Contradiction,
}

/// Sets the given flags (absent ones keep their value). Call it only for a user who commented
/// on the site.
pub async fn set_trust(
    conn: &mut PgConnection,
    scope: &SiteScope,
    user_id: Uuid,
    trusted: Option<bool>,
    premoderated: Option<bool>,
) -> Result<TrustOutcome, sqlx::Error> {
    let res = sqlx::query(
        "INSERT INTO site_users (site_id, user_id, trusted, premoderated)
         VALUES ($1, $2, COALESCE($3, false), COALESCE($4, false))
         ON CONFLICT ON CONSTRAINT site_users_pkey DO UPDATE
             SET trusted = COALESCE($3, site_users.trusted),
                 premoderated = COALESCE($4, site_users.premoderated),
                 updated_at = now()",
    )
    .bind(scope.site_id())
    .bind(user_id)
    .bind(trusted)
    .bind(premoderated)
    .execute(conn)
    .await;
    match res {
        Ok(_) => Ok(TrustOutcome::Saved),
        Err(e) if crate::db::violated_constraint(&e) == Some("site_users_trust_check") => {
            Ok(TrustOutcome::Contradiction)
        }
        Err(e) => Err(e),
    }
}

// ---------------------------------------------------------------------------------------------
// The moderators' view, and a change of trust in one transaction with its audit row

/// A commenter as the site's moderators see them.
#[derive(Serialize, ToSchema)]
#[schema(as = CommenterView)]
pub struct UserView {
    #[serde(flatten)]
    user: UserRow,
    /// Their comments on this site, by status.
    counts: StatusCounts,
    /// Their latest comments on this site (up to 20), newest first.
    recent_comments: Vec<RecentRow>,
}

fn user_not_found() -> ApiError {
    ApiError::not_found("User")
}

/// The commenter with their counts and latest comments on the site; 404 for a user who never
/// commented there.
pub async fn view(pool: &PgPool, scope: &SiteScope, user_id: Uuid) -> ApiResult<UserView> {
    let mut conn = pool.acquire().await?;
    let user = find(&mut conn, scope, user_id)
        .await?
        .ok_or_else(user_not_found)?;
    drop(conn);
    let counts = review::status_counts(pool, scope.site_id(), &[user_id])
        .await?
        .remove(&user_id)
        .unwrap_or_default();
    let recent = recent(pool, scope, user_id).await?;
    Ok(UserView {
        user,
        counts,
        recent_comments: recent,
    })
}

/// Sets a commenter's trust on the site (absent flags stay); audited as `user.trust_changed`
/// when it changed anything. Answers the commenter as changed.
pub async fn change_trust(
    pool: &PgPool,
    scope: &SiteScope,
    moderator_id: Uuid,
    user_id: Uuid,
    patch: TrustPatch,
) -> ApiResult<UserView> {
    let TrustPatch {
        trusted,
        premoderated,
    } = patch;
    let contradiction = || {
        ApiError::validation(
            "premoderated",
            "a user is either trusted or premoderated, not both",
        )
    };
    if trusted == Some(true) && premoderated == Some(true) {
        return Err(contradiction());
    }
    let mut tx = pool.begin().await?;
    if find(&mut tx, scope, user_id).await?.is_none() {
        return Err(user_not_found());
    }
    if trusted.is_some() || premoderated.is_some() {
        let before = lock_trust(&mut tx, scope, user_id).await?;
        match set_trust(&mut tx, scope, user_id, trusted, premoderated).await? {
            TrustOutcome::Saved => {}
            TrustOutcome::Contradiction => return Err(contradiction()),
        }
        let after = (
            trusted.unwrap_or(before.trusted),
            premoderated.unwrap_or(before.premoderated),
        );
        if after != (before.trusted, before.premoderated) {
            let site_id = Some(scope.site_id());
            let record = ActionRecord::by_moderator(
                site_id,
                moderator_id,
                "user.trust_changed",
                "user",
                user_id,
            )
            .before(json!({
                "trusted": before.trusted,
                "premoderated": before.premoderated,
            }))
            .after(json!({ "trusted": after.0, "premoderated": after.1 }));
            audit::record_action(&mut tx, &record).await?;
        }
    }
    tx.commit().await?;
    tracing::info!(moderator.id = %moderator_id, user.id = %user_id, site.slug = scope.slug(), ?trusted, ?premoderated, "commenter trust changed");
    view(pool, scope, user_id).await
}
