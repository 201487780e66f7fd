//! Operations, the widget script, these docs, and a reader's own account.

use utoipa::OpenApi;

#[derive(OpenApi)]
#[openapi(paths(
    crate::health::live,
    crate::health::ready,
    crate::metrics::scrape,
    crate::widget::embed_js,
    crate::widget::demo_page,
    crate::widget::demo_redirect,
    crate::openapi::viewer::document,
    crate::openapi::viewer::page,
    crate::openapi::viewer::asset,
    crate::auth::account::routes::link_identity,
    crate::auth::account::routes::confirm_link,
    crate::auth::account::routes::export,
    crate::auth::account::routes::erase,
))]
pub struct ApiDoc;
