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

use actix_web::web;

use crate::api::resource::{ApiResource, get};

/// The account page's JSON API: account sessions (cookie) only, behind the CSRF guard.
pub static ACCOUNT_API: &[ApiResource] = &[
    ApiResource {
        path: "/providers",
        allow: "GET, HEAD",
        add: |r| r.route(get().to(crate::api::account::routes::providers)),
    },
    ApiResource {
        path: "/me",
        allow: "GET, HEAD, DELETE",
        add: |r| {
            r.route(get().to(crate::api::account::routes::me))
                .route(web::delete().to(crate::api::account::routes::erase))
        },
    },
    ApiResource {
        path: "/logout",
        allow: "POST",
        add: |r| r.route(web::post().to(crate::api::account::login::logout)),
    },
    ApiResource {
        path: "/comments",
        allow: "GET, HEAD",
        add: |r| r.route(get().to(crate::api::account::routes::comments)),
    },
    ApiResource {
        path: "/export",
        allow: "GET, HEAD",
        add: |r| r.route(get().to(crate::api::account::routes::export)),
    },
    ApiResource {
        path: "/links/{provider}",
        allow: "POST",
        add: |r| r.route(web::post().to(crate::api::account::routes::start_link)),
    },
    ApiResource {
        path: "/identities/{id}",
        allow: "DELETE",
        add: |r| r.route(web::delete().to(crate::api::account::routes::unlink)),
    },
];
