//! Appeals over HTTP. Commenters (`/api/v1`): contest a rejected comment or a ban, and list their
//! own appeals with the outcome. Moderators (`/api/mod/v1`): the appeals queue of a site, and a
//! decision per appeal: `uphold` (nothing changes) or `overturn` (the comment is approved through
//! the state machine, or the ban is lifted). A decision, the change it makes and its audit row
//! (`moderation_events` for a comment, `ban_events` for a ban) commit in one transaction.

use actix_web::{HttpResponse, web};
use serde::{Deserialize, Serialize};
use serde_json::json;
use time::OffsetDateTime;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::auth::moderators::{Moderator, SiteScope};
use crate::comments::target;
use crate::domain::CommentStatus;
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::http::Commenter;
use crate::http::json::ApiJson;
use crate::http::{Paging, private};
use crate::http::{RouteComment, RouteSite};
use crate::moderation::appeal_decision;
use crate::moderation::appeals::{
    self, AppealRow, AppealView, Created, Decision, Kind, NewAppeal, Status,
};
use crate::state::AppState;

use appeals::not_found as appeal_not_found;

/// An author's appeal. Unknown fields are refused.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AppealBody {
    /// Why the decision should be reconsidered (trimmed, 1 to 2000 characters).
    #[schema(
        example = "This wasn't spam: the link is to my own blog post on the topic.",
        min_length = 1,
        max_length = 2000
    )]
    message: String,
}

/// What the author is told about the appeal they just filed.
#[derive(Serialize, ToSchema)]
pub struct FiledAppeal<'a> {
    id: Uuid,
    /// `comment` (against a rejection) or `ban` (against a ban).
    #[schema(example = "comment")]
    kind: &'a str,
    /// `open`: a moderator will decide.
    #[schema(value_type = Status)]
    status: &'a str,
    /// The appeal's message, trimmed.
    message: &'a str,
    /// The contested comment (for `kind: comment`).
    comment_id: Option<Uuid>,
    /// The contested ban (for `kind: ban`).
    ban_id: Option<Uuid>,
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    created_at: OffsetDateTime,
}

impl<'a> FiledAppeal<'a> {
    fn new(a: &'a AppealRow) -> Self {
        Self {
            id: a.id,
            kind: &a.kind,
            status: &a.status,
            message: &a.message,
            comment_id: a.comment_id,
            ban_id: a.ban_id,
            created_at: a.created_at,
        }
    }
}

fn created(outcome: Created) -> ApiResult<HttpResponse> {
    match outcome {
        Created::Created(row) => Ok(private(HttpResponse::Created()).json(FiledAppeal::new(&row))),
        Created::AlreadyOpen => Err(ApiError::conflict(
            "appeal_exists",
            "You already have an open appeal about this; a moderator will look at it.",
        )),
    }
}

