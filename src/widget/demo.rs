//! The `demo` site of a development server: created on start (if missing) so the README's
//! first command plus `/demo/` gives a working comment section.

use crate::config::Settings;
use crate::db::Db;
use crate::domain::{Origin, Policy, SiteName, SiteSlug};
use crate::sites::{NewSite, store};

pub const SLUG: &str = "demo";

/// Waits for the database, then makes sure the demo site exists and allows this server's origin.
pub async fn ensure_site(db: Db, settings: std::sync::Arc<Settings>) {
    while !db.is_migrated() {
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    let (Ok(slug), Ok(name), Ok(origin)) = (
        SiteSlug::parse(SLUG),
        SiteName::parse("Colloquy demo blog"),
        Origin::parse(&settings.server.public_url_origin()),
    ) else {
        tracing::warn!("demo site settings are invalid; skipping");
        return;
    };
    let m = &settings.moderation;
    let new = NewSite {
        slug,
        name,
        origins: local_aliases(&origin),
        providers: vec![crate::auth::dev::PROVIDER.to_owned()],
        guests: true,
        policy: Policy::FirstTime,
        max_depth: m.max_depth as i32,
        edit_window_s: m.edit_window_s as i32,
        flags_to_hold: m.flags_to_hold as i32,
    };
    let result = match db.pool.acquire().await {
        Ok(mut conn) => store::create(&mut conn, &new).await,
        Err(e) => Err(store::CreateError::Db(e)),
    };
    match result {
        Ok(_) => {
            tracing::info!(url = %format!("{}/demo/", settings.server.public_url), "demo site created")
        }
        Err(store::CreateError::SlugTaken) => {
            // An older demo site: make sure this server's origins and the dev login work on it.
            for o in &new.origins {
                if let Err(e) = store::ensure_origin_and_provider(
                    &db.pool,
                    SLUG,
                    o.as_str(),
                    crate::auth::dev::PROVIDER,
                )
                .await
                {
                    tracing::warn!(error = %e, "could not update the demo site");
                }
            }
        }
        Err(store::CreateError::Db(e)) => {
            tracing::warn!(error = %e, "could not create the demo site")
        }
    }
}

/// A demo served on localhost is also opened as 127.0.0.1 (and back): both must be allowed,
/// or the page's own requests would be refused as cross-origin.
fn local_aliases(origin: &Origin) -> Vec<Origin> {
    let mut out = vec![origin.clone()];
    let s = origin.as_str();
    let alias = if s.contains("://localhost") {
        Some(s.replacen("://localhost", "://127.0.0.1", 1))
    } else if s.contains("://127.0.0.1") {
        Some(s.replacen("://127.0.0.1", "://localhost", 1))
    } else {
        None
    };
    if let Some(a) = alias.and_then(|a| Origin::parse(&a).ok()) {
        out.push(a);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn localhost_and_loopback_both_allowed() {
        let o = Origin::parse("http://localhost:8080").unwrap();
        let all: Vec<String> = local_aliases(&o)
            .iter()
            .map(|o| o.as_str().to_owned())
            .collect();
        assert_eq!(all, ["http://localhost:8080", "http://127.0.0.1:8080"]);
        let o = Origin::parse("https://blog.example").unwrap();
        assert_eq!(local_aliases(&o).len(), 1);
    }
}
