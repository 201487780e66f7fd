//! A reader's account page on Colloquy's own origin (`/account/`): everything that reaches
//! beyond one blog — every comment on every blog, linked logins, export and erase.
//!
//! A blog page holds its readers' session tokens (the widget keeps them and sends them as Bearer
//! headers), so those sessions are bound to that blog and reach nothing else. The account page
//! has its own kind of session (`sessions.kind = 'account'`), set by the login flow as an
//! HttpOnly cookie on Colloquy's origin and never posted to any page ([`cookie`]); its JSON API
//! lives under `/account/api` ([`routes`]), behind a CSRF guard. Its login runs in the page's
//! own window and ends at the shared provider callback, which tells an account attempt from a
//! blog's popup by the purpose stored with the attempt ([`login`]).
//!
//! Linking another login starts from the account session and completes at the callback in the
//! same browser; everything that follows a person — bans by user id, trust, history, sessions —
//! is keyed by the user, so it follows every identity linked to it.

pub mod cookie;
pub mod login;
pub mod page;
pub mod routes;
pub mod store;
