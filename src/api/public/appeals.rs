//! A reader's appeals (`/api/v1`): contest a rejected comment or a ban, and list their own
//! appeals with the outcome. Moderators decide them in `api/moderator/appeals.rs`.

use actix_web::{HttpResponse, web};
use serde::{Deserialize, Serialize};
use serde_json::json;
use time::OffsetDateTime;
use utoipa::{IntoResponses, ToSchema};
use uuid::Uuid;

use crate::comments::target;
use crate::domain::CommentStatus;
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::http::Commenter;
use crate::http::json::ApiJson;
use crate::http::{Paging, private};
use crate::http::{RouteComment, RouteSite};
use crate::moderation::appeals::{self, AppealRow, Created, Kind, NewAppeal, Status};
use crate::state::AppState;

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

/// What filing an appeal answers, about a comment or a ban alike, besides its own refusals.
#[derive(IntoResponses)]
pub enum Filing {
    #[response(status = 201, description = "The appeal, open.")]
    Filed(FiledAppeal<'static>),
    #[response(
        status = 400,
        description = "`invalid_json`, or `validation_failed` on `message`."
    )]
    BadMessage(ErrorBody),
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
        Filing,
        (status = 403, description = "`forbidden` (someone else's published comment), or `origin_not_allowed` (CORS).", body = ErrorBody),
        (status = 404, description = "No such comment, or one the caller can't see (`not_found`).", body = ErrorBody),
        (status = 409, description = "`not_appealable` (the comment isn't rejected; details: `status`) or `appeal_exists` (an appeal about it is open).", body = ErrorBody)
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
        Filing,
        (status = 403, description = "`origin_not_allowed` (CORS: a page of another origin).", body = ErrorBody),
        (status = 409, description = "`not_banned` (nothing to appeal) or `appeal_exists` (an appeal about this ban is open).", body = ErrorBody)
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
        (status = 400, description = "`validation_failed` on `limit` or `cursor`.", body = ErrorBody)
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
