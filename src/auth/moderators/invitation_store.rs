//! All SQL about invitations to a site's team (see `invitations.rs` for the rules).

use sqlx::{FromRow, PgConnection, PgPool};
use time::{Duration, OffsetDateTime};
use uuid::Uuid;

use super::{Role, SiteScope};
use crate::auth::token;

/// An invitation as its site's owners see it (never with its token or the token's hash).
#[derive(Clone, FromRow)]
pub struct InvitationRow {
    pub id: Uuid,
    pub email: String,
    pub role: String,
    pub invited_by: Uuid,
    pub created_at: OffsetDateTime,
    pub expires_at: OffsetDateTime,
}

// The email stays out of Debug output (and so out of logs).
impl std::fmt::Debug for InvitationRow {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("InvitationRow")
            .field("id", &self.id)
            .field("role", &self.role)
            .finish()
    }
}

/// Invites `email` (case-folded) to the scope's site with `role`. An open invitation for the
/// same email on the same site is revoked first: one live token per person and site.
pub async fn create(
    conn: &mut PgConnection,
    scope: &SiteScope,
    email: &str,
    role: Role,
    invited_by: Uuid,
    ttl: Duration,
) -> Result<Created, sqlx::Error> {
    // Two invitations of one email at once would otherwise both pass the revoke below and
    // collide on the one-open-invitation index.
    super::store::lock_team(conn, scope).await?;
    let replaced: Vec<Uuid> = sqlx::query_scalar(
        "UPDATE moderator_invitations SET revoked_at = now()
         WHERE site_id = $1 AND lower(email) = lower($2)
           AND accepted_at IS NULL AND revoked_at IS NULL
         RETURNING id",
    )
    .bind(scope.site_id())
    .bind(email)
    .fetch_all(&mut *conn)
    .await?;
    let secret = token::generate();
    let row = sqlx::query_as(
        "INSERT INTO moderator_invitations
             (id, site_id, email, role, token_hash, invited_by, expires_at)
         VALUES ($1, $2, $3, $4, $5, $6, now() + make_interval(secs => $7))
         RETURNING id, email, role, invited_by, created_at, expires_at",
    )
    .bind(Uuid::now_v7())
    .bind(scope.site_id())
    .bind(email)
    .bind(role.as_str())
    .bind(token::hash(&secret))
    .bind(invited_by)
    .bind(ttl.as_seconds_f64())
    .fetch_one(&mut *conn)
    .await?;
    Ok(Created {
        row,
        secret,
        replaced,
    })
}

/// A new invitation, its secret (shown once), and the open invitations it replaced.
pub struct Created {
    pub row: InvitationRow,
    pub secret: String,
    pub replaced: Vec<Uuid>,
}

/// The site's pending invitations (not accepted, revoked or expired), oldest first, after the
/// keyset `after` (created_at, id).
pub async fn list_pending(
    pool: &PgPool,
    scope: &SiteScope,
    after: Option<(OffsetDateTime, Uuid)>,
    limit: i64,
) -> Result<Vec<InvitationRow>, sqlx::Error> {
    let (at, id) = after.unzip();
    sqlx::query_as(
        "SELECT id, email, role, invited_by, created_at, expires_at FROM moderator_invitations
         WHERE site_id = $1 AND accepted_at IS NULL AND revoked_at IS NULL AND expires_at > now()
           AND ($2::timestamptz IS NULL OR (created_at, id) > ($2, $3))
         ORDER BY created_at, id
         LIMIT $4",
    )
    .bind(scope.site_id())
    .bind(at)
    .bind(id)
    .bind(limit)
    .fetch_all(pool)
    .await
}

