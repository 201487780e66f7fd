//! Public comment endpoints: thin handlers that parse input into domain types and call the
//! service.

use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpRequest, HttpResponse, web};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::comments::Cursor;
use crate::comments::edits;
use crate::comments::reactions::{self, FlagReason, Vote};
use crate::comments::service::{self, Author, SubmitInput, ThreadQuery};
use crate::comments::view::{PostedComment, ThreadPage};
use crate::domain::{
    CommentBody, DisplayName, Email, GuestKey, IdempotencyKey, Invalid, SortOrder, ThreadTitle,
    ThreadUri, WebUrl,
};
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::http::{ApiJson, ClientInfo, RouteComment, RouteSite};
use crate::http::{Commenter, MaybeCommenter};
use crate::moderation::pipeline::Env;
use crate::state::AppState;

#[derive(Deserialize)]
pub struct ThreadParams {
    uri: Option<String>,
    sort: Option<String>,
    limit: Option<String>,
    cursor: Option<String>,
}

/// A page of a thread's comments.
///
/// The approved comments of one page of the site, plus the caller's own pending ones (marked
/// `status: "pending"`; with a session, the caller's comments carry their `status` and their
/// latest `appeal`). `limit` counts top-level comments: each comes with its whole visible reply
/// tree (replies oldest first), so a conversation is never split across pages. An unknown `uri`
/// answers an empty thread (`thread.id` null), not 404. The answer carries an `ETag`: send it
/// back in `If-None-Match` to get a bodiless 304 while nothing changed.
#[utoipa::path(
    get,
    path = "/api/v1/sites/{site}/thread",
    tag = "comments",
    params(
        ("site" = String, Path, description = "The site's slug."),
        ("uri" = String, Query, description = "The page's path on the site, e.g. `/2013/02/26/kerry-lavrov/` (at most 1024 characters by default).", example = "/2013/02/26/kerry-lavrov/"),
        ("sort" = Option<crate::domain::SortOrder>, Query, description = "Order of the top-level comments: `oldest` (default), `newest` or `top` (by score)."),
        ("limit" = Option<u32>, Query, description = "Top-level comments per page, 1 to 200 (default 50; both configurable)."),
        ("cursor" = Option<String>, Query, description = "The previous page's `next_cursor`, for the next page (valid only with the same `sort`)."),
        ("If-None-Match" = Option<String>, Header, description = "An `ETag` from an earlier answer: 304 if the page is unchanged.")
    ),
    security((), ("commenter" = [])),
    responses(
        (status = 200, description = "The page of the thread.", body = ThreadPage,
            headers(("ETag" = String, description = "Identifies this exact page; send it in `If-None-Match` to revalidate."))),
        (status = 304, description = "Not modified: the page still matches `If-None-Match`.",
            headers(("ETag" = String, description = "The page's current ETag."))),
        (status = 400, description = "`validation_failed`: a missing or malformed `uri`, an unknown `sort`, a `limit` out of range or a bad `cursor` (details: field -> reason).", body = ErrorBody),
        (status = 401, description = "`unauthenticated`: a malformed, expired or other site's session token was sent.", body = ErrorBody),
        (status = 404, description = "Unknown site (`not_found`).", body = ErrorBody)
    )
)]
pub async fn get_thread(
    state: web::Data<AppState>,
    RouteSite(site): RouteSite,
    params: web::Query<ThreadParams>,
    req: HttpRequest,
    viewer: MaybeCommenter,
) -> ApiResult<HttpResponse> {
    let limits = &state.settings.limits;
    let mut errors = Errors::default();
    let uri = errors.check(
        "uri",
        ThreadUri::parse(params.uri.as_deref().unwrap_or(""), limits.uri_max_chars),
    );
    let sort = errors.check(
        "sort",
        params
            .sort
            .as_deref()
            .map_or(Ok(SortOrder::default()), SortOrder::parse),
    );
    let limit = errors.check(
        "limit",
        parse_limit(
            params.limit.as_deref(),
            limits.page_default,
            limits.page_max,
        ),
    );
    let cursor = match (&params.cursor, sort) {
        (Some(c), Some(sort)) => errors.check("cursor", Cursor::decode(c, sort)).map(Some),
        _ => Some(None),
    };
    errors.into_result()?;
    let (Some(uri), Some(sort), Some(limit), Some(cursor)) = (uri, sort, limit, cursor) else {
        // Every None above was recorded in `errors`, which returned already.
        return Err(ApiError::internal(anyhow::anyhow!(
            "validation bookkeeping out of step"
        )));
    };
    let page = service::read_thread(
        &state.db.pool,
        &state.threads,
        &site,
        &ThreadQuery {
            uri,
            sort,
            limit,
            cursor,
            viewer: viewer.user_id(),
        },
    )
    .await?;
    let not_modified = req
        .headers()
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|t| t.trim() == page.etag));
    // Browsers revalidate with the ETag, so a reader polling an unchanged thread costs no body.
    let mut res = if not_modified {
        HttpResponse::NotModified()
    } else {
        HttpResponse::Ok()
    };
    res.insert_header((header::CACHE_CONTROL, "no-cache"))
        .insert_header((header::ETAG, page.etag.as_str()));
    if not_modified {
        return Ok(res.finish());
    }
    Ok(res.content_type("application/json").body(page.body))
}

