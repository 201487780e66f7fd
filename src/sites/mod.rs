//! Sites (one blog each): their settings, the public site config, and a short-lived cache so
//! the hot read path and CORS don't query the site on every request.

pub mod cache;
pub mod settings;
pub mod store;

pub use cache::SiteCache;
pub use store::{NewSite, Site, SiteLimits};

/// The answer for a site that doesn't exist (or that the caller may not know of).
pub fn unknown_site() -> crate::error::ApiError {
    crate::error::ApiError::not_found("Site")
}
