//! Starting a login: a stored, single-use attempt (state, PKCE verifier, nonce) and where the
//! browser goes next. Reader logins (`auth::routes`) and account logins and links
//! (`auth::account::login`) both start here.

use sqlx::PgPool;

use super::dev;
use super::providers::{Attempt, Providers};
use super::states::{self, Purpose};
use crate::error::ApiResult;

/// Starts a login attempt (stored, single use) and answers where the browser goes next: the
/// provider's authorize page, or an error code when the provider can't be reached right now.
/// `purpose` decides, on the server, what the callback will do with the result.
pub async fn begin(
    pool: &PgPool,
    providers: &Providers,
    provider: &str,
    purpose: Purpose<'_>,
) -> ApiResult<Result<String, &'static str>> {
    let started = states::start(pool, &states::NewState { provider, purpose }).await?;
    if provider == dev::PROVIDER {
        return Ok(Ok(format!("/auth/dev/authorize?state={}", started.state)));
    }
    let attempt = Attempt {
        state: &started.state,
        pkce_verifier: &started.pkce_verifier,
        nonce: &started.nonce,
    };
    match providers.authorize_url(provider, &attempt).await {
        Ok(url) => Ok(Ok(url)),
        Err(e) => {
            tracing::warn!(provider = %provider, error = %e, "login could not start");
            Ok(Err(e.code()))
        }
    }
}
