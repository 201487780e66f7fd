//! Rule dry-run (`POST /api/mod/v1/sites/{site}/rules/dry-run`): replays a proposed rule set, in
//! place of the site's current one, over the site's last N comments and tells which would get
//! another verdict, and why. It reads and never writes.
//!
//! What is re-evaluated: only the rules stage (pipeline step 5), with the pipeline's own matcher
//! (`matcher::RuleSet`, the site's current set taken from the node's compiled cache, the
//! proposed one compiled for this request) and on the same bounded pool off the async workers and its own rule-outcome logic (`hits::rules_outcome`). Each
//! comment is replayed twice, once with the site's current enabled rules and once with the
//! proposed ones; a comment is `changed` when the two verdicts differ. Comparing with the
//! current rules, rather than with the stored status, keeps a moderator's own decisions (an
//! approved comment that the policy once held) out of the answer: only what the new rules change
//! is listed. `current_status` (the status now) is given alongside for context.
//!
//! What is not re-evaluated, but taken as the comment's stored reasons record it: bans (a
//! shadow-banned author's comment stays spam, rules never ran for it), flood limits and
//! duplicates (the comment was accepted), the locked/closed checks, the spam score and Akismet
//! (not called again; when the rules filed a comment as spam at submit time Akismet wasn't asked,
//! and the replay assumes it would have passed), the site's policy, reader flags and
//! premoderation. Trust is read as it is now: a trusted author's comments skip the rules, so
//! they never change.
//!
//! A `rejected` verdict means the comment would have been refused (422) at submit time.
//!
//! Bounded work: the proposal must fit a site's compiled budget (409 `rules_too_complex`, as a
//! stored set), `sample × rules` is at most [`WORK_MAX`] (400), and the replay checks, before
//! each comment, a flag that the handler's future sets when it is dropped (the client hung up:
//! the server doesn't keep half-closed connections), so abandoned work stops and frees the
//! site's rule job.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use serde::{Deserialize, Serialize};
use sqlx::{FromRow, PgPool};
use utoipa::ToSchema;
use uuid::Uuid;

use super::hits::{self, Reason};
use super::matcher::{MatchInput, RuleSet, check_budget};
use super::pipeline::Submission;
use super::rule_engine::RuleEngine;
use super::rules::Rule;
use super::rules::rules_too_complex;
use super::store::RuleRow;
use crate::config::ModerationSettings;
use crate::domain::CommentStatus;
use crate::error::{ApiError, ApiResult, Validation};
use crate::sites::Site;

/// Comments replayed when the request doesn't say.
const SAMPLE_DEFAULT: i64 = 1000;
/// Most comments one dry-run replays: bounds the work (and memory) of one request.
const SAMPLE_MAX: i64 = 5000;
/// Most `sample × proposed rules` of one dry-run (each comment is matched against the proposed
/// rules and the current ones): 200 rules over 500 comments, or 20 over 5000. With the site's
/// compiled budget (`matcher::RULES_COMPILED_MAX_BYTES`) this bounds one request's CPU time.
pub const WORK_MAX: i64 = 100_000;
/// Longest replay of one dry-run: a proposal within the budget can still take a second or two
/// per long comment, so the replay stops here and answers for what it replayed (`complete`).
pub const REPLAY_TIME_MAX: std::time::Duration = std::time::Duration::from_secs(20);

/// A proposed rule set, to replay in place of the site's current one.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DryRunBody {
    /// The whole proposed rule set (all taken as enabled), at most a site's most rules
    /// (`moderation.max_rules_per_site`, 200 by default); in the answer's reasons a
    /// proposed rule is named `rules[i]`, by its place here.
    #[schema(max_items = 200)]
    rules: Vec<ProposedRule>,
    /// How many of the site's latest comments to replay, 1 to 5000, and `sample` times the
    /// number of proposed rules at most 100000; when absent, 1000 or as many as that allows.
    #[serde(default)]
    #[schema(minimum = 1, maximum = 5000, example = 1000)]
    sample: Option<i64>,
}

/// A rule as `POST /sites/{site}/rules` takes it, without `enabled` and `note`.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ProposedRule {
    /// `word`, `regex`, `max_links`, `email_domain` or `ip`.
    #[schema(example = "word")]
    kind: String,
    #[schema(example = "casino")]
    pattern: String,
    /// `reject`, `spam` or `hold`.
    #[schema(example = "spam")]
    action: String,
}

