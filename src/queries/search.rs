//! Better Auth's list searches (`searchValue` with `searchOperator`), as one
//! `ILIKE` pattern: the same rule for users and invites.

use crate::error::ServiceError;

/// `value` as a pattern for `searchOperator` (`contains` by default,
/// `starts_with`, `ends_with`), its `%`, `_` and `\` matched literally.
pub fn like_pattern(value: &str, operator: Option<&str>) -> Result<String, ServiceError> {
    let escaped = literal(value);
    Ok(match operator.unwrap_or("contains") {
        "contains" => format!("%{escaped}%"),
        "starts_with" => format!("{escaped}%"),
        "ends_with" => format!("%{escaped}"),
        other => return Err(invalid(format!("Unknown searchOperator `{other}`"))),
    })
}

/// `text` escaped for `LIKE`: its wildcards and the escape character match themselves.
pub fn literal(text: &str) -> String {
    text.replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_")
}

/// A list query's refusal: Better Auth's code for a bad parameter.
pub fn invalid(message: impl Into<String>) -> ServiceError {
    ServiceError::bad_request("VALIDATION_ERROR", message)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wildcards_match_themselves_and_operators_place_them() {
        assert_eq!(like_pattern("a_b%c\\", None).unwrap(), "%a\\_b\\%c\\\\%");
        assert_eq!(like_pattern("ab", Some("starts_with")).unwrap(), "ab%");
        assert_eq!(like_pattern("ab", Some("ends_with")).unwrap(), "%ab");
        assert!(like_pattern("ab", Some("regex")).is_err());
    }
}
