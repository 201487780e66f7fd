//! The account page's cookies and its CSRF defence.
//!
//! Two cookies, both HttpOnly, host-only (no `Domain`), `Secure` and `__Host-` prefixed when
//! `server.public_url` is https (so a sibling subdomain can't plant one):
//!
//! - the account session (`colloquy-account`): `SameSite=Strict`. Only the page's own
//!   same-origin `fetch`es need it; it never travels on a navigation or request started by
//!   another site, so no blog page can make a reader's browser act with it.
//! - the login binding (`colloquy-login`): `SameSite=Lax`, 10 minutes. Set when an account
//!   login or link starts; the provider sends the browser back to `/auth/{p}/callback` with a
//!   cross-site top-level navigation, which carries Lax cookies but not Strict ones. The
//!   attempt stores its SHA-256, so a login or link URL finished in another browser (login
//!   CSRF, or planting an attacker's identity) opens and links nothing.
//!
//! Every `/account/api` request also passes [`guard`]: a request another site's page could
//! make is refused before any handler runs.

use std::future::Future;
use std::pin::Pin;

use actix_web::body::MessageBody;
use actix_web::dev::{Payload, ServiceRequest, ServiceResponse};
use actix_web::http::{Method, header};
use actix_web::middleware::Next;
use actix_web::{FromRequest, HttpRequest, ResponseError, web};

use crate::auth::sessions::{self, SessionUser};
use crate::config::Settings;
use crate::error::ApiError;
use crate::state::AppState;

/// The header every `/account/api` request must carry. A page of another origin can only send
/// it after a CORS preflight, which `/account` never grants.
pub const CSRF_HEADER: &str = "x-colloquy-account";

/// Minutes an account login or link has to come back to the callback (as `login_states`).
const LOGIN_COOKIE_SECONDS: i64 = 600;

fn secure(settings: &Settings) -> bool {
    settings.server.public_url.starts_with("https://")
}

/// The account session cookie's name.
pub fn session_name(settings: &Settings) -> &'static str {
    if secure(settings) {
        "__Host-colloquy-account"
    } else {
        "colloquy-account"
    }
}

/// The login binding cookie's name.
pub fn login_name(settings: &Settings) -> &'static str {
    if secure(settings) {
        "__Host-colloquy-login"
    } else {
        "colloquy-login"
    }
}

fn set_cookie(
    settings: &Settings,
    name: &str,
    value: &str,
    same_site: &str,
    max_age: i64,
) -> String {
    let secure = if secure(settings) { "; Secure" } else { "" };
    format!("{name}={value}; Path=/; HttpOnly; SameSite={same_site}; Max-Age={max_age}{secure}")
}

/// `Set-Cookie` for a new account session.
pub fn session_cookie(settings: &Settings, secret: &str) -> String {
    let max_age = i64::from(settings.auth.session_ttl_days) * 86_400;
    set_cookie(settings, session_name(settings), secret, "Strict", max_age)
}

/// `Set-Cookie` ending the account session in the browser.
pub fn clear_session_cookie(settings: &Settings) -> String {
    set_cookie(settings, session_name(settings), "", "Strict", 0)
}

/// `Set-Cookie` for the binding of a login or link attempt.
pub fn login_cookie(settings: &Settings, secret: &str) -> String {
    set_cookie(
        settings,
        login_name(settings),
        secret,
        "Lax",
        LOGIN_COOKIE_SECONDS,
    )
}

/// `Set-Cookie` spending the binding once the callback has read it.
pub fn clear_login_cookie(settings: &Settings) -> String {
    set_cookie(settings, login_name(settings), "", "Lax", 0)
}

/// A cookie's value from the request's `Cookie` headers (the first of that name).
pub fn read(req: &HttpRequest, name: &str) -> Option<String> {
    req.headers()
        .get_all(header::COOKIE)
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.trim().to_owned())
        .filter(|v| !v.is_empty() && v.len() <= 128)
}

/// The origin browsers see Colloquy at (scheme://host[:port] of `server.public_url`).
pub fn public_origin(settings: &Settings) -> String {
    url::Url::parse(&settings.server.public_url)
        .map(|u| u.origin().ascii_serialization())
        .unwrap_or_default()
}

