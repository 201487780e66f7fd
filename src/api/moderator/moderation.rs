//! The moderator API's comment work (`/api/mod/v1`): the queue, search, single and bulk
//! actions, moderator edits, a comment's history, bans, rules, commenters' trust and the audit
//! log. Handlers parse, scope and call one store function; every lookup is scoped by a
//! `SiteScope` built from the caller's own roles, so anything of another site is a 404.

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use time::OffsetDateTime;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::auth::moderators::{Moderator, SiteScope};
use crate::domain::datetime::future_time;
use crate::domain::{CommentBody, CommentStatus, ThreadUri};
use crate::error::{ApiError, ApiResult, ErrorBody, ErrorDetail};
use crate::http::json::ApiJson;
use crate::http::{Paging, private};
use crate::markdown as render;
use crate::moderation::audit::{self, ActionRecord, Actor};
use crate::moderation::review::{self, EventView, ItemView, Queue, RevisionView, Search};
use crate::moderation::state::{self, Changed, ModAction, Move};
use crate::moderation::{bans, claims, matcher, rules, users};
use crate::state::AppState;

/// Longest moderator note on an action, in characters.
const NOTE_MAX_CHARS: usize = 1000;
/// Most ids in one bulk action.
const BULK_MAX: usize = 200;

fn comment_not_found() -> ApiError {
    ApiError::not_found("Comment")
}

/// The scope of the site a comment belongs to, if the caller holds a role there; else 404, the
/// same as for a comment that doesn't exist.
async fn comment_scope(state: &AppState, moderator: &Moderator, id: Uuid) -> ApiResult<SiteScope> {
    let site_id = review::comment_site(&state.db.pool, id, &moderator.site_ids())
        .await?
        .ok_or_else(comment_not_found)?;
    moderator
        .scope_by_id(site_id)
        .map_err(|_| comment_not_found())
}

/// `If-Match: <version>` (quotes and `W/` tolerated; `*` matches any version).
fn if_match(req: &HttpRequest) -> ApiResult<Option<i32>> {
    let Some(v) = req.headers().get(header::IF_MATCH) else {
        return Ok(None);
    };
    let bad = || ApiError::validation("If-Match", "must be the comment's version (a number)");
    let s = v.to_str().map_err(|_| bad())?.trim();
    if s == "*" {
        return Ok(None);
    }
    let s = s.strip_prefix("W/").unwrap_or(s).trim_matches('"');
    s.parse::<i32>().map(Some).map_err(|_| bad())
}

fn precondition_failed(current: i32) -> ApiError {
    ApiError::new(
        actix_web::http::StatusCode::PRECONDITION_FAILED,
        "precondition_failed",
        "Someone changed this comment since you loaded it; reload and try again.",
    )
    .with_details(json!({ "version": current }))
}

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

/// One page of a list: `{items, next_cursor}`.
#[derive(Serialize, ToSchema)]
pub struct Page<T> {
    pub items: Vec<T>,
    /// Pass as `?cursor=` for the next page; `null` on the last page.
    pub next_cursor: Option<String>,
}

fn list<T: Serialize>(items: Vec<T>, next: Option<String>) -> HttpResponse {
    private(HttpResponse::Ok()).json(Page {
        items,
        next_cursor: next,
    })
}

/// An answer holding one comment: its version is also the `ETag`, so a client can send it back
/// as `If-Match` without reading the body.
fn one_comment(item: Value) -> HttpResponse {
    let mut res = private(HttpResponse::Ok());
    if let Some(version) = item["comment"]["version"].as_i64() {
        res.insert_header((header::ETAG, format!("\"{version}\"")));
    }
    res.json(item)
}

/// One comment as moderators see it (the shape of a queue item).
async fn item_json(state: &AppState, scope: &SiteScope, id: Uuid) -> ApiResult<Value> {
    let row = review::one(&state.db.pool, scope, id)
        .await?
        .ok_or_else(comment_not_found)?;
    let rows = [row];
    let mut views = review::items(&state.db.pool, scope.site_id(), &rows).await?;
    let view = views.pop().ok_or_else(comment_not_found)?;
    serde_json::to_value(view).map_err(ApiError::internal)
}

// ---------------------------------------------------------------------------------------------
// Queue and search

#[derive(Deserialize)]
pub struct QueueParams {
    status: Option<String>,
}

/// Lists a moderation queue, oldest first.
///
/// `pending` (held by the pipeline or a moderator), `spam`, or `flagged` (approved or pending
/// comments with at least one reader flag). Each item carries the comment (Markdown and HTML,
/// version), its author with email and IP, the thread, the pipeline's `reasons`, reader
/// `flags`, the author's history on the site and any live claim.
#[utoipa::path(
    get,
    path = "/api/mod/v1/sites/{site}/queue",
    tag = "moderation",
    security(("moderator" = [])),
    params(
        ("site" = String, Path, description = "The site's slug."),
        ("status" = Option<String>, Query, description = "Which queue: `pending` (default), `spam` or `flagged`."),
        ("limit" = Option<u32>, Query, description = "Page size, 1 to the server's maximum (200 by default); 50 when absent."),
        ("cursor" = Option<String>, Query, description = "`next_cursor` of the previous page.")
    ),
    responses(
        (status = 200, description = "One page of the queue.", body = Page<ItemView>),
        (status = 400, description = "`validation_failed`: a bad `status`, `limit` or `cursor`.", body = ErrorBody),
        (status = 401, description = "`unauthenticated`: no, an unknown, an expired or a revoked token.", body = ErrorBody),
        (status = 404, description = "`not_found`: no such site, or the caller holds no role there.", body = ErrorBody),
        (status = 503, description = "`unavailable`: the database is down; `Retry-After` says when to try again.", body = ErrorBody)
    )
)]
pub async fn list_queue(
    state: web::Data<AppState>,
    moderator: Moderator,
    path: web::Path<String>,
    params: web::Query<QueueParams>,
    paging: Paging,
) -> ApiResult<HttpResponse> {
    let scope = moderator.scope(&path)?;
    let which = match params.status.as_deref() {
        None => Queue::Pending,
        Some(s) => Queue::parse(s)
            .ok_or_else(|| ApiError::validation("status", "must be pending, spam or flagged"))?,
    };
    let after = paging.time_cursor()?;
    let pool = &state.db.pool;
    let rows = review::queue(pool, &scope, which, after, paging.fetch()).await?;
    let (rows, next) = paging.split_by_time(rows, |r| (r.created_at, r.id));
    let items = review::items(pool, scope.site_id(), &rows).await?;
    Ok(list(items, next))
}

