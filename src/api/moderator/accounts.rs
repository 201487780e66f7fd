//! `/api/mod/v1`: login, logout, API tokens, the caller's sites, and each site's team.

use actix_web::{HttpRequest, HttpResponse, web};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::auth::moderators::store::{self, ChangeOutcome, CreateTokenError, RemoveOutcome};
use crate::auth::moderators::throttle;
use crate::auth::moderators::{
    Credential, Moderator, Role, SiteScope, password, scope, team_audit,
};
use crate::domain::client::ClientInfo;
use crate::domain::datetime::{future_time, rfc3339};
use crate::domain::{Email, Invalid};
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::http::json::ApiJson;
use crate::http::{Paging, private};
use crate::moderation::audit::{self, ActionRecord, Actor};
use crate::sites::{Site, store as site_store};
use crate::state::AppState;

/// Longest API token name, in characters.
const TOKEN_NAME_MAX_CHARS: usize = 100;

fn bad_credentials() -> ApiError {
    // One answer for an unknown email and a wrong password: which one it was is the secret.
    ApiError::unauthenticated("Wrong email or password.")
}

// ---------------------------------------------------------------------------------------------
// Login and logout

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoginBody {
    /// The moderator account's email address.
    #[schema(example = "ann@example.com")]
    email: String,
    /// The account's password (at most 1024 bytes).
    #[schema(format = Password)]
    password: String,
}

/// A role the moderator holds on one site.
#[derive(Serialize, ToSchema)]
#[schema(as = ModeratorRole)]
struct RoleView<'a> {
    /// The site's slug.
    #[schema(example = "my-blog")]
    site: &'a str,
    /// `owner` (settings and team too) or `moderator`.
    #[schema(example = "owner")]
    role: &'static str,
}

/// The answer to a successful login.
#[derive(Serialize, ToSchema)]
struct LoginAnswer<'a> {
    /// The session token: send it as `Authorization: Bearer <token>`.
    token: String,
    /// When the session runs out (RFC 3339).
    #[schema(format = DateTime)]
    expires_at: String,
    /// Who logged in.
    moderator: LoginModerator<'a>,
}

/// The moderator who logged in, with every role they hold.
#[derive(Serialize, ToSchema)]
struct LoginModerator<'a> {
    id: Uuid,
    email: String,
    /// By site slug.
    roles: Vec<RoleView<'a>>,
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

/// Logs a moderator in with email and password.
///
/// Answers a session token and the moderator's roles. A wrong password and an unknown email
/// answer alike (and take alike long); repeated failures per email and per client IP are
/// throttled with 429 and `Retry-After`.
#[utoipa::path(
    post,
    path = "/api/mod/v1/login",
    tag = "team",
    request_body = LoginBody,
    responses(
        (status = 200, description = "Logged in: the session token and the moderator's roles.", body = LoginAnswer),
        (status = 400, description = "`invalid_json` or `validation_failed` (a malformed email, a password that is too long).", body = ErrorBody),
        (status = 401, description = "`unauthenticated`: wrong email or password (the same answer for both).", body = ErrorBody),
        (status = 413, description = "`payload_too_large`: the body is over the JSON limit.", body = ErrorBody),
        (status = 415, description = "`unsupported_media_type`: the body is not `application/json`.", body = ErrorBody),
        (status = 429, description = "`rate_limited`: too many failed logins for this email or IP; wait `Retry-After` seconds.", body = ErrorBody,
            headers(("Retry-After" = u64, description = "Seconds to wait before trying again."))),
        (status = 503, description = "`unavailable`: the database is down; `Retry-After` says when to try again.", body = ErrorBody)
    )
)]
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
    let attempt = throttle::open(pool, &keys, auth).await?;
    let account = store::find_login(pool, &email).await?;
    let stored = account.as_ref().map(|a| a.password_hash.clone());
    // Runs for unknown emails too (against a dummy hash), so both refusals take as long.
    let ok = password::verify(password, stored).await?;
    let Some(account) = account.filter(|_| ok) else {
        throttle::failed(pool, auth, attempt).await?;
        tracing::info!("moderator login refused");
        return Err(bad_credentials());
    };
    throttle::succeeded(pool, &keys, auth, attempt).await?;
    let ttl = time::Duration::hours(i64::from(auth.moderator_session_ttl_hours));
    let mut conn = pool.acquire().await?;
    let (token, expires_at) = store::create_session(&mut conn, account.id, ttl).await?;
    drop(conn);
    let roles = scope::load_roles(pool, account.id).await?;
    tracing::info!(moderator.id = %account.id, "moderator logged in");
    Ok(private(HttpResponse::Ok()).json(LoginAnswer {
        token,
        expires_at: rfc3339(expires_at),
        moderator: LoginModerator {
            id: account.id,
            email: account.email,
            roles: roles_view(&roles),
        },
    }))
}

