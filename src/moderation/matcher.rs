//! How a site's rules are matched, without letting one site's rules stall another site.
//!
//! - **Bounded patterns.** A regex (and a `word`, compiled as `\bword\b`) is compiled with
//!   [`REGEX_SIZE_LIMIT`] and [`REGEX_DFA_SIZE_LIMIT`] and is at most [`PATTERN_MAX_CHARS`] long.
//!   Rule creation compiles it exactly as matching does, so a pattern over the bound is a 400
//!   when it is written, never a failure at submit. (The regex crate has no backtracking: a
//!   compiled pattern matches in time linear in the text.)
//! - **A budget for the whole set.** Each pattern fitting its own bound isn't enough: 200
//!   patterns like `a[ab]{450}c{1,N}` each fit, and matched one by one they kept 200 lazy-DFA
//!   and scratch caches per blocking thread (700 MB on one node) and took seconds per post. A
//!   site's `word` and `regex` patterns together, enabled or not, must compile as one
//!   `RegexSet` within [`RULES_COMPILED_MAX_BYTES`]: checked with the site's row locked when a
//!   rule is created or changed, and for a dry-run's proposal (409 `rules_too_complex`).
//!   Matching scans the text once with that set (one cache per thread, bounded by
//!   [`RULES_SET_DFA_SIZE_LIMIT`]) and runs a rule's own regex only when the set says it
//!   matched, for the matched text. The set's size bounds the time of a scan too (a scan that
//!   outgrows the DFA cache falls back to an engine linear in text × set size).
//! - **Compiled once per version.** Every write to a site's rules bumps `sites.rules_version`
//!   in the writer's transaction (a trigger, so plain SQL and imports count too). A submit reads
//!   that number; `rule_engine::RuleEngine` keeps, per site, the set compiled for the newest
//!   version it has seen, behind a once-cell, so concurrent submits after a change wait for one compile and
//!   then share one `Arc<RuleSet>`. A node that sees a new version compiles again; nothing has
//!   to be told across nodes.
//! - **Off the async workers, a bounded share per site.** Compiling and matching run on Tokio's
//!   blocking pool, never on an actix/Tokio worker that serves other requests. At most
//!   `JOBS_PER_SITE` jobs of one site run at once and at most `jobs_total()` in all, so one
//!   site's moderators can't occupy every rule thread: the other sites' jobs still find permits
//!   (waiting for a permit is an async wait, which blocks nobody).

use std::net::IpAddr;

use regex::{RegexBuilder, RegexSetBuilder};

use super::hits::{Action, Hit, Reason};
use super::store::RuleRow;

/// Longest `regex` pattern, in characters (a `word` is at most 100).
pub const PATTERN_MAX_CHARS: usize = 500;
/// Compiled size bound of one pattern (the regex crate's `size_limit`). Unicode classes are
/// big: `\w{4}` fits, `\w{6}` doesn't.
pub const REGEX_SIZE_LIMIT: usize = 256 * 1024;
/// Lazy-DFA cache bound of one pattern (`dfa_size_limit`); past it the matcher falls back to
/// slower engines rather than growing.
pub const REGEX_DFA_SIZE_LIMIT: usize = 256 * 1024;
/// Compiled size bound of a whole site's patterns together (every `word` and `regex` rule,
/// enabled or not, compiled as one `RegexSet`). Checked when a rule is created or changed and
/// for a dry-run's proposed set (409 `rules_too_complex`). The per-pattern bounds alone let 200
/// patterns near 256 KiB each through: 200 regexes, each with its own lazy-DFA and scratch
/// caches on every blocking thread that ran it, were hundreds of MB and seconds per post.
pub const RULES_COMPILED_MAX_BYTES: usize = 4 * 1024 * 1024;
/// Lazy-DFA cache bound of a site's whole `RegexSet` (one per thread that matches it).
pub const RULES_SET_DFA_SIZE_LIMIT: usize = 2 * 1024 * 1024;

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

