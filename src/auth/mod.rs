//! Sign-in for commenters: login flows, sessions, and the request extractors that identify the
//! caller. (Moderator accounts come next, in this same domain.)

pub mod dev;
pub mod extract;
pub mod popup;
pub mod providers;
pub mod routes;
pub mod sessions;
pub mod states;
pub mod token;
pub mod users;

pub use extract::{Commenter, MaybeCommenter};
