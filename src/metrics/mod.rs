//! Prometheus metrics at `GET /metrics` (text format 0.0.4).
//!
//! Counters and histograms are recorded through the `metrics` facade into one Prometheus
//! recorder per process (installing a global recorder can only happen once, and tests run many
//! apps in one process; see DEPS.md pitfall 14). Queue gauges are not recorded at all: they are
//! computed from the database at scrape time, by one grouped query, and rendered by the scrape
//! itself, so they are exact, cost nothing between scrapes and are never stale.
//!
//! Labels come from closed sets only — route templates (`match_pattern`, never the raw path),
//! status codes, site slugs, provider names from configuration, action and reason kinds — so no
//! request can mint a new series, and no id, email, IP or token ever becomes a label value.
//!
//! The endpoint has no authentication: operators should keep it off the public internet (block
//! `/metrics` at the proxy, or turn it off with `metrics.enabled = false`).

pub mod store;

use std::sync::OnceLock;
use std::time::{Duration, Instant};

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::{Method, header};
use actix_web::middleware::Next;
use actix_web::{HttpResponse, web};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};

use crate::app::AppState;
use crate::moderation::Verdict;
use crate::moderation::audit::Actor;
use crate::moderation::state::Move;

pub const HTTP_REQUESTS: &str = "colloquy_http_requests_total";
pub const HTTP_DURATION: &str = "colloquy_http_request_duration_seconds";
pub const DECISIONS: &str = "colloquy_decisions_total";
pub const DECISION_REASONS: &str = "colloquy_decision_reasons_total";
pub const DECISION_LATENCY: &str = "colloquy_decision_latency_seconds";
pub const LOGINS: &str = "colloquy_logins_total";

/// Request latencies: 1 ms to 10 s.
const HTTP_BUCKETS: &[f64] = &[
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];
/// Submit-to-decision times: a minute to a week.
const DECISION_BUCKETS: &[f64] = &[
    60.0, 300.0, 900.0, 1800.0, 3600.0, 10800.0, 21600.0, 43200.0, 86400.0, 172800.0, 604800.0,
];

static HANDLE: OnceLock<Option<PrometheusHandle>> = OnceLock::new();

/// The process's recorder, installed on first use. None if the embedding program installed a
/// recorder of its own (then `/metrics` shows only the queue gauges).
pub fn handle() -> Option<&'static PrometheusHandle> {
    HANDLE
        .get_or_init(|| {
            let builder = PrometheusBuilder::new()
                .set_buckets_for_metric(Matcher::Full(HTTP_DURATION.into()), HTTP_BUCKETS)
                .and_then(|b| {
                    b.set_buckets_for_metric(
                        Matcher::Full(DECISION_LATENCY.into()),
                        DECISION_BUCKETS,
                    )
                });
            let builder = match builder {
                Ok(b) => b,
                Err(e) => {
                    tracing::error!(error = %e, "metrics buckets rejected; metrics are off");
                    return None;
                }
            };
            let recorder = builder.build_recorder();
            let handle = recorder.handle();
            if ::metrics::set_global_recorder(recorder).is_err() {
                tracing::warn!(
                    "a metrics recorder was already installed; /metrics shows gauges only"
                );
                return None;
            }
            // Without the exporter's own runtime nobody drains histogram buckets between scrapes;
            // a plain thread does (not a task: it must outlive any one Tokio runtime).
            let upkeep = handle.clone();
            let _ = std::thread::Builder::new()
                .name("metrics-upkeep".into())
                .spawn(move || {
                    loop {
                        std::thread::sleep(Duration::from_secs(5));
                        upkeep.run_upkeep();
                    }
                });
            Some(handle)
        })
        .as_ref()
}

/// Middleware: counts every request and times it, by method, route template and status.
pub async fn track(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let started = Instant::now();
    let method = method_label(req.method());
    let res = next
        .call(req)
        .await
        .map(ServiceResponse::map_into_boxed_body);
    let (route, status) = match &res {
        Ok(r) => (
            r.request()
                .match_pattern()
                .unwrap_or_else(|| "unmatched".to_owned()),
            r.status().as_u16(),
        ),
        Err(e) => (
            "unmatched".to_owned(),
            e.as_response_error().status_code().as_u16(),
        ),
    };
    let labels = [
        ("method", method.to_owned()),
        ("route", route),
        ("status", status.to_string()),
    ];
    ::metrics::counter!(HTTP_REQUESTS, &labels).increment(1);
    ::metrics::histogram!(HTTP_DURATION, &labels).record(started.elapsed().as_secs_f64());
    res
}

/// Methods outside the standard set are one label value, so a client can't add series.
fn method_label(m: &Method) -> &'static str {
    match *m {
        Method::GET => "GET",
        Method::HEAD => "HEAD",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::PATCH => "PATCH",
        Method::DELETE => "DELETE",
        Method::OPTIONS => "OPTIONS",
        _ => "other",
    }
}

/// A login's end: `success`, `linked`, or the error code the popup posted. `provider` must be
/// a configured provider's name (callers map anything else to `unknown`).
pub fn login_outcome(provider: &str, outcome: &str) {
    ::metrics::counter!(LOGINS, "provider" => provider.to_owned(), "outcome" => outcome.to_owned())
        .increment(1);
}

