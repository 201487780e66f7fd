//! The SQL the submit pipeline reads: bans, rules, trust, and the author's recent history
//! (which is also the flood counter: stored comments are counted, in Postgres).

use std::net::IpAddr;

use sqlx::{FromRow, PgPool};
use uuid::Uuid;

#[derive(Debug, Clone, FromRow)]
pub struct BanRow {
    pub id: Uuid,
    pub kind: String,
    pub shadow: bool,
}

/// Active bans of a site that match this user, email or IP (an IP inside a banned CIDR).
pub async fn matching_bans(
    pool: &PgPool,
    site_id: Uuid,
    user_id: Option<Uuid>,
    email: Option<&str>,
    ip: Option<IpAddr>,
) -> Result<Vec<BanRow>, sqlx::Error> {
    sqlx::query_as(
        "SELECT id, kind, shadow FROM bans
         WHERE site_id = $1 AND (until IS NULL OR until > now())
           AND ((kind = 'user' AND user_id = $2)
             OR (kind = 'email' AND email = lower($3))
             OR (kind = 'ip' AND $4::inet <<= ip))
         ORDER BY shadow, created_at",
    )
    .bind(site_id)
    .bind(user_id)
    .bind(email)
    .bind(ip.map(ipnet::IpNet::from))
    .fetch_all(pool)
    .await
}

#[derive(Debug, Clone, FromRow)]
pub struct RuleRow {
    pub id: Uuid,
    pub kind: String,
    pub pattern: String,
    pub action: String,
}

/// The site's rules version: bumped (by a trigger) on every write to its rules.
pub async fn rules_version(pool: &PgPool, site_id: Uuid) -> Result<i64, sqlx::Error> {
    Ok(
        sqlx::query_scalar("SELECT rules_version FROM sites WHERE id = $1")
            .bind(site_id)
            .fetch_optional(pool)
            .await?
            .unwrap_or(0),
    )
}

pub async fn enabled_rules(pool: &PgPool, site_id: Uuid) -> Result<Vec<RuleRow>, sqlx::Error> {
    sqlx::query_as("SELECT id, kind, pattern, action FROM rules WHERE site_id = $1 AND enabled ORDER BY created_at, id")
        .bind(site_id)
        .fetch_all(pool)
        .await
}

#[derive(Debug, Clone, Default, FromRow)]
pub struct Trust {
    /// Trusted on this site, and not a guest (anyone can type a guest's email).
    pub trusted: bool,
    pub premoderated: bool,
}

/// What the flood, duplicate and first-time checks need, in one round trip.
#[derive(Debug, Clone, FromRow)]
pub struct History {
    /// Seconds since the author's last comment on this site.
    pub since_last_s: Option<f64>,
    pub user_last_minute: i64,
    pub ip_last_minute: i64,
    /// Guest comments on the whole site in the last minute (counted only for a guest's comment).
    pub guests_last_minute: i64,
    /// Seconds until the oldest of the last minute's comments (user, IP) leaves the window.
    pub user_window_frees_in_s: Option<f64>,
    pub ip_window_frees_in_s: Option<f64>,
    pub guests_window_frees_in_s: Option<f64>,
    pub duplicate: bool,
    pub has_approved: bool,
}

/// Whose facts the pipeline asks for: the author (user, email, IP), the thread and text.
pub struct FactsQuery<'a> {
    pub site_id: Uuid,
    pub user_id: Option<Uuid>,
    pub email: Option<&'a str>,
    pub ip: Option<IpAddr>,
    pub thread_id: Option<Uuid>,
    pub body: &'a str,
    pub duplicate_window_s: i64,
    /// The comment being edited (its own row doesn't count against it).
    pub editing: Option<Uuid>,
    /// Per-minute limits (0 = off): the last minute's comments are counted only up to the
    /// limit, so a busy shared address (a campus NAT, a load test) costs a bounded index range,
    /// not a scan of everything it posted this minute.
    pub user_cap: i64,
    pub ip_cap: i64,
    /// The site's guest comments per minute, counted when this is a guest's comment (0 = off).
    pub guest_cap: i64,
}

/// Everything the pipeline reads about an author before it decides, read in one round trip
/// (`colloquy_pipeline_facts`, or `colloquy_submit_context` for a new comment).
#[derive(Debug, Clone, FromRow)]
pub struct Facts {
    #[sqlx(flatten)]
    bans: BanArrays,
    #[sqlx(flatten)]
    pub history: History,
    #[sqlx(flatten)]
    pub trust: Trust,
    /// The site's rules version (see `rules_version`).
    pub rules_version: i64,
}

/// Matching bans as the SQL returns them: parallel arrays, real bans first, oldest first.
#[derive(Debug, Clone, FromRow)]
struct BanArrays {
    ban_ids: Vec<Uuid>,
    ban_kinds: Vec<String>,
    ban_shadows: Vec<bool>,
}

impl Facts {
    /// The active bans matching the author's user, email or IP, in the pipeline's order.
    pub fn bans(&self) -> Vec<BanRow> {
        let b = &self.bans;
        b.ban_ids
            .iter()
            .zip(&b.ban_kinds)
            .zip(&b.ban_shadows)
            .map(|((id, kind), shadow)| BanRow {
                id: *id,
                kind: kind.clone(),
                shadow: *shadow,
            })
            .collect()
    }
}

/// The facts about the author of an edit (or any comment whose thread and user are known).
pub async fn facts(pool: &PgPool, q: &FactsQuery<'_>) -> Result<Facts, sqlx::Error> {
    sqlx::query_as(
        "SELECT * FROM colloquy_pipeline_facts($1, $2, $3, $4::inet, $5::inet, $6, $7, $8, $9, $10, $11, $12)",
    )
    .bind(q.site_id)
    .bind(q.user_id)
    .bind(q.email)
    .bind(q.ip.map(ipnet::IpNet::from))
    .bind(q.ip.map(crate::domain::client::client_net))
    .bind(q.thread_id)
    .bind(q.body)
    .bind(q.duplicate_window_s as f64)
    .bind(q.editing)
    .bind(q.user_cap)
    .bind(q.ip_cap)
    .bind(q.guest_cap)
    .fetch_one(pool)
    .await
}
