//! One resource of the route table: its path, the methods it answers (also its 405's
//! `Allow`), and how its handlers are added. Each audience's module holds its own table.

use actix_web::web;

use crate::http::errors::method_not_allowed;

/// One resource: its path under its group's prefix, the methods it answers (also its 405's
/// `Allow`), and how its handlers are added.
pub struct ApiResource {
    pub path: &'static str,
    pub allow: &'static str,
    pub add: fn(actix_web::Resource) -> actix_web::Resource,
}

impl ApiResource {
    /// The methods of this resource, HEAD left out.
    pub fn methods(&self) -> impl Iterator<Item = &'static str> {
        self.allow.split(", ").filter(|m| *m != "HEAD")
    }
}

/// A resource that answers 405 with `Allow` for methods it doesn't have.
pub fn resource(path: &str, allow: &'static str) -> actix_web::Resource {
    web::resource(path).default_service(web::to(move || method_not_allowed(allow)))
}

/// GET, and HEAD for the same handler (actix sends no body for HEAD).
pub fn get() -> actix_web::Route {
    web::route().guard(actix_web::guard::Any(actix_web::guard::Get()).or(actix_web::guard::Head()))
}
