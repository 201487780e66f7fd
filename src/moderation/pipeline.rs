//! The submit-time pipeline (DESIGN.md "Moderation pipeline"). Every new or edited comment's
//! status comes from `evaluate`, and only from there, in this order:
//!
//! 1. bans (user, email, IP/CIDR; timed; shadow) — 403 `banned`, or spam shown only to its author
//! 2. flood limits per author, per network (IPv4 address, IPv6 /64) and, for guests, per site,
//!    counted from stored comments — 429 with Retry-After
//! 3. duplicates: same author, same text, same thread, within the window — 409
//! 4. locked thread or closed site — 403
//! 5. the site's rules (words, regexes, links, email domains, IP lists) — 422, spam or hold
//! 6. the spam score (built-in heuristic, then an optional Akismet-compatible service)
//! 7. the site's policy (`pre`, `post`, `first_time`)
//!
//! Trusted users skip 5–7; premoderated users always wait. Every hit is a `Reason` stored with the
//! comment and returned to its author, so nothing is held without saying why.

use std::net::IpAddr;

use serde_json::json;
use sqlx::PgPool;
use uuid::Uuid;

pub use super::hits::Reason;
use super::matcher::MatchInput;
use super::rule_engine::{RuleEngine, rejection};
use super::store;
use super::{akismet, spam};
use crate::config::Settings;
use crate::domain::{CommentStatus, Policy};
use crate::error::ApiError;
use crate::markdown::link_count;
use crate::metrics;
use crate::sites::Site;

#[derive(Debug, Clone)]
pub struct Verdict {
    pub status: CommentStatus,
    pub reasons: Vec<Reason>,
    /// A shadow-banned author's comment: stored as spam, shown to its author as published.
    pub shadow: bool,
}

/// What the pipeline knows about the comment being submitted or edited.
pub struct Submission<'a> {
    pub site: &'a Site,
    /// None for a guest's very first comment (no user row yet).
    pub user_id: Option<Uuid>,
    /// A guest's comment (counted against the site's guest limit).
    pub guest: bool,
    pub email: Option<&'a str>,
    pub ip: Option<IpAddr>,
    pub user_agent: Option<&'a str>,
    pub author_name: &'a str,
    pub author_url: Option<&'a str>,
    /// None when this comment will create the thread.
    pub thread_id: Option<Uuid>,
    pub thread_locked: bool,
    pub permalink: Option<&'a str>,
    pub markdown: &'a str,
    pub html: &'a str,
    /// The comment being edited (its own earlier text is no duplicate, its own time no flood).
    pub editing: Option<Uuid>,
}

/// What the pipeline runs with.
pub struct Env<'a> {
    pub pool: &'a PgPool,
    /// Where a write transaction's deferred change announcements go after its commit.
    pub relay: &'a crate::db::notes::Relay,
    pub settings: &'a Settings,
    pub http: &'a reqwest::Client,
    /// The node's compiled rule sets and the pool that matches them.
    pub rules: &'a RuleEngine,
}

/// Decides an edited comment's status, or refuses it with the contract's error: reads the
/// facts, then [`decide`]s.
pub async fn evaluate(env: &Env<'_>, s: &Submission<'_>) -> Result<Verdict, ApiError> {
    let facts = store::facts(env.pool, &facts_query(env, s)).await?;
    decide(env, s, &facts).await
}

/// What the pipeline must read about this submission's author: the author, thread and text,
/// and the flood limits that apply (each last-minute count stops at its limit).
pub fn facts_query<'a>(env: &Env<'_>, s: &Submission<'a>) -> store::FactsQuery<'a> {
    let limits = per_minute_limits(env, s.site);
    store::FactsQuery {
        site_id: s.site.id,
        user_id: s.user_id,
        email: s.email,
        ip: s.ip,
        thread_id: s.thread_id,
        body: s.markdown,
        duplicate_window_s: i64::from(env.settings.moderation.duplicate_window_s),
        editing: s.editing,
        user_cap: i64::from(limits.user),
        ip_cap: i64::from(limits.ip),
        guest_cap: if s.guest && s.editing.is_none() {
            i64::from(limits.guests)
        } else {
            0
        },
    }
}

/// Decides a comment's status from the facts read about it, or refuses it with the contract's
/// error. The stages run in the order of the module doc; each refusal returns at once.
pub async fn decide(
    env: &Env<'_>,
    s: &Submission<'_>,
    facts: &store::Facts,
) -> Result<Verdict, ApiError> {
    if let Some(shadowed) = check_bans(facts)? {
        return Ok(shadowed);
    }
    let history = &facts.history;
    check_history(env, s, history)?;
    check_open(s)?;
    let trust = &facts.trust;
    let mut j = Judgement::default();
    if !trust.trusted {
        judge_rules(env, s, facts.rules_version, &mut j).await?;
        judge_spam(env, s, &mut j).await;
        apply_policy(s.site.policy, history.has_approved, &mut j);
    }
    if trust.premoderated {
        j.hold = true;
        j.reasons.push(Reason::new(
            "user",
            "premoderated",
            None,
            "Your comments on this site are reviewed by a moderator before they appear.",
        ));
    }
    Ok(j.verdict())
}

