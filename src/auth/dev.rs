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

/// The dev login hands out sessions without a password, so it may only be reachable from this
/// machine: with `auth.dev_provider` on, `server.host` must be a loopback address
/// (127.0.0.0/8, `::1`) or `localhost`. Checked by `Application::build` before the listener is
/// bound; `colloquy serve` also runs [`ensure_not_published`].
pub fn ensure_loopback_only(dev_provider: bool, host: &str) -> anyhow::Result<()> {
    if !dev_provider || is_loopback_host(host) {
        return Ok(());
    }
    anyhow::bail!(
        "auth.dev_provider is on (password-less \"log in as…\"), so the server listens only on \
         a loopback address (127.0.0.1, ::1 or localhost), but server.host is {host:?}. \
         Set COLLOQUY__SERVER__HOST=127.0.0.1, or {OFF}"
    )
}

const OFF: &str =
    "turn the dev login off (COLLOQUY__AUTH__DEV_PROVIDER=false, or COLLOQUY_ENV=production)";

/// A loopback listener is not enough: a reverse proxy on the same machine reaches it and would
/// publish the dev login to the world. So `colloquy serve` with the dev login on also needs an
/// empty `server.trusted_proxies` and a `server.public_url` (the address browsers use) on a
/// loopback host. (The in-process test servers simulate proxies on loopback and call only
/// [`ensure_loopback_only`].)
pub fn ensure_not_published(
    dev_provider: bool,
    trusted_proxies: &[ipnet::IpNet],
    public_url: &str,
) -> anyhow::Result<()> {
    if !dev_provider {
        return Ok(());
    }
    if !trusted_proxies.is_empty() {
        anyhow::bail!(
            "auth.dev_provider is on (password-less \"log in as…\"), but server.trusted_proxies \
             is set: a proxy in front of this server would publish the dev login. Empty \
             server.trusted_proxies, or {OFF}"
        );
    }
    let public_host = url::Url::parse(public_url)
        .ok()
        .and_then(|u| u.host_str().map(str::to_owned));
    if !public_host.as_deref().is_some_and(is_loopback_host) {
        anyhow::bail!(
            "auth.dev_provider is on (password-less \"log in as…\"), but server.public_url \
             ({public_url:?}) is not a loopback address: browsers elsewhere would reach the dev \
             login. Use http://localhost:PORT, or {OFF}"
        );
    }
    Ok(())
}

/// `localhost`, or an IP literal in 127.0.0.0/8 or `::1` (brackets allowed; an IPv4-mapped
/// IPv6 loopback counts). Any other name or address, including `0.0.0.0` and `::`, doesn't.
pub fn is_loopback_host(host: &str) -> bool {
    let h = host.trim().trim_end_matches('.');
    if h.eq_ignore_ascii_case("localhost") {
        return true;
    }
    let literal = h
        .strip_prefix('[')
        .and_then(|s| s.strip_suffix(']'))
        .unwrap_or(h);
    literal
        .parse::<std::net::IpAddr>()
        .is_ok_and(|ip| ip.to_canonical().is_loopback())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_loopback_hosts_pass() {
        for ok in [
            "127.0.0.1",
            "127.1.2.3",
            "::1",
            "[::1]",
            "localhost",
            "LOCALHOST",
            "localhost.",
            "::ffff:127.0.0.1",
        ] {
            assert!(is_loopback_host(ok), "{ok}");
        }
        for bad in [
            "0.0.0.0",
            "::",
            "[::]",
            "192.168.1.5",
            "example.com",
            "localhost.example.com",
            "",
            "128.0.0.1",
        ] {
            assert!(!is_loopback_host(bad), "{bad}");
        }
    }

    #[test]
    fn the_dev_login_refuses_a_public_listener() {
        assert!(ensure_loopback_only(false, "0.0.0.0").is_ok());
        assert!(ensure_loopback_only(true, "127.0.0.1").is_ok());
        assert!(ensure_loopback_only(true, "::1").is_ok());
        let err = ensure_loopback_only(true, "0.0.0.0")
            .unwrap_err()
            .to_string();
        assert!(err.contains("auth.dev_provider"), "{err}");
        assert!(err.contains("loopback"), "{err}");
    }

    /// A reverse proxy on this machine reaches a loopback listener: with one configured, or with
    /// a public address for browsers, the dev login would be on the internet.
    #[test]
    fn the_dev_login_refuses_to_sit_behind_a_proxy() {
        let proxy: ipnet::IpNet = "127.0.0.1/32".parse().unwrap();
        assert!(ensure_not_published(true, &[], "http://localhost:8080").is_ok());
        assert!(ensure_not_published(true, &[], "http://127.0.0.1:9000/").is_ok());
        assert!(ensure_not_published(false, &[proxy], "https://x.example").is_ok());
        let err = ensure_not_published(true, &[proxy], "http://localhost:8080")
            .unwrap_err()
            .to_string();
        assert!(err.contains("trusted_proxies"), "{err}");
        for public in [
            "https://comments.example.com",
            "not a url",
            "http://10.0.0.5:8080",
        ] {
            let err = ensure_not_published(true, &[], public)
                .unwrap_err()
                .to_string();
            assert!(err.contains("public_url"), "{public}: {err}");
        }
    }
}
