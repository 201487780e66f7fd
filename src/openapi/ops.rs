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
    crate::auth::account::page::redirect,
    crate::auth::account::page::page,
    crate::auth::account::page::asset,
    crate::auth::account::login::login,
    crate::auth::account::login::logout,
    crate::auth::account::routes::providers,
    crate::auth::account::routes::me,
    crate::auth::account::routes::comments,
    crate::auth::account::routes::export,
    crate::auth::account::routes::start_link,
    crate::auth::account::routes::unlink,
    crate::auth::account::routes::erase,
))]
pub struct ApiDoc;
