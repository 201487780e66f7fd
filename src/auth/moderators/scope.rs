//! Who is calling the moderator API (`Moderator`), how they authenticated, and on which sites
//! they hold which role (`SiteScope`). The request extractor is `http::moderator`; here is
//! what it finds, which the CLI and the stores use too.

use sqlx::PgPool;
use uuid::Uuid;

use super::{Role, store};
use crate::error::{ApiError, ApiResult};

/// How the caller authenticated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Credential {
    Session(Uuid),
    ApiToken(Uuid),
}

/// A moderator with a valid session or API token, and every role they hold.
#[derive(Clone)]
pub struct Moderator {
    pub id: Uuid,
    pub email: String,
    pub credential: Credential,
    /// By site slug.
    pub roles: Vec<SiteScope>,
}

// Email is personal data: keep it out of Debug output (and so out of logs).
impl std::fmt::Debug for Moderator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Moderator")
            .field("id", &self.id)
            .field("credential", &self.credential)
            .field("roles", &self.roles)
            .finish()
    }
}

/// The caller's hold on one site. Only the caller's own roles (or the operator's CLI) make one,
/// and every store function about a site takes one: that is how each moderator query is scoped
/// to a site the caller may see.
#[derive(Debug, Clone)]
pub struct SiteScope {
    site_id: Uuid,
    slug: String,
    role: Role,
}

impl SiteScope {
    /// For the command line: whoever runs it operates the server and so every site.
    pub fn operator(site_id: Uuid, slug: &str) -> Self {
        Self {
            site_id,
            slug: slug.to_owned(),
            role: Role::Owner,
        }
    }

    /// For accepting an invitation: the hold its inviting owner had on the site (acceptance
    /// re-checks, in the same transaction, that they still own it).
    pub fn invitation(site_id: Uuid, slug: &str) -> Self {
        Self {
            site_id,
            slug: slug.to_owned(),
            role: Role::Owner,
        }
    }

    pub fn site_id(&self) -> Uuid {
        self.site_id
    }

    pub fn slug(&self) -> &str {
        &self.slug
    }

    pub fn role(&self) -> Role {
        self.role
    }
}

impl Moderator {
    /// The caller's scope on a site, or 404 exactly as for a site that doesn't exist.
    pub fn scope(&self, slug: &str) -> ApiResult<SiteScope> {
        self.roles
            .iter()
            .find(|r| r.slug == slug)
            .cloned()
            .ok_or_else(crate::error::unknown_site)
    }

    /// The caller's scope on a site they own: 404 without a role there, 403 with a lesser one.
    pub fn owner_scope(&self, slug: &str) -> ApiResult<SiteScope> {
        let scope = self.scope(slug)?;
        if scope.role != Role::Owner {
            return Err(ApiError::forbidden(
                "forbidden",
                "Only an owner of this site can do this.",
            ));
        }
        Ok(scope)
    }

    /// The caller's scope for changing a site's team: an owner's ([`Self::owner_scope`]), on a
    /// password login, since a leaked API token must not be able to bring people in (or owners)
    /// that outlive it, nor push anyone out.
    pub fn team_scope(&self, slug: &str) -> ApiResult<SiteScope> {
        let scope = self.owner_scope(slug)?;
        self.require_login("Changing the team needs a password login, not an API token.")?;
        Ok(scope)
    }

    /// The ids of every site the caller holds a role on (to scope a lookup by some other id,
    /// such as a comment's, before the site is known).
    pub fn site_ids(&self) -> Vec<Uuid> {
        self.roles.iter().map(|r| r.site_id).collect()
    }

    /// The caller's scope on the site with this id, or 404.
    pub fn scope_by_id(&self, site_id: Uuid) -> ApiResult<SiteScope> {
        self.roles
            .iter()
            .find(|r| r.site_id == site_id)
            .cloned()
            .ok_or_else(crate::error::unknown_site)
    }

    pub fn is_api_token(&self) -> bool {
        matches!(self.credential, Credential::ApiToken(_))
    }

    /// 403 `login_required` when the caller used an API token: what a leaked token must not
    /// be able to do (change the team, passwords, where readers' tokens go) needs a password
    /// login. `message` says what was refused.
    pub fn require_login(&self, message: &'static str) -> ApiResult<()> {
        if self.is_api_token() {
            return Err(ApiError::forbidden("login_required", message));
        }
        Ok(())
    }
}

/// The moderator a bearer secret (session or API token) belongs to, with every role they hold;
/// 401 for an unknown, expired or revoked secret.
pub async fn authenticate(pool: &PgPool, secret: &str) -> ApiResult<Moderator> {
    let Some(found) = store::find_credential(pool, secret).await? else {
        return Err(ApiError::unauthenticated(
            "This token has expired or was revoked; log in again.",
        ));
    };
    let credential = if found.kind == "api_token" {
        Credential::ApiToken(found.credential_id)
    } else {
        Credential::Session(found.credential_id)
    };
    if found.touch {
        store::touch_api_token(pool, found.credential_id).await?;
    }
    let roles = load_roles(pool, found.moderator_id).await?;
    Ok(Moderator {
        id: found.moderator_id,
        email: found.email,
        credential,
        roles,
    })
}

/// Every role the moderator holds, as scopes.
pub async fn load_roles(pool: &PgPool, moderator_id: Uuid) -> ApiResult<Vec<SiteScope>> {
    // The CHECK constraint allows only known roles; anything else fails to decode (a newer
    // schema) and answers 500.
    Ok(store::roles(pool, moderator_id)
        .await?
        .into_iter()
        .map(|r| SiteScope {
            site_id: r.site_id,
            slug: r.slug,
            role: r.role,
        })
        .collect())
}
