//! A site's auto-moderation rules as moderators manage them (the pipeline applies them, see
//! `matcher::RuleSet`). A rule is checked with `matcher::validate_rule` before it is
//! stored, so the pipeline never meets a pattern it can't use.

use serde::{Deserialize, Serialize};
use sqlx::{FromRow, PgConnection, PgPool};
use time::OffsetDateTime;
use utoipa::ToSchema;
use uuid::Uuid;

use super::hits::Action;
use super::matcher::{self, TooComplex, validate_rule};
use super::rule_engine::RuleEngine;
use crate::audit::{self, ActionRecord};
use crate::auth::moderators::SiteScope;
use crate::error::{ApiError, ApiResult, Validation};

/// Longest `note`, in characters.
pub const NOTE_MAX_CHARS: usize = 500;
const KINDS: [&str; 5] = ["word", "regex", "max_links", "email_domain", "ip"];

/// A new auto-moderation rule.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewRuleBody {
    /// `word`, `regex`, `max_links`, `email_domain` or `ip`.
    #[schema(example = "word")]
    pub kind: String,
    /// What the kind matches: a word, a regex, a number of links, a domain, an IP or CIDR.
    #[schema(example = "casino")]
    pub pattern: String,
    /// What a match does: `reject`, `spam` or `hold`.
    #[schema(example = "hold")]
    pub action: String,
    /// Default `true`.
    #[serde(default)]
    pub enabled: Option<bool>,
    /// For the team.
    #[serde(default)]
    #[schema(max_length = 500)]
    pub note: Option<String>,
}

/// Every field optional; `note: ""` clears the note.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RulePatch {
    /// `word`, `regex`, `max_links`, `email_domain` or `ip`.
    #[serde(default)]
    pub kind: Option<String>,
    #[serde(default)]
    pub pattern: Option<String>,
    /// `reject`, `spam` or `hold`.
    #[serde(default)]
    pub action: Option<String>,
    #[serde(default)]
    pub enabled: Option<bool>,
    #[serde(default)]
    #[schema(max_length = 500)]
    pub note: Option<String>,
}

/// An auto-moderation rule of a site.
#[derive(Debug, Clone, FromRow, Serialize, ToSchema)]
#[schema(as = Rule)]
pub struct RuleRow {
    pub id: Uuid,
    /// `word`, `regex`, `max_links`, `email_domain` or `ip`.
    #[schema(example = "word")]
    pub kind: String,
    pub pattern: String,
    /// `reject`, `spam` or `hold`.
    #[schema(example = "hold")]
    pub action: String,
    pub enabled: bool,
    pub note: Option<String>,
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: OffsetDateTime,
}

/// A rule that passed validation.
#[derive(Debug, Clone)]
pub struct Rule {
    pub kind: String,
    pub pattern: String,
    pub action: String,
    pub enabled: bool,
    pub note: Option<String>,
}

impl Rule {
    /// Checks every field; the errors name the fields (field -> reason).
    pub fn check(
        kind: &str,
        pattern: &str,
        action: &str,
        enabled: bool,
        note: Option<&str>,
    ) -> Result<Self, Validation> {
        let mut errors = Validation::new();
        if !KINDS.contains(&kind) {
            errors.add(
                "kind",
                "must be one of word, regex, max_links, email_domain, ip",
            );
        } else if let Err(e) = validate_rule(kind, pattern) {
            errors.add("pattern", format!("must be {e}"));
        }
        if Action::parse(action).is_none() {
            errors.add("action", "must be one of reject, spam, hold");
        }
        let note = note.map(str::trim).filter(|n| !n.is_empty());
        if note.is_some_and(|n| n.chars().count() > NOTE_MAX_CHARS) {
            errors.add(
                "note",
                format!("must be at most {NOTE_MAX_CHARS} characters"),
            );
        }
        if !errors.is_empty() {
            return Err(errors);
        }
        Ok(Self {
            kind: kind.to_owned(),
            pattern: pattern.trim().to_owned(),
            action: action.to_owned(),
            enabled,
            note: note.map(str::to_owned),
        })
    }
}

