//! Bounds on Server-Sent Events streams. A stream holds a socket (a file descriptor) for as long
//! as it is open, and readers' streams need no login, so without bounds one client can open
//! streams until the process runs out of descriptors and stops answering anything, health
//! checks included. Here:
//!
//! - each client IP may hold `streams.per_ip` streams at once (IPv6 counted by /64, the block
//!   one subscriber gets); one more answers 429 `rate_limited`;
//! - the node holds at most `streams.per_node` (kept below the open-files limit); one more
//!   answers 503 `unavailable`;
//! - every stream ends after `streams.max_lifetime_s` (minus up to 10 % jitter, so reconnects
//!   spread out), with a `retry:` hint, and the browser's EventSource reconnects, counted anew.
//!
//! A stream's slot is a [`StreamSlot`] owned by the response body: whatever ends the stream
//! (the client goes away, its lifetime is over, the server stops) drops the body and frees it.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};

use ipnet::IpNet;

use crate::domain::client::client_net;

/// The counters of one node's open streams, shared by every worker.
#[derive(Clone)]
pub struct StreamLimiter {
    inner: Arc<Inner>,
}

struct Inner {
    per_ip: u32,
    per_network: u32,
    per_node: usize,
    open: Mutex<Open>,
}

#[derive(Default)]
struct Open {
    total: usize,
    by_client: HashMap<IpNet, u32>,
    by_network: HashMap<IpNet, u32>,
}

/// Why a stream was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refused {
    /// This client (IP, or IPv6 /64) holds `per_ip` streams already, or its IPv6 /48 holds
    /// `per_network`.
    Client,
    /// The node holds `per_node` streams already.
    Node,
}

impl StreamLimiter {
    pub fn new(per_ip: u32, per_network: u32, per_node: usize) -> Self {
        Self {
            inner: Arc::new(Inner {
                per_ip,
                per_network,
                per_node,
                open: Mutex::new(Open::default()),
            }),
        }
    }

    /// Takes a slot for a stream of `ip`'s (None: a client without an address, e.g. a Unix
    /// socket, counts against the node cap only).
    pub fn try_acquire(&self, ip: Option<IpAddr>) -> Result<StreamSlot, Refused> {
        // Keyed like the comment flood limits: IPv4 by address, IPv6 by its /64.
        let key = ip.map(client_net);
        // One IPv6 customer usually holds a /48 or /56: 65,536 /64s. Without a wider tier a
        // single home connection could take the whole node, 16 streams per /64.
        let network = ip.and_then(wide_network);
        let mut open = self.lock();
        if let Some(k) = key
            && open.by_client.get(&k).copied().unwrap_or(0) >= self.inner.per_ip
        {
            return Err(Refused::Client);
        }
        if let Some(n) = network
            && open.by_network.get(&n).copied().unwrap_or(0) >= self.inner.per_network
        {
            return Err(Refused::Client);
        }
        if open.total >= self.inner.per_node {
            return Err(Refused::Node);
        }
        open.total += 1;
        if let Some(k) = key {
            *open.by_client.entry(k).or_insert(0) += 1;
        }
        if let Some(n) = network {
            *open.by_network.entry(n).or_insert(0) += 1;
        }
        Ok(StreamSlot {
            inner: self.inner.clone(),
            key,
            network,
        })
    }

    /// Streams open on this node now.
    pub fn open(&self) -> usize {
        self.lock().total
    }

    /// The node cap in force (after clamping to the open-files limit).
    pub fn per_node(&self) -> usize {
        self.inner.per_node
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Open> {
        lock(&self.inner)
    }
}

// The counters stay consistent whatever panicked while holding the lock (every change is a
// single increment or decrement), so a poisoned lock is still good to use.
fn lock(inner: &Inner) -> std::sync::MutexGuard<'_, Open> {
    inner.open.lock().unwrap_or_else(|p| p.into_inner())
}

/// One open stream's place in the counters; dropping it frees the place.
pub struct StreamSlot {
    inner: Arc<Inner>,
    key: Option<IpNet>,
    network: Option<IpNet>,
}

/// The wider network an IPv6 client's streams are also counted under: its /48. None for IPv4
/// (an address is already scarce; a /24 is often many unrelated customers).
fn wide_network(ip: IpAddr) -> Option<IpNet> {
    match ip.to_canonical() {
        IpAddr::V4(_) => None,
        IpAddr::V6(v6) => ipnet::Ipv6Net::new(v6, 48)
            .ok()
            .map(|n| IpNet::V6(n.trunc())),
    }
}

