//! The rules of Better Auth's list queries that users and invites share: a
//! search (`searchValue` with `searchOperator`) as one `ILIKE` pattern, the
//! filter's comparison, the sort direction and the paging bounds.

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

/// The SQL comparison of a `filterOperator` (`eq` by default).
pub fn comparison(operator: Option<&str>) -> Result<&'static str, ServiceError> {
    Ok(match operator.unwrap_or("eq") {
        "eq" => "=",
        "ne" => "<>",
        "lt" => "<",
        "lte" => "<=",
        "gt" => ">",
        "gte" => ">=",
        other => return Err(invalid(format!("Unknown filterOperator `{other}`"))),
    })
}

/// The SQL direction of a `sortDirection` (`asc` by default).
pub fn sort_direction(direction: Option<&str>) -> Result<&'static str, ServiceError> {
    Ok(match direction.unwrap_or("asc") {
        "asc" => "ASC",
        "desc" => "DESC",
        other => return Err(invalid(format!("Unknown sortDirection `{other}`"))),
    })
}

/// Refuses a `limit` outside 0 to `max` and a negative `offset`.
pub fn check_page(limit: Option<i64>, offset: Option<i64>, max: i64) -> Result<(), ServiceError> {
    if limit.is_some_and(|l| !(0..=max).contains(&l)) {
        return Err(invalid(format!("limit must be 0 to {max}")));
    }
    if offset.is_some_and(|o| o < 0) {
        return Err(invalid("offset must not be negative"));
    }
    Ok(())
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

    #[test]
    fn operators_directions_and_bounds_default_and_refuse() {
        assert_eq!(comparison(None).unwrap(), "=");
        assert_eq!(comparison(Some("gte")).unwrap(), ">=");
        assert!(comparison(Some("in")).is_err());
        assert_eq!(sort_direction(None).unwrap(), "ASC");
        assert!(sort_direction(Some("up")).is_err());
        assert!(check_page(Some(0), Some(0), 10).is_ok());
        assert!(check_page(Some(11), None, 10).is_err());
        assert!(check_page(None, Some(-1), 10).is_err());
    }
}
