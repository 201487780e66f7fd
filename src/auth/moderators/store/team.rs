//! The team of a site: its members and their roles, changed one owner at a time.

use sqlx::{FromRow, PgConnection, PgPool};
use time::OffsetDateTime;
use uuid::Uuid;

use super::super::{Role, SiteScope};

/// A member of a site's team.
#[derive(Clone, FromRow)]
pub struct MemberRow {
    pub id: Uuid,
    pub email: String,
    pub role: String,
    pub added_at: OffsetDateTime,
}

impl std::fmt::Debug for MemberRow {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MemberRow")
            .field("id", &self.id)
            .field("role", &self.role)
            .finish()
    }
}

/// The site's team, in the order members were added, after the keyset `after`.
pub async fn team(
    pool: &PgPool,
    scope: &SiteScope,
    after: Option<(OffsetDateTime, Uuid)>,
    limit: i64,
) -> Result<Vec<MemberRow>, sqlx::Error> {
    let (at, id) = after.unzip();
    sqlx::query_as(
        "SELECT m.id, m.email, r.role, r.created_at AS added_at
         FROM moderator_roles r JOIN moderators m ON m.id = r.moderator_id
         WHERE r.site_id = $1
           AND ($2::timestamptz IS NULL OR (r.created_at, r.moderator_id) > ($2, $3))
         ORDER BY r.created_at, r.moderator_id
         LIMIT $4",
    )
    .bind(scope.site_id())
    .bind(at)
    .bind(id)
    .bind(limit)
    .fetch_all(pool)
    .await
}

pub async fn member(
    conn: &mut PgConnection,
    scope: &SiteScope,
    moderator_id: Uuid,
) -> Result<Option<MemberRow>, sqlx::Error> {
    sqlx::query_as(
        "SELECT m.id, m.email, r.role, r.created_at AS added_at
         FROM moderator_roles r JOIN moderators m ON m.id = r.moderator_id
         WHERE r.site_id = $1 AND r.moderator_id = $2",
    )
    .bind(scope.site_id())
    .bind(moderator_id)
    .fetch_optional(conn)
    .await
}

/// What putting someone on a team did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PutOutcome {
    Added,
    Changed {
        from: Role,
    },
    Unchanged,
    /// Refused: this would demote the site's only owner.
    LastOwner,
}

/// What removing someone from a team did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RemoveOutcome {
    Removed {
        role: Role,
    },
    NotMember,
    /// Refused: this is the site's only owner.
    LastOwner,
}

/// Serializes team changes of one site (invitations included), so two owners removing each
/// other at the same moment can't leave the site with none, and an invitation can't be accepted
/// while its inviter is being removed. `NO KEY UPDATE` doesn't block comment inserts, whose foreign
/// key check only takes `KEY SHARE` on the site row.
pub async fn lock_team(conn: &mut PgConnection, scope: &SiteScope) -> Result<(), sqlx::Error> {
    sqlx::query("SELECT 1 FROM sites WHERE id = $1 FOR NO KEY UPDATE")
        .bind(scope.site_id())
        .execute(conn)
        .await?;
    Ok(())
}

async fn current_role(
    conn: &mut PgConnection,
    scope: &SiteScope,
    moderator_id: Uuid,
) -> Result<Option<Role>, sqlx::Error> {
    sqlx::query_scalar("SELECT role FROM moderator_roles WHERE site_id = $1 AND moderator_id = $2")
        .bind(scope.site_id())
        .bind(moderator_id)
        .fetch_optional(&mut *conn)
        .await
}

async fn owner_count(conn: &mut PgConnection, scope: &SiteScope) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar("SELECT count(*) FROM moderator_roles WHERE site_id = $1 AND role = 'owner'")
        .bind(scope.site_id())
        .fetch_one(conn)
        .await
}

/// Gives `moderator_id` the role on the scope's site (adding them to the team or changing
/// their role). Run it in a transaction: it locks the site's team until commit.
pub async fn put_member(
    conn: &mut PgConnection,
    scope: &SiteScope,
    moderator_id: Uuid,
    role: Role,
) -> Result<PutOutcome, sqlx::Error> {
    lock_team(conn, scope).await?;
    let current = current_role(conn, scope, moderator_id).await?;
    if current == Some(role) {
        return Ok(PutOutcome::Unchanged);
    }
    if current == Some(Role::Owner) && owner_count(conn, scope).await? <= 1 {
        return Ok(PutOutcome::LastOwner);
    }
    sqlx::query(
        "INSERT INTO moderator_roles (site_id, moderator_id, role) VALUES ($1, $2, $3)
         ON CONFLICT ON CONSTRAINT moderator_roles_pkey DO UPDATE SET role = EXCLUDED.role",
    )
    .bind(scope.site_id())
    .bind(moderator_id)
    .bind(role.as_str())
    .execute(&mut *conn)
    .await?;
    Ok(match current {
        None => PutOutcome::Added,
        Some(from) => PutOutcome::Changed { from },
    })
}

/// What changing a member's role did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChangeOutcome {
    Changed {
        from: Role,
    },
    Unchanged,
    NotMember,
    /// Refused: this would demote the site's only owner.
    LastOwner,
}

/// Changes the role of someone already on the scope's team (never adds anyone: people join by
/// invitation). Run it in a transaction (it locks the team).
pub async fn change_role(
    conn: &mut PgConnection,
    scope: &SiteScope,
    moderator_id: Uuid,
    role: Role,
) -> Result<ChangeOutcome, sqlx::Error> {
    lock_team(conn, scope).await?;
    let Some(current) = current_role(conn, scope, moderator_id).await? else {
        return Ok(ChangeOutcome::NotMember);
    };
    if current == role {
        return Ok(ChangeOutcome::Unchanged);
    }
    if current == Role::Owner && owner_count(conn, scope).await? <= 1 {
        return Ok(ChangeOutcome::LastOwner);
    }
    sqlx::query("UPDATE moderator_roles SET role = $3 WHERE site_id = $1 AND moderator_id = $2")
        .bind(scope.site_id())
        .bind(moderator_id)
        .bind(role.as_str())
        .execute(&mut *conn)
        .await?;
    Ok(ChangeOutcome::Changed { from: current })
}

/// Takes `moderator_id` off the scope's team. Run it in a transaction (it locks the team).
pub async fn remove_member(
    conn: &mut PgConnection,
    scope: &SiteScope,
    moderator_id: Uuid,
) -> Result<RemoveOutcome, sqlx::Error> {
    lock_team(conn, scope).await?;
    let role = match current_role(conn, scope, moderator_id).await? {
        None => return Ok(RemoveOutcome::NotMember),
        Some(Role::Owner) if owner_count(conn, scope).await? <= 1 => {
            return Ok(RemoveOutcome::LastOwner);
        }
        Some(role) => role,
    };
    sqlx::query("DELETE FROM moderator_roles WHERE site_id = $1 AND moderator_id = $2")
        .bind(scope.site_id())
        .bind(moderator_id)
        .execute(&mut *conn)
        .await?;
    Ok(RemoveOutcome::Removed { role })
}