#[derive(Deserialize)]
pub struct SearchParams {
    status: Option<String>,
    author: Option<String>,
    thread: Option<String>,
    q: Option<String>,
}

/// Longest `q`, in characters.
const Q_MAX_CHARS: usize = 200;

/// Searches all of a site's comments, newest first.
///
/// Every filter is optional and they combine; blank ones are ignored.
#[utoipa::path(
    get,
    path = "/api/mod/v1/sites/{site}/comments",
    tag = "moderation",
    security(("moderator" = [])),
    params(
        ("site" = String, Path, description = "The site's slug."),
        ("status" = Option<String>, Query, description = "Only comments with this status: `pending`, `approved`, `spam`, `rejected` or `deleted`."),
        ("author" = Option<String>, Query, description = "Only comments by this user (a user id)."),
        ("thread" = Option<String>, Query, description = "Only comments on this thread: a thread id, or the thread's uri (path)."),
        ("q" = Option<String>, Query, description = "Words the comment's Markdown contains (full-text, simple dictionary); at most 200 characters."),
        ("limit" = Option<u32>, Query, description = "Page size, 1 to the server's maximum (200 by default); 50 when absent."),
        ("cursor" = Option<String>, Query, description = "`next_cursor` of the previous page.")
    ),
    responses(
        (status = 200, description = "One page of matching comments.", body = Page<ItemView>),
        (status = 400, description = "`validation_failed`: a bad `status`, `author`, `thread`, `q`, `limit` or `cursor` (each named in details).", body = ErrorBody),
        (status = 401, description = "`unauthenticated`: no, an unknown, an expired or a revoked token.", body = ErrorBody),
        (status = 404, description = "`not_found`: no such site, or the caller holds no role there.", body = ErrorBody),
        (status = 503, description = "`unavailable`: the database is down; `Retry-After` says when to try again.", body = ErrorBody)
    )
)]
pub async fn search_comments(
    state: web::Data<AppState>,
    moderator: Moderator,
    path: web::Path<String>,
    params: web::Query<SearchParams>,
    paging: Paging,
) -> ApiResult<HttpResponse> {
    let scope = moderator.scope(&path)?;
    let mut errors = Vec::new();
    let mut filter = Search::default();
    fn given(v: &Option<String>) -> Option<&str> {
        v.as_deref().map(str::trim).filter(|s| !s.is_empty())
    }
    if let Some(s) = given(&params.status) {
        match CommentStatus::parse(s) {
            Ok(s) => filter.status = Some(s.as_str()),
            Err(e) => errors.push(("status".to_owned(), e.to_string())),
        }
    }
    if let Some(a) = given(&params.author) {
        match Uuid::parse_str(a) {
            Ok(id) => filter.author = Some(id),
            Err(_) => errors.push(("author".to_owned(), "must be a user id".to_owned())),
        }
    }
    if let Some(t) = given(&params.thread) {
        if let Ok(id) = Uuid::parse_str(t) {
            filter.thread_id = Some(id);
        } else {
            match ThreadUri::parse(t, state.settings.limits.uri_max_chars) {
                Ok(uri) => filter.thread_uri = Some(uri.as_str().to_owned()),
                Err(e) => errors.push((
                    "thread".to_owned(),
                    format!("must be a thread id or uri: {e}"),
                )),
            }
        }
    }
    if let Some(q) = given(&params.q) {
        if q.chars().count() > Q_MAX_CHARS {
            errors.push((
                "q".to_owned(),
                format!("must be at most {Q_MAX_CHARS} characters"),
            ));
        } else {
            filter.q = Some(q.to_owned());
        }
    }
    if !errors.is_empty() {
        return Err(ApiError::validation_many(errors));
    }
    let before = paging.time_cursor()?;
    let pool = &state.db.pool;
    let rows = review::search(pool, &scope, &filter, before, paging.fetch()).await?;
    let (rows, next) = paging.split_by_time(rows, |r| (r.created_at, r.id));
    let items = review::items(pool, scope.site_id(), &rows).await?;
    Ok(list(items, next))
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

/// One moderator action in its own transaction (the status change and its audit row commit
/// together, or neither does).
async fn apply(
    state: &AppState,
    scope: &SiteScope,
    moderator: &Moderator,
    comment_id: Uuid,
    action: ModAction,
    note: Option<&str>,
    if_match: Option<i32>,
) -> ApiResult<Changed> {
    let mut tx = state.db.pool.begin().await?;
    let changed = state::transition(
        &mut tx,
        &state::Request {
            site_id: scope.site_id(),
            comment_id,
            m: Move::Moderator(action),
            actor: Actor::Moderator(moderator.id),
            reasons: &[],
            note,
            if_match,
        },
    )
    .await?;
    tx.commit().await?;
    // The trigger tells every node; this one needn't wait for its own notification.
    state.threads.invalidate(changed.thread_id);
    tracing::info!(
        moderator.id = %moderator.id,
        comment.id = %comment_id,
        action = action.as_str(),
        comment.status = %changed.status,
        "moderator action"
    );
    Ok(changed)
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
        (status = 401, description = "`unauthenticated`: no, an unknown, an expired or a revoked token.", body = ErrorBody),
        (status = 404, description = "`not_found`: no such comment on a site where the caller holds a role.", body = ErrorBody),
        (status = 409, description = "`conflict`: the action isn't possible from the comment's current status.", body = ErrorBody),
        (status = 412, description = "`precondition_failed`: `If-Match` no longer matches; details hold the current `version`.", body = ErrorBody),
        (status = 413, description = "`payload_too_large`: the body is over the JSON limit.", body = ErrorBody),
        (status = 415, description = "`unsupported_media_type`: the body is not `application/json`.", body = ErrorBody),
        (status = 503, description = "`unavailable`: the database is down; `Retry-After` says when to try again.", body = ErrorBody)
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
    apply(
        &state,
        &scope,
        &moderator,
        id,
        body.0.action,
        note.as_deref(),
        expected,
    )
    .await?;
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
        (status = 400, description = "`invalid_json` (malformed) or `validation_failed` (`ids`: 1 to 200; `action` not one of the six; `note`).", body = ErrorBody),
        (status = 401, description = "`unauthenticated`: no, an unknown, an expired or a revoked token.", body = ErrorBody),
        (status = 404, description = "`not_found`: no such site, or the caller holds no role there.", body = ErrorBody),
        (status = 413, description = "`payload_too_large`: the body is over the JSON limit.", body = ErrorBody),
        (status = 415, description = "`unsupported_media_type`: the body is not `application/json`.", body = ErrorBody),
        (status = 503, description = "`unavailable`: the database is down; `Retry-After` says when to try again.", body = ErrorBody)
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
    // One transaction and a handful of statements for the whole batch (see
    // `state::transition_many`): the rows are locked in id order, whatever the request's order,
    // so two overlapping bulk actions can't deadlock; a refused id is refused before anything of
    // it is written and the others go on; a database failure changes nothing. The answer keeps
    // the request's order. An id that isn't a UUID is simply not found.
    let parsed: Vec<Option<Uuid>> = ids.iter().map(|raw| Uuid::parse_str(raw).ok()).collect();
    let valid: Vec<Uuid> = parsed.iter().flatten().copied().collect();
    let mut tx = state.db.pool.begin().await?;
    let mut outcomes = state::transition_many(
        &mut tx,
        &state::Batch {
            site_id: scope.site_id(),
            m: Move::Moderator(action),
            actor: Actor::Moderator(moderator.id),
            reasons: &[],
            note: note.as_deref(),
            if_match: None,
        },
        &valid,
    )
    .await?
    .into_iter();
    let mut done = Vec::with_capacity(valid.len());
    let mut results = Vec::with_capacity(ids.len());
    for (raw, id) in ids.iter().zip(&parsed) {
        let outcome = match id {
            Some(_) => outcomes.next().unwrap_or_else(|| Err(comment_not_found())),
            None => Err(comment_not_found()),
        };
        results.push(match outcome {
            Ok(c) => {
                done.push((c.id, c.thread_id));
                BulkResult {
                    id: raw,
                    ok: true,
                    status: Some(c.status),
                    version: Some(c.version),
                    error: None,
                }
            }
            Err(e) => BulkResult {
                id: raw,
                ok: false,
                status: None,
                version: None,
                error: Some(e.body()["error"].take()),
            },
        });
    }
    tx.commit().await?;
    for &(id, thread_id) in &done {
        state.threads.invalidate(thread_id);
        tracing::info!(
            moderator.id = %moderator.id,
            comment.id = %id,
            action = action.as_str(),
            "moderator action (bulk)"
        );
    }
    Ok(private(HttpResponse::Ok()).json(BulkAnswer { results }))
}

// ---------------------------------------------------------------------------------------------
// Queue claims

/// Most items one claim takes.
const CLAIM_MAX: i64 = 100;
/// Items a claim takes when it doesn't say.
const CLAIM_DEFAULT: i64 = 10;

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ClaimBody {
    /// How many items to take, 1 to 100; 10 when absent.
    #[serde(default)]
    #[schema(minimum = 1, maximum = 100, example = 10)]
    limit: Option<i64>,
}

/// Claims up to `limit` of the oldest unclaimed pending items for five minutes.
///
/// The items are leased to the caller (no two moderators get the same item) and answered,
/// oldest first; `next_cursor` is always `null`. Fewer (or none) when the queue runs short.
#[utoipa::path(
    post,
    path = "/api/mod/v1/sites/{site}/queue/claim",
    tag = "moderation",
    security(("moderator" = [])),
    params(
        ("site" = String, Path, description = "The site's slug.")
    ),
    request_body = ClaimBody,
    responses(
        (status = 200, description = "The claimed items, oldest first.", body = Page<ItemView>),
        (status = 400, description = "`invalid_json` or `validation_failed` (`limit`).", body = ErrorBody),
        (status = 401, description = "`unauthenticated`: no, an unknown, an expired or a revoked token.", body = ErrorBody),
        (status = 404, description = "`not_found`: no such site, or the caller holds no role there.", body = ErrorBody),
        (status = 413, description = "`payload_too_large`: the body is over the JSON limit.", body = ErrorBody),
        (status = 415, description = "`unsupported_media_type`: the body is not `application/json`.", body = ErrorBody),
        (status = 503, description = "`unavailable`: the database is down; `Retry-After` says when to try again.", body = ErrorBody)
    )
)]
pub async fn claim_queue(
    state: web::Data<AppState>,
    moderator: Moderator,
    path: web::Path<String>,
    body: ApiJson<ClaimBody>,
) -> ApiResult<HttpResponse> {
    let scope = moderator.scope(&path)?;
    let limit = body.0.limit.unwrap_or(CLAIM_DEFAULT);
    if !(1..=CLAIM_MAX).contains(&limit) {
        return Err(ApiError::validation(
            "limit",
            format!("must be between 1 and {CLAIM_MAX}"),
        ));
    }
    let pool = &state.db.pool;
    let mut tx = pool.begin().await?;
    let ids = claims::claim(&mut tx, &scope, moderator.id, limit).await?;
    tx.commit().await?;
    tracing::info!(moderator.id = %moderator.id, site.slug = scope.slug(), claimed = ids.len(), "queue claimed");
    let rows = review::many(pool, &scope, &ids).await?;
    let items = review::items(pool, scope.site_id(), &rows).await?;
    Ok(list(items, None))
}

