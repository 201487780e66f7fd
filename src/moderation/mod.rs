//! Moderation: what status a new or edited comment gets and why (`pipeline`, with its `spam`
//! heuristic and `akismet` check), and the audit trail every status change writes (`audit`).

pub mod akismet;
pub mod audit;
pub mod pipeline;
pub mod spam;
pub mod state;
pub mod store;

pub use pipeline::{Reason, Verdict};
