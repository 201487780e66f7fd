//! A per-node cache of rendered thread pages for anonymous readers — the hot path of every
//! blog page view.
//!
//! Correctness comes from Postgres, not from timing: a trigger announces every change to a
//! thread on `colloquy_threads` (see migrations), each node listens, and a change bumps that
//! thread's generation. An entry is served only while the generation it was computed under is
//! still current, so a page rendered from a read that raced a commit is never served after
//! that commit's notification arrived. While the listener is not connected nothing is cached
//! (a missed notification would otherwise leave a stale page), and on reconnect everything
//! computed before is dropped.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use actix_web::web::Bytes;
use uuid::Uuid;

use crate::domain::SortOrder;

/// Backstop for changes no announcement reached (an author's avatar changing; a node that died
/// between its commit and relaying the announcement): pages and counts are rebuilt at least
/// this often. `cache.page_ttl_ms` sets it; this is the default.
const TTL: Duration = Duration::from_secs(60);
/// Bound on cached pages per node; past it the cache starts over.
const MAX_ENTRIES: usize = 20_000;
/// Locks that let one reader rebuild a page while the others asking for it wait (by key hash).
const FLIGHTS: usize = 1024;

#[derive(Clone, PartialEq, Eq, Hash)]
pub struct PageKey {
    pub site_id: Uuid,
    pub uri: String,
    pub sort: SortOrder,
    pub limit: u32,
    pub cursor: Option<String>,
}

#[derive(Clone)]
pub struct Page {
    pub body: Bytes,
    pub etag: String,
}

/// A page's approved-comment count; `thread_id` is `None` for a page nobody commented on yet.
#[derive(Clone, Copy)]
struct CountEntry {
    count: i64,
    thread_id: Option<Uuid>,
    generation: u64,
    epoch: u64,
    at: Instant,
}

/// Taken before counts are read: they are kept only if nothing changed on this node
/// meanwhile (a count's thread is only known once read, too late for a per-thread ticket).
pub struct CountTicket {
    changes: u64,
    epoch: u64,
}

struct Entry {
    page: Page,
    thread_id: Uuid,
    generation: u64,
    epoch: u64,
    at: Instant,
}

/// A ticket taken before reading the database; the page computed with it is stored only if
/// nothing changed the thread meanwhile.
pub struct Ticket {
    thread_id: Uuid,
    generation: u64,
    epoch: u64,
}

#[derive(Clone, Default)]
pub struct ThreadCache {
    inner: Arc<Inner>,
}

impl ThreadCache {
    /// A cache whose entries are served for at most `ttl` (0: never served).
    pub fn new(ttl: Duration) -> Self {
        Self {
            inner: Arc::new(Inner {
                ttl: Some(ttl),
                ..Inner::default()
            }),
        }
    }

    fn ttl(&self) -> Duration {
        self.inner.ttl.unwrap_or(TTL)
    }
}

/// Held while a page is rebuilt: see [`ThreadCache::flight`].
pub struct Flight<'a>(#[allow(dead_code)] tokio::sync::MutexGuard<'a, ()>);

struct Flights(Vec<tokio::sync::Mutex<()>>);

impl Default for Flights {
    fn default() -> Self {
        Self((0..FLIGHTS).map(|_| tokio::sync::Mutex::new(())).collect())
    }
}

#[derive(Default)]
struct Inner {
    /// None: the default [`TTL`].
    ttl: Option<Duration>,
    flights: Flights,
    entries: RwLock<HashMap<PageKey, Entry>>,
    generations: RwLock<HashMap<Uuid, u64>>,
    /// Comment counts by `(site, uri)`, for the counts endpoint.
    counts: RwLock<HashMap<(Uuid, String), CountEntry>>,
    /// Bumped by every invalidation: counts read while it moved are not kept, and pages
    /// without a thread count 0 only until any thread changes (it may be theirs, new).
    changes: AtomicU64,
    /// Bumped to invalidate everything at once.
    epoch: AtomicU64,
    /// True while the LISTEN connection is up.
    enabled: AtomicBool,
}

impl ThreadCache {
    pub fn get(&self, key: &PageKey) -> Option<Page> {
        if !self.inner.enabled.load(Ordering::Acquire) {
            return None;
        }
        let entries = self.inner.entries.read().unwrap_or_else(|p| p.into_inner());
        let e = entries.get(key)?;
        let fresh = e.epoch == self.inner.epoch.load(Ordering::Acquire)
            && e.generation == self.generation(e.thread_id)
            && e.at.elapsed() < self.ttl();
        fresh.then(|| e.page.clone())
    }

