//! `/api/mod/v1`: the moderator API, one file per resource.

pub mod accounts;
pub mod appeals;
pub mod audit;
pub mod invitations;
pub mod moderation;
pub mod password;
pub mod site_settings;

use actix_web::web;

use crate::api::resource::{ApiResource, get};

/// The whole moderator API.
pub static MODERATOR_API: &[ApiResource] = &[
    ApiResource {
        path: "/login",
        allow: "POST",
        add: |r| r.route(web::post().to(crate::api::moderator::accounts::login)),
    },
    ApiResource {
        path: "/logout",
        allow: "POST",
        add: |r| r.route(web::post().to(crate::api::moderator::accounts::logout)),
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
            r.route(get().to(crate::api::moderator::accounts::list_tokens))
                .route(web::post().to(crate::api::moderator::accounts::create_token))
        },
    },
    ApiResource {
        path: "/tokens/{id}",
        allow: "DELETE",
        add: |r| r.route(web::delete().to(crate::api::moderator::accounts::revoke_token)),
    },
    ApiResource {
        path: "/me/audit",
        allow: "GET, HEAD",
        add: |r| r.route(get().to(crate::api::moderator::audit::my_audit)),
    },
    ApiResource {
        path: "/sites",
        allow: "GET, HEAD",
        add: |r| r.route(get().to(crate::api::moderator::accounts::list_sites)),
    },
    ApiResource {
        path: "/sites/{site}",
        allow: "GET, HEAD, PATCH",
        add: |r| {
            r.route(get().to(crate::api::moderator::accounts::get_site))
                .route(web::patch().to(crate::api::moderator::site_settings::patch_site))
        },
    },
    ApiResource {
        path: "/sites/{site}/moderators",
        allow: "GET, HEAD, POST",
        add: |r| {
            r.route(get().to(crate::api::moderator::accounts::list_team))
                .route(web::post().to(crate::api::moderator::invitations::invite))
        },
    },
    ApiResource {
        path: "/sites/{site}/moderators/{id}",
        allow: "PATCH, DELETE",
        add: |r| {
            r.route(web::patch().to(crate::api::moderator::accounts::change_role))
                .route(web::delete().to(crate::api::moderator::accounts::remove_member))
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
        add: |r| r.route(get().to(crate::api::moderator::moderation::list_queue)),
    },
    ApiResource {
        path: "/sites/{site}/queue/claim",
        allow: "POST",
        add: |r| r.route(web::post().to(crate::api::moderator::moderation::claim_queue)),
    },
    ApiResource {
        path: "/sites/{site}/events",
        allow: "GET",
        add: |r| r.route(web::get().to(crate::api::public::events::queue_events)),
    },
    ApiResource {
        path: "/sites/{site}/comments",
        allow: "GET, HEAD",
        add: |r| r.route(get().to(crate::api::moderator::moderation::search_comments)),
    },
    ApiResource {
        path: "/sites/{site}/actions",
        allow: "POST",
        add: |r| r.route(web::post().to(crate::api::moderator::moderation::bulk_act)),
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
            r.route(get().to(crate::api::moderator::moderation::list_bans))
                .route(web::post().to(crate::api::moderator::moderation::create_ban))
        },
    },
    ApiResource {
        path: "/sites/{site}/bans/{id}",
        allow: "GET, HEAD, DELETE",
        add: |r| {
            r.route(get().to(crate::api::moderator::moderation::get_ban))
                .route(web::delete().to(crate::api::moderator::moderation::delete_ban))
        },
    },
    ApiResource {
        path: "/sites/{site}/rules",
        allow: "GET, HEAD, POST",
        add: |r| {
            r.route(get().to(crate::api::moderator::moderation::list_rules))
                .route(web::post().to(crate::api::moderator::moderation::create_rule))
        },
    },
    // Before `/rules/{id}`, which would otherwise take `dry-run` for an id.
    ApiResource {
        path: "/sites/{site}/rules/dry-run",
        allow: "POST",
        add: |r| r.route(web::post().to(crate::moderation::dry_run::dry_run)),
    },
    ApiResource {
        path: "/sites/{site}/rules/{id}",
        allow: "GET, HEAD, PATCH, DELETE",
        add: |r| {
            r.route(get().to(crate::api::moderator::moderation::get_rule))
                .route(web::patch().to(crate::api::moderator::moderation::patch_rule))
                .route(web::delete().to(crate::api::moderator::moderation::delete_rule))
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
            r.route(get().to(crate::api::moderator::moderation::get_user))
                .route(web::patch().to(crate::api::moderator::moderation::patch_user))
        },
    },
    ApiResource {
        path: "/comments/{id}",
        allow: "PATCH",
        add: |r| r.route(web::patch().to(crate::api::moderator::moderation::edit_comment)),
    },
    ApiResource {
        path: "/comments/{id}/actions",
        allow: "POST",
        add: |r| r.route(web::post().to(crate::api::moderator::moderation::act)),
    },
    ApiResource {
        path: "/comments/{id}/release",
        allow: "POST",
        add: |r| r.route(web::post().to(crate::api::moderator::moderation::release_claim)),
    },
    ApiResource {
        path: "/comments/{id}/history",
        allow: "GET, HEAD",
        add: |r| r.route(get().to(crate::api::moderator::moderation::comment_history)),
    },
];