/// Ends the session the request was made with.
///
/// API tokens are revoked with `DELETE /tokens/{id}` instead: "logging out" a script's token by
/// accident would break it, so an API token gets 403 here.
#[utoipa::path(
    post,
    path = "/api/mod/v1/logout",
    tag = "team",
    security(("moderator" = [])),
    responses(
        (status = 204, description = "The session is over; its token no longer works."),
        (status = 401, description = "`unauthenticated`: no, an unknown, an expired or a revoked token.", body = ErrorBody),
        (status = 403, description = "`forbidden`: the request was made with an API token, not a login session.", body = ErrorBody),
        (status = 503, description = "`unavailable`: the database is down.", body = ErrorBody)
    )
)]
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
        (status = 401, description = "`unauthenticated`.", body = ErrorBody),
        (status = 403, description = "`forbidden`: made with an API token, not a login session.", body = ErrorBody),
        (status = 409, description = "`conflict`: the caller already has a token with this name.", body = ErrorBody),
        (status = 413, description = "`payload_too_large`.", body = ErrorBody),
        (status = 415, description = "`unsupported_media_type`.", body = ErrorBody),
        (status = 503, description = "`unavailable`: the database is down.", body = ErrorBody)
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
    let mut tx = state.db.pool.begin().await?;
    let (row, secret) = match store::create_token(&mut tx, moderator.id, &name, expires_at).await {
        Ok(created) => created,
        Err(CreateTokenError::NameTaken) => {
            return Err(ApiError::conflict(
                "conflict",
                "You already have a token with this name; pick another or revoke that one.",
            ));
        }
        Err(CreateTokenError::Db(e)) => return Err(e.into()),
    };
    audit::record_action(
        &mut tx,
        &ActionRecord {
            site_id: None,
            actor: Actor::Moderator(moderator.id),
            action: "api_token.created",
            target_kind: "api_token",
            target_id: Some(row.id),
            before: None,
            after: Some(token_audit(&row)),
            note: None,
        },
    )
    .await?;
    tx.commit().await?;
    tracing::info!(moderator.id = %moderator.id, api_token.id = %row.id, "API token created");
    Ok(private(HttpResponse::Created()).json(TokenView::new(row, Some(secret))))
}

/// What the audit log keeps of a token: its name and expiry, never its secret or hash.
fn token_audit(t: &store::TokenRow) -> serde_json::Value {
    serde_json::json!({
        "name": t.name,
        "expires_at": t.expires_at.map(rfc3339),
    })
}

/// Lists the caller's API tokens, oldest first, without their secrets.
#[utoipa::path(
    get,
    path = "/api/mod/v1/tokens",
    tag = "team",
    security(("moderator" = [])),
    params(
        ("limit" = Option<u32>, Query, description = "Page size, 1 to the server's maximum (200 by default); 50 when absent."),
        ("cursor" = Option<String>, Query, description = "`next_cursor` of the previous page.")
    ),
    responses(
        (status = 200, description = "One page of tokens.", body = TokenPage),
        (status = 400, description = "`validation_failed`: a bad `limit` or `cursor`.", body = ErrorBody),
        (status = 401, description = "`unauthenticated`.", body = ErrorBody),
        (status = 503, description = "`unavailable`: the database is down.", body = ErrorBody)
    )
)]
pub async fn list_tokens(
    state: web::Data<AppState>,
    moderator: Moderator,
    paging: Paging,
) -> ApiResult<HttpResponse> {
    let after = paging.time_cursor()?;
    let rows = store::list_tokens(&state.db.pool, moderator.id, after, paging.fetch()).await?;
    let (rows, next) = paging.split_by_time(rows, |t| (t.created_at, t.id));
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
        (status = 401, description = "`unauthenticated`.", body = ErrorBody),
        (status = 404, description = "`not_found`: no such token among the caller's.", body = ErrorBody),
        (status = 503, description = "`unavailable`: the database is down.", body = ErrorBody)
    )
)]
pub async fn revoke_token(
    state: web::Data<AppState>,
    moderator: Moderator,
    path: web::Path<Uuid>,
) -> ApiResult<HttpResponse> {
    let id = path.into_inner();
    let mut tx = state.db.pool.begin().await?;
    // Someone else's token is "not found": its existence is none of the caller's business.
    let Some(row) = store::revoke_token(&mut tx, moderator.id, id).await? else {
        return Err(ApiError::not_found("Token"));
    };
    audit::record_action(
        &mut tx,
        &ActionRecord {
            site_id: None,
            actor: Actor::Moderator(moderator.id),
            action: "api_token.revoked",
            target_kind: "api_token",
            target_id: Some(row.id),
            before: Some(token_audit(&row)),
            after: None,
            note: None,
        },
    )
    .await?;
    tx.commit().await?;
    tracing::info!(moderator.id = %moderator.id, api_token.id = %id, "API token revoked");
    Ok(private(HttpResponse::NoContent()).finish())
}