fn word_pattern(word: &str) -> String {
    format!(r"\b{}\b", regex::escape(word.trim()))
}

fn compile_word(word: &str) -> Result<regex::Regex, String> {
    compile(&word_pattern(word))
}

/// The pattern a `word` or `regex` rule runs, as the set compiles it; None for other kinds.
fn set_pattern(kind: &str, pattern: &str) -> Option<String> {
    match kind {
        "word" => Some(word_pattern(pattern)),
        "regex" => Some(pattern.to_owned()),
        _ => None,
    }
}

/// The site's patterns compiled together as one `RegexSet` within [`RULES_COMPILED_MAX_BYTES`].
fn compile_set(patterns: &[String]) -> Result<regex::RegexSet, regex::Error> {
    RegexSetBuilder::new(patterns)
        .case_insensitive(true)
        .size_limit(RULES_COMPILED_MAX_BYTES)
        .dfa_size_limit(RULES_SET_DFA_SIZE_LIMIT)
        .build()
}

/// A site's rule set is over [`RULES_COMPILED_MAX_BYTES`] compiled together.
#[derive(Debug, PartialEq, Eq)]
pub struct TooComplex {
    pub budget_bytes: usize,
}

/// Checks that a whole rule set (`(kind, pattern)` of every rule the site would have, each one
/// already valid on its own) compiles together within [`RULES_COMPILED_MAX_BYTES`]. CPU-heavy
/// for big sets: run it through `RuleEngine::run`.
pub fn check_budget<'a>(
    rules: impl IntoIterator<Item = (&'a str, &'a str)>,
) -> Result<(), TooComplex> {
    let patterns: Vec<String> = rules
        .into_iter()
        .filter_map(|(kind, pattern)| set_pattern(kind, pattern))
        .collect();
    if patterns.is_empty() {
        return Ok(());
    }
    match compile_set(&patterns) {
        Ok(_) => Ok(()),
        // Each pattern compiles alone (checked first), so any other error is the budget's too:
        // refuse rather than store a set the pipeline can't compile as one.
        Err(_) => Err(TooComplex {
            budget_bytes: RULES_COMPILED_MAX_BYTES,
        }),
    }
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
    /// The text the word and regex rules read, the author's email and address, and the
    /// comment's link count (`pipeline` builds it from a submission).
    pub fn new(text: String, email: Option<String>, ip: Option<IpAddr>, links: usize) -> Self {
        Self {
            text,
            email,
            ip,
            links,
        }
    }

    /// Only text (no email, address or links): for benchmarks (`examples/rules_budget.rs`).
    pub fn text(text: String) -> Self {
        Self {
            text,
            email: None,
            ip: None,
            links: 0,
        }
    }
}

/// A rule set ready to match: every pattern compiled once. This is the only rule matcher there
/// is: the pipeline and the dry-run both match through it.
pub struct RuleSet {
    rules: Vec<(RuleRow, Action, Matcher)>,
    /// Every compiled pattern as one `RegexSet` (one scan of the text, one cache per thread),
    /// and for each of its patterns the index of its rule in `rules`. Only the rules the set
    /// says match run their own regex, for the matched text. None when there is no pattern or
    /// the stored set is over the budget (rules written before it, or by hand in SQL): then
    /// every regex runs on its own, as before.
    set: Option<(regex::RegexSet, Vec<usize>)>,
}