/// Gives back the caller's claim on a comment.
///
/// 409 if the caller doesn't hold it (someone else does, nobody does, or the lease ran out).
/// Answers the comment, now unclaimed.
#[utoipa::path(
    post,
    path = "/api/mod/v1/comments/{id}/release",
    tag = "moderation",
    security(("moderator" = [])),
    params(
        ("id" = Uuid, Path, description = "The comment's id.")
    ),
    responses(
        (status = 200, description = "The comment, no longer claimed.", body = ItemView, headers(("ETag" = String, description = "The comment's `version`, quoted: send it back as `If-Match`."))),
        (status = 401, description = "`unauthenticated`: no, an unknown, an expired or a revoked token.", body = ErrorBody),
        (status = 404, description = "`not_found`: no such comment on a site where the caller holds a role.", body = ErrorBody),
        (status = 409, description = "`conflict`: the caller holds no live claim on this comment.", body = ErrorBody),
        (status = 503, description = "`unavailable`: the database is down; `Retry-After` says when to try again.", body = ErrorBody)
    )
)]
pub async fn release_claim(
    state: web::Data<AppState>,
    moderator: Moderator,
    path: web::Path<Uuid>,
) -> ApiResult<HttpResponse> {
    let id = path.into_inner();
    let scope = comment_scope(&state, &moderator, id).await?;
    match claims::release(&state.db.pool, &scope, moderator.id, id).await? {
        claims::Released::Released => {}
        claims::Released::NotHeld => {
            return Err(ApiError::conflict(
                "conflict",
                "You don't hold a claim on this comment (nobody does, someone else does, or it ran out).",
            ));
        }
    }
    tracing::info!(moderator.id = %moderator.id, comment.id = %id, "claim released");
    Ok(one_comment(item_json(&state, &scope, id).await?))
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
        (status = 401, description = "`unauthenticated`: no, an unknown, an expired or a revoked token.", body = ErrorBody),
        (status = 404, description = "`not_found`: no such comment on a site where the caller holds a role.", body = ErrorBody),
        (status = 412, description = "`precondition_failed`: `If-Match` no longer matches; details hold the current `version`.", body = ErrorBody),
        (status = 413, description = "`payload_too_large`: the body is over the JSON limit.", body = ErrorBody),
        (status = 415, description = "`unsupported_media_type`: the body is not `application/json`.", body = ErrorBody),
        (status = 503, description = "`unavailable`: the database is down; `Retry-After` says when to try again.", body = ErrorBody)
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
    let html = render::render(text.as_str());
    let mut tx = state.db.pool.begin().await?;
    let edit = review::edit_body(
        &mut tx,
        &scope,
        id,
        moderator.id,
        text.as_str(),
        &html,
        expected,
    )
    .await?;
    let thread_id = match edit {
        review::Edit::NotFound => return Err(comment_not_found()),
        review::Edit::Stale(current) => return Err(precondition_failed(current)),
        review::Edit::Edited { thread_id } => thread_id,
    };
    tx.commit().await?;
    state.threads.invalidate(thread_id);
    tracing::info!(moderator.id = %moderator.id, comment.id = %id, "moderator edited a comment");
    Ok(one_comment(item_json(&state, &scope, id).await?))
}

