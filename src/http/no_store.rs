//! Answers about one person, which may carry secrets: no shared or browser cache keeps them.

use actix_web::HttpResponseBuilder;
use actix_web::http::header;

/// Marks a response `Cache-Control: no-store` (moderator and account answers).
pub fn private(mut res: HttpResponseBuilder) -> HttpResponseBuilder {
    res.insert_header((header::CACHE_CONTROL, "no-store"));
    res
}