/// Middleware on `/account/api`: refuses what another site's page could send.
///
/// - `X-Colloquy-Account` must be present (cross-origin, only after a preflight nobody grants);
/// - `Origin`, when sent, must be Colloquy's own (`server.public_url`), and every method but
///   GET/HEAD must send one (browsers always do for those);
/// - `Sec-Fetch-Site`, when sent, must be `same-origin`.
///
/// With the session cookie's `SameSite=Strict` that is three independent locks.
pub async fn guard(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<actix_web::body::BoxBody>, actix_web::Error> {
    let refused = |req: ServiceRequest, why: &str| {
        let err = ApiError::forbidden(
            "cross_site_request",
            format!("Account requests come from the account page only ({why})."),
        );
        Ok(req.into_response(err.error_response()))
    };
    let Some(state) = req.app_data::<web::Data<AppState>>().cloned() else {
        return refused(req, "no state");
    };
    let headers = req.headers();
    if !headers.contains_key(CSRF_HEADER) {
        return refused(req, "missing X-Colloquy-Account");
    }
    let origin = headers.get(header::ORIGIN).and_then(|v| v.to_str().ok());
    match origin {
        Some(o) if o != public_origin(&state.settings) => {
            return refused(req, "foreign Origin");
        }
        None if !matches!(*req.method(), Method::GET | Method::HEAD) => {
            return refused(req, "no Origin");
        }
        _ => {}
    }
    if let Some(site) = headers.get("sec-fetch-site")
        && site.as_bytes() != b"same-origin"
    {
        return refused(req, "not same-origin");
    }
    next.call(req)
        .await
        .map(ServiceResponse::map_into_boxed_body)
}

/// A caller holding a valid account session (the `/account/` cookie). A blog's Bearer token
/// is never looked at here, and the cookie is never accepted by `/api/v1`.
#[derive(Debug, Clone)]
pub struct AccountSession(pub SessionUser);

impl FromRequest for AccountSession {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ApiError>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let req = req.clone();
        Box::pin(async move {
            let state = req
                .app_data::<web::Data<AppState>>()
                .cloned()
                .ok_or_else(|| ApiError::internal(anyhow::anyhow!("AppState missing")))?;
            let Some(secret) = read(&req, session_name(&state.settings)) else {
                return Err(ApiError::unauthenticated("Log in to your account first."));
            };
            sessions::find_account(&state.db.pool, &secret)
                .await?
                .map(AccountSession)
                .ok_or_else(|| {
                    ApiError::unauthenticated(
                        "Your account session has expired or was ended; please log in again.",
                    )
                })
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(public_url: &str) -> Settings {
        Settings::load_from(
            std::path::Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/config")),
            "test",
            [(
                "COLLOQUY__SERVER__PUBLIC_URL".to_owned(),
                public_url.to_owned(),
            )],
        )
        .unwrap()
    }

    #[test]
    fn under_https_the_cookies_are_secure_and_host_prefixed() {
        let s = settings("https://comments.example/");
        let session = session_cookie(&s, "abc");
        assert!(
            session.starts_with("__Host-colloquy-account=abc; Path=/;"),
            "{session}"
        );
        for attr in ["HttpOnly", "SameSite=Strict", "Secure"] {
            assert!(session.contains(attr), "{session}");
        }
        assert!(!session.contains("Domain"));
        let login = login_cookie(&s, "xyz");
        assert!(
            login.starts_with("__Host-colloquy-login=xyz; Path=/;"),
            "{login}"
        );
        for attr in ["HttpOnly", "SameSite=Lax", "Secure", "Max-Age=600"] {
            assert!(login.contains(attr), "{login}");
        }
        assert_eq!(public_origin(&s), "https://comments.example");
    }

    #[test]
    fn over_plain_http_the_cookies_carry_no_secure_flag_or_prefix() {
        let s = settings("http://localhost:8080");
        assert!(session_cookie(&s, "abc").starts_with("colloquy-account=abc;"));
        assert!(!session_cookie(&s, "abc").contains("Secure"));
        assert!(clear_session_cookie(&s).contains("Max-Age=0"));
        assert_eq!(public_origin(&s), "http://localhost:8080");
    }
}
