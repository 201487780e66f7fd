//! The account page itself (`/account/`), served from the binary: one HTML file, its script and
//! its stylesheet. No inline script and nothing from another origin, so the page runs under
//! `script-src 'self'`; it can't be framed, and it sends no `Referer` to the blogs it links to.

use std::sync::LazyLock;

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sha2::{Digest, Sha256};

use crate::error::ApiError;

const HTML: &str = include_str!("page/index.html");
const SCRIPT: &str = include_str!("page/account.js");
const STYLE: &str = include_str!("page/account.css");

/// Avatars come from the login providers (https); everything else from this origin only.
const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' https: data:; \
                   connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

/// A hash of the script and stylesheet: `?v=` pins an immutable copy of this build's.
static VERSION: LazyLock<String> = LazyLock::new(|| {
    let mut h = Sha256::new();
    h.update(SCRIPT.as_bytes());
    h.update(STYLE.as_bytes());
    URL_SAFE_NO_PAD.encode(&h.finalize()[..12])
});

/// The account page without its slash.
///
/// Redirects to `/account/`.
#[utoipa::path(
    get,
    path = "/account",
    operation_id = "account_page_redirect",
    tag = "account",
    responses((status = 308, description = "To `/account/`.", headers(("Location" = String))))
)]
pub async fn redirect() -> HttpResponse {
    HttpResponse::PermanentRedirect()
        .insert_header((header::LOCATION, "/account/"))
        .finish()
}

/// The account page.
///
/// Where a reader logs in on Colloquy's own origin and sees their comments on every blog,
/// links and unlinks logins, downloads their data and erases their account. Served with a
/// strict CSP (`script-src 'self'`, no inline script, nothing from another origin).
#[utoipa::path(
    get,
    path = "/account/",
    operation_id = "account_page",
    tag = "account",
    responses((status = 200, description = "The page.", content_type = "text/html", body = String))
)]
pub async fn page() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/html; charset=utf-8")
        .insert_header((header::CONTENT_SECURITY_POLICY, CSP))
        .insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .insert_header((header::REFERRER_POLICY, "no-referrer"))
        .insert_header((header::X_FRAME_OPTIONS, "DENY"))
        .insert_header((header::CACHE_CONTROL, "no-cache"))
        .body(HTML.replace("__VERSION__", &VERSION))
}

/// A file of the account page.
#[utoipa::path(
    get,
    path = "/account/{asset}",
    operation_id = "account_asset",
    tag = "account",
    params(("asset" = String, Path, description = "`account.js` or `account.css`."),
           ("v" = Option<String>, Query, description = "The page's version; pins an immutable copy.")),
    responses(
        (status = 200, description = "The file.", content_type = "text/javascript", body = String),
        (status = 404, description = "No such file.", body = crate::error::ErrorBody)
    )
)]
pub async fn asset(path: web::Path<String>, req: HttpRequest) -> Result<HttpResponse, ApiError> {
    let (body, content_type) = match path.as_str() {
        "account.js" => (SCRIPT, "text/javascript; charset=utf-8"),
        "account.css" => (STYLE, "text/css; charset=utf-8"),
        _ => return Err(ApiError::not_found("Asset")),
    };
    let versioned = req.query_string() == format!("v={}", &*VERSION);
    let cache = if versioned {
        "public, max-age=31536000, immutable"
    } else {
        "public, max-age=300"
    };
    Ok(HttpResponse::Ok()
        .content_type(content_type)
        .insert_header((header::CACHE_CONTROL, cache))
        .insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .body(body))
}
