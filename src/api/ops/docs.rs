//! `/api/openapi.json` and the `/api/docs` viewer. Swagger UI is vendored
//! (`scripts/vendor-swagger-ui.sh`) and served from the binary: the page loads nothing from any
//! other origin, so it works offline and under its own strict CSP.

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};

use crate::error::ApiError;
use crate::state::AppState;

const SWAGGER_UI_VERSION: &str = "5.35.0";
const BUNDLE_JS: &[u8] = include_bytes!("swagger-ui/swagger-ui-bundle.js");
const BUNDLE_CSS: &[u8] = include_bytes!("swagger-ui/swagger-ui.css");
const LICENSE: &[u8] = include_bytes!("swagger-ui/LICENSE");
const NOTICE: &[u8] = include_bytes!("swagger-ui/NOTICE");

// No inline script, so `script-src 'self'` holds; Swagger UI sets inline styles.
const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; \
                   img-src 'self' data:; font-src 'self' data:; connect-src 'self'; \
                   base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/// The viewer's start-up: the document next to this page, and no validator badge (Swagger UI
/// would otherwise send the document to validator.swagger.io).
const INIT_JS: &str = r##""use strict";
window.addEventListener("load", function () {
  window.ui = SwaggerUIBundle({
    url: new URL("openapi.json", document.baseURI).href,
    dom_id: "#swagger-ui",
    deepLinking: true,
    validatorUrl: null,
    displayRequestDuration: true,
    persistAuthorization: false
  });
});
"##;

/// This document: every route of this server, as OpenAPI 3.1.
///
/// Built once at start from the handlers' annotations and trimmed to the routes this server's
/// settings register (metrics, the demo and the dev login are optional).
#[utoipa::path(
    get,
    path = "/api/openapi.json",
    tag = "ops",
    responses((status = 200, description = "The OpenAPI document.", body = Object))
)]
pub async fn document(state: web::Data<AppState>) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("application/json")
        .insert_header((header::CACHE_CONTROL, "no-cache"))
        // A public description of a public API: any tool may fetch it.
        .insert_header((header::ACCESS_CONTROL_ALLOW_ORIGIN, "*"))
        .body(state.openapi.clone())
}

/// Interactive API docs (Swagger UI), served from this binary.
///
/// Loads nothing from any other origin: works offline and under a strict CSP.
#[utoipa::path(
    get,
    path = "/api/docs",
    tag = "ops",
    responses((status = 200, description = "The viewer.", content_type = "text/html", body = String))
)]
pub async fn page() -> HttpResponse {
    let v = SWAGGER_UI_VERSION;
    // Relative URLs: `/api/docs` resolves `docs/x` to `/api/docs/x`, behind any path prefix.
    let html = format!(
        r##"<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Colloquy API</title>
<link rel="stylesheet" href="docs/swagger-ui.css?v={v}">
</head>
<body>
<div id="swagger-ui"></div>
<script src="docs/swagger-ui-bundle.js?v={v}"></script>
<script src="docs/init.js?v={v}"></script>
</body>
</html>
"##
    );
    HttpResponse::Ok()
        .content_type("text/html; charset=utf-8")
        .insert_header((header::CONTENT_SECURITY_POLICY, CSP))
        .insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .insert_header((header::REFERRER_POLICY, "no-referrer"))
        .insert_header((header::CACHE_CONTROL, "no-cache"))
        .body(html)
}

/// A file of the docs viewer.
#[utoipa::path(
    get,
    path = "/api/docs/{asset}",
    tag = "ops",
    params(("asset" = String, Path, description = "`swagger-ui-bundle.js`, `swagger-ui.css`, `init.js`, `LICENSE` or `NOTICE`."),
           ("v" = Option<String>, Query, description = "The viewer's version; pins an immutable copy.")),
    responses(
        (status = 200, description = "The file.", content_type = "text/javascript", body = String),
        (status = 404, description = "No such file.", body = crate::error::ErrorBody)
    )
)]
pub async fn asset(path: web::Path<String>, req: HttpRequest) -> Result<HttpResponse, ApiError> {
    let (body, content_type): (&'static [u8], &str) = match path.as_str() {
        "swagger-ui-bundle.js" => (BUNDLE_JS, "text/javascript; charset=utf-8"),
        "swagger-ui.css" => (BUNDLE_CSS, "text/css; charset=utf-8"),
        "init.js" => (INIT_JS.as_bytes(), "text/javascript; charset=utf-8"),
        "LICENSE" => (LICENSE, "text/plain; charset=utf-8"),
        "NOTICE" => (NOTICE, "text/plain; charset=utf-8"),
        _ => return Err(ApiError::not_found("Asset")),
    };
    // The page asks for `?v=<version>`: such a URL never changes within a build.
    let versioned = req.query_string() == format!("v={SWAGGER_UI_VERSION}");
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
