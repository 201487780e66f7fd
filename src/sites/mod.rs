//! Sites (one blog each): their settings, the public site config, and a short-lived cache so
//! the hot read path and CORS don't query the site on every request.

pub mod cache;
pub mod settings;
pub mod store;

pub use cache::SiteCache;
pub use store::{NewSite, Site, SiteLimits};

pub use crate::error::unknown_site;
