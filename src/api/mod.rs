//! The request layer's handlers, by who calls them: blog pages and the widget (`public`, under
//! `/api/v1` and the login popup's `/auth`), a reader's own account page (`account`),
//! moderators and their tools (`moderator`, under `/api/mod/v1`), and operators (`ops`).
//!
//! Handlers are thin: they take the request apart (through the extractors in `http`), call the
//! domain (`comments`, `moderation`, `sites`, `auth`, `notify`), and shape the answer. Nothing
//! below this layer imports it.

pub mod account;
pub mod moderator;
pub mod ops;
pub mod public;
pub mod resource;
pub mod routes;
