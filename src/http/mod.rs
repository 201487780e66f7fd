//! HTTP plumbing shared by every domain: the JSON extractor, the route scope, CORS, client IPs,
//! error bodies for whatever the framework answers on its own, and the per-request tracing span.

pub mod client_ip;
pub mod commenter;
pub mod cors;
pub mod errors;
pub mod json;
pub mod moderator;
pub mod no_store;
pub mod paging;
pub mod route;
pub mod streams;
pub mod telemetry;

pub use client_ip::ClientInfo;
pub use commenter::{Commenter, MaybeCommenter};
pub use json::ApiJson;
pub use no_store::private;
pub use paging::Paging;
pub use route::{RouteComment, RouteScope, RouteSite};