impl RuleSet {
    /// Compiles every rule; CPU-heavy for big sets, so run it through `RuleEngine::run`.
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
            .collect::<Vec<_>>();
        let (mut patterns, mut index) = (Vec::new(), Vec::new());
        for (i, (r, _, m)) in rules.iter().enumerate() {
            if let (Matcher::Regex(Some(_)), Some(p)) = (m, set_pattern(&r.kind, &r.pattern)) {
                patterns.push(p);
                index.push(i);
            }
        }
        let set = if patterns.is_empty() {
            None
        } else {
            match compile_set(&patterns) {
                Ok(set) => Some((set, index)),
                Err(e) => {
                    tracing::warn!(error = %e, rules = patterns.len(), "a stored rule set is over the site budget compiled together; its patterns run one by one");
                    None
                }
            }
        };
        Self { rules, set }
    }

    pub fn empty() -> Self {
        Self {
            rules: Vec::new(),
            set: None,
        }
    }

    pub fn len(&self) -> usize {
        self.rules.len()
    }

    pub fn is_empty(&self) -> bool {
        self.rules.is_empty()
    }

    /// Whether matching costs more than counting links (any pattern to run).
    pub(crate) fn has_patterns(&self) -> bool {
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
        // One scan of the text for every pattern; then only the matched rules' regexes run.
        let may_match: Option<Vec<bool>> = self.set.as_ref().map(|(set, index)| {
            let mut v = vec![false; self.rules.len()];
            for p in set.matches(&m.text).iter() {
                v[index[p]] = true;
            }
            v
        });
        for (i, (r, action, matcher)) in self.rules.iter().enumerate() {
            let skip =
                matches!(matcher, Matcher::Regex(_)) && may_match.as_ref().is_some_and(|v| !v[i]);
            let matched: Option<(String, String)> = match matcher {
                Matcher::Regex(_) if skip => None,
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

#[cfg(test)]
mod tests {
    use super::*;

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

    /// The review's set: 200 patterns each accepted alone, too much together.
    pub(crate) fn pathological(i: usize) -> String {
        format!("a[ab]{{450}}c{{1,{i}}}")
    }

    #[test]
    fn a_whole_set_over_the_budget_is_refused_though_each_pattern_fits() {
        let patterns: Vec<String> = (1..=200).map(pathological).collect();
        for p in &patterns {
            assert!(validate_rule("regex", p).is_ok(), "{p} alone fits");
        }
        let all = patterns.iter().map(|p| ("regex", p.as_str()));
        assert_eq!(
            check_budget(all),
            Err(TooComplex {
                budget_bytes: RULES_COMPILED_MAX_BYTES
            })
        );
        // A few of them, and ordinary rules, fit.
        assert!(check_budget(patterns.iter().take(3).map(|p| ("regex", p.as_str()))).is_ok());
        let words: Vec<String> = (0..200).map(|i| format!("spamword{i}")).collect();
        assert!(check_budget(words.iter().map(|w| ("word", w.as_str()))).is_ok());
        assert!(check_budget([("max_links", "3"), ("ip", "10.0.0.0/8")]).is_ok());
    }

    fn row(i: usize, kind: &str, pattern: &str) -> RuleRow {
        RuleRow {
            id: uuid::Uuid::from_u128(i as u128 + 1),
            kind: kind.to_owned(),
            pattern: pattern.to_owned(),
            action: "hold".to_owned(),
        }
    }

    #[test]
    fn the_set_finds_what_the_rules_find_one_by_one() {
        let rows = vec![
            row(0, "word", "casino"),
            row(1, "regex", r"buy\s+now"),
            row(2, "max_links", "1"),
            row(3, "regex", "nothing-here"),
            row(4, "word", "Viagra"),
        ];
        let set = RuleSet::new(rows);
        assert!(set.set.is_some(), "compiled as one set");
        let input = MatchInput {
            text: "Ann\n\nBUY   now at the viagra CASINO".into(),
            email: None,
            ip: None,
            links: 0,
        };
        let hits = set.apply(&input, 10);
        let rules: Vec<&str> = hits.iter().map(|h| h.reason.rule.as_str()).collect();
        let want: Vec<String> = [0, 1, 4]
            .iter()
            .map(|i| uuid::Uuid::from_u128(i + 1).to_string())
            .collect();
        assert_eq!(rules, want);
        assert_eq!(hits[1].reason.matched.as_deref(), Some("BUY   now"));
    }
}
