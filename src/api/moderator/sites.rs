//! `/api/mod/v1/sites`: the sites where the caller holds a role, their settings, and an
//! owner's change of them.

use actix_web::{HttpResponse, web};
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::auth::moderators::{Moderator, Role, SiteScope};
use crate::error::{ApiResult, ErrorBody};
use crate::http::json::ApiJson;
use crate::http::paging::PageParams;
use crate::http::{Paging, private};
use crate::sites::{Site, settings, store as site_store};
use crate::state::AppState;

/// A site's full settings, for anyone holding a role on it.
#[derive(Serialize, ToSchema)]
#[schema(as = ModeratorSite)]
pub(crate) struct SiteView<'a> {
    id: Uuid,
    #[schema(example = "my-blog")]
    slug: &'a str,
    name: &'a str,
    /// Origins the widget may be embedded on (CORS).
    #[schema(value_type = Vec<String>, example = json!(["https://blog.example"]))]
    origins: &'a [String],
    /// Enabled login providers.
    #[schema(value_type = Vec<String>, example = json!(["google", "oidc-corp"]))]
    providers: &'a [String],
    /// Whether guests (name and email, no login) may comment.
    guests: bool,
    /// The moderation policy: `pre`, `post` or `first_time`.
    #[schema(example = "first_time")]
    policy: &'static str,
    /// Deepest reply level.
    max_depth: i32,
    /// How long authors may edit their comments, in seconds.
    edit_window_s: i32,
    /// Reader flags that send an approved comment back to the queue.
    flags_to_hold: i32,
    /// Closed to new comments.
    closed: bool,
    /// Per-site overrides of `[limits]` (`comment_interval_s`, `comments_per_minute_user`,
    /// `comments_per_minute_ip`, `guest_comments_per_minute`); absent keys follow the server's
    /// settings.
    #[schema(value_type = Object)]
    limits: &'a crate::sites::SiteLimits,
    /// The caller's role on this site: `owner` or `moderator`.
    #[schema(example = "owner")]
    role: &'static str,
}

/// One page of the caller's sites, by slug.
#[derive(Serialize, ToSchema)]
struct SitePage<'a> {
    items: Vec<SiteView<'a>>,
    /// Pass as `?cursor=` for the next page; `null` on the last page.
    next_cursor: Option<String>,
}

pub(crate) fn site_view(site: &Site, role: Role) -> SiteView<'_> {
    SiteView {
        id: site.id,
        slug: &site.slug,
        name: &site.name,
        origins: &site.origins,
        providers: &site.providers,
        guests: site.guests,
        policy: site.policy.as_str(),
        max_depth: site.max_depth,
        edit_window_s: site.edit_window_s,
        flags_to_hold: site.flags_to_hold,
        closed: site.closed,
        limits: &site.limits,
        role: role.as_str(),
    }
}

/// Lists the sites where the caller holds a role, by slug, with their settings.
#[utoipa::path(
    get,
    path = "/api/mod/v1/sites",
    tag = "team",
    security(("moderator" = [])),
    params(
        PageParams
    ),
    responses(
        (status = 200, description = "One page of sites.", body = SitePage)
    )
)]
pub async fn list_sites(
    state: web::Data<AppState>,
    moderator: Moderator,
    paging: Paging,
) -> ApiResult<HttpResponse> {
    // Roles come sorted by slug; a person holds roles on a handful of sites, so the page is cut
    // from them and only its sites are read.
    let scopes: Vec<&SiteScope> = moderator
        .roles
        .iter()
        .filter(|r| paging.cursor().is_none_or(|a| r.slug() > a))
        .take(paging.limit as usize + 1)
        .collect();
    let (scopes, next) = paging.split(scopes, |s| s.slug().to_owned());
    let ids: Vec<Uuid> = scopes.iter().map(|s| s.site_id()).collect();
    let sites = site_store::find_many(&state.db.pool, &ids).await?;
    let items: Vec<SiteView> = sites
        .iter()
        .filter_map(|site| {
            let scope = scopes.iter().find(|s| s.site_id() == site.id)?;
            Some(site_view(site, scope.role()))
        })
        .collect();
    Ok(private(HttpResponse::Ok()).json(SitePage {
        items,
        next_cursor: next,
    }))
}

/// One site's settings and the caller's role there.
#[utoipa::path(
    get,
    path = "/api/mod/v1/sites/{site}",
    tag = "team",
    security(("moderator" = [])),
    params(("site" = String, Path, description = "The site's slug.")),
    responses(
        (status = 200, description = "The site's settings.", body = SiteView)
    )
)]
pub async fn get_site(
    state: web::Data<AppState>,
    moderator: Moderator,
    path: web::Path<String>,
) -> ApiResult<HttpResponse> {
    let scope = moderator.scope(&path)?;
    let site = site_store::find_many(&state.db.pool, &[scope.site_id()])
        .await?
        .pop()
        .ok_or_else(crate::sites::unknown_site)?;
    Ok(private(HttpResponse::Ok()).json(site_view(&site, scope.role())))
}

/// Changes a site's settings (owners only).
///
/// Every field is optional; each given one is checked before anything is written, and all bad
/// fields are reported at once. A moderator (not an owner) gets 403, anyone without a role 404.
#[utoipa::path(
    patch,
    path = "/api/mod/v1/sites/{site}",
    tag = "team",
    security(("moderator" = [])),
    params(("site" = String, Path, description = "The site's slug.")),
    request_body = settings::SitePatch,
    responses(
        (status = 200, description = "The site's settings as changed.", body = SiteView),
        (status = 400, description = "`invalid_json` or `validation_failed` (every bad field named: `name`, `policy`, `origins[i]`, `providers[i]`, `limits.<key>`, …).", body = ErrorBody),
        (status = 403, description = "`forbidden`: the caller is a moderator, not an owner, of this site; `login_required`: `origins` or `providers` changed with an API token.", body = ErrorBody)
    )
)]
pub async fn patch_site(
    state: web::Data<AppState>,
    moderator: Moderator,
    path: web::Path<String>,
    body: ApiJson<settings::SitePatch>,
) -> ApiResult<HttpResponse> {
    let scope = moderator.owner_scope(&path)?;
    let changes = body.0.parse()?;
    let site = settings::change(&state.db.pool, &state.sites, &scope, &moderator, &changes).await?;
    Ok(private(HttpResponse::Ok()).json(site_view(&site, scope.role())))
}
