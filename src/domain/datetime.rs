//! Times on the wire: RFC 3339 in UTC, and the future times callers set (expiries).

use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use super::Invalid;

/// A time as the API writes it (RFC 3339, UTC).
pub fn rfc3339(at: OffsetDateTime) -> String {
    at.format(&Rfc3339).unwrap_or_default()
}

/// An expiry a caller sets: an RFC 3339 time after now.
pub fn future_time(raw: &str) -> Result<OffsetDateTime, Invalid> {
    let at = OffsetDateTime::parse(raw, &Rfc3339)
        .map_err(|_| Invalid::new("must be an RFC 3339 time like 2027-01-31T00:00:00Z"))?;
    if at <= OffsetDateTime::now_utc() {
        return Err(Invalid::new("must be in the future"));
    }
    Ok(at)
}