/// Approved comment counts of several pages.
///
/// For a blog's index page: `?uri=/a&uri=/b` answers `{"/a": 3, "/b": 0}`, counting approved
/// comments only; an unknown page counts 0. Up to 100 uris per request (configurable).
#[utoipa::path(
    get,
    path = "/api/v1/sites/{site}/counts",
    tag = "comments",
    params(
        ("site" = String, Path, description = "The site's slug."),
        ("uri" = Vec<String>, Query, description = "A page's path; repeat the parameter for each page (`?uri=/a&uri=/b`), 1 to 100 of them.")
    ),
    responses(
        (status = 200, description = "Each requested uri mapped to its number of approved comments.",
            body = std::collections::HashMap<String, i64>,
            example = json!({"/2013/02/26/kerry-lavrov/": 3, "/about/": 0})),
        (status = 400, description = "`validation_failed`: no `uri`, too many, or a malformed one (`uri[i]`).", body = ErrorBody),
        (status = 404, description = "Unknown site (`not_found`).", body = ErrorBody)
    )
)]
pub async fn get_counts(
    state: web::Data<AppState>,
    RouteSite(site): RouteSite,
    req: HttpRequest,
) -> ApiResult<HttpResponse> {
    let limits = &state.settings.limits;
    let raw: Vec<String> = url::form_urlencoded::parse(req.query_string().as_bytes())
        .filter(|(k, _)| k == "uri")
        .map(|(_, v)| v.into_owned())
        .collect();
    if raw.is_empty() {
        return Err(ApiError::validation(
            "uri",
            "at least one uri is required (?uri=/a&uri=/b)",
        ));
    }
    if raw.len() > limits.counts_max_uris {
        return Err(ApiError::validation(
            "uri",
            format!("at most {} uris per request", limits.counts_max_uris),
        ));
    }
    let mut uris = Vec::with_capacity(raw.len());
    for (i, u) in raw.iter().enumerate() {
        uris.push(
            ThreadUri::parse(u, limits.uri_max_chars)
                .map_err(|e| ApiError::validation(&format!("uri[{i}]"), e))?,
        );
    }
    let counts = service::counts(&state.db.pool, &site, &uris).await?;
    Ok(HttpResponse::Ok().json(counts))
}

