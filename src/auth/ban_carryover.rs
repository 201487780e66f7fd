//! Bans follow a login, not just a user row: the bookkeeping that keeps an erased or unlinked
//! login's active user bans (as fingerprints) and gives them to whoever logs in with it next.
//! Here, beside the identities it is about, so erasing and linking never call up into
//! moderation; the ban rows themselves are moderation's (`moderation::bans`).

use sqlx::PgConnection;
use uuid::Uuid;

/// While a user ban is active, a login that leaves the user (all of them when the account is
/// erased, `only` one when it is unlinked on `/account/`) could log in again as a fresh user:
/// so a fingerprint of each (SHA-256 of `provider:subject`) is kept tied to the ban, and a user
/// later created with (or linking) that login inherits it; see migration
/// `erased_identity_bans`. In the erase or unlink transaction, before the identities go.
pub async fn remember_leaving_identities(
    conn: &mut PgConnection,
    user_id: Uuid,
    only: Option<Uuid>,
) -> Result<u64, sqlx::Error> {
    Ok(sqlx::query(
        "INSERT INTO erased_identity_bans (ban_id, identity_hash)
         SELECT b.id, sha256(convert_to(i.provider || ':' || i.subject, 'UTF8'))
         FROM bans b JOIN identities i ON i.user_id = b.user_id
         WHERE b.user_id = $1 AND ($2::uuid IS NULL OR i.id = $2)
           AND b.kind = 'user' AND (b.until IS NULL OR b.until > now())
         ON CONFLICT DO NOTHING",
    )
    .bind(user_id)
    .bind(only)
    .execute(conn)
    .await?
    .rows_affected())
}

/// A user who just got this identity (new, or linked) inherits the active bans of an erased
/// user who had it: same site, kind, shadow, expiry and reason, marked as carried over.
pub async fn inherit_erased(
    conn: &mut PgConnection,
    user_id: Uuid,
    provider: &str,
    subject: &str,
) -> Result<u64, sqlx::Error> {
    Ok(sqlx::query(
        "INSERT INTO bans (id, site_id, kind, user_id, shadow, until, reason, created_by)
         SELECT gen_random_uuid(), b.site_id, 'user', $1, b.shadow, b.until,
                left('Carried over from an erased account' || coalesce(': ' || b.reason, ''), 500),
                b.created_by
         FROM erased_identity_bans e JOIN bans b ON b.id = e.ban_id
         WHERE e.identity_hash = sha256(convert_to($2 || ':' || $3, 'UTF8'))
           AND (b.until IS NULL OR b.until > now())
           AND NOT EXISTS (SELECT 1 FROM bans o WHERE o.user_id = $1 AND o.site_id = b.site_id
                           AND o.kind = 'user' AND (o.until IS NULL OR o.until > now()))",
    )
    .bind(user_id)
    .bind(provider)
    .bind(subject)
    .execute(conn)
    .await?
    .rows_affected())
}