/// A status change (`type: status`) or an edit (`type: edit`).
#[derive(Serialize, ToSchema)]
#[serde(untagged)]
pub enum HistoryEntry<'a> {
    Status(EventView<'a>),
    Edit(RevisionView<'a>),
}

impl HistoryEntry<'_> {
    fn at(&self) -> OffsetDateTime {
        match self {
            Self::Status(e) => e.created_at,
            Self::Edit(r) => r.created_at,
        }
    }
}

/// A comment's history: every status change and edit, oldest first.
///
/// Who, when, from, to and the note; an edit holds the text it replaced. `next_cursor` is always
/// `null`.
#[utoipa::path(
    get,
    path = "/api/mod/v1/comments/{id}/history",
    tag = "moderation",
    security(("moderator" = [])),
    params(
        ("id" = Uuid, Path, description = "The comment's id.")
    ),
    responses(
        (status = 200, description = "The whole history.", body = Page<HistoryEntry>),
        (status = 401, description = "`unauthenticated`: no, an unknown, an expired or a revoked token.", body = ErrorBody),
        (status = 404, description = "`not_found`: no such comment on a site where the caller holds a role.", body = ErrorBody),
        (status = 503, description = "`unavailable`: the database is down; `Retry-After` says when to try again.", body = ErrorBody)
    )
)]
pub async fn comment_history(
    state: web::Data<AppState>,
    moderator: Moderator,
    path: web::Path<Uuid>,
) -> ApiResult<HttpResponse> {
    let id = path.into_inner();
    let scope = comment_scope(&state, &moderator, id).await?;
    let (events, revisions) = review::history(&state.db.pool, &scope, id).await?;
    let mut entries: Vec<HistoryEntry> = events
        .iter()
        .map(|e| HistoryEntry::Status(EventView::new(e)))
        .chain(
            revisions
                .iter()
                .map(|r| HistoryEntry::Edit(RevisionView::new(r))),
        )
        .collect();
    // Stable: at the same instant a status change comes before an edit.
    entries.sort_by_key(HistoryEntry::at);
    Ok(list(entries, None))
}