/// One stored comment as the replay needs it.
#[derive(FromRow)]
pub struct Sampled {
    pub id: Uuid,
    pub status: String,
    pub user_id: Uuid,
    pub author_name: String,
    pub author_url: Option<String>,
    pub author_email: Option<String>,
    pub author_ip: Option<ipnet::IpNet>,
    pub body_markdown: String,
    pub body_html: String,
    pub reasons: sqlx::types::Json<Vec<serde_json::Value>>,
    pub trusted: bool,
}

/// The site's last `n` comments that have a verdict (deleted ones have none), newest first,
/// with whether their author is trusted on the site now.
pub async fn sample(pool: &PgPool, site_id: Uuid, n: i64) -> Result<Vec<Sampled>, sqlx::Error> {
    sqlx::query_as(
        "SELECT c.id, c.status, c.user_id, c.author_name, c.author_url, c.author_email,
                c.author_ip, c.body_markdown, c.body_html, c.reasons,
                COALESCE(su.trusted, false) AS trusted
         FROM comments c
         LEFT JOIN site_users su ON su.site_id = c.site_id AND su.user_id = c.user_id
         WHERE c.site_id = $1 AND c.status <> 'deleted'
         ORDER BY c.created_at DESC, c.id DESC
         LIMIT $2",
    )
    .bind(site_id)
    .bind(n)
    .fetch_all(pool)
    .await
}

/// A comment that would get another verdict under the proposed rules.
#[derive(Debug, Serialize, PartialEq, ToSchema)]
#[schema(as = DryRunChange)]
pub struct Changed {
    pub comment_id: Uuid,
    pub current_status: String,
    /// The verdict under the site's current rules, replayed the same way.
    pub current_verdict: CommentStatus,
    pub would_be: CommentStatus,
    /// Why, under the proposed rules (the rules' own reasons first, as the pipeline orders them).
    pub reasons: Vec<Reason>,
}

/// What the other stages decided, as a comment's stored reasons record it.
#[derive(Default)]
struct Recorded {
    shadow: bool,
    spam: bool,
    hold: bool,
    reasons: Vec<Reason>,
}

/// A reason the rules stage wrote: a rule's id, or the built-in link limit.
fn from_rules(r: &Reason) -> bool {
    r.rule == "max_links" || Uuid::parse_str(&r.rule).is_ok()
}

fn recorded(stored: &[serde_json::Value], spam_score: f64) -> Recorded {
    let mut rec = Recorded::default();
    for r in stored
        .iter()
        .filter_map(|v| serde_json::from_value::<Reason>(v.clone()).ok())
        .filter(|r| !from_rules(r))
    {
        match r.kind.as_str() {
            "shadow_ban" => rec.shadow = true,
            "akismet" => rec.spam = true,
            // "0.93: signals...": filed as spam at or above the site-wide spam score, else held.
            "spam_score" => {
                let score = r
                    .matched
                    .as_deref()
                    .and_then(|m| m.split(':').next())
                    .and_then(|s| s.trim().parse::<f64>().ok());
                match score {
                    Some(v) if v >= spam_score => rec.spam = true,
                    _ => rec.hold = true,
                }
            }
            // Policy, premoderation, reader flags, and anything newer: each held the comment.
            _ => rec.hold = true,
        }
        rec.reasons.push(r);
    }
    rec
}

/// The verdict of the whole pipeline with `rules` as the rules stage, the rest as recorded.
fn verdict(
    set: &RuleSet,
    s: &Submission<'_>,
    trusted: bool,
    rec: &Recorded,
    default_max_links: u32,
) -> (CommentStatus, Vec<Reason>) {
    if rec.shadow {
        // Bans come first: the rules never ran for a shadow-banned author.
        return (CommentStatus::Spam, rec.reasons.clone());
    }
    let outcome = if trusted {
        hits::RulesOutcome::default()
    } else {
        hits::rules_outcome(set.apply(&MatchInput::of(s), default_max_links))
    };
    if let Some(r) = outcome.reject {
        return (CommentStatus::Rejected, vec![r]);
    }
    let mut reasons = outcome.reasons;
    reasons.extend(rec.reasons.iter().cloned());
    let status = if outcome.spam || rec.spam {
        CommentStatus::Spam
    } else if outcome.hold || rec.hold {
        CommentStatus::Pending
    } else {
        CommentStatus::Approved
    };
    (status, reasons)
}

