//! Reading the audit log (`/api/mod/v1/sites/{site}/audit`, `/api/mod/v1/me/audit`): one
//! keyset-paged, newest-first listing of a site's comment status changes and administrative
//! actions, and a moderator's own account-level actions. Read-only by construction: no route
//! changes or deletes an audit row (and the database refuses to; see `audit`).

use actix_web::{HttpResponse, web};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use time::OffsetDateTime;
use utoipa::ToSchema;
use uuid::Uuid;

use super::page::Page;
use crate::audit::{self, EntryRow, EntryType, Filter};
use crate::auth::moderators::Moderator;
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::http::paging::PageParams;
use crate::http::{Paging, private};
use crate::moderation::review::{ActorView, EventView};
use crate::state::AppState;

#[derive(Deserialize)]
pub struct AuditParams {
    #[serde(rename = "type")]
    entry_type: Option<String>,
    action: Option<String>,
}

/// What an administrative action was done to.
#[derive(Serialize, ToSchema)]
#[schema(as = AuditTarget)]
pub struct TargetView<'a> {
    /// `ban`, `rule`, `site`, `user`, `moderator`, `invitation`, `api_token`, `appeal`,
    /// `comment`, ...
    #[schema(example = "rule")]
    pub kind: &'a str,
    pub id: Option<Uuid>,
}

/// An administrative action (an audit log entry): who did what to which resource, with the
/// resource's state before and after. Never holds secrets (token values, password hashes).
#[derive(Serialize, ToSchema)]
#[schema(as = AdminAction)]
pub struct ActionView<'a> {
    /// Always `action`.
    #[serde(rename = "type")]
    #[schema(example = "action")]
    pub kind: &'static str,
    pub id: String,
    pub actor: ActorView<'a>,
    /// `<resource>.<verb>`: `ban.created`, `ban.lifted`, `rule.created`, `rule.updated`,
    /// `rule.deleted`, `site.updated`, `user.trust_changed`, `comment.edited`,
    /// `appeal.upheld`, `appeal.overturned`, team, invitation, API token and password actions.
    #[schema(example = "rule.updated")]
    pub action: &'a str,
    pub target: TargetView<'a>,
    /// The target's fields before (`null`: it didn't exist). For settings, only the changed ones.
    #[schema(value_type = Option<Object>)]
    pub before: Option<&'a Value>,
    /// The target's fields after (`null`: it no longer exists).
    #[schema(value_type = Option<Object>)]
    pub after: Option<&'a Value>,
    /// The actor's note or reason, if any.
    pub note: Option<&'a str>,
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub created_at: OffsetDateTime,
}

