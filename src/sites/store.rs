//! All SQL about sites.

use sqlx::{FromRow, PgConnection, PgPool};
use uuid::Uuid;

use crate::domain::{Origin, Policy, SiteName, SiteSlug};

#[derive(Debug, Clone)]
pub struct Site {
    pub id: Uuid,
    pub slug: String,
    pub name: String,
    pub origins: Vec<String>,
    pub providers: Vec<String>,
    pub guests: bool,
    pub policy: Policy,
    pub max_depth: i32,
    pub edit_window_s: i32,
    pub flags_to_hold: i32,
    pub closed: bool,
    /// Per-site overrides of `[limits]`.
    pub limits: SiteLimits,
}

/// Flood limits a site sets for itself; absent keys fall back to `[limits]`.
#[derive(Debug, Clone, Default, serde::Deserialize, serde::Serialize)]
pub struct SiteLimits {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment_interval_s: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comments_per_minute_user: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comments_per_minute_ip: Option<u32>,
}

impl Site {
    pub fn allows_origin(&self, origin: &str) -> bool {
        self.origins.iter().any(|o| o == origin)
    }
}

#[derive(FromRow)]
struct SiteRow {
    id: Uuid,
    slug: String,
    name: String,
    origins: Vec<String>,
    providers: Vec<String>,
    guests: bool,
    policy: String,
    max_depth: i32,
    edit_window_s: i32,
    flags_to_hold: i32,
    closed: bool,
    limits: serde_json::Value,
}

impl TryFrom<SiteRow> for Site {
    type Error = anyhow::Error;

    fn try_from(r: SiteRow) -> anyhow::Result<Self> {
        Ok(Site {
            id: r.id,
            slug: r.slug,
            name: r.name,
            origins: r.origins,
            providers: r.providers,
            guests: r.guests,
            // The CHECK constraint guarantees a known policy; a mismatch means a newer schema.
            policy: Policy::parse(&r.policy).map_err(|e| anyhow::anyhow!("site policy: {e}"))?,
            max_depth: r.max_depth,
            edit_window_s: r.edit_window_s,
            flags_to_hold: r.flags_to_hold,
            closed: r.closed,
            // Unknown or malformed overrides are ignored rather than failing every request.
            limits: serde_json::from_value(r.limits).unwrap_or_default(),
        })
    }
}

pub async fn find_by_slug(pool: &PgPool, slug: &str) -> Result<Option<Site>, sqlx::Error> {
    let row: Option<SiteRow> = sqlx::query_as(
        "SELECT id, slug, name, origins, providers, guests, policy, max_depth, edit_window_s, flags_to_hold, closed, limits
         FROM sites WHERE slug = $1",
    )
    .bind(slug)
    .fetch_optional(pool)
    .await?;
    row.map(Site::try_from)
        .transpose()
        .map_err(|e| sqlx::Error::Decode(e.into()))
}

/// The sites with these ids, by slug (the moderator API lists the caller's sites).
pub async fn find_many(pool: &PgPool, ids: &[Uuid]) -> Result<Vec<Site>, sqlx::Error> {
    let rows: Vec<SiteRow> = sqlx::query_as(
        "SELECT id, slug, name, origins, providers, guests, policy, max_depth, edit_window_s, flags_to_hold, closed, limits
         FROM sites WHERE id = ANY ($1) ORDER BY slug",
    )
    .bind(ids)
    .fetch_all(pool)
    .await?;
    rows.into_iter()
        .map(Site::try_from)
        .collect::<Result<_, _>>()
        .map_err(|e| sqlx::Error::Decode(e.into()))
}

pub async fn list(pool: &PgPool) -> Result<Vec<Site>, sqlx::Error> {
    let rows: Vec<SiteRow> = sqlx::query_as(
        "SELECT id, slug, name, origins, providers, guests, policy, max_depth, edit_window_s, flags_to_hold, closed, limits
         FROM sites ORDER BY slug",
    )
    .fetch_all(pool)
    .await?;
    rows.into_iter()
        .map(Site::try_from)
        .collect::<Result<_, _>>()
        .map_err(|e| sqlx::Error::Decode(e.into()))
}

/// What `colloquy site create` (and later the moderator API) needs to make a site.
pub struct NewSite {
    pub slug: SiteSlug,
    pub name: SiteName,
    pub origins: Vec<Origin>,
    pub providers: Vec<String>,
    pub guests: bool,
    pub policy: Policy,
    pub max_depth: i32,
    pub edit_window_s: i32,
    pub flags_to_hold: i32,
}

pub enum CreateError {
    SlugTaken,
    Db(sqlx::Error),
}

pub async fn create(conn: &mut PgConnection, new: &NewSite) -> Result<Site, CreateError> {
    let origins: Vec<&str> = new.origins.iter().map(Origin::as_str).collect();
    let res: Result<SiteRow, sqlx::Error> = sqlx::query_as(
        "INSERT INTO sites (id, slug, name, origins, providers, guests, policy, max_depth, edit_window_s, flags_to_hold)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
         RETURNING id, slug, name, origins, providers, guests, policy, max_depth, edit_window_s, flags_to_hold, closed, limits",
    )
    .bind(Uuid::now_v7())
    .bind(new.slug.as_str())
    .bind(new.name.as_str())
    .bind(&origins)
    .bind(&new.providers)
    .bind(new.guests)
    .bind(new.policy.as_str())
    .bind(new.max_depth)
    .bind(new.edit_window_s)
    .bind(new.flags_to_hold)
    .fetch_one(conn)
    .await;
    match res {
        Ok(row) => Site::try_from(row).map_err(|e| CreateError::Db(sqlx::Error::Decode(e.into()))),
        Err(e) if crate::db::violated_constraint(&e) == Some("sites_slug_key") => {
            Err(CreateError::SlugTaken)
        }
        Err(e) => Err(CreateError::Db(e)),
    }
}

/// Whether any site lists this origin (for /api/v1 routes not scoped to one site).
pub async fn origin_known(pool: &PgPool, origin: &str) -> Result<bool, sqlx::Error> {
    sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM sites WHERE $1 = ANY (origins))")
        .bind(origin)
        .fetch_one(pool)
        .await
}