impl Drop for StreamSlot {
    fn drop(&mut self) {
        let mut open = lock(&self.inner);
        open.total = open.total.saturating_sub(1);
        if let Some(k) = self.key
            && let Some(n) = open.by_client.get_mut(&k)
        {
            *n -= 1;
            if *n == 0 {
                open.by_client.remove(&k);
            }
        }
        if let Some(k) = self.network
            && let Some(n) = open.by_network.get_mut(&k)
        {
            *n -= 1;
            if *n == 0 {
                open.by_network.remove(&k);
            }
        }
    }
}

impl std::fmt::Debug for StreamSlot {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("StreamSlot(<redacted>)")
    }
}

/// Raises this process's soft limit on open files (RLIMIT_NOFILE) to its hard limit, so streams
/// and connections may use all the descriptors the system allows, and returns the soft limit in
/// force (None where it can't be read).
pub fn raise_open_files_limit() -> Option<u64> {
    #[cfg(unix)]
    {
        let mut lim = libc::rlimit {
            rlim_cur: 0,
            rlim_max: 0,
        };
        // SAFETY: getrlimit/setrlimit only read or write the struct we pass.
        if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) } != 0 {
            return None;
        }
        if lim.rlim_cur < lim.rlim_max {
            let raised = libc::rlimit {
                rlim_cur: lim.rlim_max,
                rlim_max: lim.rlim_max,
            };
            // SAFETY: as above.
            if unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &raised) } == 0 {
                lim = raised;
            }
        }
        // RLIM_INFINITY reads as a huge number: fine as a ceiling. (rlim_t isn't u64 everywhere.)
        #[allow(clippy::unnecessary_cast)]
        Some(lim.rlim_cur as u64)
    }
    #[cfg(not(unix))]
    {
        None
    }
}

/// The node cap in force: the configured one, but at most three quarters of the open-files
/// limit, so the database pool, other requests, logs and health checks always find a
/// descriptor.
pub fn node_cap(configured: u32, open_files: Option<u64>) -> usize {
    let configured = configured as usize;
    match open_files {
        Some(n) => configured.min(usize::try_from(n / 4 * 3).unwrap_or(usize::MAX).max(1)),
        None => configured,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn slots_are_capped_per_client_and_per_node_and_freed_on_drop() {
        let limits = StreamLimiter::new(2, 100, 3);
        let a = ip("192.0.2.1");
        let s1 = limits.try_acquire(Some(a)).unwrap();
        let _s2 = limits.try_acquire(Some(a)).unwrap();
        assert_eq!(limits.try_acquire(Some(a)).unwrap_err(), Refused::Client);
        let _s3 = limits.try_acquire(Some(ip("192.0.2.2"))).unwrap();
        assert_eq!(limits.try_acquire(None).unwrap_err(), Refused::Node);
        assert_eq!(limits.open(), 3);
        drop(s1);
        assert_eq!(limits.open(), 2);
        let _s4 = limits.try_acquire(Some(a)).unwrap();
        assert_eq!(limits.try_acquire(Some(a)).unwrap_err(), Refused::Client);
    }

    #[test]
    fn an_ipv6_48_holds_at_most_per_network_streams_whatever_its_64s() {
        let limits = StreamLimiter::new(2, 3, 100);
        let held: Vec<_> = ["2001:db8:1:1::1", "2001:db8:1:2::1", "2001:db8:1:3::1"]
            .iter()
            .map(|a| limits.try_acquire(Some(ip(a))).unwrap())
            .collect();
        assert_eq!(
            limits.try_acquire(Some(ip("2001:db8:1:4::1"))).unwrap_err(),
            Refused::Client
        );
        // Another /48, and IPv4, are counted apart.
        let _other = limits.try_acquire(Some(ip("2001:db8:2:1::1"))).unwrap();
        let _v4 = limits.try_acquire(Some(ip("192.0.2.1"))).unwrap();
        drop(held);
        let _again = limits.try_acquire(Some(ip("2001:db8:1:4::1"))).unwrap();
    }

    #[test]
    fn the_node_cap_stays_below_the_open_files_limit() {
        assert_eq!(node_cap(4096, Some(1_048_576)), 4096);
        assert_eq!(node_cap(4096, Some(1024)), 768);
        assert_eq!(node_cap(4096, None), 4096);
        assert_eq!(node_cap(4096, Some(0)), 1);
    }
}
