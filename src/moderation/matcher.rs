//! How a site's rules are matched, without letting one site's rules stall another site.
//!
//! - **Bounded patterns.** A regex (and a `word`, compiled as `\bword\b`) is compiled with
//!   [`REGEX_SIZE_LIMIT`] and [`REGEX_DFA_SIZE_LIMIT`] and is at most [`PATTERN_MAX_CHARS`] long.
//!   Rule creation compiles it exactly as matching does, so a pattern over the bound is a 400
//!   when it is written, never a failure at submit. (The regex crate has no backtracking: a
//!   compiled pattern matches in time linear in the text.)
//! - **Compiled once per version.** Every write to a site's rules bumps `sites.rules_version`
//!   in the writer's transaction (a trigger, so plain SQL and imports count too). A submit reads
//!   that number; [`RuleEngine`] keeps, per site, the set compiled for the newest version it has
//!   seen, behind a once-cell, so concurrent submits after a change wait for one compile and
//!   then share one `Arc<RuleSet>`. A node that sees a new version compiles again; nothing has
//!   to be told across nodes.
//! - **Off the async workers, a bounded share per site.** Compiling and matching run on Tokio's
//!   blocking pool, never on an actix/Tokio worker that serves other requests. At most
//!   [`JOBS_PER_SITE`] jobs of one site run at once and at most [`JOBS_TOTAL`] in all, so one
//!   site's moderators can't occupy every rule thread: the other sites' jobs still find permits
//!   (waiting for a permit is an async wait, which blocks nobody).

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use regex::RegexBuilder;
use sqlx::PgPool;
use tokio::sync::{OnceCell, OwnedSemaphorePermit, Semaphore};
use uuid::Uuid;

use super::pipeline::{Action, Hit, Reason, Submission};
use super::store::RuleRow;
use crate::comments::render::link_count;
use crate::error::ApiError;

/// Longest `regex` pattern, in characters (a `word` is at most 100).
pub const PATTERN_MAX_CHARS: usize = 500;
/// Compiled size bound of one pattern (the regex crate's `size_limit`). Unicode classes are
/// big: `\w{4}` fits, `\w{6}` doesn't.
pub const REGEX_SIZE_LIMIT: usize = 256 * 1024;
/// Lazy-DFA cache bound of one pattern (`dfa_size_limit`); past it the matcher falls back to
/// slower engines rather than growing.
pub const REGEX_DFA_SIZE_LIMIT: usize = 256 * 1024;
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

/// Compiles a `regex` rule's pattern (or a `word` rule's `\bword\b`) within the bounds.
pub fn compile(pattern: &str) -> Result<regex::Regex, String> {
    if pattern.chars().count() > PATTERN_MAX_CHARS {
        return Err(format!("at most {PATTERN_MAX_CHARS} characters"));
    }
    RegexBuilder::new(pattern)
        .case_insensitive(true)
        .size_limit(REGEX_SIZE_LIMIT)
        .dfa_size_limit(REGEX_DFA_SIZE_LIMIT)
        .build()
        .map_err(|e| match e {
            regex::Error::CompiledTooBig(_) => format!(
                "a smaller pattern: compiled, it is over the {} KiB limit (Unicode classes like \\w repeated many times are large)",
                REGEX_SIZE_LIMIT / 1024
            ),
            e => format!("a valid regex: {e}"),
        })
}

fn compile_word(word: &str) -> Result<regex::Regex, String> {
    compile(&format!(r"\b{}\b", regex::escape(word.trim())))
}

/// Checks a rule's pattern when it is written, the way [`RuleSet::new`] will compile it.
pub fn validate_rule(kind: &str, pattern: &str) -> Result<(), String> {
    match kind {
        "word" if !pattern.trim().is_empty() && pattern.chars().count() <= 100 => {
            compile_word(pattern).map(|_| ())
        }
        "word" => Err("a word of 1 to 100 characters".into()),
        "regex" => compile(pattern).map(|_| ()),
        "max_links" => pattern
            .parse::<u32>()
            .map(|_| ())
            .map_err(|_| "a whole number of links".into()),
        "email_domain"
            if pattern.contains('.') && !pattern.contains('@') && !pattern.contains(' ') =>
        {
            Ok(())
        }
        "email_domain" => Err("a domain like example.com".into()),
        "ip" => pattern
            .parse::<ipnet::IpNet>()
            .map(|_| ())
            .or_else(|_| pattern.parse::<IpAddr>().map(|_| ()))
            .map_err(|_| "an IP address or CIDR like 203.0.113.0/24".into()),
        _ => Err("kind must be word, regex, max_links, email_domain or ip".into()),
    }
}

/// How one rule matches, its pattern parsed once.
enum Matcher {
    /// `word` (as a whole word) and `regex`; None when the pattern doesn't compile (a rule
    /// stored before the current bounds, say): it then matches nothing.
    Regex(Option<regex::Regex>),
    MaxLinks(Option<usize>),
    EmailDomain(String),
    Ip(Option<ipnet::IpNet>),
    Unknown,
}

/// What the rules look at in a submission, owned, so matching can run on another thread.
pub struct MatchInput {
    text: String,
    email: Option<String>,
    ip: Option<IpAddr>,
    links: usize,
}