macro_rules! rule_columns {
    () => {
        "id, kind, pattern, action, enabled, note, created_at, updated_at"
    };
}

const ROWS: crate::db::SiteRows =
    crate::db::site_rows!(concat!("SELECT ", rule_columns!(), " FROM rules"));

/// What [`create`] did.
pub enum Created {
    Rule(RuleRow),
    /// The site already has `max` rules (`moderation.max_rules_per_site`); nothing was written.
    AtCap {
        max: u32,
    },
}

/// Locks the site's row in the caller's transaction, so rule writes of one site (creates,
/// changes) check the cap and the budget one after the other.
pub async fn lock_site(conn: &mut PgConnection, scope: &SiteScope) -> Result<(), sqlx::Error> {
    sqlx::query("SELECT 1 FROM sites WHERE id = $1 FOR NO KEY UPDATE")
        .bind(scope.site_id())
        .execute(&mut *conn)
        .await
        .map(|_| ())
}

/// `(kind, pattern)` of every rule of the site (enabled or not: any may be enabled later),
/// but `except`, for the budget check of a set about to change.
pub async fn kinds_and_patterns(
    conn: &mut PgConnection,
    scope: &SiteScope,
    except: Option<Uuid>,
) -> Result<Vec<(String, String)>, sqlx::Error> {
    sqlx::query_as(
        "SELECT kind, pattern FROM rules
         WHERE site_id = $1 AND id IS DISTINCT FROM $2 AND kind IN ('word', 'regex')
         ORDER BY created_at, id",
    )
    .bind(scope.site_id())
    .bind(except)
    .fetch_all(conn)
    .await
}

/// Adds a rule in the caller's transaction, unless the site already has `max` rules (enabled
/// or not). The site's row is locked first, so concurrent creates of one site count one after
/// the other and the cap holds.
pub async fn create(
    conn: &mut PgConnection,
    scope: &SiteScope,
    rule: &Rule,
    max: u32,
) -> Result<Created, sqlx::Error> {
    lock_site(conn, scope).await?;
    let n: i64 = sqlx::query_scalar("SELECT count(*) FROM rules WHERE site_id = $1")
        .bind(scope.site_id())
        .fetch_one(&mut *conn)
        .await?;
    if n >= i64::from(max) {
        return Ok(Created::AtCap { max });
    }
    let row = sqlx::query_as(concat!(
        "INSERT INTO rules (id, site_id, kind, pattern, action, enabled, note)
         VALUES ($1, $2, $3, $4, $5, $6, $7)
         RETURNING ",
        rule_columns!()
    ))
    .bind(Uuid::now_v7())
    .bind(scope.site_id())
    .bind(&rule.kind)
    .bind(&rule.pattern)
    .bind(&rule.action)
    .bind(rule.enabled)
    .bind(rule.note.as_deref())
    .fetch_one(&mut *conn)
    .await?;
    Ok(Created::Rule(row))
}

/// The site's rules in the order the pipeline applies them, after the keyset `after`.
pub async fn list(
    pool: &PgPool,
    scope: &SiteScope,
    after: Option<(OffsetDateTime, Uuid)>,
    limit: i64,
) -> Result<Vec<RuleRow>, sqlx::Error> {
    ROWS.page(pool, scope.site_id(), after, limit).await
}

/// One rule of the site.
pub async fn get(
    pool: &PgPool,
    scope: &SiteScope,
    id: Uuid,
) -> Result<Option<RuleRow>, sqlx::Error> {
    ROWS.by_id(pool, id, scope.site_id()).await
}

/// One rule of the site, locked for an update in the caller's transaction.
pub async fn get_for_update(
    conn: &mut PgConnection,
    scope: &SiteScope,
    id: Uuid,
) -> Result<Option<RuleRow>, sqlx::Error> {
    ROWS.lock(conn, id, scope.site_id()).await
}

