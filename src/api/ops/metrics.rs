//! `GET /metrics`: the recorder's counters and histograms, then this node's rule engine and
//! every site's queue, computed at scrape time.

use actix_web::http::header;
use actix_web::{HttpResponse, web};
use metrics_exporter_prometheus::PrometheusHandle;

use crate::metrics::{handle, label, store};
use crate::moderation::rule_engine::RuleEngine;
use crate::state::AppState;

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
fn render_rules(out: &mut String, rules: &RuleEngine) {
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
