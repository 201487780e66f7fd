//! An author's writes: posting, editing and deleting a comment.

use actix_web::http::header::HeaderValue;
use actix_web::{HttpRequest, HttpResponse, web};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::comments::edits;
use crate::comments::service::{self, Author, SubmitInput};
use crate::comments::view::PostedComment;
use crate::domain::{
    CommentBody, DisplayName, Email, GuestKey, IdempotencyKey, Invalid, ThreadTitle, ThreadUri,
    WebUrl,
};
use crate::error::{ApiError, ApiResult, ErrorBody, Validation};
use crate::http::{ApiJson, ClientInfo, Commenter, MaybeCommenter, RouteComment, RouteSite};
use crate::moderation::pipeline::Env;
use crate::state::AppState;

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
        (status = 409, description = "`duplicate_comment` (the same text here, recently), `idempotency_key_reused` (same key, other body) or `conflict` (a twin request is in flight).", body = ErrorBody),
        (status = 422, description = "`rejected`: a rule refused the comment outright (details name the rule).", body = ErrorBody),
        (status = 429, description = "`rate_limited`: too many comments too fast from this author or network, or too many guest comments on the site (with `Retry-After`).", body = ErrorBody)
    )
)]

pub async fn post_comment(
    state: web::Data<AppState>,
    RouteSite(site): RouteSite,
    req: HttpRequest,
    client: ClientInfo,
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

    let mut errors = Validation::new();
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
    errors.finish()?;
    let (Some(uri), Some(title), Some(url), Some(parent_id), Some(body), Some(author)) =
        (uri, title, url, parent_id, body, author)
    else {
        // Every None above was recorded in `errors`, which returned already.
        return Err(ApiError::internal(anyhow::anyhow!(
            "validation bookkeeping out of step"
        )));
    };

    let env = Env {
        pool: &state.db.pool,
        relay: &state.db.relay,
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
    client: ClientInfo,
    caller: Commenter,
    RouteComment(t): RouteComment,
    ApiJson(dto): ApiJson<EditCommentBody>,
) -> ApiResult<HttpResponse> {
    let body = CommentBody::parse(&dto.body, state.settings.limits.body_max_chars)
        .map_err(|e| ApiError::validation("body", e))?;
    let env = Env {
        pool: &state.db.pool,
        relay: &state.db.relay,
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
