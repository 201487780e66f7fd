//! Sign-in for commenters: login flows, sessions, and the request extractors that identify the
//! caller; moderator accounts (password login, API tokens, roles per site) in `moderators`.

pub mod account;
pub mod attempt;
pub mod ban_carryover;
pub mod dev;
pub mod login;
pub mod moderators;
pub mod popup;
pub mod providers;
pub mod sessions;
pub mod states;
pub mod token;
pub mod users;
