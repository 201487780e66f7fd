//! `/api/mod/v1/tokens`: a moderator's named API tokens for scripts.

use actix_web::{HttpResponse, web};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::auth::moderators::Moderator;
use crate::auth::moderators::store::{self};
use crate::auth::moderators::tokens;
use crate::domain::Invalid;
use crate::domain::datetime::future_time;
use crate::error::{ApiError, ApiResult, ErrorBody, Validation};
use crate::http::json::ApiJson;
use crate::http::paging::PageParams;
use crate::http::{Paging, private};
use crate::state::AppState;

/// Longest API token name, in characters.
const TOKEN_NAME_MAX_CHARS: usize = 100;

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewTokenBody {
    /// A name to tell the token by, unique among the caller's tokens (trimmed, no control
    /// characters).
    #[schema(min_length = 1, max_length = 100, example = "nightly export")]
    name: String,
    /// RFC 3339, in the future; absent: valid until revoked.
    #[serde(default)]
    #[schema(format = DateTime, example = "2027-01-31T00:00:00Z")]
    expires_at: Option<String>,
}

/// A named API token.
#[derive(Serialize, ToSchema)]
#[schema(as = ApiToken)]
struct TokenView {
    id: Uuid,
    name: String,
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    created_at: OffsetDateTime,
    /// `null` until the token is first used.
    #[serde(with = "time::serde::rfc3339::option")]
    #[schema(value_type = Option<String>, format = DateTime)]
    last_used_at: Option<OffsetDateTime>,
    /// `null`: valid until revoked.
    #[serde(with = "time::serde::rfc3339::option")]
    #[schema(value_type = Option<String>, format = DateTime)]
    expires_at: Option<OffsetDateTime>,
    /// The secret: only in the answer that created the token, shown this once.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    token: Option<String>,
}

/// One page of the caller's API tokens, oldest first (secrets never shown again).
#[derive(Serialize, ToSchema)]
struct TokenPage {
    items: Vec<TokenView>,
    /// Pass as `?cursor=` for the next page; `null` on the last page.
    next_cursor: Option<String>,
}

impl TokenView {
    fn new(t: store::TokenRow, token: Option<String>) -> Self {
        Self {
            id: t.id,
            name: t.name,
            created_at: t.created_at,
            last_used_at: t.last_used_at,
            expires_at: t.expires_at,
            token,
        }
    }
}

fn token_name(raw: &str) -> Result<String, Invalid> {
    let name = raw.trim();
    if name.is_empty() {
        return Err(Invalid::new("must not be empty"));
    }
    if name.chars().count() > TOKEN_NAME_MAX_CHARS {
        return Err(Invalid::new(format!(
            "must be at most {TOKEN_NAME_MAX_CHARS} characters"
        )));
    }
    if name.chars().any(char::is_control) {
        return Err(Invalid::new("must not contain control characters"));
    }
    Ok(name.to_owned())
}

/// Creates a named API token for scripts.
///
/// The secret is in the answer's `token`, shown this once; only its hash is stored. Needs a login
/// session: an API token can't mint other tokens.
#[utoipa::path(
    post,
    path = "/api/mod/v1/tokens",
    tag = "team",
    security(("moderator" = [])),
    request_body = NewTokenBody,
    responses(
        (status = 201, description = "The token, with its secret in `token`.", body = TokenView),
        (status = 400, description = "`invalid_json` or `validation_failed` (`name`, `expires_at`).", body = ErrorBody),
        (status = 403, description = "`forbidden`: made with an API token, not a login session.", body = ErrorBody),
        (status = 409, description = "`conflict`: the caller already has a token with this name.", body = ErrorBody)
    )
)]
pub async fn create_token(
    state: web::Data<AppState>,
    moderator: Moderator,
    body: ApiJson<NewTokenBody>,
) -> ApiResult<HttpResponse> {
    // A leaked token must not be able to mint successors that outlive its revocation.
    if moderator.is_api_token() {
        return Err(ApiError::forbidden(
            "forbidden",
            "API tokens are created from a login session, not with another API token.",
        ));
    }
    let mut errors = Validation::new();
    let name = errors.check("name", token_name(&body.0.name));
    let expires_at = errors.check_opt("expires_at", body.0.expires_at.as_deref().map(future_time));
    let (Some(name), Some(expires_at)) = (name, expires_at) else {
        return Err(errors.into());
    };
    let (row, secret) = tokens::create(&state.db.pool, moderator.id, &name, expires_at).await?;
    Ok(private(HttpResponse::Created()).json(TokenView::new(row, Some(secret))))
}

/// Lists the caller's API tokens, oldest first, without their secrets.
#[utoipa::path(
    get,
    path = "/api/mod/v1/tokens",
    tag = "team",
    security(("moderator" = [])),
    params(
        PageParams
    ),
    responses(
        (status = 200, description = "One page of tokens.", body = TokenPage)
    )
)]
pub async fn list_tokens(
    state: web::Data<AppState>,
    moderator: Moderator,
    paging: Paging,
) -> ApiResult<HttpResponse> {
    let read = |after, n| store::list_tokens(&state.db.pool, moderator.id, after, n);
    let (rows, next) = paging.by_time(read, |t| (t.created_at, t.id)).await?;
    let items: Vec<TokenView> = rows.into_iter().map(|t| TokenView::new(t, None)).collect();
    Ok(private(HttpResponse::Ok()).json(TokenPage {
        items,
        next_cursor: next,
    }))
}

/// Revokes one of the caller's API tokens; it stops working at once.
#[utoipa::path(
    delete,
    path = "/api/mod/v1/tokens/{id}",
    tag = "team",
    security(("moderator" = [])),
    params(("id" = Uuid, Path, description = "The token's id.")),
    responses(
        (status = 204, description = "Revoked."),
        (status = 404, description = "`not_found`: no such token among the caller's.", body = ErrorBody)
    )
)]
pub async fn revoke_token(
    state: web::Data<AppState>,
    moderator: Moderator,
    path: web::Path<Uuid>,
) -> ApiResult<HttpResponse> {
    tokens::revoke(&state.db.pool, moderator.id, path.into_inner()).await?;
    Ok(private(HttpResponse::NoContent()).finish())
}
