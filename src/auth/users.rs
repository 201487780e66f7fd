//! Users behind provider identities: the same provider account always maps to the same user,
//! and each login refreshes the profile.

use sqlx::PgConnection;
use uuid::Uuid;

/// A provider's profile, mapped into one shape.
#[derive(Debug, Clone)]
pub struct Profile {
    pub provider: String,
    /// The provider's stable id for the account (WordPress `ID`, X `data.id`, Google `sub`, ...).
    pub subject: String,
    pub name: String,
    pub email: Option<String>,
    pub email_verified: bool,
    pub avatar_url: Option<String>,
    pub profile_url: Option<String>,
    pub raw: serde_json::Value,
}

/// A login: the user behind it and the identity (provider account) it came through.
#[derive(Debug, Clone, Copy)]
pub struct Login {
    pub user_id: Uuid,
    pub identity_id: Uuid,
}

/// Upserts the identity and its user in one transaction.
///
/// The provider's profile (name, avatar, profile URL, email) is stored on the identity: a
/// reader may link logins on `/account/` and use each on a different blog, and what one blog
/// sees (`/api/v1/me` and new comments through the session's identity, its moderators through
/// its own comments and sessions) comes from the login used there only. The shared `users` row
/// also follows the latest login, for the first-party account page and export only: nothing a
/// blog or its moderators can read comes from it.
pub async fn upsert(conn: &mut PgConnection, p: &Profile) -> Result<Login, sqlx::Error> {
    let existing: Option<(Uuid, Uuid)> = sqlx::query_as(
        "UPDATE identities SET email = $3, email_verified = $4, profile = $5, name = $6,
                avatar_url = $7, profile_url = $8, updated_at = now()
         WHERE provider = $1 AND subject = $2 RETURNING user_id, id",
    )
    .bind(&p.provider)
    .bind(&p.subject)
    .bind(&p.email)
    .bind(p.email_verified)
    .bind(&p.raw)
    .bind(&p.name)
    .bind(&p.avatar_url)
    .bind(&p.profile_url)
    .fetch_optional(&mut *conn)
    .await?;
    if let Some((user_id, identity_id)) = existing {
        // The account's own profile (the first-party account page and the reader's export show
        // it) follows their latest login; no blog reads it.
        sqlx::query(
            "UPDATE users SET name = $2, email = COALESCE($3, email), avatar_url = $4,
                    profile_url = $5, updated_at = now()
             WHERE id = $1",
        )
        .bind(user_id)
        .bind(&p.name)
        .bind(&p.email)
        .bind(&p.avatar_url)
        .bind(&p.profile_url)
        .execute(&mut *conn)
        .await?;
        return Ok(Login {
            user_id,
            identity_id,
        });
    }
    let user_id = Uuid::now_v7();
    sqlx::query(
        "INSERT INTO users (id, name, email, avatar_url, profile_url) VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(user_id)
    .bind(&p.name)
    .bind(&p.email)
    .bind(&p.avatar_url)
    .bind(&p.profile_url)
    .execute(&mut *conn)
    .await?;
    let identity_id = Uuid::now_v7();
    insert_identity(conn, identity_id, user_id, p).await?;
    // An erased account's ban follows its identity to the new user.
    crate::auth::ban_carryover::inherit_erased(conn, user_id, &p.provider, &p.subject).await?;
    Ok(Login {
        user_id,
        identity_id,
    })
}

/// Inserts an identity with its profile; false when the provider account is already someone's.
pub async fn insert_identity(
    conn: &mut PgConnection,
    identity_id: Uuid,
    user_id: Uuid,
    p: &Profile,
) -> Result<bool, sqlx::Error> {
    Ok(sqlx::query(
        "INSERT INTO identities (id, user_id, provider, subject, email, email_verified, profile,
                                 name, avatar_url, profile_url)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
         ON CONFLICT ON CONSTRAINT identities_provider_subject_key DO NOTHING",
    )
    .bind(identity_id)
    .bind(user_id)
    .bind(&p.provider)
    .bind(&p.subject)
    .bind(&p.email)
    .bind(p.email_verified)
    .bind(&p.raw)
    .bind(&p.name)
    .bind(&p.avatar_url)
    .bind(&p.profile_url)
    .execute(conn)
    .await?
    .rows_affected()
        == 1)
}
