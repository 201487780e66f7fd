//! `/auth/{provider}/login|callback` (the popup flow), `/api/v1/me` and `/api/v1/logout`.

use actix_web::http::header;
use actix_web::{HttpResponse, web};
use serde::Deserialize;
use serde_json::json;

use super::providers::Attempt;
use super::sessions::{self, SessionUser};
use super::users::{self, Profile};
use super::{Commenter, dev, popup, states};
use crate::app::AppState;
use crate::domain::{DisplayName, Email, Origin};
use crate::error::{ApiError, ApiResult};

#[derive(Deserialize)]
pub struct LoginParams {
    site: Option<String>,
    origin: Option<String>,
}

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
    let target = match begin(&state, &provider, site.id, origin.as_str(), None).await? {
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

/// Starts a login attempt (stored, single use) and answers where the popup goes next: the
/// provider's authorize page, or an error code when the provider can't be reached right now.
/// `link_user_id` makes it a linking attempt: the callback attaches the identity to that user.
pub(crate) async fn begin(
    state: &AppState,
    provider: &str,
    site_id: uuid::Uuid,
    origin: &str,
    link_user_id: Option<uuid::Uuid>,
) -> ApiResult<Result<String, &'static str>> {
    let started = states::start(
        &state.db.pool,
        &states::NewState {
            provider,
            site_id,
            origin,
            link_user_id,
        },
    )
    .await?;
    if provider == dev::PROVIDER {
        return Ok(Ok(format!("/auth/dev/authorize?state={}", started.state)));
    }
    let attempt = Attempt {
        state: &started.state,
        pkce_verifier: &started.pkce_verifier,
        nonce: &started.nonce,
    };
    match state.providers.authorize_url(provider, &attempt).await {
        Ok(url) => Ok(Ok(url)),
        Err(e) => {
            tracing::warn!(provider = %provider, error = %e, "login could not start");
            Ok(Err(e.code()))
        }
    }
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

/// The dev provider's "authorization page".
pub async fn dev_authorize(
    state: web::Data<AppState>,
    params: web::Query<AuthorizeParams>,
) -> ApiResult<HttpResponse> {
    if !state.settings.auth.dev_provider {
        return Err(ApiError::not_found("Provider"));
    }
    let s = params.state.as_deref().unwrap_or("");
    match states::peek_origin(&state.db.pool, s).await? {
        Some(_) => Ok(dev::form(s)),
        None => Ok(popup::failure(
            None,
            "invalid_state",
            "This login link is invalid or has expired; start again from the comment form.",
        )),
    }
}

#[derive(Deserialize)]
pub struct DevLogin {
    state: String,
    name: String,
    #[serde(default)]
    email: Option<String>,
}

/// The dev provider's callback: consumes the state, upserts the user, opens a session.
pub async fn dev_callback(
    state: web::Data<AppState>,
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
    let origin = login.origin.as_str();
    if login.expired {
        return Ok(failed(
            &state,
            dev::PROVIDER,
            Some(origin),
            "expired_state",
            "The login took too long; please start again.",
        ));
    }
    if login.provider != dev::PROVIDER {
        return Ok(failed(
            &state,
            dev::PROVIDER,
            Some(origin),
            "invalid_state",
            "This login link belongs to another provider.",
        ));
    }
    let limits = &state.settings.limits;
    let Ok(name) = DisplayName::parse(&form.name, limits.name_max_chars) else {
        return Ok(failed(
            &state,
            dev::PROVIDER,
            Some(origin),
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
        return Ok(failed(
            &state,
            dev::PROVIDER,
            Some(origin),
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
    complete_login(&state, origin, login.site_id, &profile, login.link_user_id).await
}

/// Upserts the user behind a provider profile, opens a session, answers the success popup.
async fn complete_login(
    state: &AppState,
    origin: &str,
    site_id: uuid::Uuid,
    profile: &Profile,
    link_user_id: Option<uuid::Uuid>,
) -> ApiResult<HttpResponse> {
    if let Some(user_id) = link_user_id {
        return super::account::complete_link(state, origin, profile, user_id).await;
    }
    let mut tx = state.db.pool.begin().await?;
    let user_id = users::upsert(&mut tx, profile).await?;
    let token = sessions::create_for_site(
        &mut tx,
        user_id,
        &profile.provider,
        state.settings.auth.session_ttl_days,
        site_id,
    )
    .await?;
    tx.commit().await?;
    tracing::info!(user.id = %user_id, provider = %profile.provider, "commenter logged in");
    crate::metrics::login_outcome(&profile.provider, "success");
    let user = json!({
        "id": user_id,
        "name": profile.name,
        "avatar_url": profile.avatar_url,
        "profile_url": profile.profile_url,
        "provider": profile.provider,
    });
    Ok(popup::success(origin, &token, user))
}

#[derive(Deserialize)]
pub struct CallbackParams {
    code: Option<String>,
    state: Option<String>,
    error: Option<String>,
}

/// Where a provider sends the browser back: `?code=&state=` or `?error=&state=`.
pub async fn callback(
    state: web::Data<AppState>,
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
    let origin = login.origin.as_str();
    if login.expired {
        return Ok(failed(
            &state,
            &provider,
            Some(origin),
            "expired_state",
            "The login took too long; please start again.",
        ));
    }
    if login.provider != provider {
        return Ok(failed(
            &state,
            &provider,
            Some(origin),
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
        return Ok(failed(&state, &provider, Some(origin), code, message));
    }
    let Some(code) = params
        .code
        .as_deref()
        .filter(|c| !c.is_empty() && c.len() <= 2048)
    else {
        return Ok(failed(
            &state,
            &provider,
            Some(origin),
            "provider_error",
            "The login provider sent no authorization code.",
        ));
    };
    if !state.providers.is_available(&provider) || provider == dev::PROVIDER {
        return Ok(failed(
            &state,
            &provider,
            Some(origin),
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
        Ok(profile) => {
            complete_login(&state, origin, login.site_id, &profile, login.link_user_id).await
        }
        Err(e) => {
            tracing::warn!(provider = %provider, error = %e, "login failed");
            Ok(failed(
                &state,
                &provider,
                Some(origin),
                e.code(),
                "The login could not be completed; please try again.",
            ))
        }
    }
}

fn public_user(u: &SessionUser) -> serde_json::Value {
    json!({
        "id": u.user_id,
        "name": u.name,
        "avatar_url": u.avatar_url,
        "profile_url": u.profile_url,
        "provider": u.provider,
    })
}

pub async fn me(Commenter(user): Commenter) -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(public_user(&user))
}

pub async fn logout(
    state: web::Data<AppState>,
    Commenter(user): Commenter,
) -> ApiResult<HttpResponse> {
    sessions::revoke(&state.db.pool, user.session_id).await?;
    Ok(HttpResponse::NoContent().finish())
}
