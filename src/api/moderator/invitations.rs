//! Joining a site's team by invitation.
//!
//! A site owner never sets anyone's password, and nothing an owner does can attach a role to
//! an account that already exists: that is what let one site's owner plant an account (with a
//! password they chose) that another site later added.
//!
//! - `POST /sites/{site}/moderators {email, role}` (owners, with a login session) creates an
//!   invitation: single use, expires after [`INVITATION_TTL_DAYS`] days, its 256-bit token
//!   stored as a SHA-256 and shown once, in that answer. The answer has the same shape whether
//!   the email has an account, is already on the team, or neither: an owner learns nothing
//!   about other sites' people from it. Inviting the same email again replaces the open
//!   invitation. Until mail exists the owner hands the token (or `accept_url`) to the invitee.
//! - `POST /invitations/accept {token, …}` (anyone; throttled like login). For an email without
//!   an account the invitee sends `new_password` (the usual password policy) and gets the
//!   account and the role. For an existing account the token alone is never enough: the
//!   invitee accepts logged in as that account (a moderator session, not an API token) or with
//!   its `password`, which is checked like a login and counted by the same throttle (a token
//!   holder must not get a password oracle for the invited account).
//! - An invitation stands only while its inviter still owns the site: removing or demoting an
//!   owner voids their open invitations, and acceptance re-checks it.
//! - Accepting claims the row with one conditional UPDATE before anything else is written, so
//!   two concurrent acceptances can't both succeed.
//!
//! Who holds the token learns, by trying to accept it, whether its email has an account (one
//! answer creates an account, the other asks for a login). Until invitations are mailed that
//! is the inviting owner; the invitation answer itself never tells.

use actix_web::{HttpRequest, HttpResponse, web};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use utoipa::ToSchema;
use uuid::Uuid;

use super::team::{NotOwner, TeamChangeRefused};
use crate::auth::moderators::invitation_store::{self as invites, InvitationRow};
use crate::auth::moderators::invitations::{self, Proof};
use crate::auth::moderators::{Moderator, Role, password};
use crate::domain::Email;
use crate::domain::client::ClientInfo;
use crate::error::{ApiError, ApiResult, ErrorBody, Validation};
use crate::http::json::ApiJson;
use crate::http::paging::PageParams;
use crate::http::{Paging, private};
use crate::state::AppState;

pub use crate::auth::moderators::invitations::INVITATION_TTL_DAYS;

/// An invitation to a site's team.
#[derive(Serialize, ToSchema)]
#[schema(as = Invitation)]
struct InvitationView<'a> {
    id: Uuid,
    /// The site's slug.
    #[schema(example = "my-blog")]
    site: &'a str,
    /// The invited address (case-folded).
    email: String,
    /// `owner` or `moderator`: the role accepting gives.
    #[schema(example = "moderator")]
    role: String,
    /// The owner who invited.
    invited_by: Uuid,
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    expires_at: OffsetDateTime,
    /// The secret the invitee accepts with: only in the answer that created the invitation,
    /// shown this once (only its hash is stored).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    token: Option<String>,
    /// Where the invitee sends `POST {token, …}` to accept; with `token`, only in the answer
    /// that created the invitation.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    accept_url: Option<String>,
}

impl<'a> InvitationView<'a> {
    fn new(site: &'a str, row: InvitationRow) -> Self {
        Self {
            id: row.id,
            site,
            email: row.email,
            role: row.role,
            invited_by: row.invited_by,
            created_at: row.created_at,
            expires_at: row.expires_at,
            token: None,
            accept_url: None,
        }
    }
}

/// One page of a site's pending invitations, oldest first (tokens never shown again).
#[derive(Serialize, ToSchema)]
struct InvitationPage<'a> {
    items: Vec<InvitationView<'a>>,
    /// Pass as `?cursor=` for the next page; `null` on the last page.
    next_cursor: Option<String>,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct InviteBody {
    /// The invitee's email.
    #[schema(example = "bob@example.com")]
    email: String,
    /// `owner` or `moderator`.
    #[schema(example = "moderator")]
    role: String,
}

