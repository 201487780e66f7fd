//! Parsed value types. Each has a private field and one `parse`: holding one means it is valid.

pub mod client;
pub mod datetime;
mod reason;
mod status;
mod text;
mod web;

pub use reason::Reason;
pub use status::{CommentStatus, Policy, SortOrder};
pub use text::{
    CommentBody, DisplayName, IdempotencyKey, SiteName, SiteSlug, ThreadTitle, ThreadUri,
};
pub use web::{Email, GuestKey, Origin, WebUrl};

/// Why a value was refused, phrased for the `details` of a `validation_failed` error.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invalid(pub String);

impl Invalid {
    pub fn new(reason: impl Into<String>) -> Self {
        Self(reason.into())
    }
}

impl std::fmt::Display for Invalid {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// True for characters that have no business in single-line user text: controls (including
/// newlines), and the bidi overrides used to disguise names ("Trojan Source").
pub(crate) fn is_forbidden_inline(c: char) -> bool {
    c.is_control()
        || matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{200E}' | '\u{200F}')
}
