//! For operators: liveness and readiness probes and Prometheus metrics.

pub mod docs;
pub mod health;
pub mod metrics;