/// Invites someone to a site's team (owners only, with a login session).
///
/// Creates an invitation for `email` with `role` and answers it with its `token` and
/// `accept_url`, shown this once; hand them to the invitee, who accepts at
/// `POST /api/mod/v1/invitations/accept` with a password of their own (or, for an existing
/// account, logged in as it). The answer is the same whether or not the email has an account
/// or is on the team already. Inviting the same email again replaces the open invitation.
/// Owners never set passwords: a `password` field is refused.
#[utoipa::path(
    post,
    path = "/api/mod/v1/sites/{site}/moderators",
    tag = "team",
    security(("moderator" = [])),
    params(("site" = String, Path, description = "The site's slug.")),
    request_body = InviteBody,
    responses(
        (status = 201, description = "The invitation, with its `token` and `accept_url` (shown once).", body = InvitationView),
        (status = 400, description = "`invalid_json` or `validation_failed` (`email`, `role`, or an unknown field such as `password`: owners never set passwords).", body = ErrorBody),
        TeamChangeRefused
    )
)]
pub async fn invite(
    state: web::Data<AppState>,
    moderator: Moderator,
    path: web::Path<String>,
    body: ApiJson<InviteBody>,
) -> ApiResult<HttpResponse> {
    let scope = moderator.team_scope(&path)?;
    let InviteBody { email, role } = body.0;
    let mut errors = Validation::new();
    let email = errors.check("email", Email::parse(&email));
    let role = errors.check("role", Role::parse(&role));
    let (Some(email), Some(role)) = (email, role) else {
        return Err(errors.into());
    };
    let email = email.identity_key();
    // Nothing here looks at whether the email has an account or a role: the answer can't
    // depend on what isn't read.
    let (row, token) =
        invitations::invite(&state.db.pool, &scope, moderator.id, &email, role).await?;
    let mut view = InvitationView::new(scope.slug(), row);
    view.token = Some(token);
    view.accept_url = Some(accept_url(&state));
    Ok(private(HttpResponse::Created()).json(view))
}

fn accept_url(state: &AppState) -> String {
    format!(
        "{}/api/mod/v1/invitations/accept",
        state.settings.server.public_url.trim_end_matches('/')
    )
}

/// Lists a site's pending invitations (owners only), oldest first, without their tokens.
#[utoipa::path(
    get,
    path = "/api/mod/v1/sites/{site}/invitations",
    tag = "team",
    security(("moderator" = [])),
    params(
        ("site" = String, Path, description = "The site's slug."),
        PageParams
    ),
    responses(
        (status = 200, description = "One page of invitations not yet accepted, revoked or expired.", body = InvitationPage),
        NotOwner
    )
)]
pub async fn list_invitations(
    state: web::Data<AppState>,
    moderator: Moderator,
    path: web::Path<String>,
    paging: Paging,
) -> ApiResult<HttpResponse> {
    let scope = moderator.owner_scope(&path)?;
    let read = |after, n| invites::list_pending(&state.db.pool, &scope, after, n);
    let (rows, next) = paging.by_time(read, |i| (i.created_at, i.id)).await?;
    let items = rows
        .into_iter()
        .map(|r| InvitationView::new(scope.slug(), r))
        .collect();
    Ok(private(HttpResponse::Ok()).json(InvitationPage {
        items,
        next_cursor: next,
    }))
}