/// Appeals the rejection of one's comment.
///
/// The author contests the rejection of their comment (rejected, or filed as spam): the appeal
/// lands in the site's appeals queue, and the thread shows the author its outcome (`appeal` on
/// the comment). One open appeal per comment. Someone else's comment is 404 (403 if it is
/// published, as for edits); a comment that isn't rejected is 409 `not_appealable`.
#[utoipa::path(
    post,
    path = "/api/v1/comments/{id}/appeal",
    tag = "appeals",
    params(("id" = Uuid, Path, description = "The comment's id.")),
    request_body = AppealBody,
    security(("commenter" = [])),
    responses(
        (status = 201, description = "The appeal, open.", body = FiledAppeal),
        (status = 400, description = "`invalid_json`, or `validation_failed` on `message`.", body = ErrorBody),
        (status = 401, description = "`unauthenticated`: no valid session.", body = ErrorBody),
        (status = 403, description = "`forbidden` (someone else's published comment), or `origin_not_allowed` (CORS).", body = ErrorBody),
        (status = 404, description = "No such comment, or one the caller can't see (`not_found`).", body = ErrorBody),
        (status = 409, description = "`not_appealable` (the comment isn't rejected; details: `status`) or `appeal_exists` (an appeal about it is open).", body = ErrorBody),
        (status = 413, description = "`payload_too_large`: the body is over the JSON size limit.", body = ErrorBody),
        (status = 415, description = "The body is not `application/json`.", body = ErrorBody),
        (status = 503, description = "The database is unavailable (`unavailable`, with `Retry-After`).", body = ErrorBody)
    )
)]
pub async fn appeal_comment(
    state: web::Data<AppState>,
    Commenter(user): Commenter,
    RouteComment(t): RouteComment,
    ApiJson(body): ApiJson<AppealBody>,
) -> ApiResult<HttpResponse> {
    let id = t.row.id;
    let message =
        appeals::message(&body.message).map_err(|e| ApiError::validation("message", e))?;
    if t.row.user_id != user.user_id {
        return Err(if t.status == CommentStatus::Approved {
            ApiError::forbidden("forbidden", "Only its author can appeal this comment.")
        } else {
            target::unknown_comment()
        });
    }
    // A shadow-banned author sees their comment as published: nothing to appeal, and the
    // answer must not give the shadow ban away.
    let shown = if t.shadowed() {
        CommentStatus::Approved
    } else {
        t.status
    };
    if !matches!(shown, CommentStatus::Rejected | CommentStatus::Spam) {
        return Err(ApiError::conflict(
            "not_appealable",
            format!(
                "This comment is {}; only a rejected comment can be appealed.",
                shown.as_str()
            ),
        )
        .with_details(json!({ "status": shown.as_str() })));
    }
    let outcome = appeals::create(
        &state.db.pool,
        &NewAppeal {
            site_id: t.site.id,
            kind: Kind::Comment,
            comment_id: Some(id),
            ban_id: None,
            user_id: user.user_id,
            message: &message,
        },
    )
    .await?;
    if let Created::Created(a) = &outcome {
        tracing::info!(appeal.id = %a.id, comment.id = %id, "comment appealed");
    }
    created(outcome)
}

/// Appeals one's ban on a site.
///
/// A banned commenter contests their ban on the site; the appeal lands in the site's appeals
/// queue. One open appeal per ban.
#[utoipa::path(
    post,
    path = "/api/v1/sites/{site}/appeal",
    tag = "appeals",
    params(("site" = String, Path, description = "The site's slug.")),
    request_body = AppealBody,
    security(("commenter" = [])),
    responses(
        (status = 201, description = "The appeal, open.", body = FiledAppeal),
        (status = 400, description = "`invalid_json`, or `validation_failed` on `message`.", body = ErrorBody),
        (status = 401, description = "`unauthenticated`: no valid session.", body = ErrorBody),
        (status = 403, description = "`origin_not_allowed` (CORS: a page of another origin).", body = ErrorBody),
        (status = 404, description = "Unknown site (`not_found`).", body = ErrorBody),
        (status = 409, description = "`not_banned` (nothing to appeal) or `appeal_exists` (an appeal about this ban is open).", body = ErrorBody),
        (status = 413, description = "`payload_too_large`: the body is over the JSON size limit.", body = ErrorBody),
        (status = 415, description = "The body is not `application/json`.", body = ErrorBody),
        (status = 503, description = "The database is unavailable (`unavailable`, with `Retry-After`).", body = ErrorBody)
    )
)]
pub async fn appeal_ban(
    state: web::Data<AppState>,
    Commenter(user): Commenter,
    RouteSite(site): RouteSite,
    ApiJson(body): ApiJson<AppealBody>,
) -> ApiResult<HttpResponse> {
    let message =
        appeals::message(&body.message).map_err(|e| ApiError::validation("message", e))?;
    let pool = &state.db.pool;
    let Some(ban_id) = appeals::current_user_ban(pool, site.id, user.user_id).await? else {
        return Err(ApiError::conflict(
            "not_banned",
            "You aren't banned on this site; there is nothing to appeal.",
        ));
    };
    let outcome = appeals::create(
        pool,
        &NewAppeal {
            site_id: site.id,
            kind: Kind::Ban,
            comment_id: None,
            ban_id: Some(ban_id),
            user_id: user.user_id,
            message: &message,
        },
    )
    .await?;
    if let Created::Created(a) = &outcome {
        tracing::info!(appeal.id = %a.id, ban.id = %ban_id, site.slug = %site.slug, "ban appealed");
    }
    created(outcome)
}

