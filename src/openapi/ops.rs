use utoipa::OpenApi;

#[derive(OpenApi)]
#[openapi(paths(crate::health::live, crate::health::ready))]
pub struct ApiDoc;
