//! An owner's change of a site's settings: every field of the PATCH is optional, each given one
//! is parsed into its domain type before anything is written, and all bad fields are reported
//! at once. The change, its audit row (only the fields that changed) and the cache drop are
//! written once, in [`change`].

use serde::{Deserialize, Deserializer};
use serde_json::{Map, Value};
use sqlx::PgPool;
use utoipa::ToSchema;

use super::cache::SiteCache;
use super::store::{self, Site, SiteChanges};
use crate::audit::{self, ActionRecord};
use crate::auth::moderators::{Moderator, SiteScope};
use crate::domain::{Origin, Policy, SiteName};
use crate::error::{ApiResult, Validation};

/// At most this many origins and providers per site.
const MAX_LIST: usize = 20;
/// Longest accepted `edit_window_s`: 30 days.
const MAX_EDIT_WINDOW_S: i64 = 30 * 24 * 3600;
/// Upper bounds of the per-site flood limits (0 turns a limit off).
const MAX_INTERVAL_S: i64 = 24 * 3600;
const MAX_PER_MINUTE: i64 = 10_000;
const MAX_FLAGS_TO_HOLD: i64 = 1000;

/// The settings to change; absent fields stay as they are.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SitePatch {
    /// The site's display name.
    #[serde(default)]
    name: Option<String>,
    /// The moderation policy: `pre` (every comment waits), `post` (published at once) or
    /// `first_time` (a commenter's first comment waits).
    #[serde(default)]
    #[schema(example = "first_time")]
    policy: Option<String>,
    /// Enabled login providers: `wordpress`, `twitter`, `facebook`, `google`, `dev` or
    /// `oidc-<name>`; at most 20.
    #[serde(default)]
    #[schema(max_items = 20, example = json!(["google", "oidc-corp"]))]
    providers: Option<Vec<String>>,
    /// Whether guests (name and email, no login) may comment.
    #[serde(default)]
    guests: Option<bool>,
    /// Origins the widget may be embedded on (scheme, host and port only); at most 20.
    #[serde(default)]
    #[schema(max_items = 20, example = json!(["https://blog.example"]))]
    origins: Option<Vec<String>>,
    /// Per-site flood limits.
    #[serde(default)]
    limits: Option<LimitsPatch>,
    /// Reader flags that send an approved comment back to the queue, 1 to 1000.
    #[serde(default)]
    #[schema(minimum = 1, maximum = 1000)]
    flags_to_hold: Option<i64>,
    /// Deepest reply level, 1 to 50.
    #[serde(default)]
    #[schema(minimum = 1, maximum = 50)]
    max_depth: Option<i64>,
    /// How long authors may edit, in seconds, 0 to 2592000 (30 days).
    #[serde(default)]
    #[schema(minimum = 0, maximum = 2592000)]
    edit_window_s: Option<i64>,
    /// Closed to new comments.
    #[serde(default)]
    closed: Option<bool>,
}

/// Absent: unchanged; null: back to the server's `[limits]`; a number: this site's own limit
/// (0 turns the limit off).
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LimitsPatch {
    /// Seconds between two comments of one author, 0 to 86400.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<i64>, minimum = 0, maximum = 86400)]
    comment_interval_s: Option<Option<i64>>,
    /// Comments per minute per user, 0 to 10000.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<i64>, minimum = 0, maximum = 10000)]
    comments_per_minute_user: Option<Option<i64>>,
    /// Comments per minute per client network (an IPv4 address, an IPv6 /64), 0 to 10000.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<i64>, minimum = 0, maximum = 10000)]
    comments_per_minute_ip: Option<Option<i64>>,
    /// Guest comments per minute on the whole site, 0 to 10000.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<i64>, minimum = 0, maximum = 10000)]
    guest_comments_per_minute: Option<Option<i64>>,
}

/// Tells a field given as null (`Some(None)`) from an absent one (`None`, via `default`).
fn present<'de, D: Deserializer<'de>, T: Deserialize<'de>>(
    d: D,
) -> Result<Option<Option<T>>, D::Error> {
    Option::<T>::deserialize(d).map(Some)
}

fn known_provider(p: &str) -> bool {
    matches!(p, "wordpress" | "twitter" | "facebook" | "google" | "dev")
        || p.strip_prefix("oidc-").is_some_and(|n| {
            !n.is_empty()
                && n.len() <= 50
                && n.bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        })
}

fn in_range(
    errors: &mut Validation,
    field: &str,
    v: Option<i64>,
    min: i64,
    max: i64,
) -> Option<i32> {
    let v = v?;
    if (min..=max).contains(&v) {
        i32::try_from(v).ok()
    } else {
        errors.add(field, format!("must be a whole number from {min} to {max}"));
        None
    }
}

