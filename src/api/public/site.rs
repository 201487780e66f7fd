//! `GET /api/v1/sites/{site}`: what the widget needs to draw the form.

use actix_web::{HttpResponse, web};
use serde::Serialize;
use utoipa::ToSchema;

use crate::error::ApiResult;
use crate::http::RouteSite;
use crate::state::AppState;

/// A site's public configuration: what the widget needs to draw the comment form.
#[derive(Serialize, ToSchema)]
pub struct PublicSite<'a> {
    /// The site's slug (`[a-z0-9-]{2,64}`).
    #[schema(example = "my-blog")]
    slug: &'a str,
    /// The blog's name.
    #[schema(example = "My Blog")]
    name: &'a str,
    /// The login providers a reader can use here (enabled on the site and configured on this
    /// server): `wordpress`, `twitter`, `facebook`, `google`, `oidc-<name>`, `dev`.
    #[schema(example = json!(["google", "wordpress"]))]
    providers: &'a [String],
    /// Whether guests (name + email, no login) may comment.
    guests: bool,
    /// How deep replies may nest.
    #[schema(example = 5)]
    max_depth: i32,
    /// For how many seconds after posting an author may edit or delete their comment.
    #[schema(example = 900)]
    edit_window_s: i32,
    /// The moderation policy: `pre` (everything waits for a moderator), `post` (published
    /// unless a rule holds it) or `first_time` (held until one of the author's was approved).
    #[schema(value_type = crate::domain::Policy, example = "post")]
    policy: &'static str,
    /// A closed site takes no new comments.
    closed: bool,
}

/// A site's public configuration.
///
/// Its name, the login providers a reader can use, whether guests may comment, how deep replies
/// nest, the edit window and the moderation policy: what the widget needs to draw its form.
#[utoipa::path(
    get,
    path = "/api/v1/sites/{site}",
    operation_id = "get_public_site",
    tag = "comments",
    params(("site" = String, Path, description = "The site's slug.")),
    responses(
        (status = 200, description = "The site's public configuration.", body = PublicSite)
    )
)]
pub async fn get_site(
    state: web::Data<AppState>,
    RouteSite(site): RouteSite,
) -> ApiResult<HttpResponse> {
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
