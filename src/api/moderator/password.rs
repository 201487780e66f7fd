//! The caller's own account: `POST /me/password` (the change itself, shared with the operator's
//! `colloquy moderator reset-password`, is `auth::moderators::password_change`).
//!
//! A new password ends the account's other sessions: whoever logged in with the old one (the
//! reason to change it, often) is out. API tokens are revoked too unless the caller asks to
//! keep them: a token minted from a stolen session would otherwise outlive the password change
//! that was meant to shut the thief out, and tokens are cheap to mint again. A routine rotation
//! can pass `keep_api_tokens` to leave the scripts running.

use actix_web::{HttpResponse, web};
use serde::Deserialize;
use utoipa::ToSchema;

use crate::audit::Actor;
use crate::auth::moderators::{Credential, Moderator, password, password_change, store, throttle};
use crate::domain::client::ClientInfo;
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::http::json::ApiJson;
use crate::http::private;
use crate::state::AppState;

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PasswordBody {
    /// The account's password now.
    #[schema(format = Password)]
    current_password: String,
    /// The new password (at least 12 characters).
    #[schema(format = Password)]
    new_password: String,
    /// Leave the account's API tokens working (default: they are revoked too).
    #[serde(default)]
    keep_api_tokens: bool,
}

/// Changes the caller's password (needs the current one and a login session).
///
/// Ends the account's other sessions (this one stays) and revokes its API tokens unless
/// `keep_api_tokens` is true. Wrong current passwords count toward the login throttle.
#[utoipa::path(
    post,
    path = "/api/mod/v1/me/password",
    tag = "team",
    security(("moderator" = [])),
    request_body = PasswordBody,
    responses(
        (status = 200, description = "Changed; what it ended.", body = password_change::PasswordChanged),
        (status = 400, description = "`invalid_json` or `validation_failed` (`new_password` too short or long; `current_password` too long).", body = ErrorBody),
        (status = 403, description = "`wrong_password` (the current password is wrong) or `login_required` (made with an API token).", body = ErrorBody),
        (status = 429, description = "`rate_limited`: too many wrong passwords; wait `Retry-After` seconds.", body = ErrorBody,
            headers(("Retry-After" = u64, description = "Seconds to wait before trying again.")))
    )
)]
pub async fn change_password(
    state: web::Data<AppState>,
    client: ClientInfo,
    moderator: Moderator,
    body: ApiJson<PasswordBody>,
) -> ApiResult<HttpResponse> {
    let Credential::Session(session_id) = moderator.credential else {
        return Err(ApiError::forbidden(
            "login_required",
            "Changing the password needs a login session, not an API token.",
        ));
    };
    let PasswordBody {
        current_password,
        new_password,
        keep_api_tokens,
    } = body.0;
    if current_password.len() > password::MAX_BYTES {
        return Err(ApiError::validation(
            "current_password",
            format!("must be at most {} bytes", password::MAX_BYTES),
        ));
    }
    let new_password = password::NewPassword::parse(new_password)
        .map_err(|e| ApiError::validation("new_password", e))?;
    let pool = &state.db.pool;
    let auth = &state.settings.auth;
    // A stolen session must not become a password oracle: counted like a login.
    let keys = throttle::Keys::new(&moderator.email, client.ip);
    let attempt = throttle::open(pool, &keys, auth).await?;
    let stored = store::find_login(pool, &moderator.email)
        .await?
        .filter(|a| a.id == moderator.id)
        .map(|a| a.password_hash);
    if !password::verify(current_password, stored).await? {
        throttle::failed(pool, auth, attempt).await?;
        tracing::info!(moderator.id = %moderator.id, "password change refused");
        return Err(ApiError::forbidden(
            "wrong_password",
            "The current password is wrong.",
        ));
    }
    throttle::succeeded(pool, &keys, auth, attempt).await?;
    let changed = password_change::set_password(
        pool,
        moderator.id,
        new_password,
        Some(session_id),
        keep_api_tokens,
        Actor::Moderator(moderator.id),
    )
    .await?;
    tracing::info!(
        moderator.id = %moderator.id,
        sessions_ended = changed.sessions_ended,
        api_tokens_revoked = changed.api_tokens_revoked,
        "password changed"
    );
    Ok(private(HttpResponse::Ok()).json(changed))
}
