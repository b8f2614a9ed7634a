//! The id an invite is kept under: an HMAC-SHA-256 of its token under a server
//! key (`TOKEN_HASH_KEY`) that lives only in configuration.
//!
//! A plain SHA-256 of a 6-character code is checked against a guess in well
//! under a microsecond, so a copy of the database gave every code away in
//! minutes. Keyed, the stored hash says nothing without the key: a dump alone
//! no longer lets anyone check a guess.
//!
//! Invites created before keyed hashes exist are kept under the plain SHA-256 of
//! their token, and the log is append-only, so they stay there. A token is
//! looked up under its keyed hash first and, when nothing is found, under the
//! old hash: old invites keep working until they end, at the price of a second
//! lookup for an unknown token (which counts toward the guessing limit anyway).
//!
//! Changing the key makes every invite made under the old one unreachable:
//! the key is set once per deployment, like the database itself.

use hmac::{Hmac, Mac};
use sha2::Sha256;

use super::token::hash_token;

/// The development key: public, for local runs and tests only.
pub const DEV_KEY_HEX: &str = "696e766974652d6c6564676572206465762068617368696e67206b6579212121";

#[derive(Clone)]
pub struct TokenHasher {
    mac: Hmac<Sha256>,
    pub is_dev_key: bool,
}

impl std::fmt::Debug for TokenHasher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenHasher")
            .field("is_dev_key", &self.is_dev_key)
            .finish_non_exhaustive()
    }
}

impl TokenHasher {
    /// A key of 64 hex characters; `None` takes the development key.
    pub fn from_hex(key: Option<&str>) -> anyhow::Result<TokenHasher> {
        let hex_key = key.unwrap_or(DEV_KEY_HEX).trim();
        let bytes = hex::decode(hex_key)
            .ok()
            .filter(|b| b.len() == 32)
            .ok_or_else(|| {
                anyhow::anyhow!("TOKEN_HASH_KEY must be 32 bytes written as 64 hex characters")
            })?;
        Ok(TokenHasher {
            mac: Hmac::new_from_slice(&bytes).expect("HMAC takes a key of any length"),
            is_dev_key: hex_key.eq_ignore_ascii_case(DEV_KEY_HEX),
        })
    }

    /// The id a new invite with this token is kept under.
    pub fn keyed(&self, token: &str) -> String {
        let mut mac = self.mac.clone();
        mac.update(token.as_bytes());
        hex::encode(mac.finalize().into_bytes())
    }

    /// The secret the invite cookie is signed with (`INVITE_COOKIE_SIGNED`):
    /// derived from the key, so there is no other secret to keep.
    pub fn invite_cookie_secret(&self) -> String {
        self.keyed("invite-cookie-signing-secret")
    }

    /// The ids this token may be kept under, the current one first.
    pub fn candidates(&self, token: &str) -> [String; 2] {
        [self.keyed(token), legacy(token)]
    }

    /// Whether `token` is the token of the invite kept under `id`.
    pub fn matches(&self, token: &str, id: &str) -> bool {
        self.candidates(token).iter().any(|c| c == id)
    }
}

/// The id of an invite created before keyed hashes: the plain SHA-256.
pub fn legacy(token: &str) -> String {
    hash_token(token)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_keyed_hash_needs_the_key_and_old_ids_still_match() {
        let dev = TokenHasher::from_hex(None).unwrap();
        assert!(dev.is_dev_key);
        let other = TokenHasher::from_hex(Some(&"ab".repeat(32))).unwrap();
        assert!(!other.is_dev_key);

        let id = dev.keyed("ABC123");
        assert_eq!(id.len(), 64);
        assert_eq!(id, dev.keyed("ABC123"));
        assert_ne!(id, other.keyed("ABC123"));
        assert_ne!(id, hash_token("ABC123"));

        assert!(dev.matches("ABC123", &id));
        assert!(dev.matches("ABC123", &hash_token("ABC123")));
        assert!(!dev.matches("ABC124", &id));
        assert!(!other.matches("ABC123", &id));
        assert!(TokenHasher::from_hex(Some("short")).is_err());
    }
}
