//! A site's auto-moderation rules: list, create, read, change, delete, and the dry-run of a
//! proposed set.

use actix_web::{HttpResponse, web};
use uuid::Uuid;

use super::page::{Page, list};
use crate::auth::moderators::Moderator;
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::http::json::ApiJson;
use crate::http::paging::PageParams;
use crate::http::{Paging, private};
use crate::moderation::{dry_run, rules};
use crate::state::AppState;

// ---------------------------------------------------------------------------------------------
// Rules

/// Lists a site's auto-moderation rules, oldest first.
#[utoipa::path(
    get,
    path = "/api/mod/v1/sites/{site}/rules",
    tag = "moderation",
    security(("moderator" = [])),
    params(
        ("site" = String, Path, description = "The site's slug."),
        PageParams
    ),
    responses(
        (status = 200, description = "One page of rules.", body = Page<rules::RuleRow>)
    )
)]
pub async fn list_rules(
    state: web::Data<AppState>,
    moderator: Moderator,
    path: web::Path<String>,
    paging: Paging,
) -> ApiResult<HttpResponse> {
    let scope = moderator.scope(&path)?;
    let read = |after, n| rules::list(&state.db.pool, &scope, after, n);
    let (rows, next) = paging.by_time(read, |r| (r.created_at, r.id)).await?;
    Ok(list(rows, next))
}

/// Adds an auto-moderation rule to a site.
///
/// A `word`, `regex`, `max_links`, `email_domain` or `ip` rule that, on a match, `reject`s,
/// files as `spam` or `hold`s a new or edited comment. The pattern is checked before it is
/// stored: a regex is at most 500 characters and must compile within 256 KiB. A site has at
/// most `moderation.max_rules_per_site` rules (200 by default).
#[utoipa::path(
    post,
    path = "/api/mod/v1/sites/{site}/rules",
    tag = "moderation",
    security(("moderator" = [])),
    params(
        ("site" = String, Path, description = "The site's slug.")
    ),
    request_body = rules::NewRuleBody,
    responses(
        (status = 201, description = "The rule.", body = rules::RuleRow),
        (status = 400, description = "`invalid_json` or `validation_failed` (`kind`, `pattern`, `action`, `note`).", body = ErrorBody),
        (status = 409, description = "`too_many_rules`: the site has the most rules it can have (details: `max_rules`); `rules_too_complex`: the site's patterns together would be over the compiled budget (details: `budget_bytes`).", body = ErrorBody)
    )
)]
pub async fn create_rule(
    state: web::Data<AppState>,
    moderator: Moderator,
    path: web::Path<String>,
    body: ApiJson<rules::NewRuleBody>,
) -> ApiResult<HttpResponse> {
    let scope = moderator.scope(&path)?;
    let b = body.0;
    let rule = rules::Rule::check(
        &b.kind,
        &b.pattern,
        &b.action,
        b.enabled.unwrap_or(true),
        b.note.as_deref(),
    )
    .map_err(ApiError::validation_many)?;
    let max = state.settings.moderation.max_rules_per_site;
    let row = rules::add(
        &state.db.pool,
        &state.rules,
        &scope,
        moderator.id,
        &rule,
        max,
    )
    .await?;
    Ok(private(HttpResponse::Created()).json(row))
}

/// One auto-moderation rule of a site.
#[utoipa::path(
    get,
    path = "/api/mod/v1/sites/{site}/rules/{id}",
    tag = "moderation",
    security(("moderator" = [])),
    params(
        ("site" = String, Path, description = "The site's slug."),
        ("id" = Uuid, Path, description = "The rule's id.")
    ),
    responses(
        (status = 200, description = "The rule.", body = rules::RuleRow),
        (status = 404, description = "`not_found`: no such site (or no role there) or no such rule on it.", body = ErrorBody)
    )
)]
pub async fn get_rule(
    state: web::Data<AppState>,
    moderator: Moderator,
    path: web::Path<(String, Uuid)>,
) -> ApiResult<HttpResponse> {
    let (site, id) = path.into_inner();
    let scope = moderator.scope(&site)?;
    let row = rules::get(&state.db.pool, &scope, id)
        .await?
        .ok_or_else(rules::rule_not_found)?;
    Ok(private(HttpResponse::Ok()).json(row))
}

