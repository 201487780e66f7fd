//! Opaque keyset cursors: `base64url("o|n|t" . created_at_micros . id . score)`.
//!
//! A cursor carries its sort so one issued for `newest` can't be replayed against `top`.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use time::OffsetDateTime;
use uuid::Uuid;

use crate::domain::{Invalid, SortOrder};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cursor {
    pub sort: SortOrder,
    pub created_at: OffsetDateTime,
    pub id: Uuid,
    pub score: i32,
}

impl Cursor {
    pub fn encode(&self) -> String {
        let micros = self.created_at.unix_timestamp_nanos() / 1000;
        let raw = format!(
            "{}.{}.{}.{}",
            sort_tag(self.sort),
            micros,
            self.id.simple(),
            self.score
        );
        URL_SAFE_NO_PAD.encode(raw)
    }

    pub fn decode(s: &str, expected: SortOrder) -> Result<Self, Invalid> {
        let bad = || Invalid::new("is not a cursor issued by this endpoint");
        if s.len() > 200 {
            return Err(bad());
        }
        let raw = URL_SAFE_NO_PAD.decode(s).map_err(|_| bad())?;
        let raw = String::from_utf8(raw).map_err(|_| bad())?;
        let mut parts = raw.split('.');
        let (Some(tag), Some(micros), Some(id), Some(score), None) = (
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
        ) else {
            return Err(bad());
        };
        if tag != sort_tag(expected) {
            return Err(Invalid::new("was issued for another sort order"));
        }
        let micros: i64 = micros.parse().map_err(|_| bad())?;
        // Postgres keeps timestamps from 4713 BC; stay well inside so a forged cursor is a 400.
        if !(0..=253_402_300_799_000_000).contains(&micros) {
            return Err(bad());
        }
        let created_at = OffsetDateTime::from_unix_timestamp_nanos(i128::from(micros) * 1000)
            .map_err(|_| bad())?;
        Ok(Self {
            sort: expected,
            created_at,
            id: Uuid::parse_str(id).map_err(|_| bad())?,
            score: score.parse().map_err(|_| bad())?,
        })
    }
}

fn sort_tag(s: SortOrder) -> &'static str {
    match s {
        SortOrder::Oldest => "o",
        SortOrder::Newest => "n",
        SortOrder::Top => "t",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_at_microsecond_precision() {
        let c = Cursor {
            sort: SortOrder::Top,
            created_at: OffsetDateTime::from_unix_timestamp_nanos(1_700_000_000_123_456_000)
                .unwrap(),
            id: Uuid::now_v7(),
            score: -3,
        };
        assert_eq!(Cursor::decode(&c.encode(), SortOrder::Top).unwrap(), c);
        assert!(Cursor::decode(&c.encode(), SortOrder::Oldest).is_err());
    }

    #[test]
    fn garbage_is_refused() {
        let id = Uuid::nil().simple();
        for out_of_range in [
            format!("o.-220000000000000000.{id}.0"),
            format!("o.170141183460469231731687303715884105727.{id}.0"),
            format!("o.999999999999999999.{id}.0"),
        ] {
            assert!(
                Cursor::decode(&URL_SAFE_NO_PAD.encode(out_of_range), SortOrder::Oldest).is_err()
            );
        }
        for bad in [
            "",
            "xyz",
            "!!!",
            &"a".repeat(300),
            &URL_SAFE_NO_PAD.encode("o.1.nope.0"),
        ] {
            assert!(Cursor::decode(bad, SortOrder::Oldest).is_err(), "{bad}");
        }
    }
}