/// What the submit-time pipeline decided for a new comment on a site: the status it got (or
/// `refused`), and one count per reason kind (a refusal's kind is its error code).
pub fn pipeline_outcome(site: &str, verdict: &Result<Verdict, crate::error::ApiError>) {
    match verdict {
        Ok(v) => {
            let action = if v.shadow {
                "shadow"
            } else {
                v.status.as_str()
            };
            decision(site, "pipeline", action);
            for r in &v.reasons {
                ::metrics::counter!(DECISION_REASONS, "site" => site.to_owned(), "kind" => r.kind.clone())
                    .increment(1);
            }
        }
        // A server-side failure is no decision.
        Err(e) if actix_web::ResponseError::status_code(e).is_server_error() => {}
        Err(e) => {
            decision(site, "pipeline", "refused");
            ::metrics::counter!(DECISION_REASONS, "site" => site.to_owned(), "kind" => e.code())
                .increment(1);
        }
    }
}

fn decision(site: &str, actor: &'static str, action: &str) {
    ::metrics::counter!(DECISIONS, "site" => site.to_owned(), "actor" => actor, "action" => action.to_owned())
        .increment(1);
}

/// A status change made through the state machine (`moderation::state::transition`), inside its
/// transaction: counted by site, actor and action; a moderator's decision also observes how long
/// the comment waited since it was submitted.
pub fn moved(site_slug: &str, age_s: f64, m: Move, actor: Actor) {
    let (actor, action) = match (actor, m) {
        (_, Move::Moderator(a)) => ("moderator", a.as_str()),
        (_, Move::Flagged) => ("flags", "flagged"),
        (_, Move::AuthorDelete) => ("author", "delete"),
        (Actor::Author(_), Move::Reevaluated(_)) => ("author", "edit"),
        (_, Move::Reevaluated(_)) => ("system", "reevaluated"),
    };
    decision(site_slug, actor, action);
    if actor == "moderator" {
        ::metrics::histogram!(DECISION_LATENCY, "site" => site_slug.to_owned(), "action" => action)
            .record(age_s.max(0.0));
    }
}

/// Prometheus metrics of this node.
///
/// Requests by route template and status with latency histograms, per-site queue depth and
/// oldest pending age, moderation decisions by action and reason, submit-to-decision time,
/// and login outcomes by provider. For operators: registered only with `metrics.enabled`, and
/// meant to be reachable from the scraper's network only.
#[utoipa::path(
    get,
    path = "/metrics",
    tag = "ops",
    responses((status = 200, description = "Prometheus text exposition format 0.0.4.",
               content_type = "text/plain; version=0.0.4", body = String))
)]
pub async fn scrape(state: web::Data<AppState>) -> HttpResponse {
    let mut body = handle().map(PrometheusHandle::render).unwrap_or_default();
    render_rules(&mut body, &state.rules);
    if state.db.is_migrated() {
        match store::queues(&state.db.pool).await {
            Ok(rows) => render_queues(&mut body, &rows),
            Err(e) => tracing::warn!(error = %e, "metrics: queue depths unavailable"),
        }
    }
    HttpResponse::Ok()
        .insert_header((
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        ))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .body(body)
}

/// This node's rule engine (`moderation::matcher`): compiles so far, jobs running and waiting.
fn render_rules(out: &mut String, rules: &crate::moderation::rule_engine::RuleEngine) {
    use std::fmt::Write;
    if !out.is_empty() && !out.ends_with('\n') {
        out.push('\n');
    }
    for (name, kind, help, v) in [
        (
            "colloquy_rule_compiles_total",
            "counter",
            "Sites' rule sets compiled by this node (one per site and rules version).",
            rules.compiles(),
        ),
        (
            "colloquy_rule_jobs_running",
            "gauge",
            "Rule compiles and matches running on the blocking pool now.",
            rules.running(),
        ),
        (
            "colloquy_rule_jobs_waiting",
            "gauge",
            "Rule jobs waiting for their site's or the node's share of the pool.",
            rules.waiting(),
        ),
        (
            "colloquy_rule_dry_run_replayed_total",
            "counter",
            "Comments replayed by rule dry-runs on this node (stops growing when a dry-run's client goes away).",
            rules.replayed(),
        ),
        (
            "colloquy_rule_dry_runs_cancelled_total",
            "counter",
            "Rule dry-runs stopped because nobody waited for the answer any more.",
            rules.dry_runs_cancelled(),
        ),
    ] {
        let _ = writeln!(
            out,
            "# HELP {name} {help}\n# TYPE {name} {kind}\n{name} {v}"
        );
    }
}

fn render_queues(out: &mut String, rows: &[store::QueueRow]) {
    use std::fmt::Write;
    if !out.is_empty() && !out.ends_with('\n') {
        out.push('\n');
    }
    out.push_str("# HELP colloquy_queue_pending Comments waiting in the moderation queue.\n");
    out.push_str("# TYPE colloquy_queue_pending gauge\n");
    for r in rows {
        let _ = writeln!(
            out,
            "colloquy_queue_pending{{site=\"{}\"}} {}",
            label(&r.slug),
            r.pending
        );
    }
    out.push_str(
        "# HELP colloquy_queue_oldest_pending_age_seconds Age of the oldest pending comment (0 when none).\n",
    );
    out.push_str("# TYPE colloquy_queue_oldest_pending_age_seconds gauge\n");
    for r in rows {
        let _ = writeln!(
            out,
            "colloquy_queue_oldest_pending_age_seconds{{site=\"{}\"}} {}",
            label(&r.slug),
            r.oldest_age_s
        );
    }
}

/// A label value in the text format: backslash, quote and newline escaped.
fn label(v: &str) -> String {
    v.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn label_values_are_escaped() {
        assert_eq!(label("a\"b\\c\nd"), "a\\\"b\\\\c\\nd");
    }

    #[test]
    fn unknown_methods_share_one_label() {
        assert_eq!(method_label(&Method::from_bytes(b"BREW").unwrap()), "other");
        assert_eq!(method_label(&Method::GET), "GET");
    }
}
