//! Moderator accounts: password login, sessions, named API tokens, roles per site, and the team
//! an owner manages.
//!
//! - A moderator holds a role (`owner` or `moderator`) on some sites. Every other site does not
//!   exist for them: it answers 404, never 403, so a moderator can't probe which blogs a server
//!   hosts. The [`Moderator`] extractor loads the caller's roles; [`Moderator::scope`] turns a
//!   site slug into a [`SiteScope`], and every store function about a site takes one — so no
//!   moderator query can forget the site check.
//! - Passwords are argon2id (see [`password`]), checked on the blocking pool, with a dummy
//!   verification for unknown emails so both refusals look and take alike.
//! - Password guessing is throttled per email and client address, per address, and per email
//!   across all addresses with a backoff instead of a lock, so strangers can't lock the owner
//!   out (see [`throttle`]); counters in Postgres.
//! - Sessions and API tokens are 256-bit bearer secrets of which only the SHA-256 is stored.
//!
//! Team management (owners only, with a login session): people join by invitation (see
//! [`invitations`]): `POST /sites/{site}/moderators {email, role}` invites, and the invitee
//! accepts with a password of their own or, for an existing account, logged in as it. An owner
//! never sets a password and never attaches an existing account by email. `PATCH
//! /sites/{site}/moderators/{id}` changes a member's role; the last owner of a site can't be
//! removed or demoted (409), so a site always has someone who can manage it. A moderator
//! changes their own password with `POST /me/password` ([`account`]).

pub mod invitation_store;
pub mod invitations;
pub mod password;
pub mod password_change;
pub mod scope;
pub mod store;
pub mod team;
pub mod team_audit;
pub mod throttle;
pub mod tokens;

pub use scope::{Credential, Moderator, SiteScope};

use crate::domain::Invalid;

/// What a moderator may do on one site. Read from `moderator_roles.role` as text, matching
/// `moderator_roles_role_check`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, sqlx::Type)]
#[sqlx(type_name = "text", rename_all = "lowercase")]
pub enum Role {
    /// Settings and the team, plus everything a moderator does.
    Owner,
    /// The queue, comments, bans and rules.
    Moderator,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Owner => "owner",
            Role::Moderator => "moderator",
        }
    }

    pub fn parse(s: &str) -> Result<Self, Invalid> {
        match s {
            "owner" => Ok(Role::Owner),
            "moderator" => Ok(Role::Moderator),
            _ => Err(Invalid::new("must be owner or moderator")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_round_trip() {
        for r in [Role::Owner, Role::Moderator] {
            assert_eq!(Role::parse(r.as_str()).unwrap(), r);
        }
        assert!(Role::parse("Owner").is_err());
        assert!(Role::parse("admin").is_err());
    }
}
