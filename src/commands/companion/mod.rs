//! Companion mode (decision 17): a Better Auth server keeps identity and
//! sessions, and its plugin (`packages/better-auth/`) asks the ledger for every
//! invite decision, in the name of the acting Better Auth user, with an API key
//! of scope `companion`. The contract is `docs/companion-protocol.md`.

pub mod bulk;
pub mod callback;
pub mod invites;
pub mod organizations;
pub mod people;
pub mod roles;
pub mod seats;

use uuid::Uuid;

/// The plugin calling: the id of its companion API key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Caller {
    pub key_id: Uuid,
}

impl Caller {
    /// Whose idempotency receipts a request's are: the key's, per acting user.
    pub fn receipt_owner(&self, actor_id: Option<&str>) -> String {
        format!("companion:{}:{}", self.key_id, actor_id.unwrap_or(""))
    }
}