/// Changes an auto-moderation rule; absent fields stay as they are.
#[utoipa::path(
    patch,
    path = "/api/mod/v1/sites/{site}/rules/{id}",
    tag = "moderation",
    security(("moderator" = [])),
    params(
        ("site" = String, Path, description = "The site's slug."),
        ("id" = Uuid, Path, description = "The rule's id.")
    ),
    request_body = rules::RulePatch,
    responses(
        (status = 200, description = "The rule as changed.", body = rules::RuleRow),
        (status = 400, description = "`invalid_json` or `validation_failed` (`kind`, `pattern`, `action`, `note`).", body = ErrorBody),
        (status = 404, description = "`not_found`: no such site (or no role there) or no such rule on it.", body = ErrorBody),
        (status = 409, description = "`rules_too_complex`: the site's patterns together would be over the compiled budget (details: `budget_bytes`).", body = ErrorBody)
    )
)]
pub async fn patch_rule(
    state: web::Data<AppState>,
    moderator: Moderator,
    path: web::Path<(String, Uuid)>,
    body: ApiJson<rules::RulePatch>,
) -> ApiResult<HttpResponse> {
    let (site, id) = path.into_inner();
    let scope = moderator.scope(&site)?;
    let row = rules::change(
        &state.db.pool,
        &state.rules,
        &scope,
        moderator.id,
        id,
        body.0,
    )
    .await?;
    Ok(private(HttpResponse::Ok()).json(row))
}

/// Deletes an auto-moderation rule.
#[utoipa::path(
    delete,
    path = "/api/mod/v1/sites/{site}/rules/{id}",
    tag = "moderation",
    security(("moderator" = [])),
    params(
        ("site" = String, Path, description = "The site's slug."),
        ("id" = Uuid, Path, description = "The rule's id.")
    ),
    responses(
        (status = 204, description = "The rule is gone."),
        (status = 404, description = "`not_found`: no such site (or no role there) or no such rule on it.", body = ErrorBody)
    )
)]
pub async fn delete_rule(
    state: web::Data<AppState>,
    moderator: Moderator,
    path: web::Path<(String, Uuid)>,
) -> ApiResult<HttpResponse> {
    let (site, id) = path.into_inner();
    let scope = moderator.scope(&site)?;
    rules::remove(&state.db.pool, &scope, moderator.id, id).await?;
    Ok(private(HttpResponse::NoContent()).finish())
}

/// Replays a proposed rule set over the site's latest comments; changes nothing.
///
/// Each of the last `sample` comments (deleted ones left out) is judged under the site's current
/// rules and under the proposed ones, the other pipeline stages taken as recorded; the answer
/// lists those whose verdict would differ, and why. A `rejected` verdict means the comment would
/// have been refused at submit time.
#[utoipa::path(
    post,
    path = "/api/mod/v1/sites/{site}/rules/dry-run",
    tag = "moderation",
    security(("moderator" = [])),
    params(("site" = String, Path, description = "The site's slug.")),
    request_body = dry_run::DryRunBody,
    responses(
        (status = 200, description = "The comments whose verdict would change.", body = dry_run::DryRunAnswer),
        (status = 400, description = "`invalid_json` or `validation_failed` (`sample`: 1 to 5000 and sample × rules at most 100000, `rules`, `rules[i].kind`, `rules[i].pattern`, `rules[i].action`).", body = ErrorBody),
        (status = 409, description = "`rules_too_complex`: the proposed patterns together are over a site's compiled budget (details: `budget_bytes`).", body = ErrorBody)
    )
)]
pub async fn dry_run(
    state: web::Data<AppState>,
    moderator: Moderator,
    path: web::Path<String>,
    body: ApiJson<dry_run::DryRunBody>,
) -> ApiResult<HttpResponse> {
    let scope = moderator.scope(&path)?;
    let site = state.site(scope.slug()).await?;
    let answer = dry_run::run(
        &state.rules,
        &state.db.pool,
        &state.settings.moderation,
        site,
        moderator.id,
        body.0,
    )
    .await?;
    Ok(private(HttpResponse::Ok()).json(answer))
}
