//! What every handler can reach: the pool, the settings, the node's caches and hubs. It sits
//! at the bottom of the request layer: the HTTP plumbing (`http/`) and every handler import it,
//! and it imports only the domain types it holds, so nothing below the handlers points up.

use std::sync::Arc;

use actix_web::web;

use crate::auth::providers::Providers;
use crate::config::Settings;
use crate::db::Db;
use crate::error::ApiResult;
use crate::moderation::rule_engine::RuleEngine;
use crate::notify::hub::Hub;
use crate::notify::limiter::StreamLimiter;
use crate::sites::cache::SiteCache;
use crate::sites::store::Site;
use crate::thread_cache::ThreadCache;

/// What every handler can reach.
pub struct AppState {
    pub db: Db,
    pub settings: Arc<Settings>,
    pub sites: SiteCache,
    pub threads: ThreadCache,
    pub hub: Hub,
    /// Slots of the node's open event streams (per client IP and per node).
    pub streams: StreamLimiter,
    pub providers: Providers,
    /// Sites' compiled auto-moderation rules and the pool that matches them.
    pub rules: Arc<RuleEngine>,
    /// `/api/openapi.json`, serialized once at start.
    pub openapi: web::Bytes,
}

impl AppState {
    /// The site named in a path, or 404 (a malformed slug is simply an unknown site).
    pub async fn site(&self, slug: &str) -> ApiResult<Arc<Site>> {
        if crate::domain::SiteSlug::parse(slug).is_err() {
            return Err(crate::sites::unknown_site());
        }
        self.sites
            .get(&self.db.pool, slug)
            .await?
            .ok_or_else(crate::sites::unknown_site)
    }
}
