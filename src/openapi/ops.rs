//! Operations, the widget script, these docs, and a reader's own account.

use utoipa::OpenApi;

#[derive(OpenApi)]
#[openapi(paths(
    crate::api::ops::health::live,
    crate::api::ops::health::ready,
    crate::api::ops::metrics::scrape,
    crate::widget::embed_js,
    crate::widget::demo_page,
    crate::widget::demo_redirect,
    crate::api::ops::docs::document,
    crate::api::ops::docs::page,
    crate::api::ops::docs::asset,
    crate::api::account::page::redirect,
    crate::api::account::page::page,
    crate::api::account::page::asset,
    crate::api::account::login::login,
    crate::api::account::login::logout,
    crate::api::account::routes::providers,
    crate::api::account::routes::me,
    crate::api::account::routes::comments,
    crate::api::account::routes::export,
    crate::api::account::routes::start_link,
    crate::api::account::routes::unlink,
    crate::api::account::routes::erase,
))]
pub struct ApiDoc;
