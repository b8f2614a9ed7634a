//! Keeping a private invite's token for its email without storing it.
//!
//! The ledger keys invites by a keyed hash of their token (`token_hash`) and
//! never stores the token itself. But the invitation email carries the raw token, and
//! it leaves from a reactor after the request has answered: perhaps minutes
//! later, after a crash, on another replica, or again on `resend`. So the token
//! must outlive the request somewhere durable.
//!
//! The `Created` event of a private invite carries the token sealed with
//! ChaCha20-Poly1305 under a server key that lives only in configuration
//! (`TOKEN_SEALING_KEY`), never in the database. The invite's token hash is the
//! associated data, so a sealed token cannot be moved onto another invite. A copy
//! of the database alone reveals no token; the key alone reveals nothing either.
//! Public invites are not sealed: their token goes back to the creator once and
//! no email is ever sent for them.
//!
//! Alternatives weighed: a plain token in an outbox row deleted after sending
//! still puts the secret at rest and cannot serve a resend; rendering the email
//! inside the request breaks "side effects follow events".
//!
//! The default key is a fixed, public development key, and the server warns when
//! it is used: set your own 32-byte key (64 hex characters) in production.
//! Changing the key makes earlier sealed tokens unreadable: their emails then park
//! (visible in `reactors status`) instead of going out.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use chacha20poly1305::aead::{Aead, AeadCore, KeyInit, OsRng, Payload};
use chacha20poly1305::{ChaCha20Poly1305, Key, Nonce};

/// The development key: public, for local runs and tests only.
pub const DEV_KEY_HEX: &str = "696e766974652d6c656467657220646576207365616c696e67206b6579212121";

const VERSION: &str = "v1.";
const NONCE_LEN: usize = 12;

#[derive(Clone)]
pub struct TokenSeal {
    cipher: ChaCha20Poly1305,
    pub is_dev_key: bool,
}

impl std::fmt::Debug for TokenSeal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenSeal")
            .field("is_dev_key", &self.is_dev_key)
            .finish_non_exhaustive()
    }
}

impl TokenSeal {
    /// A key of 64 hex characters; `None` takes the development key.
    pub fn from_hex(key: Option<&str>) -> anyhow::Result<TokenSeal> {
        let hex_key = key.unwrap_or(DEV_KEY_HEX);
        let bytes = hex::decode(hex_key.trim())
            .ok()
            .filter(|b| b.len() == 32)
            .ok_or_else(|| {
                anyhow::anyhow!("TOKEN_SEALING_KEY must be 32 bytes written as 64 hex characters")
            })?;
        Ok(TokenSeal {
            cipher: ChaCha20Poly1305::new(Key::from_slice(&bytes)),
            is_dev_key: hex_key.trim().eq_ignore_ascii_case(DEV_KEY_HEX),
        })
    }

    /// Seals `token` for the invite keyed by `token_hash`.
    pub fn seal(&self, token: &str, token_hash: &str) -> String {
        let nonce = ChaCha20Poly1305::generate_nonce(&mut OsRng);
        let sealed = self
            .cipher
            .encrypt(
                &nonce,
                Payload {
                    msg: token.as_bytes(),
                    aad: token_hash.as_bytes(),
                },
            )
            .expect("sealing a short token cannot fail");
        let mut out = nonce.to_vec();
        out.extend_from_slice(&sealed);
        format!("{VERSION}{}", URL_SAFE_NO_PAD.encode(out))
    }

    /// The token sealed for the invite keyed by `token_hash`, or an error if the
    /// key, the invite or the bytes differ.
    pub fn open(&self, sealed: &str, token_hash: &str) -> anyhow::Result<String> {
        let bytes = sealed
            .strip_prefix(VERSION)
            .and_then(|b| URL_SAFE_NO_PAD.decode(b).ok())
            .filter(|b| b.len() > NONCE_LEN)
            .ok_or_else(|| anyhow::anyhow!("not a sealed token"))?;
        let (nonce, ciphertext) = bytes.split_at(NONCE_LEN);
        let plain = self
            .cipher
            .decrypt(
                Nonce::from_slice(nonce),
                Payload {
                    msg: ciphertext,
                    aad: token_hash.as_bytes(),
                },
            )
            .map_err(|_| {
                anyhow::anyhow!("the sealed token does not open with this key for this invite")
            })?;
        // The caller checks that the token hashes to the invite's id.
        Ok(String::from_utf8(plain)?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::token::hash_token;

    #[test]
    fn a_sealed_token_opens_only_for_its_invite_and_key() {
        let seal = TokenSeal::from_hex(None).unwrap();
        assert!(seal.is_dev_key);
        let hash = hash_token("kx8f9j2l3m4n5p6q7r8s9t0u");
        let sealed = seal.seal("kx8f9j2l3m4n5p6q7r8s9t0u", &hash);
        assert!(!sealed.contains("kx8f9j2l3m4n5p6q7r8s9t0u"));
        assert_ne!(sealed, seal.seal("kx8f9j2l3m4n5p6q7r8s9t0u", &hash));
        assert_eq!(
            seal.open(&sealed, &hash).unwrap(),
            "kx8f9j2l3m4n5p6q7r8s9t0u"
        );

        assert!(seal.open(&sealed, &hash_token("another")).is_err());
        let other = TokenSeal::from_hex(Some(&"ab".repeat(32))).unwrap();
        assert!(!other.is_dev_key);
        assert!(other.open(&sealed, &hash).is_err());
        assert!(seal.open("v1.AAAA", &hash).is_err());
        assert!(TokenSeal::from_hex(Some("short")).is_err());
    }
}