pub async fn update(
    conn: &mut PgConnection,
    scope: &SiteScope,
    id: Uuid,
    rule: &Rule,
) -> Result<RuleRow, sqlx::Error> {
    sqlx::query_as(concat!(
        "UPDATE rules SET kind = $3, pattern = $4, action = $5, enabled = $6, note = $7,
                updated_at = now()
         WHERE id = $1 AND site_id = $2
         RETURNING ",
        rule_columns!()
    ))
    .bind(id)
    .bind(scope.site_id())
    .bind(&rule.kind)
    .bind(&rule.pattern)
    .bind(&rule.action)
    .bind(rule.enabled)
    .bind(rule.note.as_deref())
    .fetch_one(conn)
    .await
}

/// Deletes a rule; the deleted rule (for the audit row), or `None` when the site has no such
/// rule.
pub async fn delete(
    conn: &mut PgConnection,
    scope: &SiteScope,
    id: Uuid,
) -> Result<Option<RuleRow>, sqlx::Error> {
    crate::db::one_of_site(
        conn,
        concat!(
            "DELETE FROM rules WHERE id = $1 AND site_id = $2 RETURNING ",
            rule_columns!()
        ),
        id,
        scope.site_id(),
    )
    .await
}

/// The rule as its audit rows show it: kind, pattern, action, enabled, note.
pub fn audit_json(row: &RuleRow) -> serde_json::Value {
    serde_json::json!({
        "kind": row.kind,
        "pattern": row.pattern,
        "action": row.action,
        "enabled": row.enabled,
        "note": row.note,
    })
}

// ---------------------------------------------------------------------------------------------
// A moderator's changes: each in one transaction with its audit row

/// The 409 for a rule set over `matcher::RULES_COMPILED_MAX_BYTES` compiled together.
pub fn rules_too_complex(e: TooComplex) -> ApiError {
    ApiError::conflict(
        "rules_too_complex",
        format!(
            "Together, this site's patterns would be over the {} KiB a site's rules may take compiled; simplify or delete some (long repeats like [ab]{{450}} are large).",
            e.budget_bytes / 1024
        ),
    )
    .with_details(serde_json::json!({ "budget_bytes": e.budget_bytes }))
}

/// Checks that the site's other rules and `rule` compile together within the site's budget,
/// on the site's share of the rule pool (compiling a big set is CPU work).
async fn check_budget(
    engine: &RuleEngine,
    scope: &SiteScope,
    others: Vec<(String, String)>,
    rule: &Rule,
) -> Result<(), ApiError> {
    let (kind, pattern) = (rule.kind.clone(), rule.pattern.clone());
    engine
        .run(scope.site_id(), move || {
            matcher::check_budget(
                others
                    .iter()
                    .map(|(k, p)| (k.as_str(), p.as_str()))
                    .chain([(kind.as_str(), pattern.as_str())]),
            )
        })
        .await?
        .map_err(rules_too_complex)
}

/// Adds `rule` to the site, unless the site has `max` rules or the set would be over its
/// compiled budget; audited as `rule.created`.
pub async fn add(
    pool: &PgPool,
    engine: &RuleEngine,
    scope: &SiteScope,
    moderator_id: Uuid,
    rule: &Rule,
    max: u32,
) -> ApiResult<RuleRow> {
    let mut tx = pool.begin().await?;
    lock_site(&mut tx, scope).await?;
    let others = kinds_and_patterns(&mut tx, scope, None).await?;
    check_budget(engine, scope, others, rule).await?;
    let row = match create(&mut tx, scope, rule, max).await? {
        Created::Rule(row) => row,
        Created::AtCap { max } => {
            return Err(ApiError::conflict(
                "too_many_rules",
                format!("This site has {max} rules, the most it can have; delete or change one."),
            )
            .with_details(serde_json::json!({ "max_rules": max })));
        }
    };
    let record = ActionRecord::by_moderator(
        Some(scope.site_id()),
        moderator_id,
        "rule.created",
        "rule",
        row.id,
    )
    .after(audit_json(&row));
    audit::record_action(&mut tx, &record).await?;
    tx.commit().await?;
    tracing::info!(moderator.id = %moderator_id, rule.id = %row.id, site.slug = scope.slug(), "rule created");
    Ok(row)
}