/// Whether the replay should go on (nobody cancelled it), and where it counts its progress.
pub struct Progress<'a> {
    pub cancelled: &'a AtomicBool,
    pub replayed: &'a AtomicU64,
    /// Past it, the replay stops and answers for the comments replayed so far.
    pub deadline: Option<std::time::Instant>,
}

/// Replays both rule sets over the sample; pure CPU, no I/O. None when `progress.cancelled` was
/// set (checked before each comment): the request went away and nobody wants the answer.
/// Otherwise the changes and how many comments were replayed: fewer than the sample when the
/// deadline passed first.
#[allow(clippy::too_many_arguments)]
pub fn replay(
    site: &Site,
    now: &RuleSet,
    next: &RuleSet,
    labels: &HashMap<Uuid, String>,
    sampled: &[Sampled],
    default_max_links: u32,
    spam_score: f64,
    progress: Progress<'_>,
) -> Option<(Vec<Changed>, usize)> {
    let mut changed = Vec::new();
    for (i, c) in sampled.iter().enumerate() {
        if progress.cancelled.load(Ordering::Relaxed) {
            return None;
        }
        if progress
            .deadline
            .is_some_and(|d| std::time::Instant::now() >= d)
        {
            return Some((changed, i));
        }
        progress.replayed.fetch_add(1, Ordering::Relaxed);
        let rec = recorded(&c.reasons.0, spam_score);
        let ip: Option<IpAddr> = c.author_ip.map(|n| n.addr());
        let s = Submission {
            site,
            user_id: Some(c.user_id),
            guest: false,
            email: c.author_email.as_deref(),
            ip,
            user_agent: None,
            author_name: &c.author_name,
            author_url: c.author_url.as_deref(),
            thread_id: None,
            thread_locked: false,
            permalink: None,
            markdown: &c.body_markdown,
            html: &c.body_html,
            editing: Some(c.id),
        };
        let (before, _) = verdict(now, &s, c.trusted, &rec, default_max_links);
        let (after, mut reasons) = verdict(next, &s, c.trusted, &rec, default_max_links);
        if before != after {
            // Proposed rules have no ids yet: name them by their place in the request.
            for r in &mut reasons {
                if let Some(label) = Uuid::parse_str(&r.rule).ok().and_then(|id| labels.get(&id)) {
                    r.rule = label.clone();
                }
            }
            changed.push(Changed {
                comment_id: c.id,
                current_status: c.status.clone(),
                current_verdict: before,
                would_be: after,
                reasons,
            });
        }
    }
    Some((changed, sampled.len()))
}

/// Sets the flag when dropped: held by the handler's future, so when actix drops it (the
/// client hung up) the blocking replay sees the flag and stops at the next comment.
struct CancelOnDrop(Arc<AtomicBool>);

impl Drop for CancelOnDrop {
    fn drop(&mut self) {
        self.0.store(true, Ordering::Relaxed);
    }
}

type Checked = (Vec<RuleRow>, HashMap<Uuid, String>, Validation);

/// The proposed rules as rows (with made-up ids, and the labels naming them by their place in
/// the request), or the bad fields, `rules[i].<field>`.
fn check_proposed(rules: &[ProposedRule]) -> Checked {
    let mut proposed = Vec::with_capacity(rules.len());
    let mut labels = HashMap::new();
    let mut errors = Validation::new();
    for (i, r) in rules.iter().enumerate() {
        match Rule::check(&r.kind, &r.pattern, &r.action, true, None) {
            Ok(rule) => {
                let id = Uuid::now_v7();
                labels.insert(id, format!("rules[{i}]"));
                proposed.push(RuleRow {
                    id,
                    kind: rule.kind,
                    pattern: rule.pattern,
                    action: rule.action,
                });
            }
            Err(es) => errors.extend(
                es.into_iter()
                    .map(|(field, why)| (format!("rules[{i}].{field}"), why)),
            ),
        }
    }
    (proposed, labels, errors)
}

/// What the dry-run found.
#[derive(Serialize, ToSchema)]
pub struct DryRunAnswer {
    /// Comments replayed (fewer than `sample` when the site has fewer, or when the replay hit
    /// its time limit).
    sampled: usize,
    /// False when the replay stopped at its time limit (20 s) before the whole sample: the
    /// answer covers the newest `sampled` comments only. Replay fewer comments or fewer rules.
    complete: bool,
    /// Of those, how many keep their verdict.
    unchanged: usize,
    /// Those that would get another verdict, newest first, and why.
    changed: Vec<Changed>,
}

