//! Settings that change how inventory is read, with ansible-core 2.18's defaults.
//!
//! Kept as a plain struct so this crate does not depend on the config crate:
//! the caller copies the relevant ansible.cfg values in.

/// `force_valid_group_names` (TRANSFORM_INVALID_GROUP_CHARS).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum GroupNamePolicy {
    /// Keep invalid names, warn once (Ansible's default).
    #[default]
    Never,
    /// Replace invalid characters with `_` and warn.
    Always,
    /// Replace invalid characters with `_` without a warning.
    Silently,
    /// Keep invalid names without a warning (Kubespray's setting).
    Ignore,
}

impl GroupNamePolicy {
    /// Parse the ansible.cfg spelling (`never`, `always`, `silently`, `ignore`;
    /// booleans map as in Ansible's config: true -> always, false -> never).
    pub fn from_config(text: &str) -> Option<Self> {
        match text.trim().to_ascii_lowercase().as_str() {
            "never" | "false" | "no" | "0" => Some(Self::Never),
            "always" | "true" | "yes" | "1" => Some(Self::Always),
            "silently" => Some(Self::Silently),
            "ignore" => Some(Self::Ignore),
            _ => None,
        }
    }
}

/// What to do when a host pattern matches nothing (HOST_PATTERN_MISMATCH).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum PatternMismatch {
    #[default]
    Warning,
    Error,
    Ignore,
}

#[derive(Clone, Debug)]
pub struct InventoryOptions {
    /// `inventory_ignore_extensions`: files in an inventory directory ending in these are skipped.
    pub ignore_extensions: Vec<String>,
    /// `[inventory] ignore_patterns`: regexes searched in directory entry names.
    pub ignore_patterns: Vec<String>,
    pub force_valid_group_names: GroupNamePolicy,
    /// `[inventory] enable_plugins`, in the order they are tried.
    pub enabled_plugins: Vec<String>,
    /// `yaml_valid_extensions` of the yaml inventory plugin.
    pub yaml_extensions: Vec<String>,
    /// `host_pattern_mismatch`.
    pub host_pattern_mismatch: PatternMismatch,
    /// `[inventory] unparsed_is_failed`.
    pub unparsed_is_failed: bool,
    /// `[inventory] any_unparsed_is_failed`.
    pub any_unparsed_is_failed: bool,
    /// The interpreter recorded for the implicit localhost (Ansible uses its own sys.executable).
    pub localhost_python: String,
}

impl Default for InventoryOptions {
    fn default() -> Self {
        let strings = |items: &[&str]| items.iter().map(|s| s.to_string()).collect();
        InventoryOptions {
            ignore_extensions: strings(&[
                ".pyc", ".pyo", ".swp", ".bak", "~", ".rpm", ".md", ".txt", ".rst", ".orig",
                ".ini", ".cfg", ".retry",
            ]),
            ignore_patterns: Vec::new(),
            force_valid_group_names: GroupNamePolicy::Never,
            enabled_plugins: strings(&["host_list", "script", "auto", "yaml", "ini", "toml"]),
            yaml_extensions: strings(&[".yaml", ".yml", ".json"]),
            host_pattern_mismatch: PatternMismatch::Warning,
            unparsed_is_failed: false,
            any_unparsed_is_failed: false,
            localhost_python: "/usr/bin/python3".to_string(),
        }
    }
}
