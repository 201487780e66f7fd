//! The widget's public API (`/api/v1`), the login popup flow (`/auth`), appeals (both sides) and
//! the moderation queue's event stream.

use utoipa::OpenApi;

#[derive(OpenApi)]
#[openapi(
    paths(
        crate::sites::routes::get_site,
        crate::comments::routes::get_thread,
        crate::comments::routes::get_counts,
        crate::comments::routes::post_comment,
        crate::comments::routes::edit_comment,
        crate::comments::routes::delete_comment,
        crate::comments::routes::flag_comment,
        crate::comments::routes::vote_comment,
        crate::notify::events::thread_events,
        crate::notify::events::queue_events,
        crate::auth::routes::me,
        crate::auth::routes::logout,
        crate::auth::routes::login,
        crate::auth::routes::callback,
        crate::auth::routes::dev_authorize,
        crate::auth::routes::dev_callback,
        crate::moderation::appeal_routes::my_appeals,
        crate::moderation::appeal_routes::appeal_ban,
        crate::moderation::appeal_routes::appeal_comment,
        crate::moderation::appeal_routes::list_appeals,
        crate::moderation::appeal_routes::decide_appeal,
    ),
    // Types of query parameters: `paths` collects only the schemas of bodies.
    components(schemas(crate::domain::SortOrder, crate::moderation::appeals::Status))
)]
pub struct ApiDoc;
