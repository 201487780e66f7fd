//! The end of a successful login at the provider callback: the user behind the provider's
//! profile (created, or updated from the profile) and a new session, in one transaction. A
//! blog's popup gets a session bound to that blog; the account page gets an account session.
//! And linking another login to an account.

use sqlx::PgPool;
use uuid::Uuid;

use super::account::store::{self, Link};
use super::sessions;
use super::users::{self, Profile};

/// A new session on one blog for the person behind `profile`: their user id and the secret.
pub async fn into_site(
    pool: &PgPool,
    profile: &Profile,
    ttl_days: u32,
    site_id: Uuid,
) -> Result<(Uuid, String), sqlx::Error> {
    let mut tx = pool.begin().await?;
    let login = users::upsert(&mut tx, profile).await?;
    let user_id = login.user_id;
    let secret =
        sessions::create_for_site(&mut tx, login, &profile.provider, ttl_days, site_id).await?;
    tx.commit().await?;
    Ok((user_id, secret))
}

/// A new account-page session for the person behind `profile`: their user id and the secret.
pub async fn into_account(
    pool: &PgPool,
    profile: &Profile,
    ttl_days: u32,
) -> Result<(Uuid, String), sqlx::Error> {
    let mut tx = pool.begin().await?;
    let login = users::upsert(&mut tx, profile).await?;
    let user_id = login.user_id;
    let secret = sessions::create_account(&mut tx, login, &profile.provider, ttl_days).await?;
    tx.commit().await?;
    Ok((user_id, secret))
}

/// Attaches the identity behind `profile` to `user_id`; nothing changes unless it is `Linked`.
pub async fn link(pool: &PgPool, user_id: Uuid, profile: &Profile) -> Result<Link, sqlx::Error> {
    let mut tx = pool.begin().await?;
    let link = store::link(&mut tx, user_id, profile).await?;
    if matches!(link, Link::Linked(_)) {
        tx.commit().await?;
    }
    Ok(link)
}

/// Detaches one login from an account (never its last): None when the account is gone.
pub async fn unlink(
    pool: &PgPool,
    user_id: Uuid,
    identity_id: Uuid,
) -> Result<Option<store::Unlink>, sqlx::Error> {
    let mut tx = pool.begin().await?;
    if !store::lock_user(&mut tx, user_id).await? {
        return Ok(None);
    }
    let outcome = store::unlink(&mut tx, user_id, identity_id).await?;
    if matches!(outcome, store::Unlink::Done) {
        tx.commit().await?;
    }
    Ok(Some(outcome))
}
