//! Redirect targets as a service answers them: the rule is `domain::redirect`.

use url::Origin;

use super::ServiceError;
use crate::domain::redirect::is_allowed;

/// `target` itself when it may be followed, else `400 INVALID_REDIRECT`.
pub fn check(target: &str, trusted: &[Origin]) -> Result<String, ServiceError> {
    if is_allowed(target, trusted) {
        Ok(target.to_string())
    } else {
        Err(ServiceError::bad_request(
            "INVALID_REDIRECT",
            format!("`{target}` is neither a relative path nor on a trusted origin"),
        ))
    }
}
