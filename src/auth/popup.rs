//! The page the login popup ends on: it hands the result to the blog page that opened it, by
//! `postMessage` to that page's registered origin only (never `*`), then closes.

use actix_web::HttpResponse;
use actix_web::http::header;
use serde::Serialize;
use serde_json::{Value, json};

use super::token;

/// The success page: `{type: "colloquy:login", token, user}`.
pub fn success(origin: &str, session_token: &str, user: &impl Serialize) -> HttpResponse {
    page(
        origin,
        &json!({ "type": "colloquy:login", "token": session_token, "user": user }),
        "You are logged in. You can close this window.",
    )
}

/// The failure page: `{type: "colloquy:login-error", code, message}`. Without a known origin
/// (forged or expired state) nothing is posted: the page only says what happened.
pub fn failure(origin: Option<&str>, code: &str, message: &str) -> HttpResponse {
    let msg = json!({ "type": "colloquy:login-error", "code": code, "message": message });
    match origin {
        Some(o) => page(o, &msg, message),
        None => page_without_message(message),
    }
}

fn page(origin: &str, message: &Value, text: &str) -> HttpResponse {
    let nonce = token::generate();
    // JSON in a <script> is safe once `<`, `>` and `&` can't close the element or open a comment.
    let data = script_safe(&json!({ "origin": origin, "message": message }).to_string());
    let html = format!(
        r#"<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Colloquy login</title></head>
<body><p>{text}</p>
<script nonce="{nonce}">
(function () {{
  var d = {data};
  if (window.opener) {{ window.opener.postMessage(d.message, d.origin); }}
  window.close();
}})();
</script></body></html>"#,
        text = escape_html(text),
    );
    respond(html, Some(&nonce))
}

fn page_without_message(text: &str) -> HttpResponse {
    let html = format!(
        r#"<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Colloquy login</title></head><body><p>{}</p></body></html>"#,
        escape_html(text)
    );
    respond(html, None)
}

fn respond(html: String, nonce: Option<&str>) -> HttpResponse {
    let script = nonce
        .map(|n| format!("'nonce-{n}'"))
        .unwrap_or_else(|| "'none'".to_owned());
    let csp = format!(
        "default-src 'none'; script-src {script}; style-src 'unsafe-inline'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
    );
    HttpResponse::Ok()
        .insert_header((header::CONTENT_TYPE, "text/html; charset=utf-8"))
        .insert_header((header::CONTENT_SECURITY_POLICY, csp))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .insert_header((header::REFERRER_POLICY, "no-referrer"))
        .insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .body(html)
}

pub fn script_safe(json: &str) -> String {
    json.replace('<', "\\u003c")
        .replace('>', "\\u003e")
        .replace('&', "\\u0026")
}

pub fn escape_html(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn script_data_cannot_close_the_script() {
        let s = script_safe(&json!({ "name": "</script><script>alert(1)</script>" }).to_string());
        assert!(!s.contains("</script"));
    }
}