impl SitePatch {
    /// The checked changes, or every bad field at once.
    pub fn parse(self) -> ApiResult<SiteChanges> {
        let mut errors = Validation::new();
        let mut c = SiteChanges {
            name: errors
                .check_opt("name", self.name.as_deref().map(SiteName::parse))
                .flatten(),
            policy: errors
                .check_opt("policy", self.policy.as_deref().map(Policy::parse))
                .flatten(),
            ..SiteChanges::default()
        };
        if let Some(origins) = self.origins {
            if origins.len() > MAX_LIST {
                errors.add("origins", format!("at most {MAX_LIST} origins"));
            } else {
                let mut parsed: Vec<Origin> = Vec::new();
                for (i, o) in origins.iter().enumerate() {
                    match Origin::parse(o) {
                        Ok(o) if !parsed.contains(&o) => parsed.push(o),
                        Ok(_) => {}
                        Err(e) => {
                            errors.add(&format!("origins[{i}]"), e);
                        }
                    }
                }
                c.origins = Some(parsed);
            }
        }
        if let Some(providers) = self.providers {
            if providers.len() > MAX_LIST {
                errors.add("providers", format!("at most {MAX_LIST} providers"));
            } else {
                let mut parsed: Vec<String> = Vec::new();
                for (i, p) in providers.iter().enumerate() {
                    if !known_provider(p) {
                        errors.add(
                            &format!("providers[{i}]"),
                            "must be wordpress, twitter, facebook, google, dev or oidc-NAME",
                        );
                    } else if !parsed.contains(p) {
                        parsed.push(p.clone());
                    }
                }
                c.providers = Some(parsed);
            }
        }
        c.guests = self.guests;
        c.closed = self.closed;
        c.max_depth = in_range(&mut errors, "max_depth", self.max_depth, 1, 50);
        c.edit_window_s = in_range(
            &mut errors,
            "edit_window_s",
            self.edit_window_s,
            0,
            MAX_EDIT_WINDOW_S,
        );
        c.flags_to_hold = in_range(
            &mut errors,
            "flags_to_hold",
            self.flags_to_hold,
            1,
            MAX_FLAGS_TO_HOLD,
        );
        if let Some(l) = self.limits {
            let mut merged = Map::new();
            for (key, value, max) in [
                ("comment_interval_s", l.comment_interval_s, MAX_INTERVAL_S),
                (
                    "comments_per_minute_user",
                    l.comments_per_minute_user,
                    MAX_PER_MINUTE,
                ),
                (
                    "comments_per_minute_ip",
                    l.comments_per_minute_ip,
                    MAX_PER_MINUTE,
                ),
                (
                    "guest_comments_per_minute",
                    l.guest_comments_per_minute,
                    MAX_PER_MINUTE,
                ),
            ] {
                match value {
                    None => {}
                    Some(None) => {
                        merged.insert(key.into(), Value::Null);
                    }
                    Some(Some(v)) => {
                        let field = format!("limits.{key}");
                        if let Some(v) = in_range(&mut errors, &field, Some(v), 0, max) {
                            merged.insert(key.into(), v.into());
                        }
                    }
                }
            }
            c.limits = Some(Value::Object(merged));
        }
        errors.finish()?;
        Ok(c)
    }
}

/// A site's settings as its audit rows show and compare them (the limits as stored overrides).
pub fn audit_json(site: &store::Site) -> Value {
    serde_json::json!({
        "name": site.name,
        "origins": site.origins,
        "providers": site.providers,
        "guests": site.guests,
        "policy": site.policy.as_str(),
        "max_depth": site.max_depth,
        "edit_window_s": site.edit_window_s,
        "flags_to_hold": site.flags_to_hold,
        "closed": site.closed,
        "limits": site.limits,
    })
}

/// Applies checked `changes` to the owner's site; answers the site as changed.
pub async fn change(
    pool: &PgPool,
    sites: &SiteCache,
    scope: &SiteScope,
    moderator: &Moderator,
    changes: &SiteChanges,
) -> ApiResult<Site> {
    let mut tx = pool.begin().await?;
    let before = store::lock(&mut tx, scope.site_id())
        .await?
        .ok_or_else(crate::sites::unknown_site)?;
    // Origins decide which pages receive readers' login tokens, and providers which logins a
    // site offers: a leaked API token must not be able to change them (the same rule as team
    // changes). Writing back the values they have (a script saving all settings) is no change.
    let origins_change = changes
        .origins
        .as_ref()
        .is_some_and(|o| o.iter().map(|o| o.as_str()).collect::<Vec<_>>() != before.origins);
    let providers_change = changes
        .providers
        .as_ref()
        .is_some_and(|p| *p != before.providers);
    if origins_change || providers_change {
        moderator.require_login(
            "Changing a site's origins or login providers needs a password login, not an API token.",
        )?;
    }
    let site = store::update(&mut tx, scope.site_id(), changes)
        .await?
        .ok_or_else(crate::sites::unknown_site)?;
    // Only what changed: a PATCH that sets a value to what it was leaves no entry.
    if let Some((old, new)) = audit::changed_fields(&audit_json(&before), &audit_json(&site)) {
        let site_id = scope.site_id();
        let record = ActionRecord::by_moderator(
            Some(site_id),
            moderator.id,
            "site.updated",
            "site",
            site_id,
        )
        .before(old)
        .after(new);
        audit::record_action(&mut tx, &record).await?;
    }
    tx.commit().await?;
    sites.invalidate(scope.slug());
    tracing::info!(moderator.id = %moderator.id, site.slug = scope.slug(), "site settings changed");
    Ok(site)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn patch(json: &str) -> ApiResult<SiteChanges> {
        serde_json::from_str::<SitePatch>(json).unwrap().parse()
    }

    #[test]
    fn every_bad_field_is_named() {
        let e = patch(
            r#"{"origins": ["https://ok.example", "https://x.example/path"], "max_depth": 0,
                "policy": "maybe", "providers": ["myspace"], "limits": {"comment_interval_s": -1}}"#,
        )
        .err()
        .unwrap();
        let details = &e.body()["error"]["details"];
        for f in [
            "origins[1]",
            "max_depth",
            "policy",
            "providers[0]",
            "limits.comment_interval_s",
        ] {
            assert!(details[f].is_string(), "{f}: {details}");
        }
    }

    #[test]
    fn limits_tell_null_from_absent() {
        let c = patch(r#"{"limits": {"comment_interval_s": null, "comments_per_minute_ip": 5}}"#)
            .unwrap();
        assert_eq!(
            c.limits.unwrap(),
            serde_json::json!({"comment_interval_s": null, "comments_per_minute_ip": 5})
        );
        assert!(patch("{}").unwrap().limits.is_none());
    }
}
