//! `/auth/{provider}/login|callback` (the popup flow), `/api/v1/me` and `/api/v1/logout`.

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::ToSchema;

use crate::auth::attempt::begin;
use crate::auth::providers::Attempt;
use crate::auth::sessions::{self, SessionUser};
use crate::auth::states::{Purpose, Target};
use crate::auth::users::Profile;
use crate::auth::{dev, popup, states};
use crate::domain::{DisplayName, Email, Origin};
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::http::Commenter;
use crate::state::AppState;

#[derive(Deserialize)]
pub struct LoginParams {
    site: Option<String>,
    origin: Option<String>,
}

/// Starts a login in the popup.
///
/// The widget opens this in a popup window. It checks that `origin` is one of the site's
/// registered origins (the session token will be posted to it, and only to it), stores a
/// single-use login attempt bound to the site and origin, and redirects (302) to the provider's
/// authorization page with `state`, a PKCE S256 challenge and, for OpenID Connect, a `nonce`
/// (the `dev` provider redirects to `/auth/dev/authorize`). When the site doesn't offer the
/// provider, or the provider can't be reached, it answers the popup's failure page instead:
/// HTML that posts `{type: "colloquy:login-error", code, message}` to `origin` (codes
/// `provider_unavailable`, or the provider's error code) and closes.
#[utoipa::path(
    get,
    path = "/auth/{provider}/login",
    operation_id = "popup_login",
    tag = "login",
    params(
        ("provider" = String, Path, description = "The login provider: `wordpress`, `twitter`, `facebook`, `google`, `oidc-<name>`, or `dev` where enabled."),
        ("site" = String, Query, description = "The site's slug.", example = "my-blog"),
        ("origin" = String, Query, description = "The origin of the blog page that opened the popup (scheme://host[:port]); must be one of the site's registered origins.", example = "https://blog.example.com")
    ),
    responses(
        (status = 302, description = "To the provider's authorization page.",
            headers(("Location" = String, description = "The provider's authorization URL (with `state`, PKCE and `nonce`)."))),
        (status = 200, description = "The failure page: the provider isn't offered here or can't be reached now. It posts `{type: \"colloquy:login-error\", code, message}` to `origin`, then closes.",
            content_type = "text/html", body = String),
        (status = 400, description = "`validation_failed`: `origin` is missing or not an origin.", body = ErrorBody),
        (status = 403, description = "`origin_not_allowed`: `origin` isn't registered for the site.", body = ErrorBody),
        (status = 404, description = "Unknown site, or no `site` (`not_found`).", body = ErrorBody)
    )
)]
pub async fn login(
    state: web::Data<AppState>,
    path: web::Path<String>,
    params: web::Query<LoginParams>,
) -> ApiResult<HttpResponse> {
    let provider = path.into_inner();
    let site = state.site(params.site.as_deref().unwrap_or("")).await?;
    let origin = Origin::parse(params.origin.as_deref().unwrap_or(""))
        .map_err(|e| ApiError::validation("origin", e))?;
    // The token will be posted to this origin: it must be the site's, or any page could
    // open the popup and collect a reader's session.
    if !site.allows_origin(origin.as_str()) {
        return Err(ApiError::forbidden(
            "origin_not_allowed",
            "This origin is not registered for this site.",
        ));
    }
    if !offers(&state, &site, &provider) {
        return Ok(failed(
            &state,
            &provider,
            Some(origin.as_str()),
            "provider_unavailable",
            "This login method is not available on this site.",
        ));
    }
    let purpose = Purpose::Site {
        site_id: site.id,
        origin: origin.as_str(),
    };
    let target = match begin(&state.db.pool, &state.providers, &provider, purpose).await? {
        Ok(url) => url,
        Err(code) => {
            return Ok(failed(
                &state,
                &provider,
                Some(origin.as_str()),
                code,
                "This login method is not available right now.",
            ));
        }
    };
    Ok(HttpResponse::Found()
        .insert_header((header::LOCATION, target))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .finish())
}

/// Whether a site offers a provider that this server has configured.
pub(crate) fn offers(state: &AppState, site: &crate::sites::Site, provider: &str) -> bool {
    state.providers.is_available(provider) && site.providers.iter().any(|p| p == provider)
}

/// A failed login: counted by provider and code (an unconfigured provider named in a URL is
/// counted as `unknown`, so a URL can't mint label values), answered with the failure page.
fn failed(
    state: &AppState,
    provider: &str,
    origin: Option<&str>,
    code: &str,
    message: &str,
) -> HttpResponse {
    let label = if state.providers.is_available(provider) {
        provider
    } else {
        "unknown"
    };
    crate::metrics::login_outcome(label, code);
    popup::failure(origin, code, message)
}

