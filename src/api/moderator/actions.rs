//! Moderators' decisions on comments: one action, the same action on many, and an edit of a
//! comment's text.

use actix_web::{HttpRequest, HttpResponse, web};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::{IntoResponses, ToSchema};
use uuid::Uuid;

use super::comment::{comment_scope, if_match, item_json, one_comment};
use crate::auth::moderators::Moderator;
use crate::domain::CommentBody;
use crate::error::{ApiError, ApiResult, ErrorBody, ErrorDetail};
use crate::http::json::ApiJson;
use crate::http::private;
use crate::moderation::decisions::{self, Decision};
use crate::moderation::review::ItemView;
use crate::moderation::transitions::ModAction;
use crate::state::AppState;

/// The refusals of a change to one comment made under `If-Match`, said alike for each.
#[derive(IntoResponses)]
pub enum ChangeRefused {
    #[response(
        status = 404,
        description = "`not_found`: no such comment on a site where the caller holds a role."
    )]
    NotFound(ErrorBody),
    #[response(
        status = 412,
        description = "`precondition_failed`: `If-Match` no longer matches; details hold the current `version`."
    )]
    VersionMoved(ErrorBody),
}

/// Longest moderator note on an action, in characters.
const NOTE_MAX_CHARS: usize = 1000;
/// Most ids in one bulk action.
const BULK_MAX: usize = 200;

fn note(raw: Option<&str>) -> ApiResult<Option<String>> {
    let Some(n) = raw.map(str::trim).filter(|n| !n.is_empty()) else {
        return Ok(None);
    };
    if n.chars().count() > NOTE_MAX_CHARS {
        return Err(ApiError::validation(
            "note",
            format!("must be at most {NOTE_MAX_CHARS} characters"),
        ));
    }
    Ok(Some(n.to_owned()))
}

// ---------------------------------------------------------------------------------------------
// Actions

/// A moderator's decision on one comment.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ActionBody {
    action: ModAction,
    /// Kept in the comment's history and the audit log.
    #[serde(default)]
    #[schema(max_length = 1000)]
    note: Option<String>,
}

/// Approves, rejects, marks as spam (or not), deletes or restores one comment.
///
/// Answers the comment with its new status and version. With `If-Match`, the action applies only
/// if nobody changed the comment since the caller loaded it (412 otherwise).
#[utoipa::path(
    post,
    path = "/api/mod/v1/comments/{id}/actions",
    tag = "moderation",
    security(("moderator" = [])),
    params(
        ("id" = Uuid, Path, description = "The comment's id."),
        ("If-Match" = Option<String>, Header, description = "The comment's `version` (its `ETag`) as the caller saw it; quotes and `W/` are tolerated, `*` matches any. When it no longer matches, the answer is 412 and nothing changes.")
    ),
    request_body = ActionBody,
    responses(
        (status = 200, description = "The comment with its new status and version.", body = ItemView, headers(("ETag" = String, description = "The comment's `version`, quoted: send it back as `If-Match`."))),
        (status = 400, description = "`invalid_json` (malformed) or `validation_failed` (`action` not one of the six, `note`, `If-Match`).", body = ErrorBody),
        (status = 409, description = "`conflict`: the action isn't possible from the comment's current status.", body = ErrorBody),
        ChangeRefused
    )
)]
pub async fn act(
    state: web::Data<AppState>,
    moderator: Moderator,
    req: HttpRequest,
    path: web::Path<Uuid>,
    body: ApiJson<ActionBody>,
) -> ApiResult<HttpResponse> {
    let id = path.into_inner();
    let scope = comment_scope(&state, &moderator, id).await?;
    let expected = if_match(&req)?;
    let note = note(body.0.note.as_deref())?;
    let decision = Decision {
        scope: &scope,
        moderator_id: moderator.id,
        action: body.0.action,
        note: note.as_deref(),
    };
    decisions::decide(&state.db.pool, &state.threads, &decision, id, expected).await?;
    Ok(one_comment(item_json(&state, &scope, id).await?))
}

/// One action on many comments of a site.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BulkBody {
    /// The comments' ids, 1 to 200; each is answered in this order.
    #[schema(min_items = 1, max_items = 200)]
    ids: Vec<String>,
    action: ModAction,
    /// Kept with each change.
    #[serde(default)]
    #[schema(max_length = 1000)]
    note: Option<String>,
}

/// What a bulk action did to one id.
#[derive(Serialize, ToSchema)]
pub struct BulkResult<'a> {
    /// The id as given.
    id: &'a str,
    /// Whether this id changed.
    ok: bool,
    /// The comment's new status (only when `ok`).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false, example = "approved")]
    status: Option<String>,
    /// The comment's new version (only when `ok`).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    version: Option<i32>,
    /// Why this id didn't change (only when not `ok`): `not_found`, `conflict`, …
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<ErrorDetail>, nullable = false)]
    error: Option<Value>,
}

