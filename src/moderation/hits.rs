//! What the moderation stages say about a comment: a `Reason` (stored with the comment, shown
//! to its author and to moderators), a rule's `Action`, a `Hit` (an action and its reason), and
//! how the rules stage's hits decide (`rules_outcome`). Below the pipeline and the rule matcher,
//! which both speak it.

pub use crate::domain::Reason;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Reject,
    Spam,
    Hold,
}

impl Action {
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "reject" => Some(Self::Reject),
            "spam" => Some(Self::Spam),
            "hold" => Some(Self::Hold),
            _ => None,
        }
    }
}

pub struct Hit {
    pub action: Action,
    pub reason: Reason,
}

/// What the rules stage decides from its hits: the first `reject` refuses the comment (422 at
/// submit); otherwise any `spam` files it as spam and any `hold` holds it. The live pipeline and
/// the dry-run both decide through here.
#[derive(Debug, Default)]
pub struct RulesOutcome {
    pub reject: Option<Reason>,
    pub spam: bool,
    pub hold: bool,
    /// Every hit's reason (without the rejecting one).
    pub reasons: Vec<Reason>,
}

pub fn rules_outcome(hits: Vec<Hit>) -> RulesOutcome {
    let mut out = RulesOutcome::default();
    for hit in hits {
        match hit.action {
            Action::Reject => {
                out.reject = Some(hit.reason);
                return out;
            }
            Action::Spam => out.spam = true,
            Action::Hold => out.hold = true,
        }
        out.reasons.push(hit.reason);
    }
    out
}