/// Revokes the site's open invitations with this `id` and/or made by `invited_by` (a `None`
/// filters nothing, so callers name at least one); the ones revoked.
async fn revoke_open(
    conn: &mut PgConnection,
    scope: &SiteScope,
    id: Option<Uuid>,
    invited_by: Option<Uuid>,
) -> Result<Vec<InvitationRow>, sqlx::Error> {
    sqlx::query_as(
        "UPDATE moderator_invitations SET revoked_at = now()
         WHERE site_id = $1 AND accepted_at IS NULL AND revoked_at IS NULL
           AND ($2::uuid IS NULL OR id = $2) AND ($3::uuid IS NULL OR invited_by = $3)
         RETURNING id, email, role, invited_by, created_at, expires_at",
    )
    .bind(scope.site_id())
    .bind(id)
    .bind(invited_by)
    .fetch_all(conn)
    .await
}

/// Revokes one of the site's open invitations; None when there is no such open invitation
/// (another site's is "no such invitation").
pub async fn revoke(
    conn: &mut PgConnection,
    scope: &SiteScope,
    id: Uuid,
) -> Result<Option<InvitationRow>, sqlx::Error> {
    Ok(revoke_open(conn, scope, Some(id), None).await?.pop())
}

/// Revokes the open invitations `inviter` made on the scope's site: an owner who leaves the
/// team or is demoted must not leave live invitations behind as a way back in. Run it in the
/// transaction that changes the team.
pub async fn void_by_inviter(
    conn: &mut PgConnection,
    scope: &SiteScope,
    inviter: Uuid,
) -> Result<Vec<Uuid>, sqlx::Error> {
    let revoked = revoke_open(conn, scope, None, Some(inviter)).await?;
    Ok(revoked.into_iter().map(|i| i.id).collect())
}

/// An invitation found by its token, whatever its state.
#[derive(FromRow)]
pub struct TokenRow {
    pub id: Uuid,
    pub site_id: Uuid,
    pub slug: String,
    pub email: String,
    pub role: String,
    pub expired: bool,
    pub accepted: bool,
    /// Revoked by an owner, replaced by a newer invitation, or voided with its inviter.
    pub revoked: bool,
}

impl std::fmt::Debug for TokenRow {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenRow").field("id", &self.id).finish()
    }
}

pub async fn find_by_token(pool: &PgPool, secret: &str) -> Result<Option<TokenRow>, sqlx::Error> {
    sqlx::query_as(
        "SELECT i.id, i.site_id, s.slug, i.email, i.role,
                i.expires_at <= now() AS expired,
                i.accepted_at IS NOT NULL AS accepted,
                i.revoked_at IS NOT NULL AS revoked
         FROM moderator_invitations i JOIN sites s ON s.id = i.site_id
         WHERE i.token_hash = $1",
    )
    .bind(token::hash(secret))
    .fetch_optional(pool)
    .await
}

/// Marks the invitation used if it is still open, unexpired and its inviter still owns the
/// site; false otherwise. The row lock it takes makes a second, concurrent acceptance wait and
/// then find it used: single use, even under a race. Claim first, then create the account and
/// [`record_acceptor`], all in one transaction.
pub async fn claim(conn: &mut PgConnection, id: Uuid) -> Result<bool, sqlx::Error> {
    let res = sqlx::query(
        "UPDATE moderator_invitations i SET accepted_at = now()
         WHERE i.id = $1 AND i.accepted_at IS NULL AND i.revoked_at IS NULL
           AND i.expires_at > now()
           AND EXISTS (SELECT 1 FROM moderator_roles r
                       WHERE r.site_id = i.site_id AND r.moderator_id = i.invited_by
                         AND r.role = 'owner')",
    )
    .bind(id)
    .execute(conn)
    .await?;
    Ok(res.rows_affected() == 1)
}

pub async fn record_acceptor(
    conn: &mut PgConnection,
    id: Uuid,
    moderator_id: Uuid,
) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE moderator_invitations SET accepted_by = $2 WHERE id = $1")
        .bind(id)
        .bind(moderator_id)
        .execute(conn)
        .await?;
    Ok(())
}
