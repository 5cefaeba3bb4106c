//! `to_safe_group_name`: what happens to group names that are not valid variable names.

use regex::Regex;

use crate::options::GroupNamePolicy;

#[derive(Clone, Debug)]
pub(crate) struct SafeGroupNames {
    policy: GroupNamePolicy,
    /// Ansible's INVALID_VARIABLE_NAMES: a leading digit/non-word char, or any
    /// non-word char. Built on first need: with Unicode's `\d`/`\W` it takes
    /// ~0.75 ms, and plain ASCII names (nearly all) are checked without it.
    invalid: std::sync::OnceLock<Regex>,
}

const REPLACED: &str =
    "Invalid characters were found in group names and automatically replaced, use -vvvv to see details";
const NOT_REPLACED: &str =
    "Invalid characters were found in group names but not replaced, use -vvvv to see details";

impl SafeGroupNames {
    pub(crate) fn new(policy: GroupNamePolicy) -> Self {
        SafeGroupNames {
            policy,
            invalid: std::sync::OnceLock::new(),
        }
    }

    fn invalid(&self) -> &Regex {
        self.invalid
            .get_or_init(|| Regex::new(r"^[\d\W]|[^\w]").expect("static regex"))
    }

    /// The name to use and the warning Ansible would print for it, if any.
    pub(crate) fn sanitize(&self, name: &str) -> (String, Option<String>) {
        if name.is_empty() || is_ascii_identifier(name) || !self.invalid().is_match(name) {
            return (name.to_string(), None);
        }
        match self.policy {
            GroupNamePolicy::Never => (name.to_string(), Some(NOT_REPLACED.to_string())),
            GroupNamePolicy::Ignore => (name.to_string(), None),
            GroupNamePolicy::Always => (
                self.invalid().replace_all(name, "_").into_owned(),
                Some(REPLACED.to_string()),
            ),
            GroupNamePolicy::Silently => (self.invalid().replace_all(name, "_").into_owned(), None),
        }
    }
}

/// An ASCII name the pattern cannot match: a letter or `_` first, then
/// letters, digits and `_` (for ASCII text, what `\w` means).
fn is_ascii_identifier(name: &str) -> bool {
    let mut bytes = name.bytes();
    bytes
        .next()
        .is_some_and(|b| b.is_ascii_alphabetic() || b == b'_')
        && bytes.all(|b| b.is_ascii_alphanumeric() || b == b'_')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_ascii_shortcut_agrees_with_the_pattern() {
        let names = SafeGroupNames::new(GroupNamePolicy::Never);
        for name in [
            "kube_node",
            "_x",
            "a1",
            "1a",
            "kube-node",
            "a b",
            "a.b",
            "x$",
            "Z_9",
            "_",
            "9",
            "k8s_cluster",
            "é",
            "aé",
            "__init__",
        ] {
            // Exact for ASCII; other names always go to the pattern.
            let expected = name.is_ascii() && !names.invalid().is_match(name);
            assert_eq!(is_ascii_identifier(name), expected, "{name}");
        }
    }

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
