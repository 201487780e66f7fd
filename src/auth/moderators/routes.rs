//! `/api/mod/v1`: login, logout, API tokens, the caller's sites, and each site's team.

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, HttpResponseBuilder, web};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::{Deserialize, Serialize};
use serde_json::json;
use time::OffsetDateTime;
use uuid::Uuid;

use super::store::{self, CreateAccountError, CreateTokenError, PutOutcome, RemoveOutcome};
use super::throttle::{self, Gate};
use super::{Credential, Moderator, Role, SiteScope, extract, password};
use crate::app::AppState;
use crate::domain::{Email, Invalid};
use crate::error::{ApiError, ApiResult};
use crate::http::client_ip::ClientInfo;
use crate::http::json::ApiJson;
use crate::sites::{Site, store as site_store};

/// Longest API token name, in characters.
const TOKEN_NAME_MAX_CHARS: usize = 100;

/// Moderator answers are about one person and may carry secrets: no cache keeps them.
pub(crate) fn private(mut res: HttpResponseBuilder) -> HttpResponseBuilder {
    res.insert_header((header::CACHE_CONTROL, "no-store"));
    res
}

fn bad_credentials() -> ApiError {
    // One answer for an unknown email and a wrong password: which one it was is the secret.
    ApiError::unauthenticated("Wrong email or password.")
}

// ---------------------------------------------------------------------------------------------
// Login and logout

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LoginBody {
    email: String,
    password: String,
}

#[derive(Serialize)]
struct RoleView<'a> {
    site: &'a str,
    role: &'static str,
}

fn roles_view(roles: &[SiteScope]) -> Vec<RoleView<'_>> {
    roles
        .iter()
        .map(|r| RoleView {
            site: r.slug(),
            role: r.role().as_str(),
        })
        .collect()
}

pub async fn login(
    state: web::Data<AppState>,
    req: HttpRequest,
    body: ApiJson<LoginBody>,
) -> ApiResult<HttpResponse> {
    let LoginBody { email, password } = body.0;
    let email = Email::parse(&email).map_err(|e| ApiError::validation("email", e))?;
    if password.len() > password::MAX_BYTES {
        return Err(ApiError::validation(
            "password",
            format!("must be at most {} bytes", password::MAX_BYTES),
        ));
    }
    let auth = &state.settings.auth;
    let pool = &state.db.pool;
    let client = ClientInfo::from_request(&req, &state.settings.server.trusted_proxies);
    let email = email.identity_key();
    let keys = throttle::Keys::new(&email, client.ip);
    if let Gate::Closed { retry_after_s } = throttle::begin(pool, &keys, auth).await? {
        tracing::warn!("moderator login throttled");
        return Err(ApiError::rate_limited(
            "Too many failed logins; wait before trying again.",
            retry_after_s,
        ));
    }
    let account = store::find_login(pool, &email).await?;
    let stored = account.as_ref().map(|a| a.password_hash.clone());
    // Runs for unknown emails too (against a dummy hash), so both refusals take as long.
    let ok = password::verify(password, stored).await?;
    let Some(account) = account.filter(|_| ok) else {
        throttle::failed(pool, auth).await?;
        tracing::info!("moderator login refused");
        return Err(bad_credentials());
    };
    throttle::succeeded(pool, &keys).await?;
    let ttl = time::Duration::hours(i64::from(auth.moderator_session_ttl_hours));
    let mut conn = pool.acquire().await?;
    let (token, expires_at) = store::create_session(&mut conn, account.id, ttl).await?;
    drop(conn);
    let roles = extract::load_roles(pool, account.id).await?;
    tracing::info!(moderator.id = %account.id, "moderator logged in");
    Ok(private(HttpResponse::Ok()).json(json!({
        "token": token,
        "expires_at": rfc3339(expires_at),
        "moderator": {
            "id": account.id,
            "email": account.email,
            "roles": roles_view(&roles),
        },
    })))
}