/// What the content stages (rules, spam, policy) decided so far.
#[derive(Default)]
struct Judgement {
    spam: bool,
    hold: bool,
    reasons: Vec<Reason>,
}

impl Judgement {
    fn verdict(self) -> Verdict {
        let status = if self.spam {
            CommentStatus::Spam
        } else if self.hold {
            CommentStatus::Pending
        } else {
            CommentStatus::Approved
        };
        Verdict {
            status,
            reasons: self.reasons,
            shadow: false,
        }
    }
}

/// 1. Bans: a ban refuses; a shadow ban files the comment as spam its author sees published.
fn check_bans(facts: &store::Facts) -> Result<Option<Verdict>, ApiError> {
    let bans = facts.bans();
    if let Some(ban) = bans.iter().find(|b| !b.shadow) {
        return Err(
            ApiError::forbidden("banned", "You can't comment on this site.")
                .with_details(json!({ "ban_id": ban.id })),
        );
    }
    Ok(bans.first().map(|ban| Verdict {
        status: CommentStatus::Spam,
        reasons: vec![Reason::new(
            ban.id.to_string(),
            "shadow_ban",
            Some(ban.kind.clone()),
            "Shadow-banned author.",
        )],
        shadow: true,
    }))
}

/// 2–3. Flood limits and duplicates, from the author's stored history.
fn check_history(
    env: &Env<'_>,
    s: &Submission<'_>,
    history: &store::History,
) -> Result<(), ApiError> {
    let site = s.site;
    let limits = per_minute_limits(env, site);
    if s.editing.is_none() {
        // A guest the site approved is known to it, unless the site approves everyone
        // (`post`): there an approval proves nothing, and exempting it would let a flood
        // prepare identities in advance.
        let known_guest = history.has_approved && site.policy != Policy::Post;
        check_limits(limits, history, known_guest)?;
    }
    if history.duplicate {
        return Err(ApiError::conflict(
            "duplicate_comment",
            "You already posted this comment here.",
        ));
    }
    Ok(())
}

/// 4. Locked thread, closed site.
fn check_open(s: &Submission<'_>) -> Result<(), ApiError> {
    if s.site.closed {
        return Err(ApiError::forbidden(
            "site_closed",
            "This site is not taking new comments.",
        ));
    }
    if s.thread_locked {
        return Err(ApiError::forbidden(
            "thread_locked",
            "This thread is locked; it takes no new comments.",
        ));
    }
    Ok(())
}

/// 5. The site's rules: compiled once per rules version, matched off the async workers.
async fn judge_rules(
    env: &Env<'_>,
    s: &Submission<'_>,
    rules_version: i64,
    j: &mut Judgement,
) -> Result<(), ApiError> {
    let outcome = env
        .rules
        .judge(
            env.pool,
            s.site.id,
            rules_version,
            MatchInput::of(s),
            env.settings.moderation.max_links,
        )
        .await?;
    if let Some(r) = &outcome.reject {
        return Err(rejection(r));
    }
    j.spam |= outcome.spam;
    j.hold |= outcome.hold;
    j.reasons.extend(outcome.reasons);
    Ok(())
}

/// 6. The spam score, then (unless already spam) the optional Akismet-compatible service.
async fn judge_spam(env: &Env<'_>, s: &Submission<'_>, j: &mut Judgement) {
    let m = &env.settings.moderation;
    let score = spam::score(s.markdown, s.html, s.author_url);
    if score.value >= m.spam_hold_score {
        let filed = score.value >= m.spam_score;
        j.spam |= filed;
        j.hold |= !filed;
        j.reasons.push(Reason::new(
            "spam_score",
            "spam_score",
            Some(format!("{:.2}: {}", score.value, score.signals.join("; "))),
            "Held for review: it looks like spam to our filter.",
        ));
    }
    if j.spam {
        return;
    }
    let ip = s.ip.map(|ip| ip.to_string());
    let check = akismet::Check {
        blog: &env.settings.server.public_url,
        user_ip: ip,
        user_agent: s.user_agent,
        permalink: s.permalink,
        author: s.author_name,
        author_email: s.email,
        author_url: s.author_url,
        content: s.markdown,
    };
    if let Some(v @ (akismet::Verdict::Spam | akismet::Verdict::Discard)) =
        akismet::check(&m.akismet, env.http, &check).await
    {
        j.spam = true;
        let matched = (v == akismet::Verdict::Discard).then(|| "discard".to_owned());
        j.reasons.push(Reason::new(
            "akismet",
            "akismet",
            matched,
            "Held for review: our spam service flagged it.",
        ));
    }
}

