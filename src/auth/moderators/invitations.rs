//! Invitations to a site's team as the domain sees them: an owner creates or revokes one, and an
//! invitee accepts it with exactly one proof (their session, their account's password, or a new
//! account's password). Each write opens its transaction, writes its audit rows and commits
//! here; the handlers in `api/moderator/invitations.rs` only parse and answer. See that module
//! for the threat model.

use actix_web::http::StatusCode;
use sqlx::PgPool;
use uuid::Uuid;

use super::invitation_store::{self as invites, InvitationRow};
use super::store::PutOutcome;
use super::store::{self, CreateAccountError};
use super::team::last_owner;
use super::{Moderator, Role, SiteScope, password, team_audit, throttle};
use crate::audit::{self, ActionRecord, Actor};
use crate::config::AuthSettings;
use crate::domain::client::ClientInfo;
use crate::error::{ApiError, ApiResult};

/// How long an invitation can be accepted.
pub const INVITATION_TTL_DAYS: i64 = 7;

/// Invites `email` (an identity key) to the site's team as `role`, replacing any open
/// invitation of that email; answers the invitation and its secret, shown this once.
pub async fn invite(
    pool: &PgPool,
    scope: &SiteScope,
    moderator_id: Uuid,
    email: &str,
    role: Role,
) -> ApiResult<(InvitationRow, String)> {
    let mut tx = pool.begin().await?;
    let invites::Created {
        row,
        secret: token,
        replaced,
    } = invites::create(
        &mut tx,
        scope,
        email,
        role,
        moderator_id,
        time::Duration::days(INVITATION_TTL_DAYS),
    )
    .await?;
    let actor = Actor::Moderator(moderator_id);
    for id in replaced {
        team_audit::audit_revoked(&mut tx, scope, actor, id, "replaced by a new invitation")
            .await?;
    }
    let site_id = Some(scope.site_id());
    let record = ActionRecord::by_moderator(
        site_id,
        moderator_id,
        "invitation.created",
        "invitation",
        row.id,
    )
    .after(team_audit::invitation_audit(&row));
    audit::record_action(&mut tx, &record).await?;
    tx.commit().await?;
    tracing::info!(
        moderator_id = %moderator_id,
        invitation.id = %row.id,
        site.slug = scope.slug(),
        role = role.as_str(),
        "invitation created"
    );
    Ok((row, token))
}

/// Revokes an open invitation of the site.
pub async fn revoke(
    pool: &PgPool,
    scope: &SiteScope,
    moderator_id: Uuid,
    id: Uuid,
) -> ApiResult<()> {
    let mut tx = pool.begin().await?;
    let Some(row) = invites::revoke(&mut tx, scope, id).await? else {
        return Err(ApiError::not_found("Invitation"));
    };
    let site_id = Some(scope.site_id());
    let record = ActionRecord::by_moderator(
        site_id,
        moderator_id,
        "invitation.revoked",
        "invitation",
        row.id,
    )
    .before(team_audit::invitation_audit(&row));
    audit::record_action(&mut tx, &record).await?;
    tx.commit().await?;
    tracing::info!(
        moderator_id = %moderator_id,
        invitation.id = %row.id,
        site.slug = scope.slug(),
        "invitation revoked"
    );
    Ok(())
}

fn gone(code: &'static str, message: &str) -> ApiError {
    ApiError::new(StatusCode::GONE, code, message)
}

/// Who accepts: how they proved it, and the account.
enum Acceptor {
    /// An existing account, proven by its session or its password.
    Existing { id: Uuid, email: String },
    /// No account yet: create it with this hash.
    New { password_hash: String },
}

/// How the invitee proves who they are: exactly one of these.
pub enum Proof {
    /// A moderator session of the invited account (not an API token).
    Session(Moderator),
    /// The invited account's password (checked like a login, and throttled like one).
    Password(String),
    /// No account yet: create it with this password.
    NewPassword(password::NewPassword),
}

/// What accepting did.
pub struct Acceptance {
    /// The site's slug.
    pub site: String,
    pub role: Role,
    pub moderator_id: Uuid,
    pub email: String,
    pub account_created: bool,
}