#[derive(Deserialize)]
pub struct AuthorizeParams {
    state: Option<String>,
}

/// The dev provider's authorization page.
///
/// Only where `auth.dev_provider = true` (local demos and tests, never in production): the
/// form a login with the `dev` provider redirects to. It asks for a name (and optionally an
/// email) and posts them with the `state` to `/auth/dev/callback`. An unknown or used `state`
/// answers the failure page (`invalid_state`; nothing is posted, no origin being known).
#[utoipa::path(
    get,
    path = "/auth/dev/authorize",
    tag = "login",
    params(("state" = String, Query, description = "The login attempt's `state`, from `/auth/dev/login`.")),
    responses(
        (status = 200, description = "The \"log in as…\" form, or the failure page for an unknown or used `state`.",
            content_type = "text/html", body = String)
    )
)]
pub async fn dev_authorize(
    state: web::Data<AppState>,
    params: web::Query<AuthorizeParams>,
) -> ApiResult<HttpResponse> {
    if !state.settings.auth.dev_provider {
        return Err(ApiError::not_found("Provider"));
    }
    let s = params.state.as_deref().unwrap_or("");
    match states::exists(&state.db.pool, s).await? {
        true => Ok(dev::form(s)),
        false => Ok(popup::failure(
            None,
            "invalid_state",
            "This login link is invalid or has expired; start again from the comment form.",
        )),
    }
}

/// The dev provider's login form.
#[derive(Deserialize, ToSchema)]
pub struct DevLogin {
    /// The login attempt's `state` (single use).
    state: String,
    /// The name to log in as; it also identifies the dev user (case-insensitively).
    #[schema(example = "Ada", max_length = 80)]
    name: String,
    /// An optional email address (empty counts as none).
    #[serde(default)]
    #[schema(example = "ada@example.com")]
    email: Option<String>,
}

/// Completes a dev login.
///
/// Only where `auth.dev_provider = true`. Consumes the `state`, upserts the dev user, opens a
/// session, and answers the popup's success page, which posts `{type: "colloquy:login",
/// token, user}` to the origin the login started from and closes. An account-page attempt
/// (`/account/login/dev`, or a link started there) instead sets the account cookie or links the
/// identity and redirects (303) to `/account/`, posting nothing. Any failure answers the failure
/// page, which posts `{type: "colloquy:login-error", code, message}` (codes `invalid_state`,
/// `expired_state`, `invalid_profile`), or for an account attempt redirects to
/// `/account/#error=<code>`.
#[utoipa::path(
    post,
    path = "/auth/dev/callback",
    tag = "login",
    request_body(content = DevLogin, content_type = "application/x-www-form-urlencoded"),
    responses(
        (status = 200, description = "The success or failure page, which hands the result to the blog page by `postMessage` and closes.",
            content_type = "text/html", body = String),
        (status = 303, description = "An account-page attempt: back to `/account/` (with the account cookie) or `/account/#error=<code>`.",
            headers(("Location" = String), ("Set-Cookie" = String))),
        (status = 400, description = "`validation_failed` (`form`): the form is malformed or misses `state` or `name`.", body = ErrorBody)
    )
)]
pub async fn dev_callback(
    state: web::Data<AppState>,
    req: HttpRequest,
    form: web::Form<DevLogin>,
) -> ApiResult<HttpResponse> {
    if !state.settings.auth.dev_provider {
        return Err(ApiError::not_found("Provider"));
    }
    let Some(login) = states::consume(&state.db.pool, &form.state).await? else {
        return Ok(failed(
            &state,
            dev::PROVIDER,
            None,
            "invalid_state",
            "This login link is invalid or was already used; start again.",
        ));
    };
    if let Some(refused) = refuse_unbound(&state, &req, &login, dev::PROVIDER) {
        return Ok(refused);
    }
    if login.expired {
        return Ok(fail(
            &state,
            dev::PROVIDER,
            &login.target,
            "expired_state",
            "The login took too long; please start again.",
        ));
    }
    if login.provider != dev::PROVIDER {
        return Ok(fail(
            &state,
            dev::PROVIDER,
            &login.target,
            "invalid_state",
            "This login link belongs to another provider.",
        ));
    }
    let limits = &state.settings.limits;
    let Ok(name) = DisplayName::parse(&form.name, limits.name_max_chars) else {
        return Ok(fail(
            &state,
            dev::PROVIDER,
            &login.target,
            "invalid_profile",
            "A name is required.",
        ));
    };
    let email = form
        .email
        .as_deref()
        .filter(|e| !e.trim().is_empty())
        .map(Email::parse)
        .transpose();
    let Ok(email) = email else {
        return Ok(fail(
            &state,
            dev::PROVIDER,
            &login.target,
            "invalid_profile",
            "That email address is not valid.",
        ));
    };
    let profile = Profile {
        provider: dev::PROVIDER.to_owned(),
        subject: name.as_str().to_lowercase(),
        name: name.as_str().to_owned(),
        email: email.as_ref().map(|e| e.as_str().to_owned()),
        email_verified: false,
        avatar_url: None,
        profile_url: None,
        raw: json!({ "name": name.as_str() }),
    };
    complete(&state, &login.target, &profile).await
}

