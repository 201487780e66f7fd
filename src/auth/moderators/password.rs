//! Moderator passwords: argon2id with explicit parameters, always on the blocking thread pool.
//!
//! Hashing costs ~19 MiB and tens of milliseconds of one core by design. Run on an actix
//! worker it would stall every request that worker holds, so it goes to `spawn_blocking`; and
//! at most one hash per core runs at a time, so a login flood queues instead of taking
//! 19 MiB × the blocking pool's 512 threads.

use std::sync::LazyLock;

use argon2::password_hash::{Error as HashError, PasswordHasher, PasswordVerifier};
use argon2::{Algorithm, Argon2, Params, Version};
use tokio::sync::Semaphore;

use crate::domain::Invalid;

/// OWASP's minimum for argon2id (m=19 MiB, t=2, p=1). Stored hashes carry their parameters,
/// so raising these later keeps old passwords working.
pub const M_COST_KIB: u32 = 19_456;
pub const T_COST: u32 = 2;
pub const P_COST: u32 = 1;

/// Shortest password accepted for a new account, in characters.
pub const MIN_CHARS: usize = 12;
/// Longest password accepted, in bytes: argon2 would take more, but nobody types more, and a
/// cap keeps request bodies from turning into hashing work.
pub const MAX_BYTES: usize = 1024;

/// A hash of a random, forgotten password made with the parameters above. Unknown emails are
/// verified against it so they take as long to refuse as a wrong password for a real account.
/// A unit test checks its parameters match the constants, so the two paths stay the same cost.
const DUMMY_HASH: &str = "$argon2id$v=19$m=19456,t=2,p=1$g/pIlwtkds9KO9fIFhx9RQ$9KEVPd72ZfVQ8EekANoBbjkQ4dVZoWBSdQg/6OJ7TIE";

static HASHING: LazyLock<Semaphore> = LazyLock::new(|| {
    let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
    Semaphore::new(cores)
});

fn argon2() -> Argon2<'static> {
    let params = Params::new(M_COST_KIB, T_COST, P_COST, None)
        .expect("the argon2 parameter constants are valid");
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

/// A new account's password: long enough, not absurdly long. Debug never shows it.
pub struct NewPassword(String);

impl NewPassword {
    pub fn parse(s: String) -> Result<Self, Invalid> {
        if s.trim().is_empty() {
            return Err(Invalid::new("must not be empty"));
        }
        if s.chars().count() < MIN_CHARS {
            return Err(Invalid::new(format!(
                "must be at least {MIN_CHARS} characters"
            )));
        }
        if s.len() > MAX_BYTES {
            return Err(Invalid::new(format!("must be at most {MAX_BYTES} bytes")));
        }
        Ok(Self(s))
    }
}

impl std::fmt::Debug for NewPassword {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("NewPassword(<redacted>)")
    }
}

/// The PHC string to store for a new password (`$argon2id$v=19$m=19456,t=2,p=1$…`).
pub async fn hash(password: NewPassword) -> anyhow::Result<String> {
    let _permit = HASHING.acquire().await?;
    tokio::task::spawn_blocking(move || {
        argon2()
            .hash_password(password.0.as_bytes())
            .map(|h| h.to_string())
            .map_err(|e| anyhow::anyhow!("argon2 hashing failed: {e}"))
    })
    .await?
}

/// Whether `candidate` matches `stored`. With no stored hash (unknown email) the dummy hash is
/// verified instead and the answer is always false, in the same time.
pub async fn verify(candidate: String, stored: Option<String>) -> anyhow::Result<bool> {
    let _permit = HASHING.acquire().await?;
    tokio::task::spawn_blocking(move || {
        let known = stored.is_some();
        let hash = stored.as_deref().unwrap_or(DUMMY_HASH);
        match argon2().verify_password(candidate.as_bytes(), hash) {
            Ok(()) => Ok(known),
            Err(HashError::PasswordInvalid) => Ok(false),
            // A stored hash that doesn't parse is our fault, not a wrong password.
            Err(e) => Err(anyhow::anyhow!("argon2 verification failed: {e}")),
        }
    })
    .await?
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pw(s: &str) -> NewPassword {
        NewPassword::parse(s.to_owned()).unwrap()
    }

    #[test]
    fn new_passwords_are_at_least_twelve_characters() {
        assert!(NewPassword::parse(String::new()).is_err());
        assert!(NewPassword::parse(" ".repeat(20)).is_err());
        assert!(NewPassword::parse("short-pass1".to_owned()).is_err());
        assert!(NewPassword::parse("twelve-chars".to_owned()).is_ok());
        // Characters, not bytes: twelve Cyrillic letters are enough.
        assert!(NewPassword::parse("пароль-длинн".to_owned()).is_ok());
        assert!(NewPassword::parse("x".repeat(MAX_BYTES + 1)).is_err());
        assert_eq!(
            format!("{:?}", pw("correct horse battery")),
            "NewPassword(<redacted>)"
        );
    }

    #[test]
    fn the_dummy_hash_costs_what_a_real_one_costs() {
        let prefix = format!("$argon2id$v=19$m={M_COST_KIB},t={T_COST},p={P_COST}$");
        assert!(DUMMY_HASH.starts_with(&prefix), "{DUMMY_HASH}");
    }

    #[tokio::test]
    async fn hashes_are_argon2id_with_our_parameters_and_verify() {
        let h = hash(pw("correct horse battery")).await.unwrap();
        assert!(h.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{h}");
        assert!(!h.contains("correct horse"));
        assert!(
            verify("correct horse battery".into(), Some(h.clone()))
                .await
                .unwrap()
        );
        assert!(!verify("wrong horse battery".into(), Some(h)).await.unwrap());
        // Unknown account: never true, even for the dummy's own password.
        assert!(!verify("anything".into(), None).await.unwrap());
        assert!(verify("x".into(), Some("not-a-hash".into())).await.is_err());
    }
}