    /// Waits until no other request of this node is rebuilding the page `key` (or one that
    /// shares its lock), then lets the caller rebuild it. Why: when a hot page changes, every
    /// reader asking for it would otherwise read and render it again at once; this way one
    /// does, and the others, checking the cache again after the wait, take its page. A page
    /// built from a read that raced a change is stale by its ticket and rebuilt, as ever.
    /// `None` while the cache is off: nothing would be shared, so nobody waits.
    pub async fn flight(&self, key: &PageKey) -> Option<Flight<'_>> {
        use std::hash::{BuildHasher, RandomState};
        if !self.inner.enabled.load(Ordering::Acquire) {
            return None;
        }
        static HASHER: std::sync::OnceLock<RandomState> = std::sync::OnceLock::new();
        let slot = HASHER.get_or_init(RandomState::new).hash_one(key) as usize % FLIGHTS;
        Some(Flight(self.inner.flights.0[slot].lock().await))
    }

    /// Call after the thread row is known and before the comment queries run.
    pub fn ticket(&self, thread_id: Uuid) -> Option<Ticket> {
        self.inner.enabled.load(Ordering::Acquire).then(|| Ticket {
            thread_id,
            epoch: self.inner.epoch.load(Ordering::Acquire),
            generation: self.generation(thread_id),
        })
    }

    pub fn put(&self, key: PageKey, ticket: Ticket, page: Page) {
        let mut entries = self
            .inner
            .entries
            .write()
            .unwrap_or_else(|p| p.into_inner());
        if entries.len() >= MAX_ENTRIES {
            entries.clear();
        }
        entries.insert(
            key,
            Entry {
                page,
                thread_id: ticket.thread_id,
                generation: ticket.generation,
                epoch: ticket.epoch,
                at: Instant::now(),
            },
        );
    }

    /// A thread changed: its cached pages are no longer served.
    pub fn invalidate(&self, thread_id: Uuid) {
        // Before the generation: see `put_counts`.
        self.inner.changes.fetch_add(1, Ordering::SeqCst);
        let mut gens = self
            .inner
            .generations
            .write()
            .unwrap_or_else(|p| p.into_inner());
        if gens.len() >= MAX_ENTRIES {
            // Forgetting generations would revive old entries; start a new epoch instead.
            gens.clear();
            self.inner.epoch.fetch_add(1, Ordering::AcqRel);
        }
        *gens.entry(thread_id).or_insert(0) += 1;
    }

    /// The cached count of a page, if it is still current.
    pub fn count(&self, site_id: Uuid, uri: &str) -> Option<i64> {
        if !self.inner.enabled.load(Ordering::Acquire) {
            return None;
        }
        let counts = self.inner.counts.read().unwrap_or_else(|p| p.into_inner());
        let e = counts.get(&(site_id, uri.to_owned()))?;
        let current = match e.thread_id {
            Some(t) => self.generation(t),
            None => self.inner.changes.load(Ordering::Acquire),
        };
        let fresh = e.epoch == self.inner.epoch.load(Ordering::Acquire)
            && e.generation == current
            && e.at.elapsed() < self.ttl();
        fresh.then_some(e.count)
    }

    /// Call before reading counts from the database.
    pub fn count_ticket(&self) -> Option<CountTicket> {
        self.inner
            .enabled
            .load(Ordering::Acquire)
            .then(|| CountTicket {
                changes: self.inner.changes.load(Ordering::SeqCst),
                epoch: self.inner.epoch.load(Ordering::SeqCst),
            })
    }

    /// Keeps counts read under `ticket`: `(uri, thread, count)` of one site.
    pub fn put_counts(
        &self,
        site_id: Uuid,
        ticket: CountTicket,
        read: impl IntoIterator<Item = (String, Option<Uuid>, i64)>,
    ) {
        let at = Instant::now();
        // Generations are read before `changes` is checked, and `invalidate` moves `changes`
        // before a generation: so either an invalidation during the read is seen here and
        // nothing is kept, or it bumps the generation after this read and the entry is stale.
        let fresh: Vec<_> = read
            .into_iter()
            .map(|(uri, thread_id, count)| {
                let generation = match thread_id {
                    Some(t) => self.generation(t),
                    None => ticket.changes,
                };
                let entry = CountEntry {
                    count,
                    thread_id,
                    generation,
                    epoch: ticket.epoch,
                    at,
                };
                ((site_id, uri), entry)
            })
            .collect();
        if self.inner.changes.load(Ordering::SeqCst) != ticket.changes
            || self.inner.epoch.load(Ordering::SeqCst) != ticket.epoch
        {
            return;
        }
        let mut counts = self.inner.counts.write().unwrap_or_else(|p| p.into_inner());
        if counts.len() >= MAX_ENTRIES {
            counts.clear();
        }
        counts.extend(fresh);
    }

    fn generation(&self, thread_id: Uuid) -> u64 {
        let gens = self
            .inner
            .generations
            .read()
            .unwrap_or_else(|p| p.into_inner());
        gens.get(&thread_id).copied().unwrap_or(0)
    }

    /// Turns the cache on (the change listener is connected) or off; either way, what was
    /// cached before is dropped, since a notification may have been missed.
    pub(crate) fn set_enabled(&self, on: bool) {
        if !on {
            self.inner.enabled.store(false, Ordering::Release);
        }
        // Whatever was computed before (re)connecting may have missed a notification.
        self.inner.epoch.fetch_add(1, Ordering::AcqRel);
        self.inner
            .entries
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .clear();
        self.inner
            .counts
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .clear();
        if on {
            self.inner.enabled.store(true, Ordering::Release);
        }
    }
}
