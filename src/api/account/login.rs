//! Logging in to the account page (`/account/login/{provider}`), the end of an account login or
//! link at the shared provider callback, and logging out.
//!
//! The whole flow happens in the account page's own window on Colloquy's origin: it navigates
//! to the provider and comes back to `/auth/{provider}/callback`, which sets the account cookie
//! (or links the identity) and redirects (303) to `/account/`. Nothing is ever `postMessage`d:
//! no other page can receive an account session.

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};

use super::cookie::{self, AccountSession};
use crate::auth::account::store::Link;
use crate::auth::attempt::begin;
use crate::auth::login;
use crate::auth::states::Purpose;
use crate::auth::users::Profile;
use crate::auth::{sessions, token};
use crate::error::{ApiResult, ErrorBody};
use crate::state::AppState;

/// Where the account page is.
pub const PAGE: &str = "/account/";

/// A redirect back to the account page, with what happened in its fragment (never sent to a
/// server, so it isn't in logs or a `Referer`), spending the login binding.
fn back(state: &AppState, fragment: &str) -> HttpResponse {
    let to = if fragment.is_empty() {
        PAGE.to_owned()
    } else {
        format!("{PAGE}#{fragment}")
    };
    HttpResponse::SeeOther()
        .insert_header((header::LOCATION, to))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .insert_header((header::REFERRER_POLICY, "no-referrer"))
        .insert_header((
            header::SET_COOKIE,
            cookie::clear_login_cookie(&state.settings),
        ))
        .finish()
}

/// The account page's answer to a failed login or link: `#error=<code>`.
pub fn failed(state: &AppState, provider: &str, code: &str) -> HttpResponse {
    let label = if state.providers.is_available(provider) {
        provider
    } else {
        "unknown"
    };
    crate::metrics::login_outcome(label, code);
    back(state, &format!("error={code}"))
}

/// Starts an account login (or, from [`super::routes::start_link`], a link): stores the
/// attempt bound to this browser and answers where to go (the provider, or the dev form),
/// with the binding cookie to set.
pub(crate) async fn start(
    state: &AppState,
    provider: &str,
    link_user_id: Option<uuid::Uuid>,
) -> ApiResult<Result<(String, String), &'static str>> {
    let binding = token::generate();
    let purpose = Purpose::Account {
        browser_hash: token::hash(&binding),
        link_user_id,
    };
    Ok(begin(&state.db.pool, &state.providers, provider, purpose)
        .await?
        .map(|url| (url, cookie::login_cookie(&state.settings, &binding))))
}

/// Log in to the account page.
///
/// A navigation of the account page's own window (not a popup): it stores a single-use login
/// attempt marked as an *account* login and bound to this browser (a `SameSite=Lax` HttpOnly
/// cookie whose hash the attempt keeps), then redirects (302) to the provider, or to
/// `/auth/dev/authorize` for `dev`. The provider comes back to `/auth/{provider}/callback`,
/// which sets the account session cookie and redirects (303) to `/account/` — or to
/// `/account/#error=<code>`. A blog's popup login can never end in an account session, nor
/// this one in a token posted to a page. Any configured provider is offered (and `dev` where
/// enabled); an unknown one redirects to `/account/#error=provider_unavailable`.
#[utoipa::path(
    get,
    path = "/account/login/{provider}",
    operation_id = "account_login",
    tag = "account",
    params(("provider" = String, Path, description = "A configured provider: `wordpress`, `twitter`, `facebook`, `google`, `oidc-<name>`, or `dev` where enabled.")),
    responses(
        (status = 302, description = "To the provider's authorization page (sets the login binding cookie).",
            headers(("Location" = String), ("Set-Cookie" = String, description = "The login binding (HttpOnly, SameSite=Lax, 10 minutes)."))),
        (status = 303, description = "Back to `/account/#error=<code>`: the provider isn't available.",
            headers(("Location" = String))),
        (status = 503, description = "The database is unavailable (`unavailable`, with `Retry-After`).", body = ErrorBody)
    )
)]
pub async fn login(state: web::Data<AppState>, path: web::Path<String>) -> ApiResult<HttpResponse> {
    let provider = path.into_inner();
    if !state.providers.is_available(&provider) {
        return Ok(failed(&state, &provider, "provider_unavailable"));
    }
    match start(&state, &provider, None).await? {
        Ok((url, set_cookie)) => Ok(HttpResponse::Found()
            .insert_header((header::LOCATION, url))
            .insert_header((header::CACHE_CONTROL, "no-store"))
            .insert_header((header::SET_COOKIE, set_cookie))
            .finish()),
        Err(code) => Ok(failed(&state, &provider, code)),
    }
}

/// Whether this browser started the attempt (its binding cookie matches).
pub fn bound(state: &AppState, req: &HttpRequest, browser_hash: &[u8]) -> bool {
    cookie::read(req, cookie::login_name(&state.settings))
        .is_some_and(|secret| token::hash(&secret).as_slice() == browser_hash)
}

/// The end of a successful account attempt at the callback: a login sets the account cookie,
/// a link attaches the identity to the user who started it. Either way, back to `/account/`.
pub async fn complete(
    state: &AppState,
    profile: &Profile,
    link_user_id: Option<uuid::Uuid>,
) -> ApiResult<HttpResponse> {
    let provider = profile.provider.as_str();
    if let Some(user_id) = link_user_id {
        return match login::link(&state.db.pool, user_id, profile).await? {
            Link::Linked(_) => {
                tracing::info!(user.id = %user_id, provider = %provider, "identity linked");
                crate::metrics::login_outcome(provider, "linked");
                Ok(back(state, &format!("linked={provider}")))
            }
            Link::InUse => Ok(failed(state, provider, "identity_in_use")),
            Link::UserGone => Ok(failed(state, provider, "account_gone")),
        };
    }
    let ttl = state.settings.auth.session_ttl_days;
    let (user_id, secret) = login::into_account(&state.db.pool, profile, ttl).await?;
    tracing::info!(user.id = %user_id, provider = %provider, "account page login");
    crate::metrics::login_outcome(provider, "success");
    let mut res = back(state, "");
    res.headers_mut().append(
        header::SET_COOKIE,
        header::HeaderValue::from_str(&cookie::session_cookie(&state.settings, &secret))
            .map_err(|e| crate::error::ApiError::internal(anyhow::anyhow!(e)))?,
    );
    Ok(res)
}

/// Log out of the account page.
///
/// Ends the account session on the server and clears its cookie. Blog sessions are untouched.
#[utoipa::path(
    post,
    path = "/account/api/logout",
    operation_id = "account_logout",
    tag = "account",
    params(("X-Colloquy-Account" = String, Header, description = "Any value; required on every account request (CSRF).")),
    security(("account" = [])),
    responses(
        (status = 204, description = "Logged out; the cookie is cleared.")
    )
)]
pub async fn logout(
    state: web::Data<AppState>,
    AccountSession(user): AccountSession,
) -> ApiResult<HttpResponse> {
    sessions::revoke(&state.db.pool, user.session_id).await?;
    Ok(HttpResponse::NoContent()
        .insert_header((
            header::SET_COOKIE,
            cookie::clear_session_cookie(&state.settings),
        ))
        .finish())
}