/// Ends the session the request was made with. API tokens are revoked with
/// `DELETE /tokens/{id}` instead: "logging out" a script's token by accident would break it.
pub async fn logout(state: web::Data<AppState>, moderator: Moderator) -> ApiResult<HttpResponse> {
    match moderator.credential {
        Credential::Session(id) => {
            store::revoke_session(&state.db.pool, id).await?;
            Ok(private(HttpResponse::NoContent()).finish())
        }
        Credential::ApiToken(_) => Err(ApiError::forbidden(
            "forbidden",
            "This is an API token, not a login session; revoke it with DELETE /api/mod/v1/tokens/{id}.",
        )),
    }
}

// ---------------------------------------------------------------------------------------------
// API tokens

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewTokenBody {
    name: String,
    /// RFC 3339; absent: valid until revoked.
    #[serde(default)]
    expires_at: Option<String>,
}

#[derive(Serialize)]
struct TokenView {
    id: Uuid,
    name: String,
    #[serde(with = "time::serde::rfc3339")]
    created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339::option")]
    last_used_at: Option<OffsetDateTime>,
    #[serde(with = "time::serde::rfc3339::option")]
    expires_at: Option<OffsetDateTime>,
    /// The secret: only in the answer that created the token.
    #[serde(skip_serializing_if = "Option::is_none")]
    token: Option<String>,
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

pub(crate) fn future_time(raw: &str) -> Result<OffsetDateTime, Invalid> {
    let at = OffsetDateTime::parse(raw, &time::format_description::well_known::Rfc3339)
        .map_err(|_| Invalid::new("must be an RFC 3339 time like 2027-01-31T00:00:00Z"))?;
    if at <= OffsetDateTime::now_utc() {
        return Err(Invalid::new("must be in the future"));
    }
    Ok(at)
}

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
    let mut errors = Vec::new();
    let name =
        token_name(&body.0.name).map_err(|e| errors.push(("name".to_owned(), e.to_string())));
    let expires_at = body
        .0
        .expires_at
        .as_deref()
        .map(future_time)
        .transpose()
        .map_err(|e| errors.push(("expires_at".to_owned(), e.to_string())));
    let (Ok(name), Ok(expires_at)) = (name, expires_at) else {
        return Err(ApiError::validation_many(errors));
    };
    match store::create_token(&state.db.pool, moderator.id, &name, expires_at).await {
        Ok((row, secret)) => {
            tracing::info!(moderator.id = %moderator.id, api_token.id = %row.id, "API token created");
            Ok(private(HttpResponse::Created()).json(TokenView::new(row, Some(secret))))
        }
        Err(CreateTokenError::NameTaken) => Err(ApiError::conflict(
            "conflict",
            "You already have a token with this name; pick another or revoke that one.",
        )),
        Err(CreateTokenError::Db(e)) => Err(e.into()),
    }
}

#[derive(Deserialize)]
pub struct PageParams {
    limit: Option<String>,
    cursor: Option<String>,
}

/// `?limit=` and `?cursor=` of a list, checked.
fn page(state: &AppState, params: &PageParams) -> ApiResult<(u32, Option<String>)> {
    page_parts(state, params.limit.as_deref(), params.cursor.as_deref())
}

/// `?limit=` and `?cursor=` as given: the page size, and the decoded (base64url) cursor text.
pub(crate) fn page_parts(
    state: &AppState,
    limit: Option<&str>,
    cursor: Option<&str>,
) -> ApiResult<(u32, Option<String>)> {
    let limits = &state.settings.limits;
    let limit = match limit {
        None => limits.page_default,
        Some(s) => match s.parse::<u32>() {
            Ok(n) if (1..=limits.page_max).contains(&n) => n,
            _ => {
                return Err(ApiError::validation(
                    "limit",
                    format!("must be a whole number from 1 to {}", limits.page_max),
                ));
            }
        },
    };
    let cursor = match cursor {
        None | Some("") => None,
        Some(c) => {
            let raw = (c.len() <= 200)
                .then(|| URL_SAFE_NO_PAD.decode(c).ok())
                .flatten()
                .and_then(|b| String::from_utf8(b).ok())
                .ok_or_else(bad_cursor)?;
            Some(raw)
        }
    };
    Ok((limit, cursor))
}

