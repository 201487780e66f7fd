//! The widget's public API (`/api/v1`), the login popup flow (`/auth`), appeals (both sides) and
//! the moderation queue's event stream.

use utoipa::OpenApi;

#[derive(OpenApi)]
#[openapi(
    paths(
        crate::api::public::site::get_site,
        crate::api::public::comments::get_thread,
        crate::api::public::comments::get_counts,
        crate::api::public::comments::post_comment,
        crate::api::public::comments::edit_comment,
        crate::api::public::comments::delete_comment,
        crate::api::public::comments::flag_comment,
        crate::api::public::comments::vote_comment,
        crate::api::public::events::thread_events,
        crate::api::moderator::events::queue_events,
        crate::api::public::login::me,
        crate::api::public::login::logout,
        crate::api::public::login::login,
        crate::api::public::login::callback,
        crate::api::public::login::dev_authorize,
        crate::api::public::login::dev_callback,
        crate::api::public::appeals::my_appeals,
        crate::api::public::appeals::appeal_ban,
        crate::api::public::appeals::appeal_comment,
        crate::api::moderator::appeals::list_appeals,
        crate::api::moderator::appeals::decide_appeal,
    ),
    // Types of query parameters, and bodies of shared answers (`appeals::Filing`): `paths`
    // collects only the schemas of bodies named in the annotations.
    components(schemas(
        crate::domain::SortOrder,
        crate::moderation::appeals::Status,
        crate::api::public::appeals::FiledAppeal
    ))
)]
pub struct ApiDoc;
