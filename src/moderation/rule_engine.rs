//! The node's compiled rule sets and the bounded pool that compiles and matches them (see
//! `matcher` for the why): one `Arc<RuleSet>` per site and rules version, compiled once however
//! many submits ask at once, and every compile or match run on Tokio's blocking pool within
//! the site's share ([`JOBS_PER_SITE`]) and the node's ([`jobs_total`]).

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use sqlx::PgPool;
use tokio::sync::{OnceCell, OwnedSemaphorePermit, Semaphore};
use uuid::Uuid;

use super::hits::{Hit, Reason, RulesOutcome, rules_outcome};
use super::matcher::{MatchInput, RuleSet};
use super::store::RuleRow;
use crate::error::ApiError;

/// Rule jobs (a compile, or matching one submission or one dry-run) of one site at a time.
pub const JOBS_PER_SITE: usize = 1;
/// Rule jobs at a time on this node, all sites together.
pub fn jobs_total() -> usize {
    std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(2)
        .max(2)
        * 2
}

/// One site's entry: the set compiled for `version` (once), and the site's share of the pool.
struct SiteEntry {
    version: i64,
    set: Arc<OnceCell<Arc<RuleSet>>>,
    permits: Arc<Semaphore>,
}

/// The node's compiled rule sets and the bounded pool that compiles and matches them.
pub struct RuleEngine {
    sites: Mutex<HashMap<Uuid, SiteEntry>>,
    total: Arc<Semaphore>,
    compiles: AtomicU64,
    running: Arc<AtomicU64>,
    waiting: AtomicU64,
    replayed: Arc<AtomicU64>,
    cancelled: Arc<AtomicU64>,
}

impl Default for RuleEngine {
    fn default() -> Self {
        Self::new(jobs_total())
    }
}

/// Counts a job while it waits for a permit.
struct Gauge<'a>(&'a AtomicU64);

impl<'a> Gauge<'a> {
    fn up(c: &'a AtomicU64) -> Self {
        c.fetch_add(1, Ordering::Relaxed);
        Self(c)
    }
}

impl Drop for Gauge<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }
}

/// What a running job holds until it ends: its permits and its place in the running count.
struct Running {
    count: Arc<AtomicU64>,
    _permits: (OwnedSemaphorePermit, OwnedSemaphorePermit),
}

impl Drop for Running {
    fn drop(&mut self) {
        self.count.fetch_sub(1, Ordering::Relaxed);
    }
}

impl RuleEngine {
    pub fn new(total_jobs: usize) -> Self {
        Self {
            sites: Mutex::new(HashMap::new()),
            total: Arc::new(Semaphore::new(total_jobs.max(1))),
            compiles: AtomicU64::new(0),
            running: Arc::new(AtomicU64::new(0)),
            waiting: AtomicU64::new(0),
            replayed: Arc::new(AtomicU64::new(0)),
            cancelled: Arc::new(AtomicU64::new(0)),
        }
    }

    /// Comments replayed by dry-runs since start (counted one by one as the replay goes).
    pub fn replayed(&self) -> u64 {
        self.replayed.load(Ordering::Relaxed)
    }

    /// The counters a dry-run's blocking job adds to (comments replayed, dry-runs cancelled):
    /// the job outlives a dropped request, so it counts, not the handler.
    pub(crate) fn dry_run_counters(&self) -> (Arc<AtomicU64>, Arc<AtomicU64>) {
        (self.replayed.clone(), self.cancelled.clone())
    }

    /// Dry-runs stopped early since start because their request went away.
    pub fn dry_runs_cancelled(&self) -> u64 {
        self.cancelled.load(Ordering::Relaxed)
    }

    /// Rule sets compiled by this node since start (one per site and version it served; an
    /// empty set costs nothing and isn't counted).
    pub fn compiles(&self) -> u64 {
        self.compiles.load(Ordering::Relaxed)
    }

    /// Rule jobs running on the blocking pool now.
    pub fn running(&self) -> u64 {
        self.running.load(Ordering::Relaxed)
    }

    /// Rule jobs waiting for a permit now.
    pub fn waiting(&self) -> u64 {
        self.waiting.load(Ordering::Relaxed)
    }

    /// The site's entry for `version`: the shared once-cell (a fresh one when the version is
    /// newer than the cached one; the newest one's when it is older) and the site's permits.
    fn entry(&self, site_id: Uuid, version: i64) -> (Arc<OnceCell<Arc<RuleSet>>>, Arc<Semaphore>) {
        let mut sites = self.sites.lock().unwrap_or_else(|e| e.into_inner());
        let e = sites.entry(site_id).or_insert_with(|| SiteEntry {
            version,
            set: Arc::new(OnceCell::new()),
            permits: Arc::new(Semaphore::new(JOBS_PER_SITE)),
        });
        if version > e.version {
            e.version = version;
            e.set = Arc::new(OnceCell::new());
        }
        // An older version than one already seen (a submit that read the number just before a
        // change) takes the newer set: either is right for a submit racing a rule change, and
        // this way the old version is never compiled again.
        (e.set.clone(), e.permits.clone())
    }