/// An account attempt finished in a browser that didn't start it (login CSRF, or someone's
/// link URL sent to a victim): refused, and nothing is told to that browser but the code.
fn refuse_unbound(
    state: &AppState,
    req: &HttpRequest,
    login: &states::LoginState,
    provider: &str,
) -> Option<HttpResponse> {
    match &login.target {
        Target::Account { browser_hash, .. }
            if !crate::api::account::login::bound(state, req, browser_hash) =>
        {
            Some(crate::api::account::login::failed(
                state,
                provider,
                "invalid_state",
            ))
        }
        _ => None,
    }
}

/// A failed attempt, answered where its purpose says: the blog popup's failure page (posted
/// to the site's origin), or a redirect to the account page with the code.
fn fail(
    state: &AppState,
    provider: &str,
    target: &Target,
    code: &str,
    message: &str,
) -> HttpResponse {
    match target {
        Target::Site { origin, .. } => failed(state, provider, Some(origin), code, message),
        Target::Account { .. } => crate::api::account::login::failed(state, provider, code),
    }
}

/// A successful attempt: a blog login opens a site session and posts it to the blog's origin;
/// an account login or link ends on the account page (cookie, or the identity linked).
async fn complete(state: &AppState, target: &Target, profile: &Profile) -> ApiResult<HttpResponse> {
    match target {
        Target::Site { site_id, origin } => complete_login(state, origin, *site_id, profile).await,
        Target::Account { link_user_id, .. } => {
            crate::api::account::login::complete(state, profile, *link_user_id).await
        }
    }
}

/// Upserts the user behind a provider profile, opens a session, answers the success popup.
async fn complete_login(
    state: &AppState,
    origin: &str,
    site_id: uuid::Uuid,
    profile: &Profile,
) -> ApiResult<HttpResponse> {
    let ttl = state.settings.auth.session_ttl_days;
    let (user_id, token) =
        crate::auth::login::into_site(&state.db.pool, profile, ttl, site_id).await?;
    tracing::info!(user.id = %user_id, provider = %profile.provider, "commenter logged in");
    crate::metrics::login_outcome(&profile.provider, "success");
    let user = PublicUser {
        id: user_id,
        name: &profile.name,
        avatar_url: profile.avatar_url.as_deref(),
        profile_url: profile.profile_url.as_deref(),
        provider: &profile.provider,
    };
    Ok(popup::success(origin, &token, &user))
}

#[derive(Deserialize)]
pub struct CallbackParams {
    code: Option<String>,
    state: Option<String>,
    error: Option<String>,
}