pub(crate) fn bad_cursor() -> ApiError {
    ApiError::validation("cursor", "is not a cursor issued by this endpoint")
}

/// Keyset cursors over `(created_at, id)`.
pub(crate) fn encode_time_cursor(at: OffsetDateTime, id: Uuid) -> String {
    let micros = at.unix_timestamp_nanos() / 1000;
    URL_SAFE_NO_PAD.encode(format!("{micros}.{}", id.simple()))
}

pub(crate) fn decode_time_cursor(raw: Option<String>) -> ApiResult<Option<(OffsetDateTime, Uuid)>> {
    let Some(raw) = raw else { return Ok(None) };
    let (micros, id) = raw.split_once('.').ok_or_else(bad_cursor)?;
    let micros: i128 = micros.parse().map_err(|_| bad_cursor())?;
    let at = OffsetDateTime::from_unix_timestamp_nanos(micros * 1000).map_err(|_| bad_cursor())?;
    let id = Uuid::parse_str(id).map_err(|_| bad_cursor())?;
    Ok(Some((at, id)))
}

/// The page and the cursor of the next one (`None` on the last page).
pub(crate) fn split_page<T>(
    mut rows: Vec<T>,
    limit: u32,
    key: impl Fn(&T) -> String,
) -> (Vec<T>, Option<String>) {
    let next = (rows.len() > limit as usize).then(|| {
        rows.truncate(limit as usize);
        rows.last().map(&key)
    });
    (rows, next.flatten())
}

pub async fn list_tokens(
    state: web::Data<AppState>,
    moderator: Moderator,
    params: web::Query<PageParams>,
) -> ApiResult<HttpResponse> {
    let (limit, cursor) = page(&state, &params)?;
    let after = decode_time_cursor(cursor)?;
    let rows = store::list_tokens(&state.db.pool, moderator.id, after, limit + 1).await?;
    let (rows, next) = split_page(rows, limit, |t| encode_time_cursor(t.created_at, t.id));
    let items: Vec<TokenView> = rows.into_iter().map(|t| TokenView::new(t, None)).collect();
    Ok(private(HttpResponse::Ok()).json(json!({ "items": items, "next_cursor": next })))
}

pub async fn revoke_token(
    state: web::Data<AppState>,
    moderator: Moderator,
    path: web::Path<Uuid>,
) -> ApiResult<HttpResponse> {
    let id = path.into_inner();
    // Someone else's token is "not found": its existence is none of the caller's business.
    if !store::revoke_token(&state.db.pool, moderator.id, id).await? {
        return Err(ApiError::not_found("Token"));
    }
    tracing::info!(moderator.id = %moderator.id, api_token.id = %id, "API token revoked");
    Ok(private(HttpResponse::NoContent()).finish())
}

// ---------------------------------------------------------------------------------------------
// Sites

/// A site's full settings, for anyone holding a role on it.
#[derive(Serialize)]
pub(crate) struct SiteView<'a> {
    id: Uuid,
    slug: &'a str,
    name: &'a str,
    origins: &'a [String],
    providers: &'a [String],
    guests: bool,
    policy: &'static str,
    max_depth: i32,
    edit_window_s: i32,
    flags_to_hold: i32,
    closed: bool,
    /// Per-site overrides of `[limits]`; absent keys follow the server's settings.
    limits: &'a crate::sites::SiteLimits,
    /// The caller's role on this site.
    role: &'static str,
}

pub(crate) fn site_view(site: &Site, role: Role) -> SiteView<'_> {
    SiteView {
        id: site.id,
        slug: &site.slug,
        name: &site.name,
        origins: &site.origins,
        providers: &site.providers,
        guests: site.guests,
        policy: site.policy.as_str(),
        max_depth: site.max_depth,
        edit_window_s: site.edit_window_s,
        flags_to_hold: site.flags_to_hold,
        closed: site.closed,
        limits: &site.limits,
        role: role.as_str(),
    }
}

