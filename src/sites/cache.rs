use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use sqlx::PgPool;

use super::{Site, store};

/// Unknown slugs are cached too (so a flood of bogus slugs can't hammer Postgres), but the
/// map is bounded: past this many entries it starts over.
const MAX_ENTRIES: usize = 10_000;

/// When an entry was fetched, and the site (or None for an unknown slug).
type Entry = (Instant, Option<Arc<Site>>);

#[derive(Clone)]
pub struct SiteCache {
    inner: Arc<RwLock<HashMap<String, Entry>>>,
    /// How long a node trusts its copy of a site's settings (`cache.site_ttl_ms`): settings
    /// changed on another node reach this one within this time. Zero always re-reads.
    ttl: Duration,
}

impl SiteCache {
    pub fn new(ttl: Duration) -> Self {
        Self {
            inner: Arc::default(),
            ttl,
        }
    }

    pub async fn get(&self, pool: &PgPool, slug: &str) -> Result<Option<Arc<Site>>, sqlx::Error> {
        if let Some(hit) = self.cached(slug) {
            return Ok(hit);
        }
        let site = store::find_by_slug(pool, slug).await?.map(Arc::new);
        // A poisoned lock only means another thread panicked mid-insert; the map is still usable.
        let mut map = self.inner.write().unwrap_or_else(|p| p.into_inner());
        if map.len() >= MAX_ENTRIES {
            map.clear();
        }
        map.insert(slug.to_owned(), (Instant::now(), site.clone()));
        Ok(site)
    }

    fn cached(&self, slug: &str) -> Option<Option<Arc<Site>>> {
        let map = self.inner.read().unwrap_or_else(|p| p.into_inner());
        map.get(slug)
            .filter(|(at, _)| at.elapsed() < self.ttl)
            .map(|(_, s)| s.clone())
    }

    /// Forget a site after this node changed it.
    pub fn invalidate(&self, slug: &str) {
        self.inner
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .remove(slug);
    }
}
