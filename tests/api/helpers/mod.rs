//! The test kit: the app on a random port over its own database (`app`, `db`), a commenter's
//! side of the API (`reader`), a moderator client (`moderator`) and the `colloquy` binary
//! (`cli`). Both clients have a `login`, so they are imported by module path.

mod app;
pub mod cli;
mod db;
pub mod moderator;
pub mod reader;

pub use app::*;
pub use reader::guest_key;
