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
use actix_web::http::Method;
use actix_web::middleware::Next;
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};

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

/// A decision on a comment, by who made it and what it was. Callers map their own types to
/// these closed label sets (`moderation::transitions`, the pipeline).
pub fn decision(site: &str, actor: &'static str, action: &str) {
    ::metrics::counter!(DECISIONS, "site" => site.to_owned(), "actor" => actor, "action" => action.to_owned())
        .increment(1);
}

/// A moderator's decision: how long the comment waited since it was submitted.
pub fn decision_latency(site: &str, action: &'static str, age_s: f64) {
    ::metrics::histogram!(DECISION_LATENCY, "site" => site.to_owned(), "action" => action)
        .record(age_s.max(0.0));
}

/// One reason kind behind a decision (a refusal's kind is its error code).
pub fn decision_reason(site: &str, kind: &str) {
    ::metrics::counter!(DECISION_REASONS, "site" => site.to_owned(), "kind" => kind.to_owned())
        .increment(1);
}

/// A label value in the text format: backslash, quote and newline escaped.
pub(crate) fn label(v: &str) -> String {
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
