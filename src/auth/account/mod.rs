//! A commenter's own account: linking another login to it (`POST /api/v1/me/identities/{p}`),
//! taking their data out (`GET /api/v1/me/export`) and erasing it (`DELETE /api/v1/me`).
//!
//! Linking runs the ordinary popup login, but the login attempt carries the caller's user id on
//! the server (`login_states.link_user_id`), so the callback attaches the provider identity to
//! that user. Everything that follows a person — bans by user id, trust, history, sessions — is
//! keyed by the user, so it follows every identity linked to it.

pub mod routes;
pub mod store;

pub use routes::complete_link;
