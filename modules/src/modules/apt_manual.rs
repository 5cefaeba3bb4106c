//! Whether `apt-mark manual NAMES`, which Ansible's apt module runs after every
//! install that is not in check mode, would change anything. apt-mark opens apt's
//! binary cache and so first rebuilds it when the package lists are newer than it
//! (seconds on a freshly provisioned host); for installed packages that apt does
//! not mark as automatically installed it only prints "already set to manually
//! installed" and writes nothing, so the call can be left out. Anything this
//! cannot establish for certain answers "no", and apt-mark runs as before.

use std::collections::HashSet;

use super::apt_query::PackageQuery;
use super::ModuleFail;
use crate::util::run::Output;

/// True when every name is a plain package name dpkg has installed and apt's
/// `extended_states` file (found through `apt-config`, so a configured
/// `Dir::State` is honoured) marks none of them as automatically installed.
pub fn already_manual(
    names: &[String],
    query: &PackageQuery,
    apt_config: Option<String>,
    run: impl Fn(Vec<String>) -> Result<Output, ModuleFail>,
) -> bool {
    // `name:arch` selects one architecture's instance: left to apt-mark.
    if names.is_empty() || names.iter().any(|n| n.contains(':') || !query.installed(n)) {
        return false;
    }
    let Some(apt_config) = apt_config else {
        return false;
    };
    let argv = vec![
        apt_config,
        "shell".into(),
        "STATES".into(),
        "Dir::State::extended_states/f".into(),
    ];
    let Some(path) = run(argv)
        .ok()
        .filter(|o| o.rc == 0)
        .and_then(|o| parse_shell_path(&o.out))
    else {
        return false;
    };
    match std::fs::read_to_string(&path) {
        Ok(text) => {
            let auto = auto_installed(&text);
            !names.iter().any(|n| auto.contains(n.as_str()))
        }
        // No file: apt has never marked a package as automatically installed.
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => true,
        Err(_) => false,
    }
}

/// `STATES='/var/lib/apt/extended_states'` (apt-config's shell form) to the path;
/// None for anything else, quotes inside the value included.
fn parse_shell_path(out: &str) -> Option<String> {
    let value = out.trim().strip_prefix("STATES='")?.strip_suffix('\'')?;
    (!value.is_empty() && !value.contains('\'')).then(|| value.to_string())
}

/// The package names of the stanzas with `Auto-Installed: 1`, whatever their
/// architecture.
fn auto_installed(text: &str) -> HashSet<&str> {
    let mut auto = HashSet::new();
    for stanza in text.split("\n\n") {
        let mut package = None;
        let mut is_auto = false;
        for line in stanza.lines() {
            let Some((key, value)) = line.split_once(':') else {
                continue;
            };
            match key.trim() {
                k if k.eq_ignore_ascii_case("Package") => package = Some(value.trim()),
                k if k.eq_ignore_ascii_case("Auto-Installed") => is_auto = value.trim() == "1",
                _ => {}
            }
        }
        if let (Some(p), true) = (package, is_auto) {
            auto.insert(p);
        }
    }
    auto
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn auto_marks_are_read_per_stanza() {
        let text = "Package: libfoo\nArchitecture: amd64\nAuto-Installed: 1\n\n\
                    Package: bar\nArchitecture: amd64\nAuto-Installed: 0\n\n\
                    Package: baz\nArchitecture: i386\nAuto-Installed: 1\n";
        let auto = auto_installed(text);
        assert!(auto.contains("libfoo"));
        assert!(auto.contains("baz"));
        assert!(!auto.contains("bar"));
        assert_eq!(auto.len(), 2);
    }

    #[test]
    fn apt_config_shell_output_gives_the_path() {
        assert_eq!(
            parse_shell_path("STATES='/var/lib/apt/extended_states'\n").as_deref(),
            Some("/var/lib/apt/extended_states")
        );
        assert_eq!(parse_shell_path(""), None);
        assert_eq!(parse_shell_path("STATES='/a'\"'\"'b'\n"), None);
    }
}
