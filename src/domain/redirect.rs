//! Redirect targets: a relative path on this site, or a URL on a trusted origin.
//! Anything else would make invite links an open redirect.

use url::{Origin, Url};

/// Longer than any URL a browser or proxy reliably carries.
pub const MAX_LENGTH: usize = 2048;

pub fn is_allowed(target: &str, trusted: &[Origin]) -> bool {
    if target.len() > MAX_LENGTH || target.chars().any(|c| c.is_control() || c == '\\') {
        return false;
    }
    if target.starts_with('/') {
        // `//host` and `/\host` are protocol-relative: another site.
        return !target.starts_with("//");
    }
    Url::parse(target).is_ok_and(|url| {
        matches!(url.scheme(), "http" | "https") && trusted.contains(&url.origin())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn trusted() -> Vec<Origin> {
        vec![Url::parse("https://app.example.com").unwrap().origin()]
    }

    #[test]
    fn relative_paths_and_trusted_origins_pass() {
        assert!(is_allowed("/auth/sign-up", &trusted()));
        assert!(is_allowed("/welcome?x=1", &trusted()));
        assert!(is_allowed("https://app.example.com/welcome", &trusted()));
    }

    #[test]
    fn other_sites_and_tricks_are_refused() {
        for target in [
            "https://evil.example/",
            "//evil.example/",
            "/\\evil.example",
            "http://app.example.com/",
            "javascript:alert(1)",
            "https://app.example.com.evil.example/",
            "welcome",
            "/ok\r\nSet-Cookie: x=y",
        ] {
            assert!(
                !is_allowed(target, &trusted()),
                "{target} should be refused"
            );
        }
    }

    #[test]
    fn overlong_targets_are_refused() {
        let at_limit = format!("/{}", "a".repeat(MAX_LENGTH - 1));
        assert!(is_allowed(&at_limit, &trusted()));
        assert!(!is_allowed(&format!("{at_limit}a"), &trusted()));
    }
}