/// The answer of a bulk action: one result per id, in the request's order.
#[derive(Serialize, ToSchema)]
pub struct BulkAnswer<'a> {
    results: Vec<BulkResult<'a>>,
}

/// Applies one action to many comments of a site, each on its own.
///
/// All-or-nothing per id: an id that can't change (unknown, of another site, not possible from
/// its status) is answered with its error and the others go on. Answers 200 with one result per
/// id, in the request's order.
#[utoipa::path(
    post,
    path = "/api/mod/v1/sites/{site}/actions",
    tag = "moderation",
    security(("moderator" = [])),
    params(
        ("site" = String, Path, description = "The site's slug.")
    ),
    request_body = BulkBody,
    responses(
        (status = 200, description = "One result per id.", body = BulkAnswer),
        (status = 400, description = "`invalid_json` (malformed) or `validation_failed` (`ids`: 1 to 200; `action` not one of the six; `note`).", body = ErrorBody)
    )
)]
pub async fn bulk_act(
    state: web::Data<AppState>,
    moderator: Moderator,
    path: web::Path<String>,
    body: ApiJson<BulkBody>,
) -> ApiResult<HttpResponse> {
    let scope = moderator.scope(&path)?;
    let BulkBody { ids, action, note } = body.0;
    if ids.is_empty() || ids.len() > BULK_MAX {
        return Err(ApiError::validation(
            "ids",
            format!("must list 1 to {BULK_MAX} comment ids"),
        ));
    }
    let note = self::note(note.as_deref())?;
    // An id that isn't a UUID is simply not found; the answer keeps the request's order.
    let parsed: Vec<Option<Uuid>> = ids.iter().map(|raw| Uuid::parse_str(raw).ok()).collect();
    let decision = Decision {
        scope: &scope,
        moderator_id: moderator.id,
        action,
        note: note.as_deref(),
    };
    let outcomes =
        decisions::decide_many(&state.db.pool, &state.threads, &decision, &parsed).await?;
    let results = ids
        .iter()
        .zip(outcomes)
        .map(|(raw, outcome)| match outcome {
            Ok(c) => BulkResult {
                id: raw,
                ok: true,
                status: Some(c.status),
                version: Some(c.version),
                error: None,
            },
            Err(e) => BulkResult {
                id: raw,
                ok: false,
                status: None,
                version: None,
                error: Some(e.body()["error"].take()),
            },
        })
        .collect();
    Ok(private(HttpResponse::Ok()).json(BulkAnswer { results }))
}

// ---------------------------------------------------------------------------------------------
// Edit and history

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EditBody {
    /// The new Markdown text (the site's body limits apply).
    #[schema(min_length = 1)]
    body: String,
}

/// Replaces a comment's text with the moderator's; the old one stays in its history.
///
/// The status is left alone (a moderator's words are not run past the pipeline). With
/// `If-Match`, the edit applies only if nobody changed the comment meanwhile (412 otherwise).
#[utoipa::path(
    patch,
    path = "/api/mod/v1/comments/{id}",
    tag = "moderation",
    security(("moderator" = [])),
    params(
        ("id" = Uuid, Path, description = "The comment's id."),
        ("If-Match" = Option<String>, Header, description = "The comment's `version` (its `ETag`) as the caller saw it; quotes and `W/` are tolerated, `*` matches any. When it no longer matches, the answer is 412 and nothing changes.")
    ),
    request_body = EditBody,
    responses(
        (status = 200, description = "The edited comment with its new version.", body = ItemView, headers(("ETag" = String, description = "The comment's `version`, quoted: send it back as `If-Match`."))),
        (status = 400, description = "`invalid_json` or `validation_failed` (`body`, `If-Match`).", body = ErrorBody),
        ChangeRefused
    )
)]
pub async fn edit_comment(
    state: web::Data<AppState>,
    moderator: Moderator,
    req: HttpRequest,
    path: web::Path<Uuid>,
    body: ApiJson<EditBody>,
) -> ApiResult<HttpResponse> {
    let id = path.into_inner();
    let scope = comment_scope(&state, &moderator, id).await?;
    let expected = if_match(&req)?;
    let text = CommentBody::parse(&body.0.body, state.settings.limits.body_max_chars)
        .map_err(|e| ApiError::validation("body", e))?;
    let pool = &state.db.pool;
    decisions::edit(
        pool,
        &state.threads,
        &scope,
        moderator.id,
        id,
        &text,
        expected,
    )
    .await?;
    Ok(one_comment(item_json(&state, &scope, id).await?))
}
