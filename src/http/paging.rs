//! Paged lists: `?limit=` and `?cursor=` checked once, for every list of the API.
//!
//! A cursor is opaque to clients (base64url of text only this server reads); most lists page by
//! keyset over `(created_at, id)`, which [`Paging::time_cursor`] decodes and [`Paging::split`]
//! encodes. A forged or foreign cursor is a 400 `validation_failed` on `cursor`, never a 500.

use std::fmt::Display;
use std::future::{Future, Ready, ready};
use std::str::FromStr;

use actix_web::dev::Payload;
use actix_web::web::{self, Data};
use actix_web::{FromRequest, HttpRequest};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::Deserialize;
use time::OffsetDateTime;

use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

/// The longest cursor accepted, in characters: ours are far shorter.
const CURSOR_MAX_CHARS: usize = 200;

#[derive(Deserialize)]
struct PageQuery {
    limit: Option<String>,
    cursor: Option<String>,
}

/// How every paged list documents `?limit=` and `?cursor=` (`params(..., PageParams)`).
#[derive(utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)] // read by the extractor above; this type only documents them
pub struct PageParams {
    /// Page size, 1 to the server's maximum (200 by default); 50 when absent.
    #[param(minimum = 1)]
    limit: Option<u32>,
    /// `next_cursor` of the previous page.
    cursor: Option<String>,
}

/// One page's request: the page size and the decoded cursor text (None for the first page).
#[derive(Debug)]
pub struct Paging {
    pub limit: u32,
    cursor: Option<String>,
}

impl Paging {
    /// `?limit=` and `?cursor=` as given, checked against `limits.page_default`/`page_max`.
    pub fn parse(
        limits: &crate::config::Limits,
        limit: Option<&str>,
        cursor: Option<&str>,
    ) -> ApiResult<Self> {
        let limit = match limit {
            None => limits.page_default,
            Some(s) => match s.parse::<u32>() {
                Ok(n) if (1..=limits.page_max).contains(&n) => n,
                _ => {
                    return Err(ApiError::validation(
                        "limit",
                        format!("must be a whole number from 1 to {}", limits.page_max),
                    ));
                }
            },
        };
        let cursor = match cursor {
            None | Some("") => None,
            Some(c) => Some(
                (c.len() <= CURSOR_MAX_CHARS)
                    .then(|| URL_SAFE_NO_PAD.decode(c).ok())
                    .flatten()
                    .and_then(|b| String::from_utf8(b).ok())
                    .ok_or_else(bad_cursor)?,
            ),
        };
        Ok(Self { limit, cursor })
    }

    /// The cursor's text, for lists with a key of their own.
    pub fn cursor(&self) -> Option<&str> {
        self.cursor.as_deref()
    }

    /// The `(created_at, id)` keyset position the cursor names (ids are uuids or numbers).
    pub fn time_cursor<K: FromStr>(&self) -> ApiResult<Option<(OffsetDateTime, K)>> {
        let Some(raw) = self.cursor.as_deref() else {
            return Ok(None);
        };
        let (micros, id) = raw.split_once('.').ok_or_else(bad_cursor)?;
        let at = cursor_time(micros)?;
        let id = id.parse().map_err(|_| bad_cursor())?;
        Ok(Some((at, id)))
    }

    /// The rows that form this page (the query asked for `limit + 1`) and the cursor of the
    /// next page, encoded from the last row's key (None on the last page).
    pub fn split<T>(
        &self,
        mut rows: Vec<T>,
        key: impl Fn(&T) -> String,
    ) -> (Vec<T>, Option<String>) {
        let limit = self.limit as usize;
        let next = (rows.len() > limit).then(|| {
            rows.truncate(limit);
            rows.last().map(&key).map(|k| URL_SAFE_NO_PAD.encode(k))
        });
        (rows, next.flatten())
    }

    /// [`Paging::split`] for lists in `(created_at, id)` order.
    pub fn split_by_time<T, K: Display>(
        &self,
        rows: Vec<T>,
        key: impl Fn(&T) -> (OffsetDateTime, K),
    ) -> (Vec<T>, Option<String>) {
        self.split(rows, |r| {
            let (at, id) = key(r);
            time_key(at, id)
        })
    }

