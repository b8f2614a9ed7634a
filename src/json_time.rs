//! Times in JSON answers as JavaScript's `toISOString()` writes them: exactly three
//! fractional digits and `Z` (`2026-11-28T20:18:59.765Z`). Better Auth's client
//! reads the fraction as milliseconds, so chrono's default of up to nine digits
//! shifts every date it parses. Use on a response field with
//! `#[serde(serialize_with = "crate::json_time::serialize")]` (or `option::serialize`).

use chrono::{DateTime, SecondsFormat, Utc};
use serde::Serializer;

/// The text of `at` as `toISOString()` writes it (milliseconds truncated, as there).
pub fn format(at: &DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Millis, true)
}

pub fn serialize<S: Serializer>(at: &DateTime<Utc>, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.serialize_str(&format(at))
}

pub mod option {
    use super::*;

    pub fn serialize<S: Serializer>(
        at: &Option<DateTime<Utc>>,
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        match at {
            Some(at) => super::serialize(at, serializer),
            None => serializer.serialize_none(),
        }
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    #[test]
    fn writes_milliseconds_and_z_like_javascript() {
        let at = Utc.timestamp_opt(1_795_897_139, 765_194_321).unwrap();
        assert_eq!(format(&at), "2026-11-28T20:18:59.765Z");
        let whole = Utc.timestamp_opt(1_795_897_139, 0).unwrap();
        assert_eq!(format(&whole), "2026-11-28T20:18:59.000Z");
    }

    #[test]
    fn serializes_through_serde() {
        #[derive(serde::Serialize)]
        struct Answer {
            #[serde(serialize_with = "serialize")]
            at: DateTime<Utc>,
            #[serde(serialize_with = "option::serialize")]
            maybe: Option<DateTime<Utc>>,
            #[serde(serialize_with = "option::serialize")]
            never: Option<DateTime<Utc>>,
        }
        let at = Utc.timestamp_opt(1_795_897_139, 765_194_321).unwrap();
        let json = serde_json::to_value(Answer {
            at,
            maybe: Some(at),
            never: None,
        })
        .unwrap();
        assert_eq!(
            json,
            serde_json::json!({
                "at": "2026-11-28T20:18:59.765Z",
                "maybe": "2026-11-28T20:18:59.765Z",
                "never": null,
            })
        );
    }
}
