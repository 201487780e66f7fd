//! Bans of a site (the pipeline's first step reads them, see `store::matching_bans`): what a
//! moderator may create, and the SQL to list, create and lift them.
//!
//! A ban names exactly one target: a user (who must have commented on the site — a moderator
//! bans the people they see, and a user id from another site is "not found"), an email address
//! (stored case-folded, as the pipeline compares it) or an IP address or CIDR range (stored as
//! its network, so `203.0.113.7/24` bans `203.0.113.0/24`).

use serde::{Deserialize, Serialize};
use sqlx::{FromRow, PgConnection, PgPool};
use time::OffsetDateTime;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::audit::{self, ActionRecord};
use crate::auth::moderators::SiteScope;
use crate::domain::datetime::future_time;
use crate::domain::{Email, Invalid};
use crate::error::{ApiError, ApiResult, Validation};

/// Longest `reason`, in characters.
pub const REASON_MAX_CHARS: usize = 500;

/// Exactly one of `user_id`, `email` or `ip`.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewBanBody {
    /// Bans a commenter (who has commented on this site) by user id.
    #[serde(default)]
    #[schema(format = Uuid)]
    pub user_id: Option<String>,
    /// Bans an email address (compared case-insensitively).
    #[serde(default)]
    #[schema(example = "troll@example.com")]
    pub email: Option<String>,
    /// Bans an IP address or a CIDR network.
    #[serde(default)]
    #[schema(example = "203.0.113.0/24")]
    pub ip: Option<String>,
    /// RFC 3339, in the future; absent: until lifted.
    #[serde(default)]
    #[schema(format = DateTime, example = "2027-01-31T00:00:00Z")]
    pub until: Option<String>,
    /// A shadow ban: the author's comments are filed as spam but shown to them as published.
    #[serde(default)]
    pub shadow: bool,
    /// Why, for the team (and the banned person's appeal).
    #[serde(default)]
    #[schema(max_length = 500)]
    pub reason: Option<String>,
}

/// Who a ban stops.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    User(Uuid),
    /// Case-folded.
    Email(String),
    Ip(ipnet::IpNet),
}

impl Target {
    /// Exactly one of the three, parsed; the error names the field.
    pub fn parse(
        user_id: Option<&str>,
        email: Option<&str>,
        ip: Option<&str>,
    ) -> Result<Self, (&'static str, Invalid)> {
        let given = [user_id, email, ip].iter().filter(|v| v.is_some()).count();
        if given != 1 {
            return Err((
                "target",
                Invalid::new("give exactly one of user_id, email or ip"),
            ));
        }
        if let Some(u) = user_id {
            return Uuid::parse_str(u)
                .map(Target::User)
                .map_err(|_| ("user_id", Invalid::new("must be a user id")));
        }
        if let Some(e) = email {
            return Email::parse(e)
                .map(|e| Target::Email(e.identity_key()))
                .map_err(|e| ("email", e));
        }
        let ip = ip.unwrap_or_default().trim();
        // A bare address is the client it names, keyed like every per-IP limit: an IPv6
        // address bans its /64 (one host usually holds the whole /64, and would step to the
        // next address otherwise), an IPv4-mapped one the IPv4 address. A CIDR is taken as
        // written.
        let net = ip
            .parse::<ipnet::IpNet>()
            .or_else(|_| {
                ip.parse::<std::net::IpAddr>()
                    .map(crate::domain::client::client_net)
            })
            .map_err(|_| {
                (
                    "ip",
                    Invalid::new("must be an IP address or CIDR like 203.0.113.0/24"),
                )
            })?;
        Ok(Target::Ip(net.trunc()))
    }

    fn kind(&self) -> &'static str {
        match self {
            Target::User(_) => "user",
            Target::Email(_) => "email",
            Target::Ip(_) => "ip",
        }
    }
}

pub fn reason(raw: Option<&str>) -> Result<Option<String>, Invalid> {
    let Some(r) = raw.map(str::trim).filter(|r| !r.is_empty()) else {
        return Ok(None);
    };
    if r.chars().count() > REASON_MAX_CHARS {
        return Err(Invalid::new(format!(
            "must be at most {REASON_MAX_CHARS} characters"
        )));
    }
    Ok(Some(r.to_owned()))
}