/// A new comment. Unknown fields are refused.
#[derive(Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PostCommentBody {
    /// The page's path on the site; its thread is created by its first comment.
    #[schema(example = "/2013/02/26/kerry-lavrov/", max_length = 1024)]
    uri: String,
    /// The page's title, stored when this comment creates the thread (at most 300 characters
    /// by default).
    #[serde(default)]
    #[schema(max_length = 300)]
    title: Option<String>,
    /// The page's full URL, on one of the site's registered origins (at most 2048 characters
    /// by default).
    #[serde(default)]
    #[schema(
        example = "https://blog.example.com/2013/02/26/kerry-lavrov/",
        max_length = 2048
    )]
    url: Option<String>,
    /// The id of the published comment of the same thread this one replies to.
    #[serde(default)]
    #[schema(format = Uuid)]
    parent_id: Option<String>,
    /// The comment in markdown (at most 10000 characters by default).
    #[schema(example = "Great post, *thanks*!", max_length = 10000)]
    body: String,
    /// Who is commenting, for a guest (no session, on a site that takes guests). Must be
    /// absent with a session.
    #[serde(default)]
    guest: Option<GuestBody>,
}

/// A guest commenter. The email is never shown to anyone but moderators.
#[derive(Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct GuestBody {
    /// Display name (at most 80 characters by default).
    #[schema(example = "Ada", max_length = 80)]
    name: String,
    #[schema(example = "ada@example.com", format = Email)]
    email: String,
    /// The guest's website, shown as their profile link.
    #[serde(default)]
    #[schema(example = "https://ada.example.com/")]
    website: Option<String>,
    /// The guest's secret key: 22 to 128 characters of `A-Z a-z 0-9 - _`, made at random once
    /// by the guest's browser (the widget keeps it in `localStorage`) and sent with each of
    /// their comments; only its SHA-256 is stored. A guest is known by email *and* key: the
    /// same email with another key, or without one, is another guest (another author id, no
    /// history, so under `first_time` their first comment waits). Without a key, every comment
    /// is a one-off guest's.
    #[serde(default)]
    #[schema(
        example = "0cKq3v1mS9bT4yZp7wXe2A",
        min_length = 22,
        max_length = 128,
        pattern = "^[A-Za-z0-9_-]{22,128}$"
    )]
    key: Option<String>,
}

/// Posts a comment.
///
/// As a signed-in reader (`Authorization: Bearer <session>`) or, where the site takes guests,
/// as a guest (`guest: {name, email, website?}`). Moderation decides at once: the answer's
/// `status` is `approved` (shown now) or `pending` (awaits a moderator), and `reasons` say why it
/// was held. A rule may refuse it outright (422 `rejected`). With an `Idempotency-Key`, a retry
/// by the same author with the same body answers the first result (marked
/// `Idempotency-Replayed: true`) instead of posting twice.
#[utoipa::path(
    post,
    path = "/api/v1/sites/{site}/comments",
    tag = "comments",
    params(
        ("site" = String, Path, description = "The site's slug."),
        ("Idempotency-Key" = Option<String>, Header, description = "A client-chosen key (visible ASCII): the same key from the same author with the same body answers the first result instead of posting twice.")
    ),
    request_body = PostCommentBody,
    security((), ("commenter" = [])),
    responses(
        (status = 201, description = "The comment, its status and why it was held, if it was.", body = PostedComment,
            headers(("Idempotency-Replayed" = String, description = "`true` when this answers an earlier request with the same `Idempotency-Key`."))),
        (status = 400, description = "`invalid_json`, or `validation_failed` (details: field -> reason, e.g. `body`, `guest.email`, `parent_id`, `Idempotency-Key`).", body = ErrorBody),
        (status = 401, description = "`unauthenticated`: no session on a site that takes no guests, or a malformed, expired or other site's session token.", body = ErrorBody),
        (status = 403, description = "`banned`, `thread_locked`, `site_closed`, `guests_not_allowed`, `provider_not_allowed`, or `origin_not_allowed` (CORS: a page of another origin).", body = ErrorBody),
        (status = 404, description = "Unknown site (`not_found`).", body = ErrorBody),
        (status = 409, description = "`duplicate_comment` (the same text here, recently), `idempotency_key_reused` (same key, other body) or `conflict` (a twin request is in flight).", body = ErrorBody),
        (status = 422, description = "`rejected`: a rule refused the comment outright (details name the rule).", body = ErrorBody),
        (status = 429, description = "`rate_limited`: too many comments too fast from this author or network, or too many guest comments on the site (with `Retry-After`).", body = ErrorBody)
    )
)]

