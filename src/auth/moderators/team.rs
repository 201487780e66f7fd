//! Changes to a site's team made by its owners, each in one transaction with its audit rows:
//! a member's role, a member's removal. The site always keeps an owner, and an owner who stops
//! being one takes their open invitations with them.

use sqlx::PgPool;
use uuid::Uuid;

use super::store::{self, ChangeOutcome, MemberRow, RemoveOutcome};
use super::{Role, SiteScope, team_audit};
use crate::audit::{self, ActionRecord, Actor};
use crate::error::{ApiError, ApiResult};

/// The 409 for a change that would leave the site without an owner.
pub fn last_owner() -> ApiError {
    ApiError::conflict(
        "conflict",
        "This is the site's only owner; make someone else an owner first.",
    )
}

fn member_not_found() -> ApiError {
    ApiError::not_found("Moderator")
}

/// Gives a member of the team `role`; answers the member as changed.
pub async fn change_role(
    pool: &PgPool,
    scope: &SiteScope,
    owner_id: Uuid,
    member_id: Uuid,
    role: Role,
) -> ApiResult<MemberRow> {
    let mut tx = pool.begin().await?;
    let outcome = store::change_role(&mut tx, scope, member_id, role).await?;
    let from = match outcome {
        ChangeOutcome::NotMember => return Err(member_not_found()),
        ChangeOutcome::LastOwner => return Err(last_owner()),
        ChangeOutcome::Changed { from } => Some(from),
        ChangeOutcome::Unchanged => None,
    };
    let member = store::member(&mut tx, scope, member_id)
        .await?
        .ok_or_else(|| ApiError::internal(anyhow::anyhow!("member vanished in its transaction")))?;
    if let Some(from) = from {
        let actor = Actor::Moderator(owner_id);
        team_audit::audit_role_change(&mut tx, scope, actor, &member.email, member_id, from, role)
            .await?;
        if from == Role::Owner {
            team_audit::void_invitations_of(&mut tx, scope, member_id, actor).await?;
        }
    }
    tx.commit().await?;
    tracing::info!(
        moderator.id = %owner_id,
        member.id = %member_id,
        site.slug = scope.slug(),
        role = role.as_str(),
        outcome = ?outcome,
        "team role changed"
    );
    Ok(member)
}

/// Removes a member from the team (not the last owner).
pub async fn remove(
    pool: &PgPool,
    scope: &SiteScope,
    owner_id: Uuid,
    member_id: Uuid,
) -> ApiResult<()> {
    let mut tx = pool.begin().await?;
    let member = store::member(&mut tx, scope, member_id).await?;
    let role = match store::remove_member(&mut tx, scope, member_id).await? {
        RemoveOutcome::Removed { role } => role,
        RemoveOutcome::NotMember => return Err(member_not_found()),
        RemoveOutcome::LastOwner => return Err(last_owner()),
    };
    let site_id = Some(scope.site_id());
    let record = ActionRecord::by_moderator(
        site_id,
        owner_id,
        "moderator.removed",
        "moderator",
        member_id,
    )
    .before(serde_json::json!({
        "email": member.map(|m| m.email),
        "role": role.as_str(),
    }));
    audit::record_action(&mut tx, &record).await?;
    if role == Role::Owner {
        let actor = Actor::Moderator(owner_id);
        team_audit::void_invitations_of(&mut tx, scope, member_id, actor).await?;
    }
    tx.commit().await?;
    tracing::info!(
        moderator.id = %owner_id,
        member.id = %member_id,
        site.slug = scope.slug(),
        "team member removed"
    );
    Ok(())
}
