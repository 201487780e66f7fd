//! `/api/mod/v1/login` and `/logout`: a moderator's password session.

use actix_web::{HttpResponse, web};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::auth::moderators::store::{self};
use crate::auth::moderators::throttle;
use crate::auth::moderators::{Credential, Moderator, SiteScope, password, scope};
use crate::domain::Email;
use crate::domain::client::ClientInfo;
use crate::domain::datetime::rfc3339;
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::http::json::ApiJson;
use crate::http::private;
use crate::state::AppState;

fn bad_credentials() -> ApiError {
    // One answer for an unknown email and a wrong password: which one it was is the secret.
    ApiError::unauthenticated("Wrong email or password.")
}

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
        (status = 429, description = "`rate_limited`: too many failed logins for this email or IP; wait `Retry-After` seconds.", body = ErrorBody,
            headers(("Retry-After" = u64, description = "Seconds to wait before trying again.")))
    )
)]
pub async fn login(
    state: web::Data<AppState>,
    client: ClientInfo,
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
        (status = 403, description = "`forbidden`: the request was made with an API token, not a login session.", body = ErrorBody)
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