/// The sites where the caller holds a role, by slug.
pub async fn list_sites(
    state: web::Data<AppState>,
    moderator: Moderator,
    params: web::Query<PageParams>,
) -> ApiResult<HttpResponse> {
    let (limit, after) = page(&state, &params)?;
    // Roles come sorted by slug; a person holds roles on a handful of sites, so the page is cut
    // from them and only its sites are read.
    let mut scopes: Vec<&SiteScope> = moderator
        .roles
        .iter()
        .filter(|r| after.as_deref().is_none_or(|a| r.slug() > a))
        .take(limit as usize + 1)
        .collect();
    let next = (scopes.len() > limit as usize).then(|| {
        scopes.truncate(limit as usize);
        scopes.last().map(|s| URL_SAFE_NO_PAD.encode(s.slug()))
    });
    let ids: Vec<Uuid> = scopes.iter().map(|s| s.site_id()).collect();
    let sites = site_store::find_many(&state.db.pool, &ids).await?;
    let items: Vec<SiteView> = sites
        .iter()
        .filter_map(|site| {
            let scope = scopes.iter().find(|s| s.site_id() == site.id)?;
            Some(site_view(site, scope.role()))
        })
        .collect();
    Ok(private(HttpResponse::Ok()).json(json!({ "items": items, "next_cursor": next.flatten() })))
}

pub async fn get_site(
    state: web::Data<AppState>,
    moderator: Moderator,
    path: web::Path<String>,
) -> ApiResult<HttpResponse> {
    let scope = moderator.scope(&path)?;
    let site = site_store::find_many(&state.db.pool, &[scope.site_id()])
        .await?
        .pop()
        .ok_or_else(crate::sites::routes::unknown_site)?;
    Ok(private(HttpResponse::Ok()).json(site_view(&site, scope.role())))
}

// ---------------------------------------------------------------------------------------------
// The team (owners only)

#[derive(Serialize)]
struct MemberView {
    id: Uuid,
    email: String,
    role: String,
    #[serde(with = "time::serde::rfc3339")]
    added_at: OffsetDateTime,
}

impl From<store::MemberRow> for MemberView {
    fn from(m: store::MemberRow) -> Self {
        Self {
            id: m.id,
            email: m.email,
            role: m.role,
            added_at: m.added_at,
        }
    }
}

