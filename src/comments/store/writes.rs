//! New comments, the replies' parents, and the guest users who post them.

use std::net::IpAddr;

use sqlx::types::Json;
use sqlx::{FromRow, PgConnection, PgPool};
use time::OffsetDateTime;
use uuid::Uuid;

use super::comment_row_columns;
use crate::domain::CommentStatus;
use crate::moderation::Reason;
#[derive(Debug, FromRow)]
pub struct ParentRow {
    pub thread_id: Uuid,
    pub root_id: Uuid,
    pub depth: i32,
    pub status: CommentStatus,
    pub user_id: Uuid,
}

pub async fn find_parent(
    conn: &mut PgConnection,
    site_id: Uuid,
    id: Uuid,
) -> Result<Option<ParentRow>, sqlx::Error> {
    sqlx::query_as("SELECT thread_id, root_id, depth, status, user_id FROM comments WHERE id = $1 AND site_id = $2")
        .bind(id)
        .bind(site_id)
        .fetch_optional(conn)
        .await
}

/// The user behind a guest identity, if they commented before.
pub async fn find_guest_user(pool: &PgPool, subject: &str) -> Result<Option<Uuid>, sqlx::Error> {
    sqlx::query_scalar("SELECT user_id FROM identities WHERE provider = 'guest' AND subject = $1")
        .bind(subject)
        .fetch_optional(pool)
        .await
}

/// The user behind a guest email on a site, created on their first comment. Guest identities
/// are per site so a guest's author id can't be used to follow them across blogs.
pub async fn guest_user(
    conn: &mut PgConnection,
    subject: &str,
    name: &str,
    email: &str,
    website: Option<&str>,
) -> Result<Uuid, sqlx::Error> {
    // Two attempts: a concurrent first comment by the same guest can win the identity insert,
    // after which the second attempt finds its row.
    for _ in 0..2 {
        let found: Option<Uuid> = sqlx::query_scalar(
            "WITH existing AS (
                 SELECT user_id FROM identities WHERE provider = 'guest' AND subject = $1
             ), new_user AS (
                 INSERT INTO users (id, name, email, profile_url)
                 SELECT $2, $3, $4, $5 WHERE NOT EXISTS (SELECT 1 FROM existing)
                 RETURNING id
             ), new_identity AS (
                 INSERT INTO identities (id, user_id, provider, subject, email)
                 SELECT $6, id, 'guest', $1, $4 FROM new_user
                 ON CONFLICT ON CONSTRAINT identities_provider_subject_key DO NOTHING
                 RETURNING user_id
             )
             SELECT user_id FROM existing UNION ALL SELECT user_id FROM new_identity LIMIT 1",
        )
        .bind(subject)
        .bind(Uuid::now_v7())
        .bind(name)
        .bind(email)
        .bind(website)
        .bind(Uuid::now_v7())
        .fetch_optional(&mut *conn)
        .await?;
        if let Some(id) = found {
            return Ok(id);
        }
    }
    Err(sqlx::Error::RowNotFound)
}

pub struct NewComment<'a> {
    pub id: Uuid,
    pub site_id: Uuid,
    pub thread_id: Uuid,
    pub parent_id: Option<Uuid>,
    pub root_id: Uuid,
    pub depth: i32,
    pub user_id: Uuid,
    pub author_provider: &'a str,
    pub author_name: &'a str,
    pub author_url: Option<&'a str>,
    /// A snapshot, like the name: the avatar of the login the comment was posted with.
    pub author_avatar_url: Option<&'a str>,
    pub author_email: Option<&'a str>,
    pub author_ip: Option<IpAddr>,
    pub author_user_agent: Option<&'a str>,
    pub body_markdown: &'a str,
    pub body_html: &'a str,
    pub status: CommentStatus,
    pub reasons: &'a [Reason],
    pub shadow: bool,
}

/// A comment as the thread and the author see it.
#[derive(Debug, Clone, FromRow)]
pub struct CommentRow {
    pub id: Uuid,
    pub thread_id: Uuid,
    pub parent_id: Option<Uuid>,
    pub root_id: Uuid,
    pub depth: i32,
    pub user_id: Uuid,
    pub author_provider: String,
    pub author_name: String,
    pub author_url: Option<String>,
    pub avatar_url: Option<String>,
    pub body_html: String,
    pub status: CommentStatus,
    pub score: i32,
    pub created_at: OffsetDateTime,
    pub edited_at: Option<OffsetDateTime>,
    pub shadow: bool,
}

/// Stores a new comment with the audit row of the pipeline's decision (`audit::record`'s
/// `moderation_events` row for `Actor::Pipeline`, from nothing to its status), in one
/// statement: a submit's round trips are most of its cost.
pub async fn insert_comment(
    conn: &mut PgConnection,
    c: &NewComment<'_>,
) -> Result<CommentRow, sqlx::Error> {
    sqlx::query_as(
        concat!(
            r#"WITH c AS (
             INSERT INTO comments (id, site_id, thread_id, parent_id, root_id, depth, user_id, author_provider,
                 author_name, author_url, author_email, author_ip, author_user_agent, body_markdown, body_html,
                 status, reasons, shadow, author_avatar_url)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19)
             RETURNING *
         ), audited AS (
             INSERT INTO moderation_events (site_id, comment_id, actor_kind, actor_id, from_status, to_status, reasons)
             SELECT c.site_id, c.id, 'pipeline', NULL, NULL, c.status, c.reasons FROM c
         )
         SELECT "#,
            comment_row_columns!(),
            " FROM c"
        ),
    )
    .bind(c.id)
    .bind(c.site_id)
    .bind(c.thread_id)
    .bind(c.parent_id)
    .bind(c.root_id)
    .bind(c.depth)
    .bind(c.user_id)
    .bind(c.author_provider)
    .bind(c.author_name)
    .bind(c.author_url)
    .bind(c.author_email)
    .bind(c.author_ip.map(ipnet::IpNet::from))
    .bind(c.author_user_agent)
    .bind(c.body_markdown)
    .bind(c.body_html)
    .bind(c.status)
    .bind(Json(c.reasons))
    .bind(c.shadow)
    .bind(c.author_avatar_url)
    .fetch_one(conn)
    .await
}
