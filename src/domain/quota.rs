//! Quotas per inviter role (`INVITE_QUOTAS`): how many invites one inviter may
//! have open at once, and create in a rolling day.

use std::collections::HashMap;

/// One role's limits; `None` is no limit.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Limits {
    pub open: Option<u32>,
    pub day: Option<u32>,
}

impl Limits {
    pub fn is_unlimited(&self) -> bool {
        self.open.is_none() && self.day.is_none()
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct QuotaPolicy {
    by_role: HashMap<String, Limits>,
}

impl QuotaPolicy {
    /// `user:open=5,day=20;manager:open=100`: per role, `open=` and/or `day=`.
    pub fn parse(text: &str) -> Result<QuotaPolicy, String> {
        let mut by_role = HashMap::new();
        for group in text.split(';').map(str::trim).filter(|g| !g.is_empty()) {
            let (role, spec) = group
                .split_once(':')
                .ok_or_else(|| format!("`{group}` names no role (write `role:open=N,day=N`)"))?;
            let role = role.trim();
            if role.is_empty() {
                return Err(format!("`{group}` names no role"));
            }
            let mut limits = Limits::default();
            for item in spec.split(',').map(str::trim) {
                let (name, value) = item.split_once('=').ok_or_else(|| {
                    format!("`{item}` for role `{role}` is not `open=N` or `day=N`")
                })?;
                let value: u32 = value.trim().parse().map_err(|_| {
                    format!("`{item}` for role `{role}`: the limit must be a whole number")
                })?;
                let slot = match name.trim() {
                    "open" => &mut limits.open,
                    "day" => &mut limits.day,
                    other => {
                        return Err(format!(
                            "`{other}` for role `{role}` is no limit (use `open` or `day`)"
                        ))
                    }
                };
                if slot.replace(value).is_some() {
                    return Err(format!("role `{role}` sets `{}` twice", name.trim()));
                }
            }
            if by_role.insert(role.to_string(), limits).is_some() {
                return Err(format!("role `{role}` is given twice"));
            }
        }
        Ok(QuotaPolicy { by_role })
    }

    /// The limits of inviters with `role` (none when it has no quota).
    pub fn limits(&self, role: &str) -> Limits {
        self.by_role.get(role).copied().unwrap_or_default()
    }

    pub fn roles(&self) -> impl Iterator<Item = &str> {
        self.by_role.keys().map(String::as_str)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_take_open_and_day_limits() {
        let policy = QuotaPolicy::parse("user:open=5,day=20; manager:open=100").unwrap();
        assert_eq!(
            policy.limits("user"),
            Limits {
                open: Some(5),
                day: Some(20)
            }
        );
        assert_eq!(policy.limits("manager").day, None);
        assert!(policy.limits("admin").is_unlimited());
        assert!(QuotaPolicy::parse("")
            .unwrap()
            .limits("user")
            .is_unlimited());
    }

    #[test]
    fn mistakes_say_what_is_wrong() {
        for (text, says) in [
            ("open=5", "names no role"),
            ("user:open=five", "whole number"),
            ("user:week=5", "no limit"),
            ("user:open=1,open=2", "twice"),
            ("user:open=1;user:day=2", "twice"),
            ("user:open", "is not `open=N`"),
        ] {
            let error = QuotaPolicy::parse(text).unwrap_err();
            assert!(error.contains(says), "{text}: {error}");
        }
    }
}