pub async fn post_comment(
    state: web::Data<AppState>,
    RouteSite(site): RouteSite,
    req: HttpRequest,
    caller: MaybeCommenter,
    ApiJson(dto): ApiJson<PostCommentBody>,
) -> ApiResult<HttpResponse> {
    let limits = &state.settings.limits;
    let idempotency = match req.headers().get("idempotency-key") {
        None => None,
        Some(v) => {
            let key = v
                .to_str()
                .map_err(|_| Invalid::new("must be visible ASCII"))
                .and_then(IdempotencyKey::parse)
                .map_err(|e| ApiError::validation("Idempotency-Key", e))?;
            // Same key + different body is a client bug, not a retry: compare a hash of the body.
            let canonical = serde_json::to_string(&dto).map_err(ApiError::internal)?;
            Some((key, service::sha256_b64(&canonical)))
        }
    };

    let mut errors = Errors::default();
    let uri = errors.check("uri", ThreadUri::parse(&dto.uri, limits.uri_max_chars));
    let title = errors.check_opt(
        "title",
        dto.title
            .as_deref()
            .map(|t| ThreadTitle::parse(t, limits.title_max_chars)),
    );
    let url = errors.check_opt(
        "url",
        dto.url
            .as_deref()
            .map(|u| WebUrl::parse(u, limits.url_max_chars)),
    );
    let parent_id = errors.check_opt(
        "parent_id",
        dto.parent_id
            .as_deref()
            .map(|p| Uuid::parse_str(p).map_err(|_| Invalid::new("is not a comment id"))),
    );
    let body = errors.check("body", CommentBody::parse(&dto.body, limits.body_max_chars));
    let author = match (caller.0, &dto.guest) {
        (Some(user), None) => {
            // Sessions are per server; the site decides which logins it takes.
            if !site.providers.iter().any(|p| p == &user.provider) {
                return Err(ApiError::forbidden(
                    "provider_not_allowed",
                    "This site does not take comments from this login method.",
                ));
            }
            Some(Author::User(user))
        }
        (Some(_), Some(_)) => {
            errors.add("guest", "must be absent when you are logged in");
            None
        }
        (None, None) if site.guests => {
            errors.add("guest", "name and email are required to comment as a guest");
            None
        }
        (None, None) => return Err(ApiError::unauthenticated("Log in to comment on this site.")),
        (None, Some(_)) if !site.guests => {
            return Err(ApiError::forbidden(
                "guests_not_allowed",
                "This site does not take guest comments; log in to comment.",
            ));
        }
        (None, Some(g)) => {
            let name = errors.check(
                "guest.name",
                DisplayName::parse(&g.name, limits.name_max_chars),
            );
            let email = errors.check("guest.email", Email::parse(&g.email));
            let website = errors.check_opt(
                "guest.website",
                g.website
                    .as_deref()
                    .filter(|w| !w.trim().is_empty())
                    .map(|w| WebUrl::parse(w, limits.url_max_chars)),
            );
            let key = errors.check_opt("guest.key", g.key.as_deref().map(GuestKey::parse));
            match (name, email, website, key) {
                (Some(name), Some(email), Some(website), Some(key)) => Some(Author::Guest {
                    name,
                    email,
                    website,
                    key,
                }),
                _ => None,
            }
        }
    };
    errors.into_result()?;
    let (Some(uri), Some(title), Some(url), Some(parent_id), Some(body), Some(author)) =
        (uri, title, url, parent_id, body, author)
    else {
        // Every None above was recorded in `errors`, which returned already.
        return Err(ApiError::internal(anyhow::anyhow!(
            "validation bookkeeping out of step"
        )));
    };

    let client = ClientInfo::from_request(&req, &state.settings.server.trusted_proxies);
    let env = Env {
        pool: &state.db.pool,
        settings: &state.settings,
        http: state.providers.http(),
        rules: &state.rules,
    };
    let out = service::submit(
        &env,
        &state.threads,
        &site,
        SubmitInput {
            uri,
            title,
            url,
            parent_id,
            body,
            author,
        },
        &client,
        idempotency,
    )
    .await?;
    let mut res = HttpResponse::build(out.status);
    if out.replayed {
        res.insert_header(("Idempotency-Replayed", HeaderValue::from_static("true")));
    }
    Ok(res.json(out.body))
}

