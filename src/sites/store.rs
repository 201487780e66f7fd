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
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub guest_comments_per_minute: Option<u32>,
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

/// The site with this id, its row locked in the caller's transaction: its settings before a
/// change, for the audit row.
pub async fn lock(conn: &mut PgConnection, site_id: Uuid) -> Result<Option<Site>, sqlx::Error> {
    let row: Option<SiteRow> = sqlx::query_as(
        "SELECT id, slug, name, origins, providers, guests, policy, max_depth, edit_window_s, flags_to_hold, closed, limits
         FROM sites WHERE id = $1 FOR UPDATE",
    )
    .bind(site_id)
    .fetch_optional(conn)
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

/// Adds an origin and a provider to a site if it lacks them (the development demo site).
pub async fn ensure_origin_and_provider(
    pool: &PgPool,
    slug: &str,
    origin: &str,
    provider: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE sites SET
             origins = CASE WHEN $2 = ANY (origins) THEN origins ELSE array_append(origins, $2) END,
             providers = CASE WHEN $3 = ANY (providers) THEN providers ELSE array_append(providers, $3) END,
             updated_at = now()
         WHERE slug = $1 AND NOT ($2 = ANY (origins) AND $3 = ANY (providers))",
    )
    .bind(slug)
    .bind(origin)
    .bind(provider)
    .execute(pool)
    .await?;
    Ok(())
}

/// A change of a site's settings; `None` keeps a setting as it is. Values are already checked.
#[derive(Debug, Default)]
pub struct SiteChanges {
    pub name: Option<SiteName>,
    pub origins: Option<Vec<Origin>>,
    pub providers: Option<Vec<String>>,
    pub guests: Option<bool>,
    pub policy: Option<Policy>,
    pub max_depth: Option<i32>,
    pub edit_window_s: Option<i32>,
    pub flags_to_hold: Option<i32>,
    pub closed: Option<bool>,
    /// Merged into the stored overrides: a key set to null falls back to `[limits]` again.
    pub limits: Option<serde_json::Value>,
}

/// Applies the changes to the site with this id (the caller checked the right to).
pub async fn update(
    conn: &mut PgConnection,
    site_id: Uuid,
    c: &SiteChanges,
) -> Result<Option<Site>, sqlx::Error> {
    let origins: Option<Vec<&str>> = c
        .origins
        .as_ref()
        .map(|o| o.iter().map(Origin::as_str).collect());
    let row: Option<SiteRow> = sqlx::query_as(
        "UPDATE sites SET
             name = COALESCE($2, name),
             origins = COALESCE($3, origins),
             providers = COALESCE($4, providers),
             guests = COALESCE($5, guests),
             policy = COALESCE($6, policy),
             max_depth = COALESCE($7, max_depth),
             edit_window_s = COALESCE($8, edit_window_s),
             flags_to_hold = COALESCE($9, flags_to_hold),
             closed = COALESCE($10, closed),
             limits = CASE WHEN $11::jsonb IS NULL THEN limits
                           ELSE jsonb_strip_nulls(limits || $11::jsonb) END,
             updated_at = now()
         WHERE id = $1
         RETURNING id, slug, name, origins, providers, guests, policy, max_depth, edit_window_s, flags_to_hold, closed, limits",
    )
    .bind(site_id)
    .bind(c.name.as_ref().map(SiteName::as_str))
    .bind(origins)
    .bind(c.providers.as_ref())
    .bind(c.guests)
    .bind(c.policy.map(Policy::as_str))
    .bind(c.max_depth)
    .bind(c.edit_window_s)
    .bind(c.flags_to_hold)
    .bind(c.closed)
    .bind(c.limits.as_ref())
    .fetch_optional(conn)
    .await?;
    row.map(Site::try_from)
        .transpose()
        .map_err(|e| sqlx::Error::Decode(e.into()))
}
