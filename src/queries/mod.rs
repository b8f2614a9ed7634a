//! Queries: the read-side questions of the ledger. Who invited whom, when,
//! with which role, and who used it, now or at any past moment. Nothing here
//! changes the ledger; that is `commands/`.
//!
//! Every query names its tables through `as_of::At`: the live read models, or
//! their history's versions valid at a past moment. One SQL text answers both.

pub mod as_of;
pub mod companion;
pub mod diff;
pub mod event_answers;
pub mod export;
pub mod feed;
pub mod invite_answers;
pub mod invite_list;
pub mod invites;
pub mod organization_diff;
pub mod organization_people;
pub mod organizations;
pub mod period_answers;
pub mod search;
pub mod source;
pub mod standby;
pub mod stats;
pub mod use_view;
pub mod user_answers;
pub mod user_list;
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
