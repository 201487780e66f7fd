//! Reading threads: a page of comments, and comment counts of several pages.

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};
use serde::Deserialize;

use crate::comments::Cursor;
use crate::comments::thread::{self, ThreadQuery};
use crate::comments::view::ThreadPage;
use crate::domain::{Invalid, SortOrder, ThreadUri};
use crate::error::{ApiError, ApiResult, ErrorBody, Validation};
use crate::http::{MaybeCommenter, RouteSite};
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
        (status = 401, description = "`unauthenticated`: a malformed, expired or other site's session token was sent.", body = ErrorBody)
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
    let mut errors = Validation::new();
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
    errors.finish()?;
    let (Some(uri), Some(sort), Some(limit), Some(cursor)) = (uri, sort, limit, cursor) else {
        // Every None above was recorded in `errors`, which returned already.
        return Err(ApiError::internal(anyhow::anyhow!(
            "validation bookkeeping out of step"
        )));
    };
    let page = thread::read_thread(
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
        (status = 400, description = "`validation_failed`: no `uri`, too many, or a malformed one (`uri[i]`).", body = ErrorBody)
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
    let counts = thread::counts(&state.db.pool, &state.threads, &site, &uris).await?;
    Ok(HttpResponse::Ok().json(counts))
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
