//! Moderation: what status a new or edited comment gets and why (`pipeline`, with its `spam`
//! heuristic and `akismet` check), the one state machine of a comment's status (`state`), the
//! audit trail every status change writes (`audit`), and the moderator API's side of it
//! (`routes`): the queue and search (`review`), `bans`, `rules` and commenters' trust (`users`); how rules are compiled and
//! matched (`matcher`) without one site stalling the others (`rule_engine`);
//! the rule `dry_run`; commenters' `appeals` against rejections and bans (`appeal_routes`).

pub mod akismet;
pub mod appeals;
pub mod bans;
pub mod claims;
pub mod dry_run;
pub mod hits;
pub mod matcher;
pub mod pipeline;
pub mod review;
pub mod rule_engine;
pub mod rules;
pub mod spam;
pub mod state;
pub mod store;
pub mod users;

/// The audit trail lives below moderation (auth's team changes write it too); re-exported here
/// for the paths that name it as moderation's.
pub use crate::audit;
pub use hits::Reason;
pub use pipeline::Verdict;