/// A ban as moderators see it. No Debug: it may hold an email address or IP.
#[derive(FromRow, Serialize, ToSchema)]
#[schema(as = Ban)]
pub struct BanRow {
    pub id: Uuid,
    /// What is banned: `user`, `email` or `ip`.
    #[schema(example = "ip")]
    pub kind: String,
    pub user_id: Option<Uuid>,
    pub email: Option<String>,
    /// The banned network, in CIDR notation.
    #[schema(example = "203.0.113.0/24")]
    pub ip: Option<String>,
    pub shadow: bool,
    /// `null`: until lifted.
    #[serde(with = "time::serde::rfc3339::option")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub until: Option<OffsetDateTime>,
    pub reason: Option<String>,
    /// The moderator who created it.
    pub created_by: Option<Uuid>,
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub created_at: OffsetDateTime,
    /// False once `until` has passed.
    pub active: bool,
}

macro_rules! ban_columns {
    () => {
        "id, kind, user_id, email, ip::text AS ip, shadow, until, reason, created_by, created_at,
         (until IS NULL OR until > now()) AS active"
    };
}

const ROWS: crate::db::SiteRows =
    crate::db::site_rows!(concat!("SELECT ", ban_columns!(), " FROM bans"));

pub struct NewBan {
    pub target: Target,
    pub until: Option<OffsetDateTime>,
    pub shadow: bool,
    pub reason: Option<String>,
    pub created_by: Uuid,
}

impl NewBan {
    /// The ban a moderator's body asks for, every field checked and every problem named.
    pub fn check(b: &NewBanBody, created_by: Uuid) -> ApiResult<Self> {
        let mut v = Validation::new();
        let target = Target::parse(b.user_id.as_deref(), b.email.as_deref(), b.ip.as_deref())
            .map_err(|(field, e)| {
                v.add(field, e);
            })
            .ok();
        let until = v.check_opt("until", b.until.as_deref().map(future_time));
        let reason = v.check("reason", reason(b.reason.as_deref()));
        match (target, until, reason) {
            (Some(target), Some(until), Some(reason)) => Ok(Self {
                target,
                until,
                shadow: b.shadow,
                reason,
                created_by,
            }),
            _ => Err(v.into()),
        }
    }
}

/// Whether the user ever commented on the site (only those can be banned by id).
pub async fn commented_on(
    conn: &mut PgConnection,
    scope: &SiteScope,
    user_id: Uuid,
) -> Result<bool, sqlx::Error> {
    sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM comments WHERE site_id = $1 AND user_id = $2)")
        .bind(scope.site_id())
        .bind(user_id)
        .fetch_one(conn)
        .await
}

pub async fn create(
    conn: &mut PgConnection,
    scope: &SiteScope,
    ban: &NewBan,
) -> Result<BanRow, sqlx::Error> {
    let (user_id, email, ip) = match &ban.target {
        Target::User(u) => (Some(*u), None, None),
        Target::Email(e) => (None, Some(e.as_str()), None),
        Target::Ip(n) => (None, None, Some(*n)),
    };
    sqlx::query_as(concat!(
        "INSERT INTO bans (id, site_id, kind, user_id, email, ip, shadow, until, reason, created_by)
         VALUES ($1, $2, $3, $4, $5, $6::cidr, $7, $8, $9, $10)
         RETURNING ",
        ban_columns!()
    ))
    .bind(Uuid::now_v7())
    .bind(scope.site_id())
    .bind(ban.target.kind())
    .bind(user_id)
    .bind(email)
    .bind(ip.map(|n| n.to_string()))
    .bind(ban.shadow)
    .bind(ban.until)
    .bind(ban.reason.as_deref())
    .bind(ban.created_by)
    .fetch_one(conn)
    .await
}

/// The site's bans (expired ones too), oldest first, after the keyset `after`.
pub async fn list(
    pool: &PgPool,
    scope: &SiteScope,
    after: Option<(OffsetDateTime, Uuid)>,
    limit: i64,
) -> Result<Vec<BanRow>, sqlx::Error> {
    ROWS.page(pool, scope.site_id(), after, limit).await
}

pub async fn get(
    pool: &PgPool,
    scope: &SiteScope,
    id: Uuid,
) -> Result<Option<BanRow>, sqlx::Error> {
    ROWS.by_id(pool, id, scope.site_id()).await
}

/// Lifts a ban by deleting it; the deleted ban (for the audit row), or `None` when the site has
/// no such ban.
pub async fn delete(
    conn: &mut PgConnection,
    scope: &SiteScope,
    id: Uuid,
) -> Result<Option<BanRow>, sqlx::Error> {
    crate::db::one_of_site(
        conn,
        concat!(
            "DELETE FROM bans WHERE id = $1 AND site_id = $2 RETURNING ",
            ban_columns!()
        ),
        id,
        scope.site_id(),
    )
    .await
}