// ---------------------------------------------------------------------------------------------
// Sites

/// A site's full settings, for anyone holding a role on it.
#[derive(Serialize, ToSchema)]
#[schema(as = ModeratorSite)]
pub(crate) struct SiteView<'a> {
    id: Uuid,
    #[schema(example = "my-blog")]
    slug: &'a str,
    name: &'a str,
    /// Origins the widget may be embedded on (CORS).
    #[schema(value_type = Vec<String>, example = json!(["https://blog.example"]))]
    origins: &'a [String],
    /// Enabled login providers.
    #[schema(value_type = Vec<String>, example = json!(["google", "oidc-corp"]))]
    providers: &'a [String],
    /// Whether guests (name and email, no login) may comment.
    guests: bool,
    /// The moderation policy: `pre`, `post` or `first_time`.
    #[schema(example = "first_time")]
    policy: &'static str,
    /// Deepest reply level.
    max_depth: i32,
    /// How long authors may edit their comments, in seconds.
    edit_window_s: i32,
    /// Reader flags that send an approved comment back to the queue.
    flags_to_hold: i32,
    /// Closed to new comments.
    closed: bool,
    /// Per-site overrides of `[limits]` (`comment_interval_s`, `comments_per_minute_user`,
    /// `comments_per_minute_ip`, `guest_comments_per_minute`); absent keys follow the server's
    /// settings.
    #[schema(value_type = Object)]
    limits: &'a crate::sites::SiteLimits,
    /// The caller's role on this site: `owner` or `moderator`.
    #[schema(example = "owner")]
    role: &'static str,
}

/// One page of the caller's sites, by slug.
#[derive(Serialize, ToSchema)]
struct SitePage<'a> {
    items: Vec<SiteView<'a>>,
    /// Pass as `?cursor=` for the next page; `null` on the last page.
    next_cursor: Option<String>,
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

/// Lists the sites where the caller holds a role, by slug, with their settings.
#[utoipa::path(
    get,
    path = "/api/mod/v1/sites",
    tag = "team",
    security(("moderator" = [])),
    params(
        ("limit" = Option<u32>, Query, description = "Page size, 1 to the server's maximum (200 by default); 50 when absent."),
        ("cursor" = Option<String>, Query, description = "`next_cursor` of the previous page.")
    ),
    responses(
        (status = 200, description = "One page of sites.", body = SitePage),
        (status = 400, description = "`validation_failed`: a bad `limit` or `cursor`.", body = ErrorBody),
        (status = 401, description = "`unauthenticated`.", body = ErrorBody),
        (status = 503, description = "`unavailable`: the database is down.", body = ErrorBody)
    )
)]
pub async fn list_sites(
    state: web::Data<AppState>,
    moderator: Moderator,
    paging: Paging,
) -> ApiResult<HttpResponse> {
    // Roles come sorted by slug; a person holds roles on a handful of sites, so the page is cut
    // from them and only its sites are read.
    let scopes: Vec<&SiteScope> = moderator
        .roles
        .iter()
        .filter(|r| paging.cursor().is_none_or(|a| r.slug() > a))
        .take(paging.limit as usize + 1)
        .collect();
    let (scopes, next) = paging.split(scopes, |s| s.slug().to_owned());
    let ids: Vec<Uuid> = scopes.iter().map(|s| s.site_id()).collect();
    let sites = site_store::find_many(&state.db.pool, &ids).await?;
    let items: Vec<SiteView> = sites
        .iter()
        .filter_map(|site| {
            let scope = scopes.iter().find(|s| s.site_id() == site.id)?;
            Some(site_view(site, scope.role()))
        })
        .collect();
    Ok(private(HttpResponse::Ok()).json(SitePage {
        items,
        next_cursor: next,
    }))
}