/// Revokes a pending invitation (owners only, with a login session); its token stops working.
#[utoipa::path(
    delete,
    path = "/api/mod/v1/sites/{site}/invitations/{id}",
    tag = "team",
    security(("moderator" = [])),
    params(
        ("site" = String, Path, description = "The site's slug."),
        ("id" = Uuid, Path, description = "The invitation's id.")
    ),
    responses(
        (status = 204, description = "Revoked."),
        TeamChangeRefused,
        (status = 404, description = "`not_found`: no such site, or no such pending invitation on it.", body = ErrorBody)
    )
)]
pub async fn revoke_invitation(
    state: web::Data<AppState>,
    moderator: Moderator,
    path: web::Path<(String, Uuid)>,
) -> ApiResult<HttpResponse> {
    let (site, id) = path.into_inner();
    let scope = moderator.team_scope(&site)?;
    invitations::revoke(&state.db.pool, &scope, moderator.id, id).await?;
    Ok(private(HttpResponse::NoContent()).finish())
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AcceptBody {
    /// The invitation's token.
    token: String,
    /// For an email without an account: the password to create it with (at least 12
    /// characters).
    #[serde(default)]
    #[schema(format = Password)]
    new_password: Option<String>,
    /// For an email with an account, when not sending its session: that account's password.
    #[serde(default)]
    #[schema(format = Password)]
    password: Option<String>,
}

/// What accepting an invitation did.
#[derive(Serialize, ToSchema)]
struct Accepted {
    /// The site's slug.
    #[schema(example = "my-blog")]
    site: String,
    /// The role now held there.
    #[schema(example = "moderator")]
    role: String,
    /// The moderator account.
    moderator_id: Uuid,
    email: String,
    /// Whether accepting created the account (with `new_password`).
    account_created: bool,
}

/// Accepts an invitation to a site's team.
///
/// With `new_password` for an email that has no account: creates the account with that
/// password and gives it the role. For an email that has an account: send the request with that
/// account's moderator session (`Authorization: Bearer`, not an API token) or its `password`;
/// the token alone never gives an existing account a role. Unknown tokens and wrong passwords
/// are throttled like login.
#[utoipa::path(
    post,
    path = "/api/mod/v1/invitations/accept",
    tag = "team",
    security((), ("moderator" = [])),
    request_body = AcceptBody,
    responses(
        (status = 200, description = "Accepted: the role is held from now on.", body = Accepted),
        (status = 400, description = "`invalid_json` or `validation_failed` (`new_password` too short; neither `new_password`, `password` nor a session; both).", body = ErrorBody),
        (status = 401, description = "`unauthenticated`: a bad session token, or a wrong `password` for the invited email's account.", body = ErrorBody),
        (status = 403, description = "`wrong_account` (the session is another email's) or `login_required` (an API token).", body = ErrorBody),
        (status = 404, description = "`not_found`: no invitation has this token.", body = ErrorBody),
        (status = 409, description = "`account_exists`: `new_password` for an email that has an account (accept logged in as it instead), or `conflict`: accepting would demote the site's only owner.", body = ErrorBody),
        (status = 410, description = "`invitation_expired`, `invitation_used` or `invitation_revoked`.", body = ErrorBody),
        (status = 429, description = "`rate_limited`: too many failed attempts from this address or for this email; wait `Retry-After` seconds.", body = ErrorBody,
            headers(("Retry-After" = u64, description = "Seconds to wait before trying again.")))
    )
)]
pub async fn accept(
    state: web::Data<AppState>,
    req: HttpRequest,
    client: ClientInfo,
    body: ApiJson<AcceptBody>,
) -> ApiResult<HttpResponse> {
    let AcceptBody {
        token,
        new_password,
        password: current_password,
    } = body.0;
    let caller = crate::http::moderator::maybe_moderator(&req).await?;
    let proofs = usize::from(caller.is_some())
        + usize::from(new_password.is_some())
        + usize::from(current_password.is_some());
    if proofs != 1 {
        return Err(ApiError::validation(
            "new_password",
            "send exactly one of: `new_password` (no account yet), `password` (the invited \
             account's), or the request with that account's session",
        ));
    }
    if token.is_empty() || token.len() > 128 {
        return Err(ApiError::validation("token", "is not an invitation token"));
    }
    if current_password
        .as_ref()
        .is_some_and(|p| p.len() > password::MAX_BYTES)
    {
        return Err(ApiError::validation(
            "password",
            format!("must be at most {} bytes", password::MAX_BYTES),
        ));
    }
    let new_password = new_password
        .map(password::NewPassword::parse)
        .transpose()
        .map_err(|e| ApiError::validation("new_password", e))?;
    let proof = match (caller, current_password, new_password) {
        (Some(m), _, _) => Proof::Session(m),
        (None, Some(pw), _) => Proof::Password(pw),
        (None, None, Some(pw)) => Proof::NewPassword(pw),
        (None, None, None) => {
            return Err(ApiError::internal(anyhow::anyhow!(
                "exactly one proof was checked above"
            )));
        }
    };
    let auth = &state.settings.auth;
    let a = invitations::accept(&state.db.pool, auth, &client, &token, proof).await?;
    Ok(private(HttpResponse::Ok()).json(Accepted {
        site: a.site,
        role: a.role.as_str().to_owned(),
        moderator_id: a.moderator_id,
        email: a.email,
        account_created: a.account_created,
    }))
}