pub async fn list_team(
    state: web::Data<AppState>,
    moderator: Moderator,
    path: web::Path<String>,
    params: web::Query<PageParams>,
) -> ApiResult<HttpResponse> {
    let scope = moderator.owner_scope(&path)?;
    let (limit, cursor) = page(&state, &params)?;
    let after = decode_time_cursor(cursor)?;
    let rows = store::team(&state.db.pool, &scope, after, limit + 1).await?;
    let (rows, next) = split_page(rows, limit, |m| encode_time_cursor(m.added_at, m.id));
    let items: Vec<MemberView> = rows.into_iter().map(MemberView::from).collect();
    Ok(private(HttpResponse::Ok()).json(json!({ "items": items, "next_cursor": next })))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PutMemberBody {
    email: String,
    role: String,
    /// Only to create an account for an email that has none.
    #[serde(default)]
    password: Option<String>,
}

/// Who `POST /sites/{site}/moderators` puts on the team.
enum Account {
    Existing(Uuid),
    New { password_hash: String },
}

fn last_owner() -> ApiError {
    ApiError::conflict(
        "conflict",
        "This is the site's only owner; make someone else an owner first.",
    )
}

/// Puts a moderator on the team (201), or changes their role there (200). See the module docs
/// for how `password` creates an account.
pub async fn put_member(
    state: web::Data<AppState>,
    moderator: Moderator,
    path: web::Path<String>,
    body: ApiJson<PutMemberBody>,
) -> ApiResult<HttpResponse> {
    let scope = moderator.owner_scope(&path)?;
    // Like minting tokens: a leaked API token must not be able to create accounts or owners
    // that outlive its revocation. Team changes need a password login.
    if moderator.is_api_token() {
        return Err(ApiError::forbidden(
            "login_required",
            "Changing the team needs a password login, not an API token.",
        ));
    }
    let PutMemberBody {
        email,
        role,
        password,
    } = body.0;
    let mut errors = Vec::new();
    let email = Email::parse(&email).map_err(|e| errors.push(("email".to_owned(), e.to_string())));
    let role = Role::parse(&role).map_err(|e| errors.push(("role".to_owned(), e.to_string())));
    let password = password
        .map(password::NewPassword::parse)
        .transpose()
        .map_err(|e| errors.push(("password".to_owned(), e.to_string())));
    let (Ok(email), Ok(role), Ok(password)) = (email, role, password) else {
        return Err(ApiError::validation_many(errors));
    };
    let email = email.identity_key();
    let pool = &state.db.pool;
    let mut conn = pool.acquire().await?;
    let existing = store::find_id_by_email(&mut conn, &email).await?;
    drop(conn);
    let account = match (existing, password) {
        (Some(_), Some(_)) => {
            return Err(ApiError::conflict(
                "conflict",
                "An account with this email already exists; leave out `password` to add it. \
                 Its password can only be changed by its owner.",
            ));
        }
        (None, None) => {
            return Err(ApiError::validation(
                "password",
                "is required to create an account for an email that has none",
            ));
        }
        // Hashed before the transaction opens, so no lock waits on argon2.
        (None, Some(pw)) => Account::New {
            password_hash: password::hash(pw).await?,
        },
        (Some(id), None) => Account::Existing(id),
    };
    let mut tx = pool.begin().await?;
    let (member_id, created) = match account {
        Account::Existing(id) => (id, false),
        Account::New { password_hash } => {
            match store::create_account(&mut tx, &email, &password_hash).await {
                Ok(id) => (id, true),
                Err(CreateAccountError::EmailTaken) => {
                    return Err(ApiError::conflict(
                        "conflict",
                        "An account with this email was just created; add it without `password`.",
                    ));
                }
                Err(CreateAccountError::Db(e)) => return Err(e.into()),
            }
        }
    };
    let outcome = store::put_member(&mut tx, &scope, member_id, role).await?;
    if outcome == PutOutcome::LastOwner {
        return Err(last_owner());
    }
    let member = store::member(&mut tx, &scope, member_id)
        .await?
        .ok_or_else(|| ApiError::internal(anyhow::anyhow!("member vanished in its transaction")))?;
    tx.commit().await?;
    tracing::info!(
        moderator.id = %moderator.id,
        member.id = %member_id,
        site.slug = scope.slug(),
        role = role.as_str(),
        account_created = created,
        outcome = ?outcome,
        "team changed"
    );
    let status = if outcome == PutOutcome::Added {
        HttpResponse::Created()
    } else {
        HttpResponse::Ok()
    };
    let mut view = serde_json::to_value(MemberView::from(member)).map_err(ApiError::internal)?;
    view["account_created"] = created.into();
    Ok(private(status).json(view))
}

pub async fn remove_member(
    state: web::Data<AppState>,
    moderator: Moderator,
    path: web::Path<(String, Uuid)>,
) -> ApiResult<HttpResponse> {
    let (site, member_id) = path.into_inner();
    let scope = moderator.owner_scope(&site)?;
    if moderator.is_api_token() {
        return Err(ApiError::forbidden(
            "login_required",
            "Changing the team needs a password login, not an API token.",
        ));
    }
    let mut tx = state.db.pool.begin().await?;
    match store::remove_member(&mut tx, &scope, member_id).await? {
        RemoveOutcome::Removed => {}
        RemoveOutcome::NotMember => return Err(ApiError::not_found("Moderator")),
        RemoveOutcome::LastOwner => return Err(last_owner()),
    }
    tx.commit().await?;
    tracing::info!(
        moderator.id = %moderator.id,
        member.id = %member_id,
        site.slug = scope.slug(),
        "team member removed"
    );
    Ok(private(HttpResponse::NoContent()).finish())
}

fn rfc3339(at: OffsetDateTime) -> String {
    at.format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}
