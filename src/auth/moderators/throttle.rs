//! Password-guessing throttle for moderator logins (and everything else that checks a
//! moderator's password: accepting an invitation as an existing account, changing a password).
//!
//! Three counters over a sliding window of `auth.login_failure_window_s` seconds:
//!
//! 1. **email + client address** (`auth.login_max_failures_per_email_ip`, 5): a guesser at one
//!    address is stopped (429, `Retry-After` until the oldest counted failure leaves the window)
//!    while the real owner, at another address, is not affected at all.
//! 2. **client address, any email** (`auth.login_max_failures_per_ip`, 20): password spraying
//!    (one password tried on many accounts) from one address.
//! 3. **email, every address** (`auth.login_email_backoff_after`, 50): distributed guessing.
//!    Past the ceiling there is no lock, only an exponential backoff: the next attempt on that
//!    email must come 1, 2, 4, … seconds (at most `auth.login_email_backoff_max_s`) after its
//!    latest failure. An address this account logged in from within
//!    `auth.login_known_address_days` is exempt, so the owner at their usual place still gets
//!    in while strangers hammer the email from elsewhere; counters 1 and 2 still apply there.
//!    A merely *clean* address (no failures yet) is not exempt: every /64 of an IPv6 /48 is
//!    clean, so exempting them would make the ceiling no ceiling at all. An owner at a new
//!    address past the ceiling waits at most the backoff's cap.
//!
//! - Counters live in Postgres (`login_failures`), so every node enforces the same limits.
//! - An attempt is recorded *before* its password is checked and deleted again on success, so a
//!   burst of concurrent guesses can't all slip past the count.
//! - Refused (429) attempts are not recorded: a throttle is the window (or backoff) after the
//!   last real failure, never extended by the guesser hammering on.
//! - A success forgives only this address's failures for this email; failures from other
//!   addresses stay, or a guesser could reset the counter by letting the victim log in.
//! - Unknown emails are counted exactly like known ones, so a 429 reveals nothing either.
//! - Keys are SHA-256 digests of the case-folded email and of the address (IPv6 by /64, what
//!   one host usually gets), so the tables hold neither in the clear.

use std::net::IpAddr;

use sqlx::PgPool;
use time::{Duration, OffsetDateTime};

use super::store;
use crate::auth::token;
use crate::config::AuthSettings;
use crate::error::{ApiError, ApiResult};

/// The counters one login attempt is charged to.
pub struct Keys {
    email: Vec<u8>,
    ip: Option<Vec<u8>>,
}

impl Keys {
    /// `email` case-folded (`Email::identity_key`).
    pub fn new(email: &str, ip: Option<IpAddr>) -> Self {
        Self {
            email: token::hash(&format!("email:{email}")),
            ip: ip.map(|ip| token::hash(&format!("ip:{}", ip_key(ip)))),
        }
    }

    /// For presenting an unknown invitation token: there is no account to charge, only the
    /// address (whose per-address limit stops token guessing) and one shared key that no
    /// email can produce.
    pub fn unknown_invitation(ip: Option<IpAddr>) -> Self {
        Self {
            email: token::hash("invitation:unknown"),
            ip: ip.map(|ip| token::hash(&format!("ip:{}", ip_key(ip)))),
        }
    }
}

/// IPv4 as is; IPv6 by its /64, since one host typically controls a whole /64 (the one
/// definition every per-IP limit uses: `domain::client::client_net`).
pub fn ip_key(ip: IpAddr) -> String {
    match crate::domain::client::client_net(ip) {
        ipnet::IpNet::V4(v4) => v4.addr().to_string(),
        net @ ipnet::IpNet::V6(_) => net.to_string(),
    }
}

/// Whether an attempt may go on to the password check.
#[must_use]
pub enum Gate {
    /// Go on; the attempt is counted as a failure until [`succeeded`] says otherwise.
    Open(Attempt),
    /// Refuse without checking, and tell the client when to retry.
    Closed { retry_after_s: u64 },
}

/// A recorded attempt, counted as a failure until it is forgiven.
#[must_use]
pub struct Attempt(i64);

/// The longest exponent the backoff doubles to; 2^20 s is far past any sane cap.
const MAX_DOUBLINGS: u32 = 20;

/// Records the attempt and decides whether it may proceed.
pub async fn begin(pool: &PgPool, keys: &Keys, auth: &AuthSettings) -> Result<Gate, sqlx::Error> {
    let own = store::record_attempt(pool, &keys.email, keys.ip.as_deref()).await?;
    let recent = store::recent_failures(
        pool,
        &keys.email,
        keys.ip.as_deref(),
        own,
        store::FailureQuery {
            window_s: auth.login_failure_window_s,
            // The max-th most recent earlier failure exists exactly when there are max of them.
            pair_nth: auth.login_max_failures_per_email_ip.max(1) - 1,
            ip_nth: auth.login_max_failures_per_ip.max(1) - 1,
            email_cap: auth
                .login_email_backoff_after
                .saturating_add(MAX_DOUBLINGS + 1),
            known_address_days: auth.login_known_address_days,
        },
    )
    .await?;
    match reopens_at(&recent, auth) {
        None => Ok(Gate::Open(Attempt(own))),
        Some(at) => {
            store::forget_attempt(pool, own).await?;
            let wait = (at - recent.now).as_seconds_f64().ceil();
            Ok(Gate::Closed {
                retry_after_s: if wait >= 1.0 { wait as u64 } else { 1 },
            })
        }
    }
}

