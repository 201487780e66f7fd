//! `/auth/{provider}/login|callback` (the popup flow), `/api/v1/me` and `/api/v1/logout`.

use actix_web::http::header;
use actix_web::{HttpResponse, web};
use serde::Deserialize;
use serde_json::json;

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

/// Whether `provider` can be used on this server at all.
fn provider_available(state: &AppState, provider: &str) -> bool {
    provider == dev::PROVIDER && state.settings.auth.dev_provider
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
    if !provider_available(&state, &provider) || !site.providers.iter().any(|p| p == &provider) {
        return Ok(popup::failure(
            Some(origin.as_str()),
            "provider_unavailable",
            "This login method is not available on this site.",
        ));
    }
    let started = states::start(
        &state.db.pool,
        &states::NewState {
            provider: &provider,
            site_id: site.id,
            origin: origin.as_str(),
        },
    )
    .await?;
    let target = format!("/auth/dev/authorize?state={}", started.state);
    Ok(HttpResponse::Found()
        .insert_header((header::LOCATION, target))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .finish())
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
        return Ok(popup::failure(
            None,
            "invalid_state",
            "This login link is invalid or was already used; start again.",
        ));
    };
    let origin = login.origin.as_str();
    if login.expired {
        return Ok(popup::failure(
            Some(origin),
            "expired_state",
            "The login took too long; please start again.",
        ));
    }
    if login.provider != dev::PROVIDER {
        return Ok(popup::failure(
            Some(origin),
            "invalid_state",
            "This login link belongs to another provider.",
        ));
    }
    let limits = &state.settings.limits;
    let Ok(name) = DisplayName::parse(&form.name, limits.name_max_chars) else {
        return Ok(popup::failure(
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
        return Ok(popup::failure(
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
    let mut tx = state.db.pool.begin().await?;
    let user_id = users::upsert(&mut tx, &profile).await?;
    let token = sessions::create(
        &mut tx,
        user_id,
        dev::PROVIDER,
        state.settings.auth.session_ttl_days,
    )
    .await?;
    tx.commit().await?;
    tracing::info!(user.id = %user_id, provider = dev::PROVIDER, "commenter logged in");
    let user = json!({
        "id": user_id, "name": profile.name, "avatar_url": null, "profile_url": null, "provider": dev::PROVIDER,
    });
    Ok(popup::success(origin, &token, user))
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