// ---------------------------------------------------------------------------------------------
// Paging

// ---------------------------------------------------------------------------------------------
// Bans

/// Lists a site's bans (active and expired), oldest first.
#[utoipa::path(
    get,
    path = "/api/mod/v1/sites/{site}/bans",
    tag = "moderation",
    security(("moderator" = [])),
    params(
        ("site" = String, Path, description = "The site's slug."),
        ("limit" = Option<u32>, Query, description = "Page size, 1 to the server's maximum (200 by default); 50 when absent."),
        ("cursor" = Option<String>, Query, description = "`next_cursor` of the previous page.")
    ),
    responses(
        (status = 200, description = "One page of bans.", body = Page<bans::BanRow>),
        (status = 400, description = "`validation_failed`: a bad `limit` or `cursor`.", body = ErrorBody),
        (status = 401, description = "`unauthenticated`: no, an unknown, an expired or a revoked token.", body = ErrorBody),
        (status = 404, description = "`not_found`: no such site, or the caller holds no role there.", body = ErrorBody),
        (status = 503, description = "`unavailable`: the database is down; `Retry-After` says when to try again.", body = ErrorBody)
    )
)]
pub async fn list_bans(
    state: web::Data<AppState>,
    moderator: Moderator,
    path: web::Path<String>,
    paging: Paging,
) -> ApiResult<HttpResponse> {
    let scope = moderator.scope(&path)?;
    let after = paging.time_cursor()?;
    let rows = bans::list(&state.db.pool, &scope, after, paging.fetch()).await?;
    let (rows, next) = paging.split_by_time(rows, |b| (b.created_at, b.id));
    Ok(list(rows, next))
}

/// Bans a commenter, an email address or an IP network from a site.
///
/// Exactly one of `user_id`, `email` or `ip` (an address or CIDR); optional `until` and
/// `shadow` (the author's comments are filed as spam but look published to them).
#[utoipa::path(
    post,
    path = "/api/mod/v1/sites/{site}/bans",
    tag = "moderation",
    security(("moderator" = [])),
    params(
        ("site" = String, Path, description = "The site's slug.")
    ),
    request_body = bans::NewBanBody,
    responses(
        (status = 201, description = "The ban.", body = bans::BanRow),
        (status = 400, description = "`invalid_json` or `validation_failed` (`target`: not exactly one of user_id/email/ip; `user_id`, `email`, `ip`, `until`, `reason`).", body = ErrorBody),
        (status = 401, description = "`unauthenticated`: no, an unknown, an expired or a revoked token.", body = ErrorBody),
        (status = 404, description = "`not_found`: no such site (or no role there), or `user_id` never commented on this site.", body = ErrorBody),
        (status = 413, description = "`payload_too_large`: the body is over the JSON limit.", body = ErrorBody),
        (status = 415, description = "`unsupported_media_type`: the body is not `application/json`.", body = ErrorBody),
        (status = 503, description = "`unavailable`: the database is down; `Retry-After` says when to try again.", body = ErrorBody)
    )
)]
pub async fn create_ban(
    state: web::Data<AppState>,
    moderator: Moderator,
    path: web::Path<String>,
    body: ApiJson<bans::NewBanBody>,
) -> ApiResult<HttpResponse> {
    let scope = moderator.scope(&path)?;
    let b = body.0;
    let mut errors: Vec<(String, String)> = Vec::new();
    let target = bans::Target::parse(b.user_id.as_deref(), b.email.as_deref(), b.ip.as_deref())
        .map_err(|(field, e)| errors.push((field.to_owned(), e.to_string())));
    let until = b
        .until
        .as_deref()
        .map(future_time)
        .transpose()
        .map_err(|e| errors.push(("until".to_owned(), e.to_string())));
    let reason = bans::reason(b.reason.as_deref()).map_err(|e| errors.push(("reason".into(), e.0)));
    let (Ok(target), Ok(until), Ok(reason)) = (target, until, reason) else {
        return Err(ApiError::validation_many(errors));
    };
    let mut tx = state.db.pool.begin().await?;
    if let bans::Target::User(user_id) = target
        && !bans::commented_on(&mut tx, &scope, user_id).await?
    {
        // A user of another site is as unknown here as one that doesn't exist.
        return Err(ApiError::not_found("User"));
    }
    let row = bans::create(
        &mut tx,
        &scope,
        &bans::NewBan {
            target,
            until,
            shadow: b.shadow,
            reason,
            created_by: moderator.id,
        },
    )
    .await?;
    audit::record_action(
        &mut tx,
        &ActionRecord {
            site_id: Some(scope.site_id()),
            actor: Actor::Moderator(moderator.id),
            action: "ban.created",
            target_kind: "ban",
            target_id: Some(row.id),
            before: None,
            after: Some(bans::audit_json(&row)),
            note: None,
        },
    )
    .await?;
    tx.commit().await?;
    tracing::info!(moderator.id = %moderator.id, ban.id = %row.id, ban.kind = %row.kind, site.slug = scope.slug(), "ban created");
    Ok(private(HttpResponse::Created()).json(row))
}

