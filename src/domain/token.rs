//! Invite tokens: how they are made and how they are kept (only as a hash).

use rand::distributions::{Alphanumeric, Distribution, Uniform};
use rand::Rng;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum TokenType {
    /// 24 random alphanumeric characters.
    Token,
    /// 6 upper-case alphanumeric characters, easy to type, easier to guess.
    Code,
    /// Made by the configured generator.
    Custom,
}

impl TokenType {
    pub fn as_str(self) -> &'static str {
        match self {
            TokenType::Token => "token",
            TokenType::Code => "code",
            TokenType::Custom => "custom",
        }
    }
}

const CODE_ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";

pub fn random_token(rng: &mut impl Rng) -> String {
    Alphanumeric
        .sample_iter(rng)
        .take(24)
        .map(char::from)
        .collect()
}

pub fn random_code(rng: &mut impl Rng) -> String {
    let pick = Uniform::from(0..CODE_ALPHABET.len());
    (0..6)
        .map(|_| CODE_ALPHABET[pick.sample(rng)] as char)
        .collect()
}

/// The ledger keys an invite by this hash; the raw token is never stored.
pub fn hash_token(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_and_codes_have_the_documented_shape() {
        let mut rng = rand::thread_rng();
        let token = random_token(&mut rng);
        assert_eq!(token.len(), 24);
        assert!(token.chars().all(|c| c.is_ascii_alphanumeric()));
        let code = random_code(&mut rng);
        assert_eq!(code.len(), 6);
        assert!(code
            .chars()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit()));
        assert_ne!(random_token(&mut rng), token);
    }

    #[test]
    fn hash_is_stable_hex_and_not_the_token() {
        let h = hash_token("kx8f9j2l3m4n5p6q7r8s9t0u");
        assert_eq!(h.len(), 64);
        assert_eq!(h, hash_token("kx8f9j2l3m4n5p6q7r8s9t0u"));
        assert!(!h.contains("kx8f9j2l3m4n5p6q7r8s9t0u"));
    }
}
