//! Appeals: a commenter contests the rejection of their comment (rejected, or filed as spam) or
//! a ban on a site; moderators uphold or overturn each one (`appeal_routes` has the handlers).
//! This module holds what an appeal is and all of its SQL.
//!
//! One open appeal per comment (or ban) per user: the partial unique indexes
//! `appeals_open_comment_key` / `appeals_open_ban_key` decide it, so two concurrent appeals can't
//! both get in; the loser is a 409.

use serde::{Deserialize, Serialize};
use sqlx::{FromRow, PgConnection, PgPool};
use time::OffsetDateTime;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::auth::moderators::SiteScope;
use crate::domain::Invalid;
use crate::error::ApiError;

/// Longest appeal message, in characters (the `appeals_message_check` constraint's bound).
pub fn not_found() -> ApiError {
    ApiError::not_found("Appeal")
}

pub const MESSAGE_MAX_CHARS: usize = 2000;
/// Longest moderator note on a decision, in characters.
pub const NOTE_MAX_CHARS: usize = 1000;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Comment,
    Ban,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Comment => "comment",
            Self::Ban => "ban",
        }
    }
}

/// Where an appeal stands: `open` until a moderator decides, then `upheld` (the decision
/// stands) or `overturned` (the comment was published, or the ban lifted).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, ToSchema, sqlx::Type)]
#[serde(rename_all = "lowercase")]
#[sqlx(type_name = "text", rename_all = "lowercase")]
#[schema(as = AppealStatus)]
pub enum Status {
    Open,
    Upheld,
    Overturned,
}

impl Status {
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "open" => Some(Self::Open),
            "upheld" => Some(Self::Upheld),
            "overturned" => Some(Self::Overturned),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Open => "open",
            Self::Upheld => "upheld",
            Self::Overturned => "overturned",
        }
    }
}

/// What a moderator decides: `uphold` (nothing changes) or `overturn` (the comment is approved,
/// or the ban lifted).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
#[schema(as = AppealDecision)]
pub enum Decision {
    Uphold,
    Overturn,
}

impl Decision {
    pub fn status(self) -> Status {
        match self {
            Self::Uphold => Status::Upheld,
            Self::Overturn => Status::Overturned,
        }
    }
}

/// The appeal's text: trimmed, 1 to `MESSAGE_MAX_CHARS` characters.
pub fn message(raw: &str) -> Result<String, Invalid> {
    let m = raw.trim();
    if m.is_empty() {
        return Err(Invalid::new("must say why (it can't be empty)"));
    }
    if m.chars().count() > MESSAGE_MAX_CHARS {
        return Err(Invalid::new(format!(
            "must be at most {MESSAGE_MAX_CHARS} characters"
        )));
    }
    Ok(m.to_owned())
}

/// A moderator's note: optional, trimmed, at most `NOTE_MAX_CHARS` characters.
pub fn note(raw: Option<&str>) -> Result<Option<String>, Invalid> {
    let Some(n) = raw.map(str::trim).filter(|n| !n.is_empty()) else {
        return Ok(None);
    };
    if n.chars().count() > NOTE_MAX_CHARS {
        return Err(Invalid::new(format!(
            "must be at most {NOTE_MAX_CHARS} characters"
        )));
    }
    Ok(Some(n.to_owned()))
}

/// An appeal row.
#[derive(Debug, Clone, FromRow)]
pub struct AppealRow {
    pub id: Uuid,
    pub site_id: Uuid,
    pub kind: String,
    pub comment_id: Option<Uuid>,
    pub ban_id: Option<Uuid>,
    pub user_id: Uuid,
    pub message: String,
    pub status: String,
    pub decided_by: Option<Uuid>,
    pub decided_at: Option<OffsetDateTime>,
    pub note: Option<String>,
    pub created_at: OffsetDateTime,
}

macro_rules! appeal_columns {
    () => {
        "id, site_id, kind, comment_id, ban_id, user_id, message, status, decided_by, decided_at,
         note, created_at"
    };
}

