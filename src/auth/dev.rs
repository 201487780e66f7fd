//! The `dev` provider: a stand-in identity provider for local demos and browser tests. It runs
//! the same state checks as a real provider (single-use state bound to the site and origin) but
//! asks only for a name. It exists only when `auth.dev_provider = true`, which the
//! configuration refuses in production.

use actix_web::HttpResponse;
use actix_web::http::header;

use super::popup::escape_html;

pub const PROVIDER: &str = "dev";

/// The "log in as…" form the popup shows.
pub fn form(state: &str) -> HttpResponse {
    let html = format!(
        r#"<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Log in (dev)</title>
<style>body{{font:16px system-ui,sans-serif;margin:2em}}label{{display:block;margin:.5em 0}}input{{font:inherit;padding:.3em}}</style></head>
<body><h1>Log in as…</h1>
<p>Development login: no password, for local demos and tests only.</p>
<form method="post" action="/auth/dev/callback">
<input type="hidden" name="state" value="{state}">
<label>Name <input name="name" required maxlength="80" autofocus></label>
<label>Email (optional) <input name="email" type="email" maxlength="254"></label>
<button type="submit">Log in</button>
</form></body></html>"#,
        state = escape_html(state)
    );
    HttpResponse::Ok()
        .insert_header((header::CONTENT_TYPE, "text/html; charset=utf-8"))
        .insert_header((
            header::CONTENT_SECURITY_POLICY,
            "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'",
        ))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .body(html)
}