/// Accepts the invitation whose secret is `token`. Unknown tokens and wrong passwords are
/// throttled like login; a used, revoked or expired invitation is 410.
pub async fn accept(
    pool: &PgPool,
    auth: &AuthSettings,
    client: &ClientInfo,
    token: &str,
    proof: Proof,
) -> ApiResult<Acceptance> {
    let found = invites::find_by_token(pool, token).await?;
    let Some(inv) = found else {
        // Token guessing: charged to the address (and one shared key), like a failed login.
        let keys = throttle::Keys::unknown_invitation(client.ip);
        let attempt = throttle::open(pool, &keys, auth).await?;
        throttle::failed(pool, auth, attempt).await?;
        return Err(ApiError::not_found("Invitation"));
    };
    if inv.accepted {
        return Err(gone("invitation_used", "This invitation has been used."));
    } else if inv.revoked {
        return Err(gone("invitation_revoked", "This invitation was revoked."));
    } else if inv.expired {
        return Err(gone(
            "invitation_expired",
            "This invitation has expired; ask the site's owner for a new one.",
        ));
    }
    let role = Role::parse(&inv.role)
        .map_err(|e| ApiError::internal(anyhow::anyhow!("stored invitation role: {e}")))?;

    let acceptor = match proof {
        Proof::Session(m) => {
            m.require_login(
                "Accept with a login session or the account's password, not an API token.",
            )?;
            if m.email != inv.email {
                return Err(ApiError::forbidden(
                    "wrong_account",
                    "This invitation is for another email address than this session's.",
                ));
            }
            Acceptor::Existing {
                id: m.id,
                email: m.email,
            }
        }
        Proof::Password(pw) => {
            // A password check of the invited account: throttled exactly like a login, or the token
            // holder (the inviting owner, until invitations are mailed) would get an unthrottled
            // oracle for someone else's password.
            let keys = throttle::Keys::new(&inv.email, client.ip);
            let attempt = throttle::open(pool, &keys, auth).await?;
            let account = store::find_login(pool, &inv.email).await?;
            let stored = account.as_ref().map(|a| a.password_hash.clone());
            // Unknown account: the dummy hash, so this can't tell accounts apart by time either.
            let ok = password::verify(pw, stored).await?;
            let Some(account) = account.filter(|_| ok) else {
                throttle::failed(pool, auth, attempt).await?;
                tracing::info!(invitation.id = %inv.id, "invitation acceptance refused");
                return Err(ApiError::unauthenticated(
                    "Wrong password for the invited email's account.",
                ));
            };
            throttle::succeeded(pool, &keys, auth, attempt).await?;
            Acceptor::Existing {
                id: account.id,
                email: account.email,
            }
        }
        Proof::NewPassword(pw) => {
            let mut conn = pool.acquire().await?;
            let exists = store::find_id_by_email(&mut conn, &inv.email).await?;
            drop(conn);
            if exists.is_some() {
                return Err(account_exists());
            }
            // Hashed before the transaction opens, so no lock waits on argon2.
            Acceptor::New {
                password_hash: password::hash(pw).await?,
            }
        }
    };

    let mut tx = pool.begin().await?;
    let scope = SiteScope::invitation(inv.site_id, &inv.slug);
    // Taken before the claim, so an owner's removal (which voids their invitations) and this
    // acceptance of one of them happen one after the other, never interleaved.
    store::lock_team(&mut tx, &scope).await?;
    if !invites::claim(&mut tx, inv.id).await? {
        return Err(gone(
            "invitation_used",
            "This invitation was just used, or is no longer valid.",
        ));
    }
    let (moderator_id, email, created) = match acceptor {
        Acceptor::Existing { id, email } => (id, email, false),
        Acceptor::New { password_hash } => {
            match store::create_account(&mut tx, &inv.email, &password_hash).await {
                Ok(id) => (id, inv.email.clone(), true),
                Err(CreateAccountError::EmailTaken) => return Err(account_exists()),
                Err(CreateAccountError::Db(e)) => return Err(e.into()),
            }
        }
    };
    invites::record_acceptor(&mut tx, inv.id, moderator_id).await?;
    let outcome = store::put_member(&mut tx, &scope, moderator_id, role).await?;
    if outcome == PutOutcome::LastOwner {
        return Err(last_owner());
    }
    let actor = Actor::Moderator(moderator_id);
    if created {
        // Account-level (no site): the site's team must not learn from its own log whether
        // the invitee had an account elsewhere; the site's entries below read the same
        // either way.
        audit::record_action(
            &mut tx,
            &ActionRecord {
                site_id: None,
                actor,
                action: "moderator.created",
                target_kind: "moderator",
                target_id: Some(moderator_id),
                before: None,
                after: Some(serde_json::json!({ "email": email })),
                note: Some("account created by accepting an invitation"),
            },
        )
        .await?;
    }
    audit::record_action(
        &mut tx,
        &ActionRecord {
            site_id: Some(scope.site_id()),
            actor,
            action: "invitation.accepted",
            target_kind: "invitation",
            target_id: Some(inv.id),
            before: None,
            after: Some(serde_json::json!({
                "email": inv.email,
                "role": role.as_str(),
                "accepted_by": moderator_id,
            })),
            note: None,
        },
    )
    .await?;
    team_audit::audit_team_put(&mut tx, &scope, actor, &email, moderator_id, role, outcome).await?;
    tx.commit().await?;
    tracing::info!(
        moderator.id = %moderator_id,
        invitation.id = %inv.id,
        site.slug = scope.slug(),
        role = role.as_str(),
        account_created = created,
        outcome = ?outcome,
        "invitation accepted"
    );
    Ok(Acceptance {
        site: inv.slug,
        role,
        moderator_id,
        email,
        account_created: created,
    })
}

fn account_exists() -> ApiError {
    ApiError::conflict(
        "account_exists",
        "An account with this email exists: accept logged in as it, or with its `password`.",
    )
}