/// [`begin`] as the answer handlers give: an open gate's attempt, or 429 `rate_limited`.
pub async fn open(pool: &PgPool, keys: &Keys, auth: &AuthSettings) -> ApiResult<Attempt> {
    match begin(pool, keys, auth).await? {
        Gate::Open(attempt) => Ok(attempt),
        Gate::Closed { retry_after_s } => {
            tracing::warn!(retry_after_s, "moderator password check throttled");
            Err(ApiError::rate_limited(
                "Too many failed password checks; wait before trying again.",
                retry_after_s,
            ))
        }
    }
}

/// When the attempt could go ahead, if it can't now: the latest reopening of every closed gate.
fn reopens_at(r: &store::RecentFailures, auth: &AuthSettings) -> Option<OffsetDateTime> {
    let window = Duration::seconds(i64::from(auth.login_failure_window_s));
    let mut closed: Vec<OffsetDateTime> = Vec::new();
    // Counters 1 and 2: allowed again once the max-th most recent failure leaves the window.
    closed.extend(r.pair_nth.map(|at| at + window));
    closed.extend(r.ip_nth.map(|at| at + window));
    // Counter 3: backoff after the email's latest failure, unless this is a known address.
    let after = i64::from(auth.login_email_backoff_after);
    if !r.known_address
        && r.email_failures >= after
        && let Some(latest) = r.email_latest
    {
        let doublings = u32::try_from(r.email_failures - after)
            .unwrap_or(MAX_DOUBLINGS)
            .min(MAX_DOUBLINGS);
        let delay = (1_i64 << doublings).min(i64::from(auth.login_email_backoff_max_s));
        let at = latest + Duration::seconds(delay);
        if at > r.now {
            closed.push(at);
        }
    }
    closed.into_iter().max()
}

/// The password was right: forgive this email's failures from this address (the attempt too),
/// and remember the address as one this account logs in from.
pub async fn succeeded(
    pool: &PgPool,
    keys: &Keys,
    auth: &AuthSettings,
    attempt: Attempt,
) -> Result<(), sqlx::Error> {
    store::forget_attempt(pool, attempt.0).await?;
    store::clear_failures(pool, &keys.email, keys.ip.as_deref()).await?;
    if let Some(ip) = &keys.ip {
        store::remember_address(pool, &keys.email, ip, auth.login_known_address_days).await?;
    }
    Ok(())
}

/// The password was wrong: the attempt stays counted; drop failures that left the window.
pub async fn failed(
    pool: &PgPool,
    auth: &AuthSettings,
    attempt: Attempt,
) -> Result<(), sqlx::Error> {
    let Attempt(_) = attempt;
    store::sweep_failures(pool, auth.login_failure_window_s).await
}

/// The operator's unlock (`colloquy moderator reset-password`): every failure counted against
/// this email, from every address, is forgotten. `email` case-folded like [`Keys::new`].
pub async fn forgive_email(pool: &PgPool, email: &str) -> Result<(), sqlx::Error> {
    store::forget_email_failures(pool, &token::hash(&format!("email:{email}"))).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ipv6_hosts_share_their_64() {
        let a: IpAddr = "2001:db8:1:2:aaaa::1".parse().unwrap();
        let b: IpAddr = "2001:db8:1:2:bbbb::9".parse().unwrap();
        let c: IpAddr = "2001:db8:1:3::1".parse().unwrap();
        assert_eq!(ip_key(a), ip_key(b));
        assert_ne!(ip_key(a), ip_key(c));
        let mapped: IpAddr = "::ffff:203.0.113.9".parse().unwrap();
        assert_eq!(ip_key(mapped), "203.0.113.9");
    }

    #[test]
    fn keys_hold_no_email_or_ip_in_the_clear() {
        let k = Keys::new("ann@example.com", Some("203.0.113.9".parse().unwrap()));
        assert_eq!(k.email.len(), 32);
        assert_ne!(k.email, Keys::new("bob@example.com", None).email);
        assert!(k.ip.is_some_and(|h| h.len() == 32));
    }

    fn auth() -> AuthSettings {
        let settings = crate::config::Settings::load_from(
            std::path::Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/config")),
            "test",
            std::iter::empty(),
        )
        .unwrap();
        settings.auth
    }

    fn recent(email_failures: i64, known_address: bool) -> store::RecentFailures {
        let now = OffsetDateTime::now_utc();
        store::RecentFailures {
            pair_nth: None,
            ip_nth: None,
            email_failures,
            email_latest: Some(now - Duration::seconds(1)),
            known_address,
            now,
        }
    }

    #[test]
    fn past_the_email_ceiling_attempts_back_off_exponentially_up_to_the_cap() {
        let mut auth = auth();
        auth.login_email_backoff_after = 10;
        auth.login_email_backoff_max_s = 60;
        // Below the ceiling nothing waits; at it, 1 s after the latest failure.
        assert!(reopens_at(&recent(9, false), &auth).is_none());
        assert!(
            reopens_at(&recent(10, false), &auth).is_none(),
            "1 s already passed"
        );
        let r = recent(13, false);
        let wait = reopens_at(&r, &auth).unwrap() - r.now;
        assert_eq!(
            wait,
            Duration::seconds(7),
            "2^3 s after the latest, 1 s ago"
        );
        let r = recent(10_000, false);
        let wait = reopens_at(&r, &auth).unwrap() - r.now;
        assert_eq!(wait, Duration::seconds(59), "capped");
        // An address this account logs in from is exempt from the backoff.
        assert!(reopens_at(&recent(10_000, true), &auth).is_none());
    }

    #[test]
    fn known_addresses_still_meet_their_own_limits() {
        let auth = auth();
        let mut r = recent(0, true);
        r.pair_nth = Some(r.now - Duration::seconds(100));
        let wait = reopens_at(&r, &auth).unwrap() - r.now;
        assert_eq!(
            wait,
            Duration::seconds(i64::from(auth.login_failure_window_s) - 100)
        );
    }
}