impl MatchInput {
    pub fn of(s: &Submission<'_>) -> Self {
        Self {
            text: format!(
                "{}\n{}\n{}",
                s.author_name,
                s.author_url.unwrap_or(""),
                s.markdown
            ),
            email: s.email.map(str::to_owned),
            ip: s.ip,
            links: link_count(s.markdown, s.html),
        }
    }
}

/// A rule set ready to match: every pattern compiled once. This is the only rule matcher there
/// is: the pipeline and the dry-run both match through it.
pub struct RuleSet {
    rules: Vec<(RuleRow, Action, Matcher)>,
}

impl RuleSet {
    /// Compiles every rule; CPU-heavy for big sets, so run it through [`RuleEngine::run`].
    pub fn new(rules: Vec<RuleRow>) -> Self {
        let rules = rules
            .into_iter()
            .filter_map(|r| {
                let action = Action::parse(&r.action)?;
                let matcher = match r.kind.as_str() {
                    "word" => Matcher::Regex(compile_word(&r.pattern).ok()),
                    "regex" => Matcher::Regex(compile(&r.pattern).ok()),
                    "max_links" => Matcher::MaxLinks(r.pattern.parse::<usize>().ok()),
                    "email_domain" => Matcher::EmailDomain(
                        r.pattern.trim().trim_start_matches('.').to_lowercase(),
                    ),
                    "ip" => Matcher::Ip(
                        r.pattern
                            .parse::<ipnet::IpNet>()
                            .ok()
                            .or_else(|| r.pattern.parse::<IpAddr>().ok().map(ipnet::IpNet::from)),
                    ),
                    _ => Matcher::Unknown,
                };
                if matches!(matcher, Matcher::Regex(None)) {
                    tracing::warn!(rule.id = %r.id, "a stored rule's pattern doesn't compile within the bounds; it matches nothing");
                }
                Some((r, action, matcher))
            })
            .collect();
        Self { rules }
    }

    pub fn empty() -> Self {
        Self { rules: Vec::new() }
    }

    pub fn len(&self) -> usize {
        self.rules.len()
    }

    pub fn is_empty(&self) -> bool {
        self.rules.is_empty()
    }

    /// Whether matching costs more than counting links (any pattern to run).
    fn has_patterns(&self) -> bool {
        self.rules
            .iter()
            .any(|(_, _, m)| matches!(m, Matcher::Regex(Some(_))))
    }

    /// Every rule the submission matches, in rule order, plus the built-in link limit when the
    /// set has no link rule of its own.
    pub fn apply(&self, m: &MatchInput, default_max_links: u32) -> Vec<Hit> {
        let links = m.links;
        let mut hits = Vec::new();
        let mut own_link_rule = false;
        for (r, action, matcher) in &self.rules {
            let matched: Option<(String, String)> = match matcher {
                Matcher::Regex(re) if r.kind == "word" => re
                    .as_ref()
                    .and_then(|re| re.find(&m.text).map(|m| m.as_str().to_owned()))
                    .map(|m| (m.clone(), format!("it contains \"{m}\""))),
                Matcher::Regex(re) => re
                    .as_ref()
                    .and_then(|re| {
                        re.find(&m.text)
                            .map(|m| m.as_str().chars().take(100).collect::<String>())
                    })
                    .map(|m| (m.clone(), format!("it matches a pattern (\"{m}\")"))),
                Matcher::MaxLinks(max) => {
                    own_link_rule = true;
                    max.filter(|max| links > *max)
                        .map(|_| (format!("{links} links"), format!("{links} links")))
                }
                Matcher::EmailDomain(p) => m
                    .email
                    .as_deref()
                    .and_then(|e| e.rsplit_once('@'))
                    .and_then(|(_, domain)| {
                        let d = domain.to_lowercase();
                        (d == *p || d.ends_with(&format!(".{p}")))
                            .then(|| (d.clone(), format!("email domain {d}")))
                    }),
                Matcher::Ip(net) => m.ip.and_then(|ip| {
                    net.filter(|n| n.contains(&ip)).map(|n| {
                        (
                            n.to_string(),
                            "your network is on this site's list".to_owned(),
                        )
                    })
                }),
                Matcher::Unknown => None,
            };
            if let Some((what, why)) = matched {
                let verb = match action {
                    Action::Reject => "Not accepted",
                    Action::Spam | Action::Hold => "Held for review",
                };
                hits.push(Hit {
                    action: *action,
                    reason: Reason::new(
                        r.id.to_string(),
                        &r.kind,
                        Some(what),
                        format!("{verb}: {why}."),
                    ),
                });
            }
        }
        if !own_link_rule && links > default_max_links as usize {
            hits.push(Hit {
                action: Action::Hold,
                reason: Reason::new(
                    "max_links",
                    "max_links",
                    Some(format!("{links} links")),
                    format!("Held for review: {links} links."),
                ),
            });
        }
        hits
    }
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
        }
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

    #[test]
    fn patterns_over_the_bounds_are_refused_when_written() {
        assert!(validate_rule("regex", r"\w{4}z").is_ok());
        let e = validate_rule("regex", r"\w{50}").unwrap_err();
        assert!(e.contains("KiB"), "{e}");
        let long = "a".repeat(PATTERN_MAX_CHARS + 1);
        assert!(validate_rule("regex", &long).is_err());
        assert!(validate_rule("regex", "(").is_err());
        assert!(validate_rule("word", "casino").is_ok());
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
}