/// One ban of a site.
#[utoipa::path(
    get,
    path = "/api/mod/v1/sites/{site}/bans/{id}",
    tag = "moderation",
    security(("moderator" = [])),
    params(
        ("site" = String, Path, description = "The site's slug."),
        ("id" = Uuid, Path, description = "The ban's id.")
    ),
    responses(
        (status = 200, description = "The ban.", body = bans::BanRow),
        (status = 401, description = "`unauthenticated`: no, an unknown, an expired or a revoked token.", body = ErrorBody),
        (status = 404, description = "`not_found`: no such site (or no role there) or no such ban on it.", body = ErrorBody),
        (status = 503, description = "`unavailable`: the database is down; `Retry-After` says when to try again.", body = ErrorBody)
    )
)]
pub async fn get_ban(
    state: web::Data<AppState>,
    moderator: Moderator,
    path: web::Path<(String, Uuid)>,
) -> ApiResult<HttpResponse> {
    let (site, id) = path.into_inner();
    let scope = moderator.scope(&site)?;
    let row = bans::get(&state.db.pool, &scope, id)
        .await?
        .ok_or_else(|| ApiError::not_found("Ban"))?;
    Ok(private(HttpResponse::Ok()).json(row))
}

/// Lifts a ban (deletes it).
#[utoipa::path(
    delete,
    path = "/api/mod/v1/sites/{site}/bans/{id}",
    tag = "moderation",
    security(("moderator" = [])),
    params(
        ("site" = String, Path, description = "The site's slug."),
        ("id" = Uuid, Path, description = "The ban's id.")
    ),
    responses(
        (status = 204, description = "The ban is gone."),
        (status = 401, description = "`unauthenticated`: no, an unknown, an expired or a revoked token.", body = ErrorBody),
        (status = 404, description = "`not_found`: no such site (or no role there) or no such ban on it.", body = ErrorBody),
        (status = 503, description = "`unavailable`: the database is down; `Retry-After` says when to try again.", body = ErrorBody)
    )
)]
pub async fn delete_ban(
    state: web::Data<AppState>,
    moderator: Moderator,
    path: web::Path<(String, Uuid)>,
) -> ApiResult<HttpResponse> {
    let (site, id) = path.into_inner();
    let scope = moderator.scope(&site)?;
    let mut tx = state.db.pool.begin().await?;
    let gone = bans::delete(&mut tx, &scope, id)
        .await?
        .ok_or_else(|| ApiError::not_found("Ban"))?;
    audit::record_action(
        &mut tx,
        &ActionRecord {
            site_id: Some(scope.site_id()),
            actor: Actor::Moderator(moderator.id),
            action: "ban.lifted",
            target_kind: "ban",
            target_id: Some(id),
            before: Some(bans::audit_json(&gone)),
            after: None,
            note: None,
        },
    )
    .await?;
    tx.commit().await?;
    tracing::info!(moderator.id = %moderator.id, ban.id = %id, site.slug = scope.slug(), "ban lifted");
    Ok(private(HttpResponse::NoContent()).finish())
}

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
        ("limit" = Option<u32>, Query, description = "Page size, 1 to the server's maximum (200 by default); 50 when absent."),
        ("cursor" = Option<String>, Query, description = "`next_cursor` of the previous page.")
    ),
    responses(
        (status = 200, description = "One page of rules.", body = Page<rules::RuleRow>),
        (status = 400, description = "`validation_failed`: a bad `limit` or `cursor`.", body = ErrorBody),
        (status = 401, description = "`unauthenticated`: no, an unknown, an expired or a revoked token.", body = ErrorBody),
        (status = 404, description = "`not_found`: no such site, or the caller holds no role there.", body = ErrorBody),
        (status = 503, description = "`unavailable`: the database is down; `Retry-After` says when to try again.", body = ErrorBody)
    )
)]
pub async fn list_rules(
    state: web::Data<AppState>,
    moderator: Moderator,
    path: web::Path<String>,
    paging: Paging,
) -> ApiResult<HttpResponse> {
    let scope = moderator.scope(&path)?;
    let after = paging.time_cursor()?;
    let rows = rules::list(&state.db.pool, &scope, after, paging.fetch()).await?;
    let (rows, next) = paging.split_by_time(rows, |r| (r.created_at, r.id));
    Ok(list(rows, next))
}