const ROWS: crate::db::SiteRows =
    crate::db::site_rows!(concat!("SELECT ", appeal_columns!(), " FROM appeals"));

pub enum Created {
    Created(Box<AppealRow>),
    /// The user already has an open appeal against this comment or ban.
    AlreadyOpen,
}

pub struct NewAppeal<'a> {
    pub site_id: Uuid,
    pub kind: Kind,
    pub comment_id: Option<Uuid>,
    pub ban_id: Option<Uuid>,
    pub user_id: Uuid,
    pub message: &'a str,
}

pub async fn create(pool: &PgPool, a: &NewAppeal<'_>) -> Result<Created, sqlx::Error> {
    let res = sqlx::query_as(concat!(
        "INSERT INTO appeals (id, site_id, kind, comment_id, ban_id, user_id, message)
         VALUES ($1, $2, $3, $4, $5, $6, $7)
         RETURNING ",
        appeal_columns!()
    ))
    .bind(Uuid::now_v7())
    .bind(a.site_id)
    .bind(a.kind.as_str())
    .bind(a.comment_id)
    .bind(a.ban_id)
    .bind(a.user_id)
    .bind(a.message)
    .fetch_one(pool)
    .await;
    match res {
        Ok(row) => Ok(Created::Created(Box::new(row))),
        Err(e)
            if matches!(
                crate::db::violated_constraint(&e),
                Some("appeals_open_comment_key" | "appeals_open_ban_key")
            ) =>
        {
            Ok(Created::AlreadyOpen)
        }
        Err(e) => Err(e),
    }
}

/// The ban an appeal on this site contests: the user's oldest current, non-shadow ban by user id
/// (a shadow-banned author doesn't know of it, and must not learn of it from here).
pub async fn current_user_ban(
    pool: &PgPool,
    site_id: Uuid,
    user_id: Uuid,
) -> Result<Option<Uuid>, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT id FROM bans
         WHERE site_id = $1 AND kind = 'user' AND user_id = $2 AND NOT shadow
           AND (until IS NULL OR until > now())
         ORDER BY created_at, id
         LIMIT 1",
    )
    .bind(site_id)
    .bind(user_id)
    .fetch_optional(pool)
    .await
}

/// An appeal with what moderators and authors need to judge it.
#[derive(FromRow, Serialize, ToSchema)]
pub struct AppealView {
    pub id: Uuid,
    /// The site's slug.
    #[schema(example = "my-blog")]
    pub site: String,
    /// `comment` (a rejected comment) or `ban` (a ban on the site).
    #[schema(example = "comment")]
    pub kind: String,
    #[schema(value_type = Status)]
    pub status: String,
    /// The author's reason for appealing.
    pub message: String,
    /// The deciding moderator's note, if any.
    pub note: Option<String>,
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub created_at: OffsetDateTime,
    /// Null while the appeal is open.
    #[serde(with = "time::serde::rfc3339::option")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub decided_at: Option<OffsetDateTime>,
    /// The moderator who decided; null while open.
    pub decided_by: Option<Uuid>,
    /// The appealing commenter.
    pub user_id: Uuid,
    pub user_name: String,
    /// The contested comment (for `kind: comment`).
    pub comment_id: Option<Uuid>,
    /// The comment's status now.
    #[schema(value_type = Option<crate::domain::CommentStatus>)]
    pub comment_status: Option<String>,
    /// The comment's rendered HTML.
    pub comment_html: Option<String>,
    /// The path of the comment's thread.
    pub thread_uri: Option<String>,
    /// The contested ban (for `kind: ban`); null if the ban was deleted since.
    pub ban_id: Option<Uuid>,
    pub ban_reason: Option<String>,
    /// When the ban ends; null for a permanent one (or no ban).
    #[serde(with = "time::serde::rfc3339::option")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub ban_until: Option<OffsetDateTime>,
    /// Whether the ban still stops the user.
    pub ban_active: Option<bool>,
}

