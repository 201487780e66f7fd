//! Public comment endpoints: thin handlers that parse input into domain types and call the
//! service.

use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpRequest, HttpResponse, web};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::Cursor;
use super::edits;
use super::reactions::{self, FlagReason, Vote};
use super::service::{self, Author, SubmitInput, ThreadQuery};
use super::target::{self, Target};
use crate::app::AppState;
use crate::auth::{Commenter, MaybeCommenter};
use crate::domain::{
    CommentBody, DisplayName, Email, IdempotencyKey, Invalid, SortOrder, ThreadTitle, ThreadUri,
    WebUrl,
};
use crate::error::{ApiError, ApiResult};
use crate::http::{ApiJson, ClientInfo};
use crate::moderation::pipeline::Env;

#[derive(Deserialize)]
pub struct ThreadParams {
    uri: Option<String>,
    sort: Option<String>,
    limit: Option<String>,
    cursor: Option<String>,
}

pub async fn get_thread(
    state: web::Data<AppState>,
    path: web::Path<String>,
    params: web::Query<ThreadParams>,
    req: HttpRequest,
    viewer: MaybeCommenter,
) -> ApiResult<HttpResponse> {
    let site = state.site(&path).await?;
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

pub async fn get_counts(
    state: web::Data<AppState>,
    path: web::Path<String>,
    req: HttpRequest,
) -> ApiResult<HttpResponse> {
    let site = state.site(&path).await?;
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

#[derive(Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct PostCommentBody {
    uri: String,
    #[serde(default)]
    title: Option<String>,
    #[serde(default)]
    url: Option<String>,
    #[serde(default)]
    parent_id: Option<String>,
    body: String,
    #[serde(default)]
    guest: Option<GuestBody>,
}

#[derive(Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct GuestBody {
    name: String,
    email: String,
    #[serde(default)]
    website: Option<String>,
}

pub async fn post_comment(
    state: web::Data<AppState>,
    path: web::Path<String>,
    req: HttpRequest,
    caller: MaybeCommenter,
    ApiJson(dto): ApiJson<PostCommentBody>,
) -> ApiResult<HttpResponse> {
    let site = state.site(&path).await?;
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
            match (name, email, website) {
                (Some(name), Some(email), Some(website)) => Some(Author::Guest {
                    name,
                    email,
                    website,
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

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EditCommentBody {
    body: String,
}

/// `PATCH /api/v1/comments/{id}`: the author edits the text; moderation runs again.
pub async fn edit_comment(
    state: web::Data<AppState>,
    path: web::Path<String>,
    req: HttpRequest,
    caller: Commenter,
    ApiJson(dto): ApiJson<EditCommentBody>,
) -> ApiResult<HttpResponse> {
    let id = target::parse_id(&path)?;
    let body = CommentBody::parse(&dto.body, state.settings.limits.body_max_chars)
        .map_err(|e| ApiError::validation("body", e))?;
    let t = Target::load(&state, id).await?;
    let client = ClientInfo::from_request(&req, &state.settings.server.trusted_proxies);
    let env = Env {
        pool: &state.db.pool,
        settings: &state.settings,
        http: state.providers.http(),
    };
    let answer = edits::edit(&env, &state.threads, &t, &caller.0, &body, &client).await?;
    Ok(HttpResponse::Ok().json(answer))
}

/// `DELETE /api/v1/comments/{id}`: the author removes their comment.
pub async fn delete_comment(
    state: web::Data<AppState>,
    path: web::Path<String>,
    caller: Commenter,
) -> ApiResult<HttpResponse> {
    let id = target::parse_id(&path)?;
    let t = Target::load(&state, id).await?;
    edits::delete(&state.db.pool, &state.threads, &t, &caller.0).await?;
    Ok(HttpResponse::NoContent().finish())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FlagBody {
    reason: String,
    #[serde(default)]
    note: Option<String>,
}

/// Longest note a reader can attach to a flag, in characters.
const FLAG_NOTE_MAX_CHARS: usize = 1000;

/// `POST /api/v1/comments/{id}/flags`: a reader reports a comment to the moderators.
pub async fn flag_comment(
    state: web::Data<AppState>,
    path: web::Path<String>,
    caller: Commenter,
    ApiJson(dto): ApiJson<FlagBody>,
) -> ApiResult<HttpResponse> {
    let id = target::parse_id(&path)?;
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
    let t = Target::load(&state, id).await?;
    let flags =
        reactions::flag(&state.db.pool, &state.threads, &t, &caller.0, reason, note).await?;
    Ok(HttpResponse::Created().json(serde_json::json!({ "flags": flags })))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VoteBody {
    value: serde_json::Value,
}

/// `PUT /api/v1/comments/{id}/vote`: a reader's vote, 1, -1, or 0 to take it back.
pub async fn vote_comment(
    state: web::Data<AppState>,
    path: web::Path<String>,
    caller: Commenter,
    ApiJson(dto): ApiJson<VoteBody>,
) -> ApiResult<HttpResponse> {
    let id = target::parse_id(&path)?;
    let vote = dto
        .value
        .as_i64()
        .and_then(Vote::parse)
        .ok_or_else(|| ApiError::validation("value", "must be 1, -1 or 0"))?;
    let t = Target::load(&state, id).await?;
    let score = reactions::vote(&state.db.pool, &state.threads, &t, &caller.0, vote).await?;
    Ok(HttpResponse::Ok().json(serde_json::json!({ "score": score, "value": vote.value() })))
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