/// The 409 for a rule set over `matcher::RULES_COMPILED_MAX_BYTES` compiled together.
pub(crate) fn rules_too_complex(e: matcher::TooComplex) -> ApiError {
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
async fn check_rules_budget(
    state: &AppState,
    scope: &SiteScope,
    others: Vec<(String, String)>,
    rule: &rules::Rule,
) -> Result<(), ApiError> {
    let (kind, pattern) = (rule.kind.clone(), rule.pattern.clone());
    state
        .rules
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
        (status = 401, description = "`unauthenticated`: no, an unknown, an expired or a revoked token.", body = ErrorBody),
        (status = 404, description = "`not_found`: no such site, or the caller holds no role there.", body = ErrorBody),
        (status = 409, description = "`too_many_rules`: the site has the most rules it can have (details: `max_rules`); `rules_too_complex`: the site's patterns together would be over the compiled budget (details: `budget_bytes`).", body = ErrorBody),
        (status = 413, description = "`payload_too_large`: the body is over the JSON limit.", body = ErrorBody),
        (status = 415, description = "`unsupported_media_type`: the body is not `application/json`.", body = ErrorBody),
        (status = 503, description = "`unavailable`: the database is down; `Retry-After` says when to try again.", body = ErrorBody)
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
    let mut tx = state.db.pool.begin().await?;
    rules::lock_site(&mut tx, &scope).await?;
    let others = rules::kinds_and_patterns(&mut tx, &scope, None).await?;
    check_rules_budget(&state, &scope, others, &rule).await?;
    let row = match rules::create(&mut tx, &scope, &rule, max).await? {
        rules::Created::Rule(row) => row,
        rules::Created::AtCap { max } => {
            return Err(ApiError::conflict(
                "too_many_rules",
                format!("This site has {max} rules, the most it can have; delete or change one."),
            )
            .with_details(serde_json::json!({ "max_rules": max })));
        }
    };
    audit::record_action(
        &mut tx,
        &ActionRecord {
            site_id: Some(scope.site_id()),
            actor: Actor::Moderator(moderator.id),
            action: "rule.created",
            target_kind: "rule",
            target_id: Some(row.id),
            before: None,
            after: Some(rules::audit_json(&row)),
            note: None,
        },
    )
    .await?;
    tx.commit().await?;
    tracing::info!(moderator.id = %moderator.id, rule.id = %row.id, site.slug = scope.slug(), "rule created");
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
        (status = 401, description = "`unauthenticated`: no, an unknown, an expired or a revoked token.", body = ErrorBody),
        (status = 404, description = "`not_found`: no such site (or no role there) or no such rule on it.", body = ErrorBody),
        (status = 503, description = "`unavailable`: the database is down; `Retry-After` says when to try again.", body = ErrorBody)
    )
)]
pub async fn get_rule(
    state: web::Data<AppState>,
    moderator: Moderator,
    path: web::Path<(String, Uuid)>,
) -> ApiResult<HttpResponse> {
    let (site, id) = path.into_inner();
    let scope = moderator.scope(&site)?;
    let mut conn = state.db.pool.acquire().await?;
    let row = rules::get(&mut conn, &scope, id)
        .await?
        .ok_or_else(|| ApiError::not_found("Rule"))?;
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
        (status = 401, description = "`unauthenticated`: no, an unknown, an expired or a revoked token.", body = ErrorBody),
        (status = 404, description = "`not_found`: no such site (or no role there) or no such rule on it.", body = ErrorBody),
        (status = 409, description = "`rules_too_complex`: the site's patterns together would be over the compiled budget (details: `budget_bytes`).", body = ErrorBody),
        (status = 413, description = "`payload_too_large`: the body is over the JSON limit.", body = ErrorBody),
        (status = 415, description = "`unsupported_media_type`: the body is not `application/json`.", body = ErrorBody),
        (status = 503, description = "`unavailable`: the database is down; `Retry-After` says when to try again.", body = ErrorBody)
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
    let p = body.0;
    let mut tx = state.db.pool.begin().await?;
    // The site first (as a create does), then the rule: one site's rule writes check the
    // budget one after the other.
    rules::lock_site(&mut tx, &scope).await?;
    let current = rules::get_for_update(&mut tx, &scope, id)
        .await?
        .ok_or_else(|| ApiError::not_found("Rule"))?;
    let note = match p.note {
        Some(n) => Some(n),
        None => current.note.clone(),
    };
    let rule = rules::Rule::check(
        p.kind.as_deref().unwrap_or(&current.kind),
        p.pattern.as_deref().unwrap_or(&current.pattern),
        p.action.as_deref().unwrap_or(&current.action),
        p.enabled.unwrap_or(current.enabled),
        note.as_deref(),
    )
    .map_err(ApiError::validation_many)?;
    let others = rules::kinds_and_patterns(&mut tx, &scope, Some(id)).await?;
    check_rules_budget(&state, &scope, others, &rule).await?;
    let row = rules::update(&mut tx, &scope, id, &rule).await?;
    audit::record_action(
        &mut tx,
        &ActionRecord {
            site_id: Some(scope.site_id()),
            actor: Actor::Moderator(moderator.id),
            action: "rule.updated",
            target_kind: "rule",
            target_id: Some(id),
            before: Some(rules::audit_json(&current)),
            after: Some(rules::audit_json(&row)),
            note: None,
        },
    )
    .await?;
    tx.commit().await?;
    tracing::info!(moderator.id = %moderator.id, rule.id = %id, site.slug = scope.slug(), "rule changed");
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
        (status = 401, description = "`unauthenticated`: no, an unknown, an expired or a revoked token.", body = ErrorBody),
        (status = 404, description = "`not_found`: no such site (or no role there) or no such rule on it.", body = ErrorBody),
        (status = 503, description = "`unavailable`: the database is down; `Retry-After` says when to try again.", body = ErrorBody)
    )
)]
pub async fn delete_rule(
    state: web::Data<AppState>,
    moderator: Moderator,
    path: web::Path<(String, Uuid)>,
) -> ApiResult<HttpResponse> {
    let (site, id) = path.into_inner();
    let scope = moderator.scope(&site)?;
    let mut tx = state.db.pool.begin().await?;
    let gone = rules::delete(&mut tx, &scope, id)
        .await?
        .ok_or_else(|| ApiError::not_found("Rule"))?;
    audit::record_action(
        &mut tx,
        &ActionRecord {
            site_id: Some(scope.site_id()),
            actor: Actor::Moderator(moderator.id),
            action: "rule.deleted",
            target_kind: "rule",
            target_id: Some(id),
            before: Some(rules::audit_json(&gone)),
            after: None,
            note: None,
        },
    )
    .await?;
    tx.commit().await?;
    tracing::info!(moderator.id = %moderator.id, rule.id = %id, site.slug = scope.slug(), "rule deleted");
    Ok(private(HttpResponse::NoContent()).finish())
}

// ---------------------------------------------------------------------------------------------
// Commenters

