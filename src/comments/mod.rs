//! Comments: the public thread API, submission, author edits and deletes, readers' flags and
//! votes, and markdown rendering.

mod cursor;
pub mod edits;
pub mod erase;
pub mod reactions;
pub mod service;
pub mod store;
pub(crate) mod target;
pub mod thread;
pub mod view;

pub use cursor::Cursor;
pub use service::{Author, SubmitInput};