macro_rules! view_select {
    () => {
        "SELECT a.id, s.slug AS site, a.kind, a.status, a.message, a.note, a.created_at,
                a.decided_at, a.decided_by, a.user_id,
                COALESCE((SELECT n.author_name FROM comments n
                          WHERE n.site_id = a.site_id AND n.user_id = a.user_id
                          ORDER BY n.created_at DESC, n.id DESC LIMIT 1),
                         (SELECT i.name FROM sessions x JOIN identities i ON i.id = x.identity_id
                          WHERE x.site_id = a.site_id AND x.user_id = a.user_id
                          ORDER BY x.created_at DESC, x.id DESC LIMIT 1),
                         '') AS user_name,
                a.comment_id,
                c.status AS comment_status, c.body_html AS comment_html, t.uri AS thread_uri,
                a.ban_id, b.reason AS ban_reason, b.until AS ban_until,
                CASE WHEN b.id IS NULL THEN NULL ELSE (b.until IS NULL OR b.until > now()) END AS ban_active
         FROM appeals a
         JOIN sites s ON s.id = a.site_id
         LEFT JOIN comments c ON c.id = a.comment_id
         LEFT JOIN threads t ON t.id = c.thread_id
         LEFT JOIN bans b ON b.id = a.ban_id "
    };
}

/// A site's appeals of one status. Open ones oldest first (a queue: the longest waiting comes
/// first), after the keyset `key`; decided ones newest first, before it.
pub async fn list_for_site(
    pool: &PgPool,
    scope: &SiteScope,
    status: Status,
    key: Option<(OffsetDateTime, Uuid)>,
    limit: i64,
) -> Result<Vec<AppealView>, sqlx::Error> {
    let (at, id) = key.unzip();
    let q = if status == Status::Open {
        concat!(
            view_select!(),
            "WHERE a.site_id = $1 AND a.status = $2
               AND (a.created_at, a.id) > (COALESCE($3::timestamptz, '-infinity'),
                                           COALESCE($4::uuid, '00000000-0000-0000-0000-000000000000'))
             ORDER BY a.created_at, a.id
             LIMIT $5"
        )
    } else {
        concat!(
            view_select!(),
            "WHERE a.site_id = $1 AND a.status = $2
               AND (a.created_at, a.id) < (COALESCE($3::timestamptz, 'infinity'),
                                           COALESCE($4::uuid, 'ffffffff-ffff-ffff-ffff-ffffffffffff'))
             ORDER BY a.created_at DESC, a.id DESC
             LIMIT $5"
        )
    };
    sqlx::query_as(q)
        .bind(scope.site_id())
        .bind(status.as_str())
        .bind(at)
        .bind(id)
        .bind(limit)
        .fetch_all(pool)
        .await
}

/// A commenter's own appeals on one site, newest first, before the keyset `before`.
pub async fn list_for_user(
    pool: &PgPool,
    user_id: Uuid,
    site_id: Uuid,
    before: Option<(OffsetDateTime, Uuid)>,
    limit: i64,
) -> Result<Vec<AppealView>, sqlx::Error> {
    let (at, id) = before.unzip();
    sqlx::query_as(concat!(
        view_select!(),
        "WHERE a.user_id = $1 AND a.site_id = $5
           AND (a.created_at, a.id) < (COALESCE($2::timestamptz, 'infinity'),
                                       COALESCE($3::uuid, 'ffffffff-ffff-ffff-ffff-ffffffffffff'))
         ORDER BY a.created_at DESC, a.id DESC
         LIMIT $4"
    ))
    .bind(user_id)
    .bind(at)
    .bind(id)
    .bind(limit)
    .bind(site_id)
    .fetch_all(pool)
    .await
}