/// A commenter as the site's moderators see them.
#[derive(Serialize, ToSchema)]
#[schema(as = CommenterView)]
pub struct UserView {
    #[serde(flatten)]
    user: users::UserRow,
    /// Their comments on this site, by status.
    counts: review::StatusCounts,
    /// Their latest comments on this site (up to 20), newest first.
    recent_comments: Vec<users::RecentRow>,
}

async fn user_view(state: &AppState, scope: &SiteScope, user_id: Uuid) -> ApiResult<UserView> {
    let pool = &state.db.pool;
    let mut conn = pool.acquire().await?;
    let user = users::find(&mut conn, scope, user_id)
        .await?
        .ok_or_else(|| ApiError::not_found("User"))?;
    drop(conn);
    let counts = review::status_counts(pool, scope.site_id(), &[user_id])
        .await?
        .remove(&user_id)
        .unwrap_or_default();
    let recent = users::recent(pool, scope, user_id).await?;
    Ok(UserView {
        user,
        counts,
        recent_comments: recent,
    })
}

/// A commenter's standing and history on a site.
///
/// Who they are (with email), whether they are `trusted` or `premoderated`, their comment counts
/// by status and their latest comments. A user who never commented on the site is a 404.
#[utoipa::path(
    get,
    path = "/api/mod/v1/sites/{site}/users/{id}",
    tag = "moderation",
    security(("moderator" = [])),
    params(
        ("site" = String, Path, description = "The site's slug."),
        ("id" = Uuid, Path, description = "The user's id.")
    ),
    responses(
        (status = 200, description = "The commenter.", body = UserView),
        (status = 401, description = "`unauthenticated`: no, an unknown, an expired or a revoked token.", body = ErrorBody),
        (status = 404, description = "`not_found`: no such site (or no role there), or this user never commented on it.", body = ErrorBody),
        (status = 503, description = "`unavailable`: the database is down; `Retry-After` says when to try again.", body = ErrorBody)
    )
)]
pub async fn get_user(
    state: web::Data<AppState>,
    moderator: Moderator,
    path: web::Path<(String, Uuid)>,
) -> ApiResult<HttpResponse> {
    let (site, id) = path.into_inner();
    let scope = moderator.scope(&site)?;
    Ok(private(HttpResponse::Ok()).json(user_view(&state, &scope, id).await?))
}

/// Sets a commenter's trust on a site: `trusted` or `premoderated`.
///
/// `trusted` comments skip rules, spam checks and the policy; `premoderated` ones always wait
/// for a moderator. A user is never both.
#[utoipa::path(
    patch,
    path = "/api/mod/v1/sites/{site}/users/{id}",
    tag = "moderation",
    security(("moderator" = [])),
    params(
        ("site" = String, Path, description = "The site's slug."),
        ("id" = Uuid, Path, description = "The user's id.")
    ),
    request_body = users::TrustPatch,
    responses(
        (status = 200, description = "The commenter as changed.", body = UserView),
        (status = 400, description = "`invalid_json` or `validation_failed` (`premoderated`: a user can't be both trusted and premoderated).", body = ErrorBody),
        (status = 401, description = "`unauthenticated`: no, an unknown, an expired or a revoked token.", body = ErrorBody),
        (status = 404, description = "`not_found`: no such site (or no role there), or this user never commented on it.", body = ErrorBody),
        (status = 413, description = "`payload_too_large`: the body is over the JSON limit.", body = ErrorBody),
        (status = 415, description = "`unsupported_media_type`: the body is not `application/json`.", body = ErrorBody),
        (status = 503, description = "`unavailable`: the database is down; `Retry-After` says when to try again.", body = ErrorBody)
    )
)]
pub async fn patch_user(
    state: web::Data<AppState>,
    moderator: Moderator,
    path: web::Path<(String, Uuid)>,
    body: ApiJson<users::TrustPatch>,
) -> ApiResult<HttpResponse> {
    let (site, id) = path.into_inner();
    let scope = moderator.scope(&site)?;
    let users::TrustPatch {
        trusted,
        premoderated,
    } = body.0;
    let contradiction = || {
        ApiError::validation(
            "premoderated",
            "a user is either trusted or premoderated, not both",
        )
    };
    if trusted == Some(true) && premoderated == Some(true) {
        return Err(contradiction());
    }
    let mut tx = state.db.pool.begin().await?;
    if users::find(&mut tx, &scope, id).await?.is_none() {
        return Err(ApiError::not_found("User"));
    }
    if trusted.is_some() || premoderated.is_some() {
        let before = users::lock_trust(&mut tx, &scope, id).await?;
        match users::set_trust(&mut tx, &scope, id, trusted, premoderated).await? {
            users::TrustOutcome::Saved => {}
            users::TrustOutcome::Contradiction => return Err(contradiction()),
        }
        let after = (
            trusted.unwrap_or(before.trusted),
            premoderated.unwrap_or(before.premoderated),
        );
        if after != (before.trusted, before.premoderated) {
            audit::record_action(
                &mut tx,
                &ActionRecord {
                    site_id: Some(scope.site_id()),
                    actor: Actor::Moderator(moderator.id),
                    action: "user.trust_changed",
                    target_kind: "user",
                    target_id: Some(id),
                    before: Some(json!({
                        "trusted": before.trusted,
                        "premoderated": before.premoderated,
                    })),
                    after: Some(json!({ "trusted": after.0, "premoderated": after.1 })),
                    note: None,
                },
            )
            .await?;
        }
    }
    tx.commit().await?;
    tracing::info!(moderator.id = %moderator.id, user.id = %id, site.slug = scope.slug(), ?trusted, ?premoderated, "commenter trust changed");
    Ok(private(HttpResponse::Ok()).json(user_view(&state, &scope, id).await?))
}
