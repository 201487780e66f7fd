//! `/api/mod/v1`: the moderator API, one file per resource. A handler takes its extractors,
//! calls one domain function and shapes the answer; transactions, audit rows and cache drops
//! live in the domain (`moderation/`, `auth/moderators/`, `sites/settings`), never here.

pub mod actions;
pub mod appeals;
pub mod audit;
pub mod bans;
mod comment;
pub mod events;
pub mod history;
pub mod invitations;
mod page;
pub mod password;
pub mod queue;
pub mod rules;
pub mod session;
pub mod sites;
pub mod team;
pub mod tokens;
pub mod users;

use actix_web::web;

use crate::api::resource::{ApiResource, get};

/// The whole moderator API.
pub static MODERATOR_API: &[ApiResource] = &[
    ApiResource {
        path: "/login",
        allow: "POST",
        add: |r| r.route(web::post().to(crate::api::moderator::session::login)),
    },
    ApiResource {
        path: "/logout",
        allow: "POST",
        add: |r| r.route(web::post().to(crate::api::moderator::session::logout)),
    },
    ApiResource {
        path: "/me/password",
        allow: "POST",
        add: |r| r.route(web::post().to(crate::api::moderator::password::change_password)),
    },
    // Public (throttled like login): the invitee may have no account yet.
    ApiResource {
        path: "/invitations/accept",
        allow: "POST",
        add: |r| r.route(web::post().to(crate::api::moderator::invitations::accept)),
    },
    ApiResource {
        path: "/tokens",
        allow: "GET, HEAD, POST",
        add: |r| {
            r.route(get().to(crate::api::moderator::tokens::list_tokens))
                .route(web::post().to(crate::api::moderator::tokens::create_token))
        },
    },
    ApiResource {
        path: "/tokens/{id}",
        allow: "DELETE",
        add: |r| r.route(web::delete().to(crate::api::moderator::tokens::revoke_token)),
    },
    ApiResource {
        path: "/me/audit",
        allow: "GET, HEAD",
        add: |r| r.route(get().to(crate::api::moderator::audit::my_audit)),
    },
    ApiResource {
        path: "/sites",
        allow: "GET, HEAD",
        add: |r| r.route(get().to(crate::api::moderator::sites::list_sites)),
    },
    ApiResource {
        path: "/sites/{site}",
        allow: "GET, HEAD, PATCH",
        add: |r| {
            r.route(get().to(crate::api::moderator::sites::get_site))
                .route(web::patch().to(crate::api::moderator::sites::patch_site))
        },
    },
    ApiResource {
        path: "/sites/{site}/moderators",
        allow: "GET, HEAD, POST",
        add: |r| {
            r.route(get().to(crate::api::moderator::team::list_team))
                .route(web::post().to(crate::api::moderator::invitations::invite))
        },
    },
    ApiResource {
        path: "/sites/{site}/moderators/{id}",
        allow: "PATCH, DELETE",
        add: |r| {
            r.route(web::patch().to(crate::api::moderator::team::change_role))
                .route(web::delete().to(crate::api::moderator::team::remove_member))
        },
    },
    ApiResource {
        path: "/sites/{site}/invitations",
        allow: "GET, HEAD",
        add: |r| r.route(get().to(crate::api::moderator::invitations::list_invitations)),
    },
    ApiResource {
        path: "/sites/{site}/invitations/{id}",
        allow: "DELETE",
        add: |r| r.route(web::delete().to(crate::api::moderator::invitations::revoke_invitation)),
    },
    ApiResource {
        path: "/sites/{site}/queue",
        allow: "GET, HEAD",
        add: |r| r.route(get().to(crate::api::moderator::queue::list_queue)),
    },
    ApiResource {
        path: "/sites/{site}/queue/claim",
        allow: "POST",
        add: |r| r.route(web::post().to(crate::api::moderator::queue::claim_queue)),
    },
    ApiResource {
        path: "/sites/{site}/events",
        allow: "GET",
        add: |r| r.route(web::get().to(crate::api::moderator::events::queue_events)),
    },
    ApiResource {
        path: "/sites/{site}/comments",
        allow: "GET, HEAD",
        add: |r| r.route(get().to(crate::api::moderator::queue::search_comments)),
    },
    ApiResource {
        path: "/sites/{site}/actions",
        allow: "POST",
        add: |r| r.route(web::post().to(crate::api::moderator::actions::bulk_act)),
    },
    ApiResource {
        path: "/sites/{site}/audit",
        allow: "GET, HEAD",
        add: |r| r.route(get().to(crate::api::moderator::audit::audit_log)),
    },
    ApiResource {
        path: "/sites/{site}/bans",
        allow: "GET, HEAD, POST",
        add: |r| {
            r.route(get().to(crate::api::moderator::bans::list_bans))
                .route(web::post().to(crate::api::moderator::bans::create_ban))
        },
    },
    ApiResource {
        path: "/sites/{site}/bans/{id}",
        allow: "GET, HEAD, DELETE",
        add: |r| {
            r.route(get().to(crate::api::moderator::bans::get_ban))
                .route(web::delete().to(crate::api::moderator::bans::delete_ban))
        },
    },
    ApiResource {
        path: "/sites/{site}/rules",
        allow: "GET, HEAD, POST",
        add: |r| {
            r.route(get().to(crate::api::moderator::rules::list_rules))
                .route(web::post().to(crate::api::moderator::rules::create_rule))
        },
    },
    // Before `/rules/{id}`, which would otherwise take `dry-run` for an id.
    ApiResource {
        path: "/sites/{site}/rules/dry-run",
        allow: "POST",
        add: |r| r.route(web::post().to(crate::api::moderator::rules::dry_run)),
    },
    ApiResource {
        path: "/sites/{site}/rules/{id}",
        allow: "GET, HEAD, PATCH, DELETE",
        add: |r| {
            r.route(get().to(crate::api::moderator::rules::get_rule))
                .route(web::patch().to(crate::api::moderator::rules::patch_rule))
                .route(web::delete().to(crate::api::moderator::rules::delete_rule))
        },
    },
    ApiResource {
        path: "/sites/{site}/appeals",
        allow: "GET, HEAD",
        add: |r| r.route(get().to(crate::api::moderator::appeals::list_appeals)),
    },
    ApiResource {
        path: "/appeals/{id}/actions",
        allow: "POST",
        add: |r| r.route(web::post().to(crate::api::moderator::appeals::decide_appeal)),
    },
    ApiResource {
        path: "/sites/{site}/users/{id}",
        allow: "GET, HEAD, PATCH",
        add: |r| {
            r.route(get().to(crate::api::moderator::users::get_user))
                .route(web::patch().to(crate::api::moderator::users::patch_user))
        },
    },
    ApiResource {
        path: "/comments/{id}",
        allow: "PATCH",
        add: |r| r.route(web::patch().to(crate::api::moderator::actions::edit_comment)),
    },
    ApiResource {
        path: "/comments/{id}/actions",
        allow: "POST",
        add: |r| r.route(web::post().to(crate::api::moderator::actions::act)),
    },
    ApiResource {
        path: "/comments/{id}/release",
        allow: "POST",
        add: |r| r.route(web::post().to(crate::api::moderator::queue::release_claim)),
    },
    ApiResource {
        path: "/comments/{id}/history",
        allow: "GET, HEAD",
        add: |r| r.route(get().to(crate::api::moderator::history::comment_history)),
    },
];