/// One appeal as moderators of its site see it.
pub async fn view(
    pool: &PgPool,
    scope: &SiteScope,
    id: Uuid,
) -> Result<Option<AppealView>, sqlx::Error> {
    crate::db::one_of_site(
        pool,
        concat!(view_select!(), "WHERE a.id = $1 AND a.site_id = $2"),
        id,
        scope.site_id(),
    )
    .await
}

/// The site of an appeal, if it is one of `site_ids` (the caller's sites).
pub async fn appeal_site(
    pool: &PgPool,
    id: Uuid,
    site_ids: &[Uuid],
) -> Result<Option<Uuid>, sqlx::Error> {
    sqlx::query_scalar("SELECT site_id FROM appeals WHERE id = $1 AND site_id = ANY ($2)")
        .bind(id)
        .bind(site_ids)
        .fetch_optional(pool)
        .await
}

/// The appeal, locked for a decision in the caller's transaction.
pub async fn lock(
    conn: &mut PgConnection,
    scope: &SiteScope,
    id: Uuid,
) -> Result<Option<AppealRow>, sqlx::Error> {
    ROWS.lock(conn, id, scope.site_id()).await
}

/// Records the decision on a locked, open appeal.
pub async fn decide(
    conn: &mut PgConnection,
    scope: &SiteScope,
    id: Uuid,
    status: Status,
    moderator_id: Uuid,
    note: Option<&str>,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE appeals SET status = $3, decided_by = $4, decided_at = now(), note = $5
         WHERE id = $1 AND site_id = $2 AND status = 'open'",
    )
    .bind(id)
    .bind(scope.site_id())
    .bind(status.as_str())
    .bind(moderator_id)
    .bind(note)
    .execute(conn)
    .await?;
    Ok(())
}

/// A comment's status, its row locked so the decision and the audit row see one state.
pub async fn lock_comment_status(
    conn: &mut PgConnection,
    scope: &SiteScope,
    comment_id: Uuid,
) -> Result<Option<String>, sqlx::Error> {
    sqlx::query_scalar("SELECT status FROM comments WHERE id = $1 AND site_id = $2 FOR UPDATE")
        .bind(comment_id)
        .bind(scope.site_id())
        .fetch_optional(conn)
        .await
}

/// The outcome an author sees on their own comment.
#[derive(Debug, Clone, FromRow, Serialize, ToSchema)]
#[schema(as = AppealOutcome)]
pub struct Outcome {
    #[serde(skip)]
    pub comment_id: Uuid,
    /// The latest appeal's status.
    pub status: Status,
    /// The moderator's note to the author, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// The latest appeal of `user_id` against each of these comments (those that have one).
pub async fn outcomes(
    pool: &PgPool,
    user_id: Uuid,
    comment_ids: &[Uuid],
) -> Result<Vec<Outcome>, sqlx::Error> {
    sqlx::query_as(
        "SELECT DISTINCT ON (comment_id) comment_id, status, note
         FROM appeals
         WHERE user_id = $1 AND comment_id = ANY ($2)
         ORDER BY comment_id, created_at DESC, id DESC",
    )
    .bind(user_id)
    .bind(comment_ids)
    .fetch_all(pool)
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_and_notes_are_trimmed_and_bounded() {
        assert_eq!(message("  please  ").unwrap(), "please");
        assert!(message("   ").is_err());
        assert!(message(&"x".repeat(MESSAGE_MAX_CHARS + 1)).is_err());
        assert!(message(&"é".repeat(MESSAGE_MAX_CHARS)).is_ok());
        assert_eq!(note(Some("  ")).unwrap(), None);
        assert!(note(Some(&"x".repeat(NOTE_MAX_CHARS + 1))).is_err());
    }

    #[test]
    fn statuses_round_trip() {
        for s in ["open", "upheld", "overturned"] {
            assert_eq!(Status::parse(s).unwrap().as_str(), s);
        }
        assert_eq!(Status::parse("closed"), None);
        assert_eq!(Decision::Overturn.status(), Status::Overturned);
    }
}