/// One site's settings and the caller's role there.
#[utoipa::path(
    get,
    path = "/api/mod/v1/sites/{site}",
    tag = "team",
    security(("moderator" = [])),
    params(("site" = String, Path, description = "The site's slug.")),
    responses(
        (status = 200, description = "The site's settings.", body = SiteView),
        (status = 401, description = "`unauthenticated`.", body = ErrorBody),
        (status = 404, description = "`not_found`: no such site, or the caller holds no role there.", body = ErrorBody),
        (status = 503, description = "`unavailable`: the database is down.", body = ErrorBody)
    )
)]
pub async fn get_site(
    state: web::Data<AppState>,
    moderator: Moderator,
    path: web::Path<String>,
) -> ApiResult<HttpResponse> {
    let scope = moderator.scope(&path)?;
    let site = site_store::find_many(&state.db.pool, &[scope.site_id()])
        .await?
        .pop()
        .ok_or_else(crate::sites::unknown_site)?;
    Ok(private(HttpResponse::Ok()).json(site_view(&site, scope.role())))
}

// ---------------------------------------------------------------------------------------------
// The team (owners only)

/// A moderator on a site's team.
#[derive(Serialize, ToSchema)]
#[schema(as = TeamMember)]
struct MemberView {
    /// The moderator account's id.
    id: Uuid,
    email: String,
    /// `owner` or `moderator`.
    #[schema(example = "moderator")]
    role: String,
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    added_at: OffsetDateTime,
}

/// One page of a site's team, in the order they joined.
#[derive(Serialize, ToSchema)]
struct TeamPage {
    items: Vec<MemberView>,
    /// Pass as `?cursor=` for the next page; `null` on the last page.
    next_cursor: Option<String>,
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

/// Lists a site's team (owners only).
#[utoipa::path(
    get,
    path = "/api/mod/v1/sites/{site}/moderators",
    tag = "team",
    security(("moderator" = [])),
    params(
        ("site" = String, Path, description = "The site's slug."),
        ("limit" = Option<u32>, Query, description = "Page size, 1 to the server's maximum (200 by default); 50 when absent."),
        ("cursor" = Option<String>, Query, description = "`next_cursor` of the previous page.")
    ),
    responses(
        (status = 200, description = "One page of the team.", body = TeamPage),
        (status = 400, description = "`validation_failed`: a bad `limit` or `cursor`.", body = ErrorBody),
        (status = 401, description = "`unauthenticated`.", body = ErrorBody),
        (status = 403, description = "`forbidden`: the caller is a moderator, not an owner, of this site.", body = ErrorBody),
        (status = 404, description = "`not_found`: no such site, or the caller holds no role there.", body = ErrorBody),
        (status = 503, description = "`unavailable`: the database is down.", body = ErrorBody)
    )
)]
pub async fn list_team(
    state: web::Data<AppState>,
    moderator: Moderator,
    path: web::Path<String>,
    paging: Paging,
) -> ApiResult<HttpResponse> {
    let scope = moderator.owner_scope(&path)?;
    let after = paging.time_cursor()?;
    let rows = store::team(&state.db.pool, &scope, after, paging.fetch()).await?;
    let (rows, next) = paging.split_by_time(rows, |m| (m.added_at, m.id));
    let items: Vec<MemberView> = rows.into_iter().map(MemberView::from).collect();
    Ok(private(HttpResponse::Ok()).json(TeamPage {
        items,
        next_cursor: next,
    }))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RoleBody {
    /// `owner` or `moderator`.
    #[schema(example = "owner")]
    role: String,
}

pub(crate) fn last_owner() -> ApiError {
    ApiError::conflict(
        "conflict",
        "This is the site's only owner; make someone else an owner first.",
    )
}

/// Changes the role of a member of a site's team (owners only, with a login session).
///
/// Only for people already on the team: newcomers join by invitation
/// (`POST /sites/{site}/moderators`). The site's last owner can't be demoted (409). A demoted
/// owner's open invitations are voided.
#[utoipa::path(
    patch,
    path = "/api/mod/v1/sites/{site}/moderators/{id}",
    tag = "team",
    security(("moderator" = [])),
    params(
        ("site" = String, Path, description = "The site's slug."),
        ("id" = Uuid, Path, description = "The moderator account's id.")
    ),
    request_body = RoleBody,
    responses(
        (status = 200, description = "The member with their (new) role.", body = MemberView),
        (status = 400, description = "`invalid_json` or `validation_failed` (`role`).", body = ErrorBody),
        (status = 401, description = "`unauthenticated`.", body = ErrorBody),
        (status = 403, description = "`forbidden` (not an owner of this site) or `login_required` (made with an API token).", body = ErrorBody),
        (status = 404, description = "`not_found`: no such site or no such member of its team.", body = ErrorBody),
        (status = 409, description = "`conflict`: this would demote the site's only owner.", body = ErrorBody),
        (status = 413, description = "`payload_too_large`.", body = ErrorBody),
        (status = 415, description = "`unsupported_media_type`.", body = ErrorBody),
        (status = 503, description = "`unavailable`: the database is down.", body = ErrorBody)
    )
)]
pub async fn change_role(
    state: web::Data<AppState>,
    moderator: Moderator,
    path: web::Path<(String, Uuid)>,
    body: ApiJson<RoleBody>,
) -> ApiResult<HttpResponse> {
    let (site, member_id) = path.into_inner();
    let scope = moderator.owner_scope(&site)?;
    moderator.require_login("Changing the team needs a password login, not an API token.")?;
    let role = Role::parse(&body.0.role).map_err(|e| ApiError::validation("role", e))?;
    let mut tx = state.db.pool.begin().await?;
    let outcome = store::change_role(&mut tx, &scope, member_id, role).await?;
    let from = match outcome {
        ChangeOutcome::NotMember => return Err(ApiError::not_found("Moderator")),
        ChangeOutcome::LastOwner => return Err(last_owner()),
        ChangeOutcome::Changed { from } => Some(from),
        ChangeOutcome::Unchanged => None,
    };
    let member = store::member(&mut tx, &scope, member_id)
        .await?
        .ok_or_else(|| ApiError::internal(anyhow::anyhow!("member vanished in its transaction")))?;
    if let Some(from) = from {
        let actor = Actor::Moderator(moderator.id);
        team_audit::audit_role_change(&mut tx, &scope, actor, &member.email, member_id, from, role)
            .await?;
        if from == Role::Owner {
            team_audit::void_invitations_of(&mut tx, &scope, member_id, actor).await?;
        }
    }
    tx.commit().await?;
    tracing::info!(
        moderator.id = %moderator.id,
        member.id = %member_id,
        site.slug = scope.slug(),
        role = role.as_str(),
        outcome = ?outcome,
        "team role changed"
    );
    Ok(private(HttpResponse::Ok()).json(MemberView::from(member)))
}

