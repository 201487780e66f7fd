//! What a blog page and its widget call: a site's public settings, threads and counts,
//! posting, editing and reacting, live updates, readers' appeals, and the login popup.

pub mod appeals;
pub mod comments;
pub mod events;
pub mod login;
pub mod site;

use actix_web::web;

use crate::api::resource::{ApiResource, get};

/// What the widget calls, from the blog's origin (CORS per site).
pub static PUBLIC_API: &[ApiResource] = &[
    ApiResource {
        path: "/sites/{site}",
        allow: "GET, HEAD",
        add: |r| r.route(get().to(crate::api::public::site::get_site)),
    },
    ApiResource {
        path: "/sites/{site}/thread",
        allow: "GET, HEAD",
        add: |r| r.route(get().to(crate::api::public::comments::get_thread)),
    },
    ApiResource {
        path: "/sites/{site}/counts",
        allow: "GET, HEAD",
        add: |r| r.route(get().to(crate::api::public::comments::get_counts)),
    },
    ApiResource {
        path: "/sites/{site}/events",
        allow: "GET",
        add: |r| r.route(web::get().to(crate::api::public::events::thread_events)),
    },
    ApiResource {
        path: "/sites/{site}/comments",
        allow: "POST",
        add: |r| r.route(web::post().to(crate::api::public::comments::post_comment)),
    },
    // A blog's session reaches this blog only: what spans blogs (every comment, export, erase,
    // linking logins) is on the account page, `ACCOUNT_API`, never here.
    ApiResource {
        path: "/me",
        allow: "GET, HEAD",
        add: |r| r.route(get().to(crate::api::public::login::me)),
    },
    ApiResource {
        path: "/me/appeals",
        allow: "GET, HEAD",
        add: |r| r.route(get().to(crate::api::public::appeals::my_appeals)),
    },
    ApiResource {
        path: "/sites/{site}/appeal",
        allow: "POST",
        add: |r| r.route(web::post().to(crate::api::public::appeals::appeal_ban)),
    },
    ApiResource {
        path: "/comments/{id}/appeal",
        allow: "POST",
        add: |r| r.route(web::post().to(crate::api::public::appeals::appeal_comment)),
    },
    ApiResource {
        path: "/logout",
        allow: "POST",
        add: |r| r.route(web::post().to(crate::api::public::login::logout)),
    },
    ApiResource {
        path: "/comments/{id}",
        allow: "PATCH, DELETE",
        add: |r| {
            r.route(web::patch().to(crate::api::public::comments::edit_comment))
                .route(web::delete().to(crate::api::public::comments::delete_comment))
        },
    },
    ApiResource {
        path: "/comments/{id}/flags",
        allow: "POST",
        add: |r| r.route(web::post().to(crate::api::public::comments::flag_comment)),
    },
    ApiResource {
        path: "/comments/{id}/vote",
        allow: "PUT",
        add: |r| r.route(web::put().to(crate::api::public::comments::vote_comment)),
    },
];

pub static DEV_LOGIN: &[ApiResource] = &[
    ApiResource {
        path: "/dev/authorize",
        allow: "GET, HEAD",
        add: |r| r.route(get().to(crate::api::public::login::dev_authorize)),
    },
    ApiResource {
        path: "/dev/callback",
        allow: "POST",
        add: |r| r.route(web::post().to(crate::api::public::login::dev_callback)),
    },
];

pub static LOGIN: &[ApiResource] = &[
    ApiResource {
        path: "/{provider}/login",
        allow: "GET, HEAD",
        add: |r| r.route(get().to(crate::api::public::login::login)),
    },
    ApiResource {
        path: "/{provider}/callback",
        allow: "GET, HEAD",
        add: |r| r.route(get().to(crate::api::public::login::callback)),
    },
];
