//! Which email domains invites may go to (`INVITE_ALLOWED_DOMAINS`,
//! `INVITE_DENIED_DOMAINS`), for every role or per role of the invite.
//! Domains are compared in their ASCII (punycode) form, case-insensitively;
//! `acme.com` is that domain only, `*.acme.com` its subdomains only.

use std::collections::HashMap;

#[derive(Debug, Clone, PartialEq, Eq)]
enum Pattern {
    Exact(String),
    /// `*.acme.com`: held as `.acme.com`.
    Subdomains(String),
}

impl Pattern {
    fn parse(text: &str) -> Result<Pattern, String> {
        let (wildcard, name) = match text.strip_prefix("*.") {
            Some(rest) => (true, rest),
            None => (false, text),
        };
        let ascii = ascii_domain(name)
            .filter(|d| !d.contains('*'))
            .ok_or_else(|| {
                format!("`{text}` is not a domain (such as `acme.com` or `*.acme.com`)")
            })?;
        Ok(if wildcard {
            Pattern::Subdomains(format!(".{ascii}"))
        } else {
            Pattern::Exact(ascii)
        })
    }

    fn matches(&self, domain: &str) -> bool {
        match self {
            Pattern::Exact(exact) => domain == exact,
            Pattern::Subdomains(suffix) => domain.len() > suffix.len() && domain.ends_with(suffix),
        }
    }
}

/// A domain in lower-case ASCII (punycode), or `None` if it is not one.
fn ascii_domain(text: &str) -> Option<String> {
    let ascii = idna::domain_to_ascii_strict(text.trim()).ok()?;
    let labels_ok = !ascii.is_empty() && ascii.split('.').all(|label| !label.is_empty());
    labels_ok.then_some(ascii)
}

/// Lists for every role, and lists that replace them for some roles.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct RoleLists {
    every_role: Vec<Pattern>,
    by_role: HashMap<String, Vec<Pattern>>,
}

impl RoleLists {
    /// `acme.com,*.acme.com` for every role, or `admin:acme.com;user:a.org,b.org`
    /// per role (a list without a role is for the roles not named).
    fn parse(text: &str) -> Result<RoleLists, String> {
        let mut lists = RoleLists::default();
        let mut every_role_given = false;
        for group in text.split(';').map(str::trim).filter(|g| !g.is_empty()) {
            let (role, domains) = match group.split_once(':') {
                Some((role, domains)) => (Some(role.trim()), domains),
                None => (None, group),
            };
            let patterns = domains
                .split(',')
                .map(str::trim)
                .filter(|d| !d.is_empty())
                .map(Pattern::parse)
                .collect::<Result<Vec<_>, _>>()?;
            match role {
                Some("") => return Err(format!("`{group}` names an empty role")),
                Some(role) => {
                    if lists.by_role.insert(role.to_string(), patterns).is_some() {
                        return Err(format!("role `{role}` is given twice"));
                    }
                }
                None if every_role_given => {
                    return Err("two lists without a role (separate roles with `;`)".into())
                }
                None => {
                    every_role_given = true;
                    lists.every_role = patterns;
                }
            }
        }
        Ok(lists)
    }

    fn for_role(&self, role: &str) -> &[Pattern] {
        self.by_role.get(role).unwrap_or(&self.every_role)
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DomainRules {
    allowed: RoleLists,
    denied: RoleLists,
}

impl DomainRules {
    /// The two variables' values; each error says which list it is in.
    pub fn parse(allowed: &str, denied: &str) -> Result<DomainRules, (&'static str, String)> {
        Ok(DomainRules {
            allowed: RoleLists::parse(allowed).map_err(|e| ("INVITE_ALLOWED_DOMAINS", e))?,
            denied: RoleLists::parse(denied).map_err(|e| ("INVITE_DENIED_DOMAINS", e))?,
        })
    }

    /// Roles the rules name, to check against the configured ones.
    pub fn roles(&self) -> impl Iterator<Item = (&'static str, &str)> {
        let allowed = self
            .allowed
            .by_role
            .keys()
            .map(|r| ("INVITE_ALLOWED_DOMAINS", r.as_str()));
        let denied = self
            .denied
            .by_role
            .keys()
            .map(|r| ("INVITE_DENIED_DOMAINS", r.as_str()));
        allowed.chain(denied)
    }

    /// Whether any rule is set (without one, every email is allowed).
    pub fn has_rules(&self) -> bool {
        *self != DomainRules::default()
    }

    /// Whether an invite to `role` may go to `email` (already normalized).
    pub fn allows(&self, role: &str, email: &str) -> bool {
        let (allowed, denied) = (self.allowed.for_role(role), self.denied.for_role(role));
        if allowed.is_empty() && denied.is_empty() {
            return true;
        }
        let Some(domain) = email.rsplit_once('@').and_then(|(_, d)| ascii_domain(d)) else {
            return false;
        };
        let listed = |patterns: &[Pattern]| patterns.iter().any(|p| p.matches(&domain));
        (allowed.is_empty() || listed(allowed)) && !listed(denied)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exact_domains_and_explicit_subdomains() {
        let rules = DomainRules::parse("acme.com, *.partner.org", "").unwrap();
        assert!(rules.allows("user", "bob@acme.com"));
        assert!(rules.allows("user", "bob@ACME.com"));
        assert!(!rules.allows("user", "bob@eu.acme.com"));
        assert!(!rules.allows("user", "bob@notacme.com"));
        assert!(rules.allows("user", "bob@eu.partner.org"));
        assert!(rules.allows("user", "bob@a.eu.partner.org"));
        assert!(!rules.allows("user", "bob@partner.org"));
        assert!(!rules.allows("user", "bob@gmail.com"));
    }

    #[test]
    fn denied_domains_win_and_roles_may_have_their_own_lists() {
        let rules = DomainRules::parse("admin:acme.com", "gmail.com; admin:").unwrap();
        assert!(!rules.allows("user", "x@gmail.com"));
        assert!(rules.allows("user", "x@example.org"));
        assert!(rules.allows("admin", "x@acme.com"));
        assert!(!rules.allows("admin", "x@example.org"));
        // The admin's own (empty) deny list replaces the one for every role.
        let rules = DomainRules::parse("", "gmail.com;admin:").unwrap();
        assert!(rules.allows("admin", "x@gmail.com"));
    }

    #[test]
    fn internationalized_domains_compare_in_ascii() {
        let rules = DomainRules::parse("bücher.example", "").unwrap();
        assert!(rules.allows("user", "anna@xn--bcher-kva.example"));
        assert!(rules.allows("user", "anna@BÜCHER.example"));
        let rules = DomainRules::parse("xn--bcher-kva.example", "").unwrap();
        assert!(rules.allows("user", "anna@bücher.example"));
    }

    #[test]
    fn mistakes_name_their_list() {
        let (variable, error) = DomainRules::parse("acme..com", "").unwrap_err();
        assert_eq!(variable, "INVITE_ALLOWED_DOMAINS");
        assert!(error.contains("acme..com"), "{error}");
        let (variable, _) = DomainRules::parse("", "a*.com").unwrap_err();
        assert_eq!(variable, "INVITE_DENIED_DOMAINS");
        assert!(DomainRules::parse("a.com;b.com", "").is_err());
        assert!(DomainRules::parse(":a.com", "").is_err());
    }
}