/// Checks a proposal (the sample's size, each rule, the set's compiled budget) and replays it
/// over `site`'s latest comments on the site's share of the rule pool. Dropping the returned
/// future (the client hung up) stops the replay at the next comment.
pub async fn run(
    engine: &RuleEngine,
    pool: &PgPool,
    settings: &ModerationSettings,
    site: Arc<Site>,
    moderator_id: Uuid,
    proposal: DryRunBody,
) -> ApiResult<DryRunAnswer> {
    let site_id = site.id;
    let DryRunBody { rules, sample: n } = proposal;
    // Set when this future is dropped (the client went away) or ends: the replay stops.
    let cancelled = Arc::new(AtomicBool::new(false));
    let _cancel_on_drop = CancelOnDrop(cancelled.clone());
    let mut errors = Validation::new();
    let per_comment = (rules.len() as i64).max(1);
    let n = n.unwrap_or((WORK_MAX / per_comment).clamp(1, SAMPLE_DEFAULT));
    if !(1..=SAMPLE_MAX).contains(&n) {
        errors.add(
            "sample",
            format!("must be a whole number from 1 to {SAMPLE_MAX}"),
        );
    } else if n * per_comment > WORK_MAX {
        errors.add(
            "sample",
            format!(
                "must be at most {} with {per_comment} rules: sample × rules is at most {WORK_MAX}; replay fewer comments or fewer rules",
                WORK_MAX / per_comment
            ),
        );
    }
    let rules_max = settings.max_rules_per_site as usize;
    if rules.len() > rules_max {
        errors.add(
            "rules",
            format!("must list at most {rules_max} rules (a site's most)"),
        );
    }
    // Checking a pattern compiles it: up to a site's most rules of them, so on the site's
    // share of the rule pool too, not on an async worker (and not at all past the most).
    let (proposed, labels, budget) = if rules.len() <= rules_max {
        let (proposed, labels, rule_errors, budget) = engine
            .run(site_id, move || {
                let (proposed, labels, errors) = check_proposed(&rules);
                // The whole proposal within the site's compiled budget, as a stored set must be.
                let budget = if errors.is_empty() {
                    check_budget(
                        proposed
                            .iter()
                            .map(|r| (r.kind.as_str(), r.pattern.as_str())),
                    )
                } else {
                    Ok(())
                };
                (proposed, labels, errors, budget)
            })
            .await?;
        errors.extend(rule_errors);
        (proposed, labels, budget)
    } else {
        (Vec::new(), HashMap::new(), Ok(()))
    };
    errors.finish()?;
    budget.map_err(rules_too_complex)?;

    let current = engine.current(pool, site_id).await?;
    let sampled = sample(pool, site_id, n).await?;
    let (max_links, spam_score) = (settings.max_links, settings.spam_score);
    let total = sampled.len();
    // Compiling the proposal and thousands of regex scans: on the site's share of the rule
    // pool, off the async workers.
    let site2: Arc<Site> = site.clone();
    let (replayed, cancels) = engine.dry_run_counters();
    let job_cancelled = cancelled.clone();
    let changed = engine
        .run(site_id, move || {
            if job_cancelled.load(Ordering::Relaxed) {
                cancels.fetch_add(1, Ordering::Relaxed);
                return None;
            }
            let next = RuleSet::new(proposed);
            let changed = replay(
                &site2,
                &current,
                &next,
                &labels,
                &sampled,
                max_links,
                spam_score,
                Progress {
                    cancelled: &job_cancelled,
                    replayed: &replayed,
                    deadline: Some(std::time::Instant::now() + REPLAY_TIME_MAX),
                },
            );
            if changed.is_none() {
                cancels.fetch_add(1, Ordering::Relaxed);
            }
            changed
        })
        .await?;
    let Some((changed, replayed)) = changed else {
        // Only when the flag was set, which is when this future was dropped: no one reads this.
        return Err(ApiError::internal(anyhow::anyhow!("dry-run cancelled")));
    };
    tracing::info!(moderator.id = %moderator_id, site.slug = %site.slug, sampled = replayed, of = total, changed = changed.len(), "rules dry-run");
    Ok(DryRunAnswer {
        sampled: replayed,
        complete: replayed == total,
        unchanged: replayed - changed.len(),
        changed,
    })
}