/// Applies `patch` to a rule of the site (absent fields stay), within the site's compiled
/// budget; audited as `rule.updated`.
pub async fn change(
    pool: &PgPool,
    engine: &RuleEngine,
    scope: &SiteScope,
    moderator_id: Uuid,
    id: Uuid,
    patch: RulePatch,
) -> ApiResult<RuleRow> {
    let mut tx = pool.begin().await?;
    // The site first (as a create does), then the rule: one site's rule writes check the
    // budget one after the other.
    lock_site(&mut tx, scope).await?;
    let current = get_for_update(&mut tx, scope, id)
        .await?
        .ok_or_else(rule_not_found)?;
    let note = match patch.note {
        Some(n) => Some(n),
        None => current.note.clone(),
    };
    let rule = Rule::check(
        patch.kind.as_deref().unwrap_or(&current.kind),
        patch.pattern.as_deref().unwrap_or(&current.pattern),
        patch.action.as_deref().unwrap_or(&current.action),
        patch.enabled.unwrap_or(current.enabled),
        note.as_deref(),
    )
    .map_err(ApiError::validation_many)?;
    let others = kinds_and_patterns(&mut tx, scope, Some(id)).await?;
    check_budget(engine, scope, others, &rule).await?;
    let row = update(&mut tx, scope, id, &rule).await?;
    let record = ActionRecord::by_moderator(
        Some(scope.site_id()),
        moderator_id,
        "rule.updated",
        "rule",
        id,
    )
    .before(audit_json(&current))
    .after(audit_json(&row));
    audit::record_action(&mut tx, &record).await?;
    tx.commit().await?;
    tracing::info!(moderator.id = %moderator_id, rule.id = %id, site.slug = scope.slug(), "rule changed");
    Ok(row)
}

/// Deletes a rule of the site; audited as `rule.deleted`.
pub async fn remove(
    pool: &PgPool,
    scope: &SiteScope,
    moderator_id: Uuid,
    id: Uuid,
) -> ApiResult<()> {
    let mut tx = pool.begin().await?;
    let gone = delete(&mut tx, scope, id)
        .await?
        .ok_or_else(rule_not_found)?;
    let record = ActionRecord::by_moderator(
        Some(scope.site_id()),
        moderator_id,
        "rule.deleted",
        "rule",
        id,
    )
    .before(audit_json(&gone));
    audit::record_action(&mut tx, &record).await?;
    tx.commit().await?;
    tracing::info!(moderator.id = %moderator_id, rule.id = %id, site.slug = scope.slug(), "rule deleted");
    Ok(())
}

pub fn rule_not_found() -> ApiError {
    ApiError::not_found("Rule")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_bad_field_is_named() {
        let e = Rule::check("colour", "x", "explode", true, None).unwrap_err();
        let fields: Vec<&str> = e.iter().map(|(f, _)| f.as_str()).collect();
        assert_eq!(fields, ["kind", "action"]);
        let e = Rule::check("regex", "(", "hold", true, None).unwrap_err();
        assert_eq!(e[0].0, "pattern");
        let e = Rule::check("max_links", "many", "hold", true, None).unwrap_err();
        assert_eq!(e[0].0, "pattern");
        let r = Rule::check("word", " viagra ", "spam", true, Some("  ")).unwrap();
        assert_eq!(r.pattern, "viagra");
        assert_eq!(r.note, None);
    }
}
