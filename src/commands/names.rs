//! What a person's name may be, wherever one is given (sign-up, a bulk row):
//! 1 to 200 characters once trimmed, none of them a control character (a name
//! goes into emails' headers and bodies and into exports).

use crate::error::ServiceError;

/// The longest name, in characters.
pub const MAX_NAME_CHARS: usize = 200;

/// The name trimmed, or `400 INVALID_NAME`.
pub fn checked_name(raw: &str) -> Result<String, ServiceError> {
    let name = raw.trim();
    if name.is_empty()
        || name.chars().count() > MAX_NAME_CHARS
        || name.chars().any(char::is_control)
    {
        return Err(ServiceError::bad_request(
            "INVALID_NAME",
            format!(
                "Name must be 1 to {MAX_NAME_CHARS} characters, none of them a control character"
            ),
        ));
    }
    Ok(name.to_string())
}