/// An author's edit. Unknown fields are refused.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EditCommentBody {
    /// The comment's new markdown (at most 10000 characters by default).
    #[schema(example = "Great post, *thanks*! (edited)", max_length = 10000)]
    body: String,
}

/// Edits one's own comment.
///
/// The author replaces the text of their pending or published comment within the site's edit
/// window; moderation runs again on the new text and may hold it (`status: pending`) or refuse
/// it (422). The old text is kept for moderators. Answers like a post: `{comment, status,
/// reasons}`.
#[utoipa::path(
    patch,
    path = "/api/v1/comments/{id}",
    operation_id = "edit_own_comment",
    tag = "comments",
    params(("id" = Uuid, Path, description = "The comment's id.")),
    request_body = EditCommentBody,
    security(("commenter" = [])),
    responses(
        (status = 200, description = "The edited comment, its status and why it was held, if it was.", body = PostedComment),
        (status = 400, description = "`invalid_json`, or `validation_failed` on `body`.", body = ErrorBody),
        (status = 403, description = "`forbidden` (someone else's published comment), `edit_window_closed` (details: `edit_window_s`), `banned`, `thread_locked`, `site_closed`, or `origin_not_allowed` (CORS).", body = ErrorBody),
        (status = 404, description = "No such comment, or one the caller can't see (`not_found`).", body = ErrorBody),
        (status = 409, description = "`conflict`: the comment can't be edited in its status (details: `status`), changed meanwhile, or `duplicate_comment`.", body = ErrorBody),
        (status = 422, description = "`rejected`: a rule refused the new text (details name the rule); nothing changed.", body = ErrorBody),
        (status = 429, description = "`rate_limited`: too many edits of this comment, or by this author, in the last minute (with `Retry-After`).", body = ErrorBody)
    )
)]
pub async fn edit_comment(
    state: web::Data<AppState>,
    req: HttpRequest,
    caller: Commenter,
    RouteComment(t): RouteComment,
    ApiJson(dto): ApiJson<EditCommentBody>,
) -> ApiResult<HttpResponse> {
    let body = CommentBody::parse(&dto.body, state.settings.limits.body_max_chars)
        .map_err(|e| ApiError::validation("body", e))?;
    let client = ClientInfo::from_request(&req, &state.settings.server.trusted_proxies);
    let env = Env {
        pool: &state.db.pool,
        settings: &state.settings,
        http: state.providers.http(),
        rules: &state.rules,
    };
    let answer = edits::edit(&env, &state.threads, &t, &caller.0, &body, &client).await?;
    Ok(HttpResponse::Ok().json(answer))
}

