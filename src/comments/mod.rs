//! Comments: the public thread API, submission, author edits and deletes, readers' flags and
//! votes, and markdown rendering.

pub mod cache;
mod cursor;
pub mod edits;
pub mod reactions;
pub mod service;
pub mod store;
pub(crate) mod target;
pub mod thread;
pub mod view;

pub use cache::ThreadCache;
pub use cursor::Cursor;
pub use service::{Author, SubmitInput};