/// Where a provider sends the popup back.
///
/// The provider answers `?code=&state=` (or `?error=&state=`). The `state` is consumed first, so
/// it can never be replayed; then the code is exchanged (with the PKCE verifier), the profile
/// fetched (an OpenID Connect ID token is checked, `nonce` included), the user and identity
/// upserted and a session created. The answer is always a small HTML page that posts the result
/// to the origin the login started from, and only to it, then closes:
///
/// - success: `{type: "colloquy:login", token, user}`, where `user` is the public user (as
///   `GET /api/v1/me`) and `token` the session for `Authorization: Bearer`, usable on that
///   blog's site only;
/// - failure: `{type: "colloquy:login-error", code, message}`, with `code` one of
///   `invalid_state`, `expired_state`, `access_denied`, `provider_error`,
///   `provider_unavailable`, or the provider exchange's error code. Without a valid `state` no
///   origin is known: the page posts nothing and only says what happened.
///
/// An attempt started by the account page (`/account/login/{provider}`, or a link started there)
/// is told apart by its stored purpose, never by anything in the URL: it completes only in the
/// browser that started it (its login binding cookie), sets the account cookie (or links the
/// identity) and redirects (303) to `/account/` or `/account/#error=<code>`; it never posts.
#[utoipa::path(
    get,
    path = "/auth/{provider}/callback",
    tag = "login",
    params(
        ("provider" = String, Path, description = "The login provider the attempt was started with."),
        ("code" = Option<String>, Query, description = "The provider's authorization code (at most 2048 bytes)."),
        ("state" = String, Query, description = "The login attempt's `state`, as sent to the provider (single use, at most 128 bytes)."),
        ("error" = Option<String>, Query, description = "The provider's error instead of a code: `access_denied` (the reader cancelled) or any other (`provider_error`).")
    ),
    responses(
        (status = 200, description = "The popup's success or failure page (see above).",
            content_type = "text/html", body = String),
        (status = 303, description = "An account-page attempt: back to `/account/` (with the account cookie) or `/account/#error=<code>`.",
            headers(("Location" = String), ("Set-Cookie" = String)))
    )
)]
pub async fn callback(
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<String>,
    params: web::Query<CallbackParams>,
) -> ApiResult<HttpResponse> {
    let provider = path.into_inner();
    // The state is consumed before anything else, so whatever happens next it can't be replayed.
    let login = match params.state.as_deref() {
        Some(s) if !s.is_empty() && s.len() <= 128 => states::consume(&state.db.pool, s).await?,
        _ => None,
    };
    let Some(login) = login else {
        return Ok(failed(
            &state,
            &provider,
            None,
            "invalid_state",
            "This login link is invalid or was already used; start again.",
        ));
    };
    // Before the code is exchanged: an account attempt only completes in its own browser.
    if let Some(refused) = refuse_unbound(&state, &req, &login, &provider) {
        return Ok(refused);
    }
    let target = &login.target;
    if login.expired {
        return Ok(fail(
            &state,
            &provider,
            target,
            "expired_state",
            "The login took too long; please start again.",
        ));
    }
    if login.provider != provider {
        return Ok(fail(
            &state,
            &provider,
            target,
            "invalid_state",
            "This login link belongs to another provider.",
        ));
    }
    if let Some(error) = params.error.as_deref() {
        let (code, message) = if error == "access_denied" {
            ("access_denied", "The login was cancelled.")
        } else {
            ("provider_error", "The login provider reported an error.")
        };
        return Ok(fail(&state, &provider, target, code, message));
    }
    let Some(code) = params
        .code
        .as_deref()
        .filter(|c| !c.is_empty() && c.len() <= 2048)
    else {
        return Ok(fail(
            &state,
            &provider,
            target,
            "provider_error",
            "The login provider sent no authorization code.",
        ));
    };
    if !state.providers.is_available(&provider) || provider == dev::PROVIDER {
        return Ok(fail(
            &state,
            &provider,
            target,
            "provider_unavailable",
            "This login method is not available.",
        ));
    }
    let attempt = Attempt {
        state: "",
        pkce_verifier: &login.pkce_verifier,
        nonce: &login.nonce,
    };
    match state.providers.finish(&provider, code, &attempt).await {
        Ok(profile) => complete(&state, target, &profile).await,
        Err(e) => {
            tracing::warn!(provider = %provider, error = %e, "login failed");
            Ok(fail(
                &state,
                &provider,
                target,
                e.code(),
                "The login could not be completed; please try again.",
            ))
        }
    }
}

/// A commenter as anyone may see them (API.md "user": never an email or IP).
#[derive(Serialize, ToSchema)]
pub struct PublicUser<'a> {
    pub id: uuid::Uuid,
    /// Display name, from the login provider.
    #[schema(example = "Ada")]
    pub name: &'a str,
    /// Avatar image from the provider, if any.
    pub avatar_url: Option<&'a str>,
    /// Profile page, if any.
    pub profile_url: Option<&'a str>,
    /// The login this session came through: `wordpress`, `twitter`, `facebook`, `google`,
    /// `oidc-<name>`, `dev`.
    #[schema(example = "google")]
    pub provider: &'a str,
}

fn public_user(u: &SessionUser) -> PublicUser<'_> {
    PublicUser {
        id: u.user_id,
        name: &u.name,
        avatar_url: u.avatar_url.as_deref(),
        profile_url: u.profile_url.as_deref(),
        provider: &u.provider,
    }
}

/// The signed-in reader.
///
/// The public view of the session's user (the widget shows who is logged in). 401 without a
/// session, or with an ended or expired one.
#[utoipa::path(
    get,
    path = "/api/v1/me",
    tag = "account",
    security(("commenter" = [])),
    responses(
        (status = 200, description = "The session's user.", body = PublicUser)
    )
)]
pub async fn me(Commenter(user): Commenter) -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(public_user(&user))
}

/// Logs out.
///
/// Ends the session on the server: its token stops working at once.
#[utoipa::path(
    post,
    path = "/api/v1/logout",
    operation_id = "commenter_logout",
    tag = "account",
    security(("commenter" = [])),
    responses(
        (status = 204, description = "The session is ended."),
        (status = 403, description = "`origin_not_allowed` (CORS: a page of an origin no site registered).", body = ErrorBody)
    )
)]
pub async fn logout(
    state: web::Data<AppState>,
    Commenter(user): Commenter,
) -> ApiResult<HttpResponse> {
    sessions::revoke(&state.db.pool, user.session_id).await?;
    Ok(HttpResponse::NoContent().finish())
}
