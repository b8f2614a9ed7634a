//! Redirect targets as a service answers them: the rule is `domain::redirect`.

use url::Origin;

use crate::domain::redirect::is_allowed;
use crate::error::ServiceError;

/// How much of a refused target an error message repeats: enough to recognise
/// it, never a megabyte of someone else's input.
const ECHO_CHARS: usize = 40;

/// `target` itself when it may be followed, else `400 INVALID_REDIRECT`.
pub fn check(target: &str, trusted: &[Origin]) -> Result<String, ServiceError> {
    if is_allowed(target, trusted) {
        Ok(target.to_string())
    } else {
        Err(ServiceError::bad_request(
            "INVALID_REDIRECT",
            format!(
                "`{}` is neither a relative path nor on a trusted origin",
                echoed(target)
            ),
        ))
    }
}

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

#[cfg(test)]
mod tests {
    use super::*;
    use url::Url;

    #[test]
    fn refusals_echo_only_the_start_of_the_target() {
        let trusted = vec![Url::parse("https://app.example.com").unwrap().origin()];
        let long = format!("https://evil.example/{}", "a".repeat(10_000));
        let message = check(&long, &trusted).unwrap_err().to_string();
        assert!(message.len() < 200, "{message}");
        assert!(message.contains("https://evil.example/"));
    }
}
