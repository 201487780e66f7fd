//! Comments: the public thread API, submission, and markdown rendering.

pub mod cache;
mod cursor;
pub mod render;
pub mod routes;
mod service;
pub mod store;
mod view;

pub use cache::ThreadCache;
pub use cursor::Cursor;
pub use service::{Author, SubmitInput};