/// One ban of the site, locked in the caller's transaction (its state before a change).
pub async fn lock(
    conn: &mut PgConnection,
    scope: &SiteScope,
    id: Uuid,
) -> Result<Option<BanRow>, sqlx::Error> {
    ROWS.lock(conn, id, scope.site_id()).await
}

/// Lifts a ban by ending it now (the row stays, so its history and any appeal keep pointing at
/// it); the ban as ended, or `None` when it had already ended or the site has no such ban.
pub async fn expire(
    conn: &mut PgConnection,
    scope: &SiteScope,
    id: Uuid,
) -> Result<Option<BanRow>, sqlx::Error> {
    sqlx::query_as(concat!(
        "UPDATE bans SET until = now()
         WHERE id = $1 AND site_id = $2 AND (until IS NULL OR until > now())
         RETURNING ",
        ban_columns!()
    ))
    .bind(id)
    .bind(scope.site_id())
    .fetch_optional(conn)
    .await
}

/// The ban as its audit rows show it (the full row: its target, expiry, shadow and reason).
pub fn audit_json(row: &BanRow) -> serde_json::Value {
    serde_json::to_value(row).unwrap_or_default()
}

// ---------------------------------------------------------------------------------------------
// A moderator's changes: each in one transaction with its audit row

/// Bans `ban.target` from the site; audited as `ban.created`. A user id must be of someone
/// who commented on the site: a user of another site is as unknown here as one that doesn't
/// exist (404).
pub async fn impose(pool: &PgPool, scope: &SiteScope, ban: &NewBan) -> ApiResult<BanRow> {
    let mut tx = pool.begin().await?;
    if let Target::User(user_id) = ban.target
        && !commented_on(&mut tx, scope, user_id).await?
    {
        return Err(ApiError::not_found("User"));
    }
    let row = create(&mut tx, scope, ban).await?;
    let site_id = Some(scope.site_id());
    let record = ActionRecord::by_moderator(site_id, ban.created_by, "ban.created", "ban", row.id)
        .after(audit_json(&row));
    audit::record_action(&mut tx, &record).await?;
    tx.commit().await?;
    tracing::info!(moderator.id = %ban.created_by, ban.id = %row.id, ban.kind = %row.kind, site.slug = scope.slug(), "ban created");
    Ok(row)
}

/// Lifts a ban of the site by deleting it; audited as `ban.lifted`.
pub async fn lift(pool: &PgPool, scope: &SiteScope, moderator_id: Uuid, id: Uuid) -> ApiResult<()> {
    let mut tx = pool.begin().await?;
    let gone = delete(&mut tx, scope, id)
        .await?
        .ok_or_else(ban_not_found)?;
    let site_id = Some(scope.site_id());
    let record = ActionRecord::by_moderator(site_id, moderator_id, "ban.lifted", "ban", id)
        .before(audit_json(&gone));
    audit::record_action(&mut tx, &record).await?;
    tx.commit().await?;
    tracing::info!(moderator.id = %moderator_id, ban.id = %id, site.slug = scope.slug(), "ban lifted");
    Ok(())
}

pub fn ban_not_found() -> ApiError {
    ApiError::not_found("Ban")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exactly_one_target() {
        assert!(Target::parse(None, None, None).is_err());
        assert!(Target::parse(Some("x"), Some("a@b.example"), None).is_err());
        assert_eq!(
            Target::parse(None, Some("Ann@Example.COM"), None).unwrap(),
            Target::Email("ann@example.com".into())
        );
        assert_eq!(
            Target::parse(Some("nope"), None, None).unwrap_err().0,
            "user_id"
        );
    }

    #[test]
    fn ips_become_networks() {
        let t = |s| Target::parse(None, None, Some(s));
        assert_eq!(
            t("203.0.113.7/24").unwrap(),
            Target::Ip("203.0.113.0/24".parse().unwrap())
        );
        assert_eq!(
            t("198.51.100.9").unwrap(),
            Target::Ip("198.51.100.9/32".parse().unwrap())
        );
        assert_eq!(
            t("2001:db8::1/32").unwrap(),
            Target::Ip("2001:db8::/32".parse().unwrap())
        );
        assert_eq!(t("not-an-ip").unwrap_err().0, "ip");
        assert_eq!(t("10.0.0.0/33").unwrap_err().0, "ip");
    }
}