/// Deletes one's own comment.
///
/// The author removes their comment within the site's edit window: its status becomes
/// `deleted`; it leaves the thread, or stays as an empty placeholder (`deleted: true`, no text,
/// no author) while published replies hang below it. Moderators can still restore it.
#[utoipa::path(
    delete,
    path = "/api/v1/comments/{id}",
    tag = "comments",
    params(("id" = Uuid, Path, description = "The comment's id.")),
    security(("commenter" = [])),
    responses(
        (status = 204, description = "Deleted."),
        (status = 403, description = "`forbidden` (someone else's published comment), `edit_window_closed` (details: `edit_window_s`), or `origin_not_allowed` (CORS).", body = ErrorBody),
        (status = 404, description = "No such comment, or one the caller can't see (`not_found`).", body = ErrorBody),
        (status = 409, description = "`conflict`: the comment can't be deleted from its current status (details: `status`).", body = ErrorBody)
    )
)]
pub async fn delete_comment(
    state: web::Data<AppState>,
    caller: Commenter,
    RouteComment(t): RouteComment,
) -> ApiResult<HttpResponse> {
    edits::delete(&state.db.pool, &state.threads, &t, &caller.0).await?;
    Ok(HttpResponse::NoContent().finish())
}

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
        (status = 403, description = "`own_comment`, `banned` (a site ban on the caller, their email or network; details: `ban_id`), `provider_not_allowed` (the site doesn't take this login), or `origin_not_allowed` (CORS).", body = ErrorBody),
        (status = 404, description = "No such published comment (`not_found`).", body = ErrorBody),
        (status = 409, description = "`already_flagged`: the caller flagged it before.", body = ErrorBody)
    )
)]
pub async fn flag_comment(
    state: web::Data<AppState>,
    req: HttpRequest,
    caller: Commenter,
    RouteComment(t): RouteComment,
    ApiJson(dto): ApiJson<FlagBody>,
) -> ApiResult<HttpResponse> {
    let mut errors = Errors::default();
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
    errors.into_result()?;
    let (Some(reason), Some(note)) = (reason, note) else {
        return Err(ApiError::internal(anyhow::anyhow!(
            "validation bookkeeping out of step"
        )));
    };
    let client = ClientInfo::from_request(&req, &state.settings.server.trusted_proxies);
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
        (status = 403, description = "`own_comment`, `banned` (a site ban on the caller, their email or network; details: `ban_id`), `provider_not_allowed` (the site doesn't take this login), or `origin_not_allowed` (CORS).", body = ErrorBody),
        (status = 404, description = "No such published comment (`not_found`).", body = ErrorBody)
    )
)]
pub async fn vote_comment(
    state: web::Data<AppState>,
    req: HttpRequest,
    caller: Commenter,
    RouteComment(t): RouteComment,
    ApiJson(dto): ApiJson<VoteBody>,
) -> ApiResult<HttpResponse> {
    let vote = dto
        .value
        .as_i64()
        .and_then(Vote::parse)
        .ok_or_else(|| ApiError::validation("value", "must be 1, -1 or 0"))?;
    let client = ClientInfo::from_request(&req, &state.settings.server.trusted_proxies);
    let score =
        reactions::vote(&state.db.pool, &state.threads, &t, &caller.0, vote, &client).await?;
    Ok(HttpResponse::Ok().json(VoteResult {
        score,
        value: vote.value(),
    }))
}

fn parse_limit(raw: Option<&str>, default: u32, max: u32) -> Result<u32, Invalid> {
    match raw {
        None => Ok(default),
        Some(s) => match s.parse::<u32>() {
            Ok(n) if (1..=max).contains(&n) => Ok(n),
            _ => Err(Invalid::new(format!(
                "must be a whole number from 1 to {max}"
            ))),
        },
    }
}

/// Collects every field's problem so the client learns them all in one answer.
#[derive(Default)]
struct Errors(Vec<(String, String)>);

impl Errors {
    fn add(&mut self, field: &str, reason: impl std::fmt::Display) {
        self.0.push((field.to_owned(), reason.to_string()));
    }

    fn check<T>(&mut self, field: &str, r: Result<T, Invalid>) -> Option<T> {
        r.map_err(|e| self.add(field, e)).ok()
    }

    /// For optional fields: `Some(None)` when absent, `None` when present but invalid.
    fn check_opt<T>(&mut self, field: &str, r: Option<Result<T, Invalid>>) -> Option<Option<T>> {
        match r {
            None => Some(None),
            Some(r) => self.check(field, r).map(Some),
        }
    }

    fn into_result(self) -> ApiResult<()> {
        if self.0.is_empty() {
            Ok(())
        } else {
            Err(ApiError::validation_many(self.0))
        }
    }
}
