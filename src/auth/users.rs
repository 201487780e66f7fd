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

/// Upserts the identity and its user in one transaction; returns the user id.
pub async fn upsert(conn: &mut PgConnection, p: &Profile) -> Result<Uuid, sqlx::Error> {
    let existing: Option<Uuid> = sqlx::query_scalar(
        "UPDATE identities SET email = $3, email_verified = $4, profile = $5, updated_at = now()
         WHERE provider = $1 AND subject = $2 RETURNING user_id",
    )
    .bind(&p.provider)
    .bind(&p.subject)
    .bind(&p.email)
    .bind(p.email_verified)
    .bind(&p.raw)
    .fetch_optional(&mut *conn)
    .await?;
    if let Some(user_id) = existing {
        sqlx::query(
            "UPDATE users SET name = $2, email = COALESCE($3, email), avatar_url = $4, profile_url = $5, updated_at = now()
             WHERE id = $1",
        )
        .bind(user_id)
        .bind(&p.name)
        .bind(&p.email)
        .bind(&p.avatar_url)
        .bind(&p.profile_url)
        .execute(&mut *conn)
        .await?;
        return Ok(user_id);
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
    sqlx::query(
        "INSERT INTO identities (id, user_id, provider, subject, email, email_verified, profile)
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(Uuid::now_v7())
    .bind(user_id)
    .bind(&p.provider)
    .bind(&p.subject)
    .bind(&p.email)
    .bind(p.email_verified)
    .bind(&p.raw)
    .execute(&mut *conn)
    .await?;
    // An erased account's ban follows its identity to the new user.
    crate::moderation::bans::inherit_erased(conn, user_id, &p.provider, &p.subject).await?;
    Ok(user_id)
}
