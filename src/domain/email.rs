//! Emails: the one canonical form (trimmed, lower-case) every email is stored
//! and compared in, and `Email`, an address checked once, when it comes in.

use std::fmt;

/// Emails are compared and stored in one canonical form, so `Bob@X.com` and
/// `bob@x.com` are the same person.
pub fn normalize_email(email: &str) -> String {
    email.trim().to_lowercase()
}

/// Whether two emails name the same person: equal once normalized.
pub fn same_email(a: &str, b: &str) -> bool {
    normalize_email(a) == normalize_email(b)
}

/// An email in canonical form, shaped like an address: it cannot hold
/// anything else.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Email(String);

/// Not an address this service takes.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("Invalid email")]
pub struct InvalidEmail;

impl Email {
    /// Normalizes `raw`, then checks its shape: at most 254 characters, no
    /// white space or control characters, a local part and a dotted domain.
    pub fn parse(raw: &str) -> Result<Email, InvalidEmail> {
        let email = normalize_email(raw);
        let valid = email.len() <= 254
            && !email.chars().any(|c| c.is_whitespace() || c.is_control())
            && email.split_once('@').is_some_and(|(local, domain)| {
                !local.is_empty()
                    && domain.contains('.')
                    && !domain.contains('@')
                    && !domain.starts_with('.')
                    && !domain.ends_with('.')
            });
        if valid {
            Ok(Email(email))
        } else {
            Err(InvalidEmail)
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_string(self) -> String {
        self.0
    }
}

impl fmt::Display for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_email_is_parsed_into_its_canonical_form_or_refused() {
        assert_eq!(
            Email::parse("  Bob@Example.COM ").unwrap().as_str(),
            "bob@example.com"
        );
        for bad in [
            "",
            "bob",
            "@example.com",
            "bob@example",
            "bob@.com",
            "bob@com.",
            "a b@x.com",
            "a@b@x.com",
        ] {
            assert_eq!(Email::parse(bad), Err(InvalidEmail), "{bad}");
        }
        assert!(same_email("Bob@X.com", " bob@x.com"));
    }
}