/// One of the caller's appeals, as its author sees it: the outcome and the note meant for them,
/// not who decided.
#[derive(Serialize, ToSchema)]
pub struct MyAppeal<'a> {
    id: Uuid,
    /// The site's slug.
    #[schema(example = "my-blog")]
    site: &'a str,
    /// `comment` or `ban`.
    #[schema(example = "comment")]
    kind: &'a str,
    #[schema(value_type = Status)]
    status: &'a str,
    /// The appeal's message.
    message: &'a str,
    /// The moderator's note to the author; null if none (or not decided yet).
    note: Option<&'a str>,
    comment_id: Option<Uuid>,
    ban_id: Option<Uuid>,
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    created_at: OffsetDateTime,
    /// Null while the appeal is open.
    #[serde(with = "time::serde::rfc3339::option")]
    #[schema(value_type = Option<String>, format = DateTime)]
    decided_at: Option<OffsetDateTime>,
}

/// A page of the caller's appeals.
#[derive(Serialize, ToSchema)]
pub struct MyAppealsPage<'a> {
    items: Vec<MyAppeal<'a>>,
    /// Pass as `cursor` for the next page; null on the last page.
    next_cursor: Option<String>,
}

/// The caller's appeals.
///
/// The signed-in commenter's appeals on the session's site, newest first, each with its status
/// and the moderator's note once decided. A blog's session sees that blog's appeals only (every
/// appeal on every blog is in the account page's export).
#[utoipa::path(
    get,
    path = "/api/v1/me/appeals",
    tag = "appeals",
    params(
        ("limit" = Option<u32>, Query, description = "Appeals per page, 1 to 200 (default 50; both configurable)."),
        ("cursor" = Option<String>, Query, description = "The previous page's `next_cursor`.")
    ),
    security(("commenter" = [])),
    responses(
        (status = 200, description = "A page of the caller's appeals.", body = MyAppealsPage),
        (status = 400, description = "`validation_failed` on `limit` or `cursor`.", body = ErrorBody),
        (status = 401, description = "`unauthenticated`: no valid session.", body = ErrorBody),
        (status = 503, description = "The database is unavailable (`unavailable`, with `Retry-After`).", body = ErrorBody)
    )
)]
pub async fn my_appeals(
    state: web::Data<AppState>,
    Commenter(user): Commenter,
    paging: Paging,
) -> ApiResult<HttpResponse> {
    let before = paging.time_cursor()?;
    // Blog sessions always carry their site (`sessions::find` returns no other kind).
    let Some(site_id) = user.site_id else {
        return Err(ApiError::unauthenticated("Log in on this site first."));
    };
    let rows = appeals::list_for_user(
        &state.db.pool,
        user.user_id,
        site_id,
        before,
        paging.fetch(),
    )
    .await?;
    let (rows, next) = paging.split_by_time(rows, |a| (a.created_at, a.id));
    // The author's view: the outcome and the note meant for them, not who decided.
    let items = rows
        .iter()
        .map(|a| MyAppeal {
            id: a.id,
            site: &a.site,
            kind: &a.kind,
            status: &a.status,
            message: &a.message,
            note: a.note.as_deref(),
            comment_id: a.comment_id,
            ban_id: a.ban_id,
            created_at: a.created_at,
            decided_at: a.decided_at,
        })
        .collect();
    Ok(private(HttpResponse::Ok()).json(MyAppealsPage {
        items,
        next_cursor: next,
    }))
}

// ---------------------------------------------------------------------------------------------
// Moderators

#[derive(Deserialize)]
pub struct QueueParams {
    status: Option<String>,
}

/// A page of a site's appeals.
#[derive(Serialize, ToSchema)]
pub struct AppealsPage {
    items: Vec<AppealView>,
    /// Pass as `cursor` for the next page; null on the last page.
    next_cursor: Option<String>,
}

