//! Password-guessing throttle: at most `auth.login_max_failures` failed logins per email and per
//! client IP within a sliding window of `auth.login_failure_window_s` seconds; past that, 429
//! `rate_limited` with `Retry-After`.
//!
//! - Counters live in Postgres (`login_failures`), so every node enforces the same limit.
//! - An attempt is recorded *before* its password is checked and deleted again on success, so a
//!   burst of concurrent guesses can't all slip past the count.
//! - Refused (429) attempts are not recorded: the lock-out is the window after the last real
//!   failure, never extended by the guesser hammering on, so it can't lock the owner out for good.
//! - A success forgives only this IP's failures for this email; failures from other IPs stay.
//! - Unknown emails are counted exactly like known ones, so a 429 reveals nothing either.
//! - Keys are SHA-256 digests of the case-folded email and of the IP (IPv6 by /64, what one
//!   host usually gets), so the table holds neither in the clear.

use std::net::IpAddr;

use sqlx::PgPool;

use super::store;
use crate::auth::token;
use crate::config::AuthSettings;

/// The two counters one login attempt is charged to.
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
}

/// IPv4 as is; IPv6 by its /64, since one host typically controls a whole /64 (the one
/// definition every per-IP limit uses: `http::client_ip::client_net`).
fn ip_key(ip: IpAddr) -> String {
    match crate::http::client_ip::client_net(ip) {
        ipnet::IpNet::V4(v4) => v4.addr().to_string(),
        net @ ipnet::IpNet::V6(_) => net.to_string(),
    }
}

/// Whether an attempt may go on to the password check.
#[must_use]
pub enum Gate {
    /// Go on; the attempt is counted as a failure until [`succeeded`] says otherwise.
    Open,
    /// Too many recent failures: refuse without checking, and tell the client when to retry.
    Closed { retry_after_s: u64 },
}

/// Records the attempt and decides whether it may proceed.
pub async fn begin(pool: &PgPool, keys: &Keys, auth: &AuthSettings) -> Result<Gate, sqlx::Error> {
    let max = auth.login_max_failures.max(1);
    let window = auth.login_failure_window_s;
    let own = store::record_attempt(pool, &keys.email, keys.ip.as_deref()).await?;
    // The max-th most recent earlier failure exists exactly when there are max of them.
    let recent =
        store::recent_failures(pool, &keys.email, keys.ip.as_deref(), own, window, max - 1).await?;
    let blocking = match (recent.email_nth, recent.ip_nth) {
        (Some(a), Some(b)) => Some(a.max(b)),
        (a, b) => a.or(b),
    };
    let Some(nth) = blocking else {
        return Ok(Gate::Open);
    };
    store::forget_attempt(pool, own).await?;
    // Allowed again once that failure leaves the window.
    let reopens = nth + time::Duration::seconds(i64::from(window));
    let wait = (reopens - recent.now).as_seconds_f64().ceil();
    Ok(Gate::Closed {
        retry_after_s: if wait >= 1.0 { wait as u64 } else { 1 },
    })
}

/// The password was right: forgive this email's failures from this IP (including the attempt).
pub async fn succeeded(pool: &PgPool, keys: &Keys) -> Result<(), sqlx::Error> {
    store::clear_failures(pool, &keys.email, keys.ip.as_deref()).await
}

/// The password was wrong: the attempt stays counted; drop failures that left the window.
pub async fn failed(pool: &PgPool, auth: &AuthSettings) -> Result<(), sqlx::Error> {
    store::sweep_failures(pool, auth.login_failure_window_s).await
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
}
