//! `to_safe_group_name`: what happens to group names that are not valid variable names.

use regex::Regex;

use crate::options::GroupNamePolicy;

#[derive(Clone, Debug)]
pub(crate) struct SafeGroupNames {
    policy: GroupNamePolicy,
    /// Ansible's INVALID_VARIABLE_NAMES: a leading digit/non-word char, or any non-word char.
    invalid: Regex,
}

const REPLACED: &str =
    "Invalid characters were found in group names and automatically replaced, use -vvvv to see details";
const NOT_REPLACED: &str =
    "Invalid characters were found in group names but not replaced, use -vvvv to see details";

impl SafeGroupNames {
    pub(crate) fn new(policy: GroupNamePolicy) -> Self {
        SafeGroupNames {
            policy,
            invalid: Regex::new(r"^[\d\W]|[^\w]").expect("static regex"),
        }
    }

    /// The name to use and the warning Ansible would print for it, if any.
    pub(crate) fn sanitize(&self, name: &str) -> (String, Option<String>) {
        if name.is_empty() || !self.invalid.is_match(name) {
            return (name.to_string(), None);
        }
        match self.policy {
            GroupNamePolicy::Never => (name.to_string(), Some(NOT_REPLACED.to_string())),
            GroupNamePolicy::Ignore => (name.to_string(), None),
            GroupNamePolicy::Always => (
                self.invalid.replace_all(name, "_").into_owned(),
                Some(REPLACED.to_string()),
            ),
            GroupNamePolicy::Silently => (self.invalid.replace_all(name, "_").into_owned(), None),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn policies() {
        let never = SafeGroupNames::new(GroupNamePolicy::Never);
        assert_eq!(never.sanitize("kube-node").0, "kube-node");
        assert!(never.sanitize("kube-node").1.is_some());
        assert!(never.sanitize("kube_node").1.is_none());
        let always = SafeGroupNames::new(GroupNamePolicy::Always);
        assert_eq!(always.sanitize("1a-b.c").0, "_a_b_c");
        let ignore = SafeGroupNames::new(GroupNamePolicy::Ignore);
        assert_eq!(
            ignore.sanitize("calico-rr"),
            ("calico-rr".to_string(), None)
        );
    }
}