    /// The site's share of the pool.
    fn permits(&self, site_id: Uuid) -> Arc<Semaphore> {
        let mut sites = self.sites.lock().unwrap_or_else(|e| e.into_inner());
        sites
            .entry(site_id)
            .or_insert_with(|| SiteEntry {
                version: i64::MIN,
                set: Arc::new(OnceCell::new()),
                permits: Arc::new(Semaphore::new(JOBS_PER_SITE)),
            })
            .permits
            .clone()
    }

    /// The site's compiled rule set for `version`, compiling it (once, on the blocking pool)
    /// from `load`'s rows when this node hasn't yet.
    pub async fn get<F, Fut>(
        &self,
        site_id: Uuid,
        version: i64,
        load: F,
    ) -> Result<Arc<RuleSet>, ApiError>
    where
        F: FnOnce() -> Fut,
        Fut: std::future::Future<Output = Result<Vec<RuleRow>, ApiError>>,
    {
        let (cell, _) = self.entry(site_id, version);
        cell.get_or_try_init(|| async {
            let rows = load().await?;
            if rows.is_empty() {
                return Ok(Arc::new(RuleSet::empty()));
            }
            let set = self.run(site_id, move || RuleSet::new(rows)).await?;
            self.compiles.fetch_add(1, Ordering::Relaxed);
            Ok::<_, ApiError>(Arc::new(set))
        })
        .await
        .cloned()
    }

    /// The site's current enabled rules, compiled (see [`RuleEngine::get`]).
    pub async fn current(&self, pool: &PgPool, site_id: Uuid) -> Result<Arc<RuleSet>, ApiError> {
        let version = super::store::rules_version(pool, site_id).await?;
        self.at_version(pool, site_id, version).await
    }

    /// The site's enabled rules at a version read by the caller (the pipeline reads it with
    /// its other facts), compiled once per version.
    pub async fn at_version(
        &self,
        pool: &PgPool,
        site_id: Uuid,
        version: i64,
    ) -> Result<Arc<RuleSet>, ApiError> {
        self.get(site_id, version, || async {
            Ok(super::store::enabled_rules(pool, site_id).await?)
        })
        .await
    }

    /// Runs a CPU-bound rule job on the blocking pool, within the site's and the node's share.
    pub async fn run<T, F>(&self, site_id: Uuid, job: F) -> Result<T, ApiError>
    where
        T: Send + 'static,
        F: FnOnce() -> T + Send + 'static,
    {
        let site_permits = self.permits(site_id);
        let waiting = Gauge::up(&self.waiting);
        // The site's own permit first: a site waiting on itself holds none of the node's.
        let site = site_permits
            .acquire_owned()
            .await
            .map_err(ApiError::internal)?;
        let node = self
            .total
            .clone()
            .acquire_owned()
            .await
            .map_err(ApiError::internal)?;
        drop(waiting);
        self.running.fetch_add(1, Ordering::Relaxed);
        let running = Running {
            count: self.running.clone(),
            _permits: (site, node),
        };
        // The permits travel with the job: if the request goes away (a client hanging up drops
        // this future), the job still holds them until it really ends, so abandoned requests
        // can't stack up work beyond the site's share.
        tokio::task::spawn_blocking(move || {
            let _running = running;
            job()
        })
        .await
        .map_err(ApiError::internal)
    }

    /// The rules stage of the pipeline: the site's current rules matched against a submission,
    /// and what their hits decide.
    pub async fn judge(
        &self,
        pool: &PgPool,
        site_id: Uuid,
        rules_version: i64,
        input: MatchInput,
        default_max_links: u32,
    ) -> Result<RulesOutcome, ApiError> {
        let set = self.at_version(pool, site_id, rules_version).await?;
        let hits = self.matches(site_id, set, input, default_max_links).await?;
        Ok(rules_outcome(hits))
    }

    /// Matches a submission against the site's current rules, off the async workers when there
    /// is any pattern to run.
    pub async fn matches(
        &self,
        site_id: Uuid,
        set: Arc<RuleSet>,
        input: MatchInput,
        default_max_links: u32,
    ) -> Result<Vec<Hit>, ApiError> {
        if !set.has_patterns() {
            // Links, domains and IP lists: nothing worth a thread hop.
            return Ok(set.apply(&input, default_max_links));
        }
        self.run(site_id, move || set.apply(&input, default_max_links))
            .await
    }
}

