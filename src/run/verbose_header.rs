//! The lines `ansible-playbook` prints before the first play when verbose:
//! the version block (`-vv`), the configuration file (`-v`), the stdout
//! callbacks it skips (`-vv`), then per playbook its `PLAYBOOK:` banner (a
//! default-callback line) and `N plays in <path>` (`-vv`).
//!
//! The version block is rsible's own (`--version`'s text): it names rsible
//! and the ansible-core level it implements, not a Python install.

use rsible_config::Config;

use crate::cli::version::version_text;

/// The stdout callbacks ansible-core ships; Ansible names each as skipped at
/// `-vv` because one stdout callback is already loaded (the configured one
/// is loaded first and then met again in the list).
const SHIPPED_STDOUT_CALLBACKS: &[&str] = &["default", "minimal", "oneline"];

/// The lines before the inventory is read: version block and config file.
pub fn before_inventory(verbosity: u8, config: &Config) -> Vec<String> {
    let mut lines = Vec::new();
    if verbosity >= 2 {
        let text = version_text("rsible-playbook", config);
        lines.extend(text.trim_end_matches('\n').lines().map(str::to_string));
    }
    if verbosity >= 1 {
        lines.push(match &config.file {
            Some(file) => format!("Using {} as config file", file.display()),
            None => "No config file found; using defaults".to_string(),
        });
    }
    lines
}

/// The lines Ansible prints when it loads its callbacks, once per run.
pub fn callbacks_loaded(verbosity: u8) -> Vec<String> {
    if verbosity < 2 {
        return Vec::new();
    }
    SHIPPED_STDOUT_CALLBACKS
        .iter()
        .map(|name| format!("Skipping callback '{name}', as we already have a stdout callback."))
        .collect()
}

/// `N plays in <playbook as given>`, after the playbook's banner.
pub fn plays_in(verbosity: u8, plays: usize, playbook: &str) -> Option<String> {
    (verbosity >= 2).then(|| format!("{plays} plays in {playbook}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nothing_is_printed_below_its_verbosity() {
        let no_env = |_: &str| None;
        let config = Config::load_file(None, Vec::new(), std::path::Path::new("/"), &no_env)
            .expect("defaults load");
        assert!(before_inventory(0, &config).is_empty());
        assert_eq!(
            before_inventory(1, &config),
            vec!["No config file found; using defaults".to_string()]
        );
        let vv = before_inventory(2, &config);
        assert!(vv[0].starts_with("rsible-playbook "), "{vv:?}");
        assert_eq!(
            vv.last().map(String::as_str),
            Some("No config file found; using defaults")
        );
        assert!(callbacks_loaded(1).is_empty());
        assert_eq!(
            callbacks_loaded(2)[2],
            "Skipping callback 'oneline', as we already have a stdout callback."
        );
        assert_eq!(plays_in(1, 2, "x.yml"), None);
        assert_eq!(
            plays_in(2, 1, "a/x.yml").as_deref(),
            Some("1 plays in a/x.yml")
        );
    }
}