    /// One page of a list in `(created_at, id)` order: `read` gets the cursor's position and
    /// how many rows to fetch; back come the page's rows and the next page's cursor.
    pub async fn by_time<T, K, E, Fut>(
        &self,
        read: impl FnOnce(Option<(OffsetDateTime, K)>, i64) -> Fut,
        key: impl Fn(&T) -> (OffsetDateTime, K),
    ) -> ApiResult<(Vec<T>, Option<String>)>
    where
        K: FromStr + Display,
        Fut: Future<Output = Result<Vec<T>, E>>,
        ApiError: From<E>,
    {
        let rows = read(self.time_cursor()?, self.fetch()).await?;
        Ok(self.split_by_time(rows, key))
    }

    /// How many rows to fetch: one more than a page, to learn whether another page follows.
    pub fn fetch(&self) -> i64 {
        i64::from(self.limit) + 1
    }
}

/// A list's `?limit=` and `?cursor=`, read beside the handler's own query parameters.
impl FromRequest for Paging {
    type Error = ApiError;
    type Future = Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let Some(state) = req.app_data::<Data<AppState>>() else {
            return ready(Err(ApiError::internal(anyhow::anyhow!(
                "no application state"
            ))));
        };
        ready(
            web::Query::<PageQuery>::from_query(req.query_string())
                .map_err(|e| ApiError::validation("query", format!("malformed query string: {e}")))
                .and_then(|q| {
                    Self::parse(
                        &state.settings.limits,
                        q.limit.as_deref(),
                        q.cursor.as_deref(),
                    )
                }),
        )
    }
}

pub fn bad_cursor() -> ApiError {
    ApiError::validation("cursor", "is not a cursor issued by this endpoint")
}

/// The unencoded text of a `(created_at, id)` keyset position.
fn time_key(at: OffsetDateTime, id: impl Display) -> String {
    let micros = at.unix_timestamp_nanos() / 1000;
    format!("{micros}.{id}")
}

/// The time of a keyset cursor, in microseconds since the epoch. A forged cursor is a 400, never
/// an overflow: the value must be a time Postgres can hold (from 1970 to the year 9999 here).
pub fn cursor_time(micros: &str) -> ApiResult<OffsetDateTime> {
    let micros: i64 = micros.parse().map_err(|_| bad_cursor())?;
    if !(0..=253_402_300_799_000_000).contains(&micros) {
        return Err(bad_cursor());
    }
    OffsetDateTime::from_unix_timestamp_nanos(i128::from(micros) * 1000).map_err(|_| bad_cursor())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits() -> crate::config::Limits {
        crate::config::Settings::load_from(std::path::Path::new("config"), "test", [])
            .expect("test settings")
            .limits
    }

    #[test]
    fn a_time_cursor_round_trips_and_forgeries_are_400() {
        let l = limits();
        let at = OffsetDateTime::from_unix_timestamp(1_700_000_000).unwrap();
        let id = uuid::Uuid::new_v4();
        let first = Paging::parse(&l, Some("1"), None).unwrap();
        let (rows, next) = first.split_by_time(vec![(at, id), (at, id)], |r| *r);
        assert_eq!(rows.len(), 1);
        let next = Paging::parse(&l, None, next.as_deref()).unwrap();
        assert_eq!(next.time_cursor::<uuid::Uuid>().unwrap(), Some((at, id)));
        for forged in ["!!", "OTk5OTk5OTk5OTk5OTk5OTk5OTk5OS54", "eA"] {
            let p = Paging::parse(&l, None, Some(forged));
            assert!(
                p.and_then(|p| p.time_cursor::<uuid::Uuid>()).is_err(),
                "{forged}"
            );
        }
        assert!(Paging::parse(&l, Some("0"), None).is_err());
        assert!(Paging::parse(&l, Some(&(l.page_max + 1).to_string()), None).is_err());
    }
}