/// The contract's answer to a comment a `reject` rule refused: 422 `rejected`, naming the rule,
/// its kind and what matched, so the author can see what to change.
pub fn rejection(r: &Reason) -> ApiError {
    ApiError::new(
        actix_web::http::StatusCode::UNPROCESSABLE_ENTITY,
        "rejected",
        r.message.clone(),
    )
    .with_details(serde_json::json!({ "rule": r.rule, "kind": r.kind, "matched": r.matched }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(kind: &str, pattern: &str) -> RuleRow {
        RuleRow {
            id: Uuid::now_v7(),
            kind: kind.to_owned(),
            pattern: pattern.to_owned(),
            action: "hold".to_owned(),
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_version_is_compiled_once_however_many_ask_at_once() {
        let engine = Arc::new(RuleEngine::new(4));
        let site = Uuid::now_v7();
        let other = Uuid::now_v7();
        let loads = Arc::new(AtomicU64::new(0));
        let ask = |site: Uuid, version: i64| {
            let engine = engine.clone();
            let loads = loads.clone();
            tokio::spawn(async move {
                engine
                    .get(site, version, || async move {
                        loads.fetch_add(1, Ordering::Relaxed);
                        tokio::task::yield_now().await;
                        Ok(vec![row("regex", r"\w{4}z"), row("word", "casino")])
                    })
                    .await
                    .unwrap()
            })
        };
        let sets: Vec<_> = (0..16).map(|_| ask(site, 1)).collect();
        let mut first: Option<Arc<RuleSet>> = None;
        for s in sets {
            let s = s.await.unwrap();
            assert_eq!(s.len(), 2);
            if let Some(f) = &first {
                assert!(Arc::ptr_eq(f, &s), "one shared set per version");
            }
            first = Some(s);
        }
        assert_eq!(engine.compiles(), 1);
        assert_eq!(loads.load(Ordering::Relaxed), 1);

        // Same version again: cached. A new version: compiled once more. Another site: its own.
        ask(site, 1).await.unwrap();
        assert_eq!(engine.compiles(), 1);
        let v2: Vec<_> = (0..8).map(|_| ask(site, 2)).collect();
        for s in v2 {
            s.await.unwrap();
        }
        assert_eq!(engine.compiles(), 2);
        ask(other, 1).await.unwrap();
        assert_eq!(engine.compiles(), 3);
        ask(site, 2).await.unwrap();
        assert_eq!(engine.compiles(), 3);
        // A submit that read the older number takes the newer set; nothing is compiled.
        ask(site, 1).await.unwrap();
        assert_eq!(engine.compiles(), 3);
        assert_eq!(engine.running(), 0);
        assert_eq!(engine.waiting(), 0);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn one_site_cannot_take_every_permit() {
        let engine = Arc::new(RuleEngine::new(2));
        let busy = Uuid::now_v7();
        let (release, hold) = std::sync::mpsc::channel::<()>();
        let hold = Arc::new(Mutex::new(hold));
        // The busy site's first job blocks; its other jobs queue behind its own permit.
        let mut jobs = vec![];
        for _ in 0..4 {
            let engine = engine.clone();
            let hold = hold.clone();
            jobs.push(tokio::spawn(async move {
                engine
                    .run(busy, move || {
                        let _ = hold.lock().unwrap().recv();
                    })
                    .await
            }));
        }
        while engine.running() == 0 {
            tokio::task::yield_now().await;
        }
        // Another site still gets a permit and runs while the busy one is stuck.
        let quiet = engine.run(Uuid::now_v7(), || 42).await.unwrap();
        assert_eq!(quiet, 42);
        assert_eq!(engine.running(), 1);
        for _ in 0..4 {
            release.send(()).unwrap();
        }
        for j in jobs {
            j.await.unwrap().unwrap();
        }
    }

    fn rule(kind: &str, pattern: &str, action: &str) -> RuleRow {
        RuleRow {
            action: action.to_owned(),
            ..row(kind, pattern)
        }
    }

    #[tokio::test]
    async fn a_reject_rule_refuses_with_the_rule_named() {
        let engine = RuleEngine::new(2);
        let site = Uuid::now_v7();
        let set = Arc::new(RuleSet::new(vec![
            rule("word", "casino", "hold"),
            rule("word", "viagra", "reject"),
        ]));
        let hits = engine
            .matches(site, set, MatchInput::text("casino viagra".into()), 5)
            .await
            .unwrap();
        let outcome = rules_outcome(hits);
        let refused = outcome.reject.as_ref().expect("the reject rule refuses");
        let err = rejection(refused);
        assert_eq!(err.code(), "rejected");
        assert_eq!(err.body()["error"]["details"]["kind"], "word");
        assert_eq!(
            err.body()["error"]["details"]["matched"],
            serde_json::Value::from(refused.matched.clone())
        );
    }

    #[tokio::test]
    async fn hold_and_spam_hits_decide_without_refusing() {
        let engine = RuleEngine::new(2);
        let set = Arc::new(RuleSet::new(vec![
            rule("word", "casino", "hold"),
            rule("word", "pills", "spam"),
        ]));
        let hits = engine
            .matches(
                Uuid::now_v7(),
                set,
                MatchInput::text("casino pills".into()),
                5,
            )
            .await
            .unwrap();
        let outcome = rules_outcome(hits);
        assert!(outcome.reject.is_none());
        assert!(outcome.hold && outcome.spam);
        assert_eq!(outcome.reasons.len(), 2);
    }
}
