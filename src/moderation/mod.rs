//! Moderation: what status a new comment gets and why (`pipeline`), and the audit trail every
//! status change writes (`audit`).

pub mod audit;
pub mod pipeline;

pub use pipeline::{Reason, Verdict};