/// 7. The site's policy.
fn apply_policy(policy: Policy, has_approved: bool, j: &mut Judgement) {
    match policy {
        Policy::Post => {}
        Policy::Pre => {
            j.hold = true;
            j.reasons.push(Reason::new(
                "policy",
                "policy_pre",
                None,
                "Every comment on this site is reviewed by a moderator before it appears.",
            ));
        }
        Policy::FirstTime if !has_approved => {
            j.hold = true;
            j.reasons.push(Reason::new(
                "policy",
                "first_comment",
                None,
                "Your first comment on this site waits for a moderator; later ones appear at once.",
            ));
        }
        Policy::FirstTime => {}
    }
}

/// The site's flood limits, or the server's; 0 turns one off.
#[derive(Debug, Clone, Copy)]
struct FloodLimits {
    /// Seconds between two comments of one author.
    interval: u32,
    /// Comments per minute of one author.
    user: u32,
    /// Comments per minute from one network (an IPv4 address, an IPv6 /64).
    ip: u32,
    /// Guest comments per minute on the whole site.
    guests: u32,
}

fn per_minute_limits(env: &Env<'_>, site: &Site) -> FloodLimits {
    let l = &env.settings.limits;
    let s = &site.limits;
    FloodLimits {
        interval: s.comment_interval_s.unwrap_or(l.comment_interval_s),
        user: s
            .comments_per_minute_user
            .unwrap_or(l.comments_per_minute_user),
        ip: s.comments_per_minute_ip.unwrap_or(l.comments_per_minute_ip),
        guests: s
            .guest_comments_per_minute
            .unwrap_or(l.guest_comments_per_minute),
    }
}

fn check_limits(
    limits: FloodLimits,
    h: &store::History,
    known_guest: bool,
) -> Result<(), ApiError> {
    let FloodLimits {
        interval,
        user: per_user,
        ip: per_ip,
        guests,
    } = limits;
    if let Some(since) = h.since_last_s
        && interval > 0
        && since < f64::from(interval)
    {
        let wait = (f64::from(interval) - since).ceil() as u64;
        return Err(ApiError::rate_limited(
            format!("You're commenting too fast; wait {wait} s before your next comment."),
            wait,
        ));
    }
    if per_user > 0 && h.user_last_minute >= i64::from(per_user) {
        let wait = h.user_window_frees_in_s.unwrap_or(60.0).ceil().max(1.0) as u64;
        return Err(ApiError::rate_limited(
            format!("You've posted {per_user} comments in the last minute; wait {wait} s."),
            wait,
        ));
    }
    if per_ip > 0 && h.ip_last_minute >= i64::from(per_ip) {
        let wait = h.ip_window_frees_in_s.unwrap_or(60.0).ceil().max(1.0) as u64;
        return Err(ApiError::rate_limited(
            format!("Too many comments from your network in the last minute; wait {wait} s."),
            wait,
        ));
    }
    // Only counted (non-zero) for a guest's new comment. A known guest (an approved comment on
    // this site, same email *and* key) isn't held to it: the cap stops a flood of strangers,
    // and a few addresses flooding must not shut out the site's known guests with it.
    if guests > 0 && !known_guest && h.guests_last_minute >= i64::from(guests) {
        let wait = h.guests_window_frees_in_s.unwrap_or(60.0).ceil().max(1.0) as u64;
        return Err(ApiError::rate_limited(
            format!(
                "This site is taking too many guest comments right now; wait {wait} s, or log in to comment."
            ),
            wait,
        ));
    }
    Ok(())
}

impl MatchInput {
    /// What a submission offers the rules: author name, website and text, email, address and
    /// link count.
    pub fn of(s: &Submission<'_>) -> Self {
        let text = format!(
            "{}\n{}\n{}",
            s.author_name,
            s.author_url.unwrap_or(""),
            s.markdown
        );
        Self::new(
            text,
            s.email.map(str::to_owned),
            s.ip,
            link_count(s.markdown, s.html),
        )
    }
}

/// What the submit-time pipeline decided for a new comment on a site: the status it got (or
/// `refused`), and one count per reason kind (a refusal's kind is its error code).
pub fn count_outcome(site: &str, verdict: &Result<Verdict, crate::error::ApiError>) {
    match verdict {
        Ok(v) => {
            let action = if v.shadow {
                "shadow"
            } else {
                v.status.as_str()
            };
            metrics::decision(site, "pipeline", action);
            for r in &v.reasons {
                metrics::decision_reason(site, &r.kind);
            }
        }
        // A server-side failure is no decision.
        Err(e) if actix_web::ResponseError::status_code(e).is_server_error() => {}
        Err(e) => {
            metrics::decision(site, "pipeline", "refused");
            metrics::decision_reason(site, e.code());
        }
    }
}
