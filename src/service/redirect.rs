//! Redirect targets: a relative path on this site, or a URL on a trusted origin.
//! Anything else would make invite links an open redirect.

use url::{Origin, Url};

use super::ServiceError;

/// Longer than any URL a browser or proxy reliably carries.
const MAX_LENGTH: usize = 2048;
/// How much of a refused target an error message repeats: enough to recognise
/// it, never a megabyte of someone else's input.
const ECHO_CHARS: usize = 40;

fn echoed(target: &str) -> String {
    let mut shown: String = target
        .chars()
        .take(ECHO_CHARS)
        .map(|c| if c.is_control() { '\u{fffd}' } else { c })
        .collect();
    if target.chars().nth(ECHO_CHARS).is_some() {
        shown.push('…');
    }
    shown
}

pub fn check(target: &str, trusted: &[Origin]) -> Result<String, ServiceError> {
    let refuse = || {
        ServiceError::bad_request(
            "INVALID_REDIRECT",
            format!(
                "`{}` is neither a relative path nor on a trusted origin",
                echoed(target)
            ),
        )
    };
    if target.len() > MAX_LENGTH || target.chars().any(|c| c.is_control() || c == '\\') {
        return Err(refuse());
    }
    if target.starts_with('/') {
        // `//host` and `/\host` are protocol-relative: another site.
        return if target.starts_with("//") {
            Err(refuse())
        } else {
            Ok(target.to_string())
        };
    }
    let url = Url::parse(target).map_err(|_| refuse())?;
    if matches!(url.scheme(), "http" | "https") && trusted.contains(&url.origin()) {
        Ok(target.to_string())
    } else {
        Err(refuse())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn trusted() -> Vec<Origin> {
        vec![Url::parse("https://app.example.com").unwrap().origin()]
    }

    #[test]
    fn relative_paths_and_trusted_origins_pass() {
        assert!(check("/auth/sign-up", &trusted()).is_ok());
        assert!(check("/welcome?x=1", &trusted()).is_ok());
        assert!(check("https://app.example.com/welcome", &trusted()).is_ok());
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
                check(target, &trusted()).is_err(),
                "{target} should be refused"
            );
        }
    }

    #[test]
    fn refusals_echo_only_the_start_of_the_target() {
        let long = format!("https://evil.example/{}", "a".repeat(10_000));
        let message = check(&long, &trusted()).unwrap_err().to_string();
        assert!(message.len() < 200, "{message}");
        assert!(message.contains("https://evil.example/"));
    }

    #[test]
    fn overlong_targets_are_refused() {
        let at_limit = format!("/{}", "a".repeat(MAX_LENGTH - 1));
        assert!(check(&at_limit, &trusted()).is_ok());
        assert!(check(&format!("{at_limit}a"), &trusted()).is_err());
    }
}
