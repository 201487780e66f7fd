//! Readers' reactions to others' comments: flags and votes.

use actix_web::{HttpResponse, web};
use serde::{Deserialize, Serialize};
use utoipa::{IntoResponses, ToSchema};

use crate::comments::reactions::{self, FlagReason, Vote};
use crate::domain::Invalid;
use crate::error::{ApiError, ApiResult, ErrorBody, Validation};
use crate::http::{ApiJson, ClientInfo, Commenter, RouteComment};
use crate::state::AppState;

/// A reader's report. Unknown fields are refused.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FlagBody {
    /// Why the comment should be looked at.
    #[schema(value_type = FlagReason)]
    reason: String,
    /// A few words for the moderators (trimmed; no control characters but newlines and tabs).
    #[serde(default)]
    #[schema(max_length = 1000)]
    note: Option<String>,
}

/// How many flags a comment has.
#[derive(Serialize, ToSchema)]
pub struct FlagCount {
    /// Every reader's flag on the comment so far, this one included.
    #[schema(example = 1)]
    flags: i64,
}

/// A reader's vote. Unknown fields are refused.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct VoteBody {
    /// `1` (up), `-1` (down) or `0` (takes the caller's vote back).
    #[schema(value_type = i32, minimum = -1, maximum = 1, example = 1)]
    value: serde_json::Value,
}

/// A comment's score after a vote.
#[derive(Serialize, ToSchema)]
pub struct VoteResult {
    /// The comment's score now: upvotes minus downvotes.
    #[schema(example = 3)]
    score: i32,
    /// The caller's vote now: `1`, `-1` or `0`.
    #[schema(example = 1)]
    value: i16,
}

/// Why a reader's flag or vote is refused, said alike for both.
#[derive(IntoResponses)]
pub enum Refused {
    #[response(
        status = 403,
        description = "`own_comment`, `banned` (a site ban on the caller, their email or network; details: `ban_id`), `provider_not_allowed` (the site doesn't take this login), or `origin_not_allowed` (CORS)."
    )]
    Forbidden(ErrorBody),
    #[response(status = 404, description = "No such published comment (`not_found`).")]
    NotFound(ErrorBody),
}

/// Longest note a reader can attach to a flag, in characters.
const FLAG_NOTE_MAX_CHARS: usize = 1000;

/// Flags a comment for the moderators.
///
/// A reader reports someone else's published comment: one flag per reader per comment. When
/// enough readers flag it (the site's `flags_to_hold`), the comment goes back to the moderation
/// queue, out of public view.
#[utoipa::path(
    post,
    path = "/api/v1/comments/{id}/flags",
    tag = "comments",
    params(("id" = Uuid, Path, description = "The comment's id.")),
    request_body = FlagBody,
    security(("commenter" = [])),
    responses(
        (status = 201, description = "Flagged; the comment's flag count.", body = FlagCount),
        (status = 400, description = "`invalid_json`, or `validation_failed` on `reason` or `note`.", body = ErrorBody),
        Refused,
        (status = 409, description = "`already_flagged`: the caller flagged it before.", body = ErrorBody)
    )
)]
pub async fn flag_comment(
    state: web::Data<AppState>,
    client: ClientInfo,
    caller: Commenter,
    RouteComment(t): RouteComment,
    ApiJson(dto): ApiJson<FlagBody>,
) -> ApiResult<HttpResponse> {
    let mut errors = Validation::new();
    let reason = errors.check(
        "reason",
        FlagReason::parse(&dto.reason)
            .ok_or_else(|| Invalid::new("must be one of spam, abuse, off_topic, other")),
    );
    let note = errors.check(
        "note",
        match dto.note.as_deref().map(str::trim).filter(|n| !n.is_empty()) {
            None => Ok(None),
            Some(n) if n.chars().count() > FLAG_NOTE_MAX_CHARS => Err(Invalid::new(format!(
                "must be at most {FLAG_NOTE_MAX_CHARS} characters"
            ))),
            Some(n) if n.chars().any(|c| c.is_control() && c != '\n' && c != '\t') => {
                Err(Invalid::new("must not contain control characters"))
            }
            Some(n) => Ok(Some(n)),
        },
    );
    errors.finish()?;
    let (Some(reason), Some(note)) = (reason, note) else {
        return Err(ApiError::internal(anyhow::anyhow!(
            "validation bookkeeping out of step"
        )));
    };
    let flags = reactions::flag(
        &state.db.pool,
        &state.threads,
        &t,
        &caller.0,
        reason,
        note,
        &client,
    )
    .await?;
    Ok(HttpResponse::Created().json(FlagCount { flags }))
}

/// Votes on a comment.
///
/// A reader's vote on someone else's published comment: `1`, `-1`, or `0` to take it back. A
/// new vote replaces the caller's previous one. `sort=top` orders threads by the score.
#[utoipa::path(
    put,
    path = "/api/v1/comments/{id}/vote",
    tag = "comments",
    params(("id" = Uuid, Path, description = "The comment's id.")),
    request_body = VoteBody,
    security(("commenter" = [])),
    responses(
        (status = 200, description = "The comment's new score and the caller's vote.", body = VoteResult),
        (status = 400, description = "`invalid_json`, or `validation_failed` on `value` (must be 1, -1 or 0).", body = ErrorBody),
        Refused
    )
)]
pub async fn vote_comment(
    state: web::Data<AppState>,
    client: ClientInfo,
    caller: Commenter,
    RouteComment(t): RouteComment,
    ApiJson(dto): ApiJson<VoteBody>,
) -> ApiResult<HttpResponse> {
    let vote = dto
        .value
        .as_i64()
        .and_then(Vote::parse)
        .ok_or_else(|| ApiError::validation("value", "must be 1, -1 or 0"))?;
    let score =
        reactions::vote(&state.db.pool, &state.threads, &t, &caller.0, vote, &client).await?;
    Ok(HttpResponse::Ok().json(VoteResult {
        score,
        value: vote.value(),
    }))
}