/// A site's appeals queue.
///
/// The appeals of one status, with what is needed to judge them (the comment and its current
/// status, or the ban): open ones oldest first (a queue: the longest waiting comes first),
/// decided ones newest first.
#[utoipa::path(
    get,
    path = "/api/mod/v1/sites/{site}/appeals",
    tag = "appeals",
    params(
        ("site" = String, Path, description = "The site's slug."),
        ("status" = Option<Status>, Query, description = "`open` (default), `upheld` or `overturned`."),
        ("limit" = Option<u32>, Query, description = "Appeals per page, 1 to 200 (default 50; both configurable)."),
        ("cursor" = Option<String>, Query, description = "The previous page's `next_cursor` (with the same `status`).")
    ),
    security(("moderator" = [])),
    responses(
        (status = 200, description = "A page of the site's appeals.", body = AppealsPage),
        (status = 400, description = "`validation_failed` on `status`, `limit` or `cursor`.", body = ErrorBody),
        (status = 401, description = "`unauthenticated`: no valid moderator session or API token.", body = ErrorBody),
        (status = 404, description = "Unknown site, or one the caller holds no role on (`not_found`).", body = ErrorBody),
        (status = 503, description = "The database is unavailable (`unavailable`, with `Retry-After`).", body = ErrorBody)
    )
)]
pub async fn list_appeals(
    state: web::Data<AppState>,
    moderator: Moderator,
    path: web::Path<String>,
    params: web::Query<QueueParams>,
    paging: Paging,
) -> ApiResult<HttpResponse> {
    let scope = moderator.scope(&path)?;
    let status = match params.status.as_deref() {
        None => Status::Open,
        Some(s) => Status::parse(s)
            .ok_or_else(|| ApiError::validation("status", "must be open, upheld or overturned"))?,
    };
    let key = paging.time_cursor()?;
    let rows = appeals::list_for_site(&state.db.pool, &scope, status, key, paging.fetch()).await?;
    let (rows, next) = paging.split_by_time(rows, |a| (a.created_at, a.id));
    Ok(private(HttpResponse::Ok()).json(AppealsPage {
        items: rows,
        next_cursor: next,
    }))
}

/// A moderator's decision on an appeal. Unknown fields are refused.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DecisionBody {
    action: Decision,
    /// A note for the record, also shown to the appeal's author (trimmed, at most 1000
    /// characters).
    #[serde(default)]
    #[schema(max_length = 1000)]
    note: Option<String>,
}

/// The scope of the site an appeal belongs to, if the caller holds a role there; else 404.
async fn appeal_scope(state: &AppState, moderator: &Moderator, id: Uuid) -> ApiResult<SiteScope> {
    let site_id = appeals::appeal_site(&state.db.pool, id, &moderator.site_ids())
        .await?
        .ok_or_else(appeal_not_found)?;
    moderator
        .scope_by_id(site_id)
        .map_err(|_| appeal_not_found())
}

/// Decides an appeal.
///
/// `uphold` changes nothing; `overturn` publishes the comment (through the moderation state
/// machine) or lifts the ban. The decision, the change and its audit entry commit together;
/// the author sees the outcome and the note.
#[utoipa::path(
    post,
    path = "/api/mod/v1/appeals/{id}/actions",
    tag = "appeals",
    params(("id" = Uuid, Path, description = "The appeal's id.")),
    request_body = DecisionBody,
    security(("moderator" = [])),
    responses(
        (status = 200, description = "The decided appeal.", body = AppealView),
        (status = 400, description = "`invalid_json`, or `validation_failed` on `action` or `note`.", body = ErrorBody),
        (status = 401, description = "`unauthenticated`: no valid moderator session or API token.", body = ErrorBody),
        (status = 404, description = "No such appeal on the caller's sites, or its comment is gone (`not_found`).", body = ErrorBody),
        (status = 409, description = "`appeal_decided` (already decided; details: `status`), or `conflict` (the comment can't be approved from its current status).", body = ErrorBody),
        (status = 413, description = "`payload_too_large`: the body is over the JSON size limit.", body = ErrorBody),
        (status = 415, description = "The body is not `application/json`.", body = ErrorBody),
        (status = 503, description = "The database is unavailable (`unavailable`, with `Retry-After`).", body = ErrorBody)
    )
)]
pub async fn decide_appeal(
    state: web::Data<AppState>,
    moderator: Moderator,
    path: web::Path<Uuid>,
    ApiJson(body): ApiJson<DecisionBody>,
) -> ApiResult<HttpResponse> {
    let id = path.into_inner();
    let note = appeals::note(body.note.as_deref()).map_err(|e| ApiError::validation("note", e))?;
    let scope = appeal_scope(&state, &moderator, id).await?;
    let pool = &state.db.pool;
    let decided = (body.action, note.as_deref());
    let view =
        appeal_decision::decide(pool, &state.threads, &scope, moderator.id, id, decided).await?;
    Ok(private(HttpResponse::Ok()).json(view))
}
