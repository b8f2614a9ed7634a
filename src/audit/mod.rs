//! The audit side of the ledger: who invited whom, when, with which role, and who
//! used it, now or at any past moment.
//!
//! Every query runs on a connection whose unqualified table names are either the
//! live read models or, for `as_of`, temporary tables folded from the log up to
//! that moment (see `as_of`): one SQL text answers both.

pub mod api_keys;
pub mod as_of;
pub mod feed;
pub mod invites;
pub mod standby;
pub mod users;

use serde::{Deserialize, Serialize};

/// An opaque page cursor: the sort key of the last row served, hex-encoded JSON.
pub fn encode_cursor<T: Serialize>(key: &T) -> String {
    hex::encode(serde_json::to_vec(key).expect("cursor keys serialize"))
}

/// The sort key inside a cursor, or `None` if it was not made by `encode_cursor`.
pub fn decode_cursor<T: for<'de> Deserialize<'de>>(cursor: &str) -> Option<T> {
    serde_json::from_slice(&hex::decode(cursor).ok()?).ok()
}
