//! `/api/mod/v1/sites/{site}/moderators/{id}`: a site's team, its members' roles and their
//! removal (owners only).

use actix_web::{HttpResponse, web};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use utoipa::{IntoResponses, ToSchema};
use uuid::Uuid;

use crate::auth::moderators::store::{self};
use crate::auth::moderators::team;
use crate::auth::moderators::{Moderator, Role};
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::http::json::ApiJson;
use crate::http::paging::PageParams;
use crate::http::{Paging, private};
use crate::state::AppState;

/// Who may change a site's team: its owners, on a password login (`Moderator::team_scope`).
#[derive(IntoResponses)]
#[response(
    status = 403,
    description = "`forbidden` (not an owner of this site) or `login_required` (made with an API token)."
)]
pub struct TeamChangeRefused(pub ErrorBody);

/// Who may see a site's team and its pending invitations: its owners.
#[derive(IntoResponses)]
#[response(
    status = 403,
    description = "`forbidden`: the caller is a moderator, not an owner, of this site."
)]
pub struct NotOwner(pub ErrorBody);

/// A moderator on a site's team.
#[derive(Serialize, ToSchema)]
#[schema(as = TeamMember)]
struct MemberView {
    /// The moderator account's id.
    id: Uuid,
    email: String,
    /// `owner` or `moderator`.
    #[schema(example = "moderator")]
    role: String,
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    added_at: OffsetDateTime,
}

/// One page of a site's team, in the order they joined.
#[derive(Serialize, ToSchema)]
struct TeamPage {
    items: Vec<MemberView>,
    /// Pass as `?cursor=` for the next page; `null` on the last page.
    next_cursor: Option<String>,
}

impl From<store::MemberRow> for MemberView {
    fn from(m: store::MemberRow) -> Self {
        Self {
            id: m.id,
            email: m.email,
            role: m.role,
            added_at: m.added_at,
        }
    }
}

/// Lists a site's team (owners only).
#[utoipa::path(
    get,
    path = "/api/mod/v1/sites/{site}/moderators",
    tag = "team",
    security(("moderator" = [])),
    params(
        ("site" = String, Path, description = "The site's slug."),
        PageParams
    ),
    responses(
        (status = 200, description = "One page of the team.", body = TeamPage),
        NotOwner
    )
)]
pub async fn list_team(
    state: web::Data<AppState>,
    moderator: Moderator,
    path: web::Path<String>,
    paging: Paging,
) -> ApiResult<HttpResponse> {
    let scope = moderator.owner_scope(&path)?;
    let read = |after, n| store::team(&state.db.pool, &scope, after, n);
    let (rows, next) = paging.by_time(read, |m| (m.added_at, m.id)).await?;
    let items: Vec<MemberView> = rows.into_iter().map(MemberView::from).collect();
    Ok(private(HttpResponse::Ok()).json(TeamPage {
        items,
        next_cursor: next,
    }))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RoleBody {
    /// `owner` or `moderator`.
    #[schema(example = "owner")]
    role: String,
}

/// Changes the role of a member of a site's team (owners only, with a login session).
///
/// Only for people already on the team: newcomers join by invitation
/// (`POST /sites/{site}/moderators`). The site's last owner can't be demoted (409). A demoted
/// owner's open invitations are voided.
#[utoipa::path(
    patch,
    path = "/api/mod/v1/sites/{site}/moderators/{id}",
    tag = "team",
    security(("moderator" = [])),
    params(
        ("site" = String, Path, description = "The site's slug."),
        ("id" = Uuid, Path, description = "The moderator account's id.")
    ),
    request_body = RoleBody,
    responses(
        (status = 200, description = "The member with their (new) role.", body = MemberView),
        (status = 400, description = "`invalid_json` or `validation_failed` (`role`).", body = ErrorBody),
        TeamChangeRefused,
        (status = 404, description = "`not_found`: no such site or no such member of its team.", body = ErrorBody),
        (status = 409, description = "`conflict`: this would demote the site's only owner.", body = ErrorBody)
    )
)]
pub async fn change_role(
    state: web::Data<AppState>,
    moderator: Moderator,
    path: web::Path<(String, Uuid)>,
    body: ApiJson<RoleBody>,
) -> ApiResult<HttpResponse> {
    let (site, member_id) = path.into_inner();
    let scope = moderator.team_scope(&site)?;
    let role = Role::parse(&body.0.role).map_err(|e| ApiError::validation("role", e))?;
    let member = team::change_role(&state.db.pool, &scope, moderator.id, member_id, role).await?;
    Ok(private(HttpResponse::Ok()).json(MemberView::from(member)))
}

/// Removes a moderator from a site's team (owners only; not the last owner).
#[utoipa::path(
    delete,
    path = "/api/mod/v1/sites/{site}/moderators/{id}",
    tag = "team",
    security(("moderator" = [])),
    params(
        ("site" = String, Path, description = "The site's slug."),
        ("id" = Uuid, Path, description = "The moderator account's id.")
    ),
    responses(
        (status = 204, description = "Removed from the team."),
        TeamChangeRefused,
        (status = 404, description = "`not_found`: no such site or no such member of its team.", body = ErrorBody),
        (status = 409, description = "`conflict`: this is the site's only owner.", body = ErrorBody)
    )
)]
pub async fn remove_member(
    state: web::Data<AppState>,
    moderator: Moderator,
    path: web::Path<(String, Uuid)>,
) -> ApiResult<HttpResponse> {
    let (site, member_id) = path.into_inner();
    let scope = moderator.team_scope(&site)?;
    team::remove(&state.db.pool, &scope, moderator.id, member_id).await?;
    Ok(private(HttpResponse::NoContent()).finish())
}