/// An audit log entry: a comment's status change (`type: status`) or an administrative action
/// (`type: action`).
#[derive(Serialize, ToSchema)]
#[serde(untagged)]
pub enum AuditEntry<'a> {
    Status(EventView<'a>),
    Action(ActionView<'a>),
}

static NO_REASONS: Value = Value::Array(Vec::new());

impl<'a> AuditEntry<'a> {
    fn new(r: &'a EntryRow) -> Self {
        let actor = ActorView {
            kind: &r.actor_kind,
            id: r.actor_id,
            email: r.moderator_email.as_deref(),
        };
        if r.entry_type == "status" {
            return Self::Status(EventView {
                kind: "status",
                id: r.id.to_string(),
                comment_id: r.comment_id.unwrap_or_default(),
                actor,
                from: r.from_status.as_deref(),
                to: r.to_status.as_deref().unwrap_or_default(),
                note: r.note.as_deref(),
                reasons: r.reasons.as_ref().unwrap_or(&NO_REASONS),
                created_at: r.created_at,
            });
        }
        Self::Action(ActionView {
            kind: "action",
            id: r.id.to_string(),
            actor,
            action: r.action.as_deref().unwrap_or_default(),
            target: TargetView {
                kind: r.target_kind.as_deref().unwrap_or_default(),
                id: r.target_id,
            },
            before: r.before.as_ref(),
            after: r.after.as_ref(),
            note: r.note.as_deref(),
            created_at: r.created_at,
        })
    }
}

/// `?action=`: an action (`rule.updated`) or a resource (`rule`).
fn action_filter(raw: Option<&str>) -> ApiResult<Option<&str>> {
    let Some(a) = raw else { return Ok(None) };
    let ok = a.len() <= 64
        && a.split('.').count() <= 2
        && a.split('.').all(|p| {
            p.starts_with(|c: char| c.is_ascii_lowercase())
                && p.chars().all(|c| c.is_ascii_lowercase() || c == '_')
        });
    if !ok {
        return Err(ApiError::validation(
            "action",
            "must be an action like rule.updated or a resource like rule",
        ));
    }
    Ok(Some(a))
}

fn page(rows: Vec<EntryRow>, paging: &Paging) -> HttpResponse {
    let (rows, next) = paging.split_by_time(rows, |e| (e.created_at, e.id));
    let items: Vec<AuditEntry> = rows.iter().map(AuditEntry::new).collect();
    private(HttpResponse::Ok()).json(Page {
        items,
        next_cursor: next,
    })
}

/// The site's audit log, newest first.
///
/// Every status change of its comments (`type: status`) and every administrative action on it
/// (`type: action`: bans and lifts, rules, settings, team and invitations, commenters' trust,
/// moderator edits, appeals decided), each with its actor, time, and for actions the target's
/// state before and after. Append-only: no route changes or removes an entry.
#[utoipa::path(
    get,
    path = "/api/mod/v1/sites/{site}/audit",
    tag = "moderation",
    security(("moderator" = [])),
    params(
        ("site" = String, Path, description = "The site's slug."),
        ("type" = Option<String>, Query, description = "`status` or `action`: only entries of that type."),
        ("action" = Option<String>, Query, description = "Only administrative actions with this name (`rule.updated`) or on this resource (`rule`)."),
        PageParams
    ),
    responses(
        (status = 200, description = "One page of the audit log.", body = Page<AuditEntry>),
        (status = 400, description = "`validation_failed`: a bad `limit`, `cursor`, `type` or `action`.", body = ErrorBody)
    )
)]
pub async fn audit_log(
    state: web::Data<AppState>,
    moderator: Moderator,
    path: web::Path<String>,
    params: web::Query<AuditParams>,
    paging: Paging,
) -> ApiResult<HttpResponse> {
    let scope = moderator.scope(&path)?;
    let before = paging.time_cursor()?;
    let entry_type = params
        .entry_type
        .as_deref()
        .map(|t| {
            EntryType::parse(t)
                .ok_or_else(|| ApiError::validation("type", "must be status or action"))
        })
        .transpose()?;
    let filter = Filter {
        entry_type,
        action: action_filter(params.action.as_deref())?,
    };
    let rows = audit::site_log(
        &state.db.pool,
        scope.site_id(),
        filter,
        before,
        paging.fetch(),
    )
    .await?;
    Ok(page(rows, &paging))
}

#[derive(Deserialize)]
pub struct MyAuditParams {
    action: Option<String>,
}

/// The caller's own account-level audit log, newest first.
///
/// Actions that belong to no site: the API tokens they created or revoked, password changes,
/// and what an operator did to their account. Site-level actions are in each site's log.
#[utoipa::path(
    get,
    path = "/api/mod/v1/me/audit",
    tag = "moderation",
    security(("moderator" = [])),
    params(
        ("action" = Option<String>, Query, description = "Only actions with this name (`api_token.created`) or on this resource (`api_token`)."),
        PageParams
    ),
    responses(
        (status = 200, description = "One page of the caller's account-level actions.", body = Page<ActionView>),
        (status = 400, description = "`validation_failed`: a bad `limit`, `cursor` or `action`.", body = ErrorBody)
    )
)]
pub async fn my_audit(
    state: web::Data<AppState>,
    moderator: Moderator,
    params: web::Query<MyAuditParams>,
    paging: Paging,
) -> ApiResult<HttpResponse> {
    let before = paging.time_cursor()?;
    let action = action_filter(params.action.as_deref())?;
    let rows =
        audit::account_log(&state.db.pool, moderator.id, action, before, paging.fetch()).await?;
    Ok(page(rows, &paging))
}
