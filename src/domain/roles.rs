//! Roles and their order, as configured. The order is the whole permission model:
//! nobody grants a role above their own, and an invite never lowers a role.

use std::cmp::Ordering;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RolePolicy {
    /// Lowest first, e.g. `["user", "admin"]`.
    roles: Vec<String>,
    default_role: String,
    admin_role: String,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum RolePolicyError {
    #[error("the list of roles is empty")]
    NoRoles,
    #[error("role `{0}` appears twice in the list of roles")]
    Duplicate(String),
    #[error("the {0} `{1}` is not in the list of roles")]
    NotConfigured(&'static str, String),
}

impl RolePolicy {
    pub fn new(
        roles: Vec<String>,
        default_role: &str,
        admin_role: &str,
    ) -> Result<Self, RolePolicyError> {
        if roles.is_empty() {
            return Err(RolePolicyError::NoRoles);
        }
        for (i, role) in roles.iter().enumerate() {
            if roles[..i].contains(role) {
                return Err(RolePolicyError::Duplicate(role.clone()));
            }
        }
        let policy = Self {
            roles,
            default_role: default_role.to_string(),
            admin_role: admin_role.to_string(),
        };
        if policy.rank(default_role).is_none() {
            return Err(RolePolicyError::NotConfigured(
                "default role",
                default_role.into(),
            ));
        }
        if policy.rank(admin_role).is_none() {
            return Err(RolePolicyError::NotConfigured(
                "admin role",
                admin_role.into(),
            ));
        }
        Ok(policy)
    }

    pub fn roles(&self) -> &[String] {
        &self.roles
    }

    pub fn default_role(&self) -> &str {
        &self.default_role
    }

    pub fn admin_role(&self) -> &str {
        &self.admin_role
    }

    pub fn rank(&self, role: &str) -> Option<usize> {
        self.roles.iter().position(|r| r == role)
    }

    pub fn is_configured(&self, role: &str) -> bool {
        self.rank(role).is_some()
    }

    /// Compares two roles; an unknown role ranks below every configured one.
    pub fn compare(&self, a: &str, b: &str) -> Ordering {
        let rank = |r: &str| self.rank(r).map(|n| n as isize).unwrap_or(-1);
        rank(a).cmp(&rank(b))
    }

    pub fn is_admin(&self, role: &str) -> bool {
        self.compare(role, &self.admin_role) != Ordering::Less
    }

    /// The seed's default `canCreateInvite`: users with the default role cannot
    /// invite, and nobody invites to a role above their own.
    pub fn can_invite(&self, inviter_role: &str, invited_role: &str) -> bool {
        inviter_role != self.default_role
            && self.is_configured(inviter_role)
            && self.compare(invited_role, inviter_role) != Ordering::Greater
    }
}

impl Default for RolePolicy {
    fn default() -> Self {
        Self::new(vec!["user".into(), "admin".into()], "user", "admin")
            .expect("the built-in role policy is valid")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn three() -> RolePolicy {
        RolePolicy::new(
            vec!["user".into(), "admin".into(), "owner".into()],
            "user",
            "admin",
        )
        .unwrap()
    }

    #[test]
    fn order_decides_who_may_invite_to_what() {
        let p = three();
        assert!(!p.can_invite("user", "user"), "default role cannot invite");
        assert!(p.can_invite("admin", "user"));
        assert!(p.can_invite("admin", "admin"));
        assert!(!p.can_invite("admin", "owner"), "no invite above own role");
        assert!(p.can_invite("owner", "owner"));
        assert!(!p.can_invite("ghost", "user"), "unknown inviter role");
    }

    #[test]
    fn admin_is_at_or_above_the_admin_role() {
        let p = three();
        assert!(!p.is_admin("user"));
        assert!(p.is_admin("admin"));
        assert!(p.is_admin("owner"));
    }

    #[test]
    fn bad_configuration_is_refused() {
        assert_eq!(
            RolePolicy::new(vec![], "user", "admin"),
            Err(RolePolicyError::NoRoles)
        );
        assert_eq!(
            RolePolicy::new(vec!["user".into(), "user".into()], "user", "user"),
            Err(RolePolicyError::Duplicate("user".into()))
        );
        assert!(matches!(
            RolePolicy::new(vec!["user".into()], "member", "user"),
            Err(RolePolicyError::NotConfigured("default role", _))
        ));
    }
}
