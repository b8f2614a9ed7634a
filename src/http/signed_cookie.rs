//! Better Auth's signed cookies (`setSignedCookie` / `getSignedCookie` in
//! better-call): the value, a dot, and the standard base64 of its HMAC-SHA-256
//! under a secret's text. better-invite sets its `invite_token` cookie so; with
//! `INVITE_COOKIE_SIGNED` ours is set and read the same way.

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use hmac::{Hmac, Mac};
use sha2::Sha256;

/// What the HMAC takes from a secret: its text, as better-call's `getCryptoKey`.
fn mac(secret: &str) -> Hmac<Sha256> {
    Hmac::new_from_slice(secret.as_bytes()).expect("HMAC takes a key of any length")
}

/// `value.signature` (the cookie jar percent-encodes it on the way out).
pub fn sign(value: &str, secret: &str) -> String {
    let mut mac = mac(secret);
    mac.update(value.as_bytes());
    format!("{value}.{}", STANDARD.encode(mac.finalize().into_bytes()))
}

/// The value of a signed cookie, when its signature is right; `None` for an
/// unsigned, malformed or forged one (better-call's checks: a value before the
/// last dot, a 44-character signature ending in `=`).
pub fn verify(signed: &str, secret: &str) -> Option<String> {
    let (value, signature) = signed.rsplit_once('.')?;
    if value.is_empty() || signature.len() != 44 || !signature.ends_with('=') {
        return None;
    }
    let signature = STANDARD.decode(signature).ok()?;
    let mut mac = mac(secret);
    mac.update(value.as_bytes());
    mac.verify_slice(&signature).ok()?;
    Some(value.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_signed_value_reads_back_and_a_changed_one_does_not() {
        let signed = sign("ABC123", "secret");
        // better-call's `signCookieValue("ABC123", "secret")`, before encodeURIComponent.
        assert_eq!(
            signed,
            "ABC123.FFjcp6c6ghlEeMVgTb6U7/E2yWyyuGQTzne74mPIYl0="
        );
        assert_eq!(verify(&signed, "secret").as_deref(), Some("ABC123"));
        assert_eq!(verify(&signed, "another secret"), None);
        assert_eq!(verify(&signed.replace("ABC123", "ABC124"), "secret"), None);
        assert_eq!(verify("ABC123", "secret"), None);
        assert_eq!(
            verify(".FFjcp6c6ghlEeMVgTb6U7/E2yWyyuGQTzne74mPIYl0=", "secret"),
            None
        );
    }
}
