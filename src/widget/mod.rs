//! The embedded widget (`/embed.js`, built into the binary) and the demo blog page.
//!
//! The script is joined by [`script`] from its parts under `js/`, its strings (`i18n/`, one
//! file per language) and its stylesheet (injected into its Shadow DOM), so a blog adds exactly
//! one tag. `/embed.js?v=<hash>` is immutable and cached for a year; plain `/embed.js` is cached
//! for five minutes and revalidated with its ETag, so a deploy reaches readers quickly either way.

pub mod demo;
mod i18n;
mod script;

use std::sync::LazyLock;

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sha2::{Digest, Sha256};

const DEMO_PAGE: &str = include_str!("demo.html");

struct Asset {
    body: String,
    etag: String,
    version: String,
}

static EMBED: LazyLock<Asset> = LazyLock::new(|| {
    let body = script::build();
    let digest = Sha256::digest(body.as_bytes());
    let version = URL_SAFE_NO_PAD.encode(&digest[..12]);
    Asset {
        etag: format!("\"{version}\""),
        version,
        body,
    }
});

/// The current script version, for `<script src="/embed.js?v=...">`.
pub fn embed_version() -> &'static str {
    &EMBED.version
}

/// The widget script a blog embeds with one `<script>` tag.
///
/// `?v=<version>` (the current build's hash) is immutable and cached for a year; the plain URL
/// is cached five minutes and revalidated with its ETag.
#[utoipa::path(
    get,
    path = "/embed.js",
    tag = "ops",
    params(
        ("v" = Option<String>, Query, description = "The script version; pins an immutable copy."),
        ("If-None-Match" = Option<String>, Header, description = "A previous `ETag`.")
    ),
    responses(
        (status = 200, description = "The script.", content_type = "text/javascript", body = String,
         headers(("ETag" = String, description = "The script's version."))),
        (status = 304, description = "Unchanged since the given ETag.")
    )
)]
pub async fn embed_js(req: HttpRequest) -> HttpResponse {
    let asset = &*EMBED;
    let versioned = req
        .query_string()
        .split('&')
        .any(|p| p == format!("v={}", asset.version));
    let cache = if versioned {
        "public, max-age=31536000, immutable"
    } else {
        "public, max-age=300"
    };
    let matches = req
        .headers()
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|t| t.trim() == asset.etag));
    let mut res = if matches {
        HttpResponse::NotModified()
    } else {
        HttpResponse::Ok()
    };
    res.insert_header((header::CACHE_CONTROL, cache))
        .insert_header((header::ETAG, asset.etag.as_str()))
        .insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        // Any blog may load the script.
        .insert_header((header::ACCESS_CONTROL_ALLOW_ORIGIN, "*"));
    if matches {
        return res.finish();
    }
    res.content_type("text/javascript; charset=utf-8")
        .body(asset.body.clone())
}

/// The demo blog's address without its slash.
///
/// Redirects to `/demo/`: the page's relative links need the directory form.
#[utoipa::path(
    get,
    path = "/demo",
    tag = "ops",
    responses((status = 308, description = "To `/demo/`.", headers(("Location" = String))))
)]
pub async fn demo_redirect() -> HttpResponse {
    HttpResponse::PermanentRedirect()
        .insert_header((header::LOCATION, "/demo/"))
        .finish()
}

/// The demo blog: the seed article with the widget under it.
///
/// Development only (`server.demo`): the `demo` site, the dev login and guests.
#[utoipa::path(
    get,
    path = "/demo/",
    tag = "ops",
    responses((status = 200, description = "The page.", content_type = "text/html", body = String))
)]
pub async fn demo_page() -> HttpResponse {
    let page = DEMO_PAGE.replace("/embed.js\"", &format!("/embed.js?v={}\"", embed_version()));
    HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "no-cache"))
        .content_type("text/html; charset=utf-8")
        .body(page)
}

#[cfg(test)]
mod tests {
    use actix_web::body::to_bytes;
    use actix_web::test::TestRequest;

    #[tokio::test]
    async fn the_joined_script_is_what_is_served() {
        let req = TestRequest::get().uri("/embed.js").to_http_request();
        let body = to_bytes(super::embed_js(req).await.into_body()).await.ok();
        assert_eq!(body.as_deref(), Some(super::script::build().as_bytes()));
    }
}
