//! `GET /api/v1/sites/{site}`: what the widget needs to draw the form.

use actix_web::{HttpResponse, web};
use serde::Serialize;

use crate::app::AppState;
use crate::error::{ApiError, ApiResult};

#[derive(Serialize)]
struct PublicSite<'a> {
    slug: &'a str,
    name: &'a str,
    providers: &'a [String],
    guests: bool,
    max_depth: i32,
    edit_window_s: i32,
    policy: &'static str,
    closed: bool,
}

pub async fn get_site(
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> ApiResult<HttpResponse> {
    let site = state.site(&path).await?;
    // Only what this server can actually log people in with.
    let providers: Vec<String> = site
        .providers
        .iter()
        .filter(|p| state.providers.is_available(p))
        .cloned()
        .collect();
    Ok(HttpResponse::Ok().json(PublicSite {
        slug: &site.slug,
        name: &site.name,
        providers: &providers,
        guests: site.guests,
        max_depth: site.max_depth,
        edit_window_s: site.edit_window_s,
        policy: site.policy.as_str(),
        closed: site.closed,
    }))
}

pub fn unknown_site() -> ApiError {
    ApiError::not_found("Site")
}
