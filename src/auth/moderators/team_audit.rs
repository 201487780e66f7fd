//! The audit rows of team changes: invitations, members added, role changes, removals (never a
//! token, its hash or a password). Each is written on the transaction that makes the change.

use sqlx::PgConnection;
use uuid::Uuid;

use super::invitation_store::{self as invites, InvitationRow};
use super::store::PutOutcome;
use super::{Role, SiteScope};
use crate::audit::{self, ActionRecord, Actor};
use crate::domain::datetime::rfc3339;

/// What the audit log keeps of an invitation.
pub fn invitation_audit(row: &InvitationRow) -> serde_json::Value {
    serde_json::json!({
        "email": row.email,
        "role": row.role,
        "invited_by": row.invited_by,
        "expires_at": rfc3339(row.expires_at),
    })
}

pub async fn audit_revoked(
    conn: &mut PgConnection,
    scope: &SiteScope,
    actor: Actor,
    id: Uuid,
    why: &str,
) -> Result<(), sqlx::Error> {
    audit::record_action(
        conn,
        &ActionRecord {
            site_id: Some(scope.site_id()),
            actor,
            action: "invitation.revoked",
            target_kind: "invitation",
            target_id: Some(id),
            before: None,
            after: None,
            note: Some(why),
        },
    )
    .await
}

/// Voids the open invitations an owner made on the site, now that they left the team or were
/// demoted (an owner on the way out must not keep a way back in), with an audit row each.
pub async fn void_invitations_of(
    conn: &mut PgConnection,
    scope: &SiteScope,
    former_owner: Uuid,
    actor: Actor,
) -> Result<(), sqlx::Error> {
    for id in invites::void_by_inviter(conn, scope, former_owner).await? {
        audit_revoked(
            conn,
            scope,
            actor,
            id,
            "its inviter no longer owns the site",
        )
        .await?;
    }
    Ok(())
}

/// The audit row of a role change of a team member.
pub async fn audit_role_change(
    conn: &mut PgConnection,
    scope: &SiteScope,
    actor: Actor,
    email: &str,
    member: Uuid,
    from: Role,
    to: Role,
) -> Result<(), sqlx::Error> {
    audit::record_action(
        conn,
        &ActionRecord {
            site_id: Some(scope.site_id()),
            actor,
            action: "moderator.role_changed",
            target_kind: "moderator",
            target_id: Some(member),
            before: Some(serde_json::json!({ "email": email, "role": from.as_str() })),
            after: Some(serde_json::json!({ "email": email, "role": to.as_str() })),
            note: None,
        },
    )
    .await
}

/// The audit rows of `store::put_member` (someone added, or their role changed, and a demoted
/// owner's invitations voided); nothing when nothing changed.
pub async fn audit_team_put(
    conn: &mut PgConnection,
    scope: &SiteScope,
    actor: Actor,
    email: &str,
    member: Uuid,
    role: Role,
    outcome: PutOutcome,
) -> Result<(), sqlx::Error> {
    match outcome {
        PutOutcome::Added => {
            audit::record_action(
                conn,
                &ActionRecord {
                    site_id: Some(scope.site_id()),
                    actor,
                    action: "moderator.added",
                    target_kind: "moderator",
                    target_id: Some(member),
                    before: None,
                    after: Some(serde_json::json!({ "email": email, "role": role.as_str() })),
                    note: None,
                },
            )
            .await
        }
        PutOutcome::Changed { from } => {
            audit_role_change(conn, scope, actor, email, member, from, role).await?;
            if from == Role::Owner {
                void_invitations_of(conn, scope, member, actor).await?;
            }
            Ok(())
        }
        PutOutcome::Unchanged | PutOutcome::LastOwner => Ok(()),
    }
}