/// Removes a moderator from a site's team (owners only; not the last owner).
#[utoipa::path(
    delete,
    path = "/api/mod/v1/sites/{site}/moderators/{id}",
    tag = "team",
    security(("moderator" = [])),
    params(
        ("site" = String, Path, description = "The site's slug."),
        ("id" = Uuid, Path, description = "The moderator account's id.")
    ),
    responses(
        (status = 204, description = "Removed from the team."),
        (status = 401, description = "`unauthenticated`.", body = ErrorBody),
        (status = 403, description = "`forbidden` (not an owner of this site) or `login_required` (made with an API token).", body = ErrorBody),
        (status = 404, description = "`not_found`: no such site or no such member of its team.", body = ErrorBody),
        (status = 409, description = "`conflict`: this is the site's only owner.", body = ErrorBody),
        (status = 503, description = "`unavailable`: the database is down.", body = ErrorBody)
    )
)]
pub async fn remove_member(
    state: web::Data<AppState>,
    moderator: Moderator,
    path: web::Path<(String, Uuid)>,
) -> ApiResult<HttpResponse> {
    let (site, member_id) = path.into_inner();
    let scope = moderator.owner_scope(&site)?;
    moderator.require_login("Changing the team needs a password login, not an API token.")?;
    let mut tx = state.db.pool.begin().await?;
    let member = store::member(&mut tx, &scope, member_id).await?;
    let role = match store::remove_member(&mut tx, &scope, member_id).await? {
        RemoveOutcome::Removed { role } => role,
        RemoveOutcome::NotMember => return Err(ApiError::not_found("Moderator")),
        RemoveOutcome::LastOwner => return Err(last_owner()),
    };
    let actor = Actor::Moderator(moderator.id);
    audit::record_action(
        &mut tx,
        &ActionRecord {
            site_id: Some(scope.site_id()),
            actor,
            action: "moderator.removed",
            target_kind: "moderator",
            target_id: Some(member_id),
            before: Some(serde_json::json!({
                "email": member.map(|m| m.email),
                "role": role.as_str(),
            })),
            after: None,
            note: None,
        },
    )
    .await?;
    if role == Role::Owner {
        team_audit::void_invitations_of(&mut tx, &scope, member_id, actor).await?;
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
