//! Moderation: what status a new or edited comment gets and why (`pipeline`, with its `spam`
//! heuristic and `akismet` check), the one state machine of a comment's status (`transitions`)
//! writing each change to the audit trail (`crate::audit`). What moderators do, each write opening its
//! transaction, writing its audit rows, committing and dropping the cache in one place:
//! decisions on comments (`decisions`) and on `appeals` (`appeal_decision`), `bans`, `rules`,
//! commenters' trust (`users`) and queue `claims`; the queue and search they read (`review`).
//! How rules are compiled and matched (`matcher`) without one site stalling the others
//! (`rule_engine`), and the rule `dry_run`. The HTTP side is `api/moderator/`.

pub mod akismet;
pub mod appeal_decision;
pub mod appeals;
pub mod bans;
pub mod claims;
pub mod decisions;
pub mod dry_run;
pub mod hits;
pub mod matcher;
pub mod pipeline;
pub mod review;
pub mod rule_engine;
pub mod rules;
pub mod spam;
pub mod store;
pub mod transitions;
pub mod users;

pub use hits::Reason;
pub use pipeline::Verdict;
