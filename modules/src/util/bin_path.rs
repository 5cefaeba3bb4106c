//! Ansible's `get_bin_path`: a program looked up in PATH plus the sbin directories.

use std::collections::BTreeMap;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

/// The directories searched: PATH, then /sbin, /usr/sbin and /usr/local/sbin.
pub fn search_dirs() -> Vec<String> {
    let path = std::env::var("PATH").unwrap_or_default();
    let mut dirs: Vec<String> = path
        .split(':')
        .filter(|d| !d.is_empty())
        .map(str::to_string)
        .collect();
    for extra in ["/sbin", "/usr/sbin", "/usr/local/sbin"] {
        if !dirs.iter().any(|d| d == extra) {
            dirs.push(extra.to_string());
        }
    }
    dirs
}

/// The full path of `name`, or None.
pub fn get_bin_path(name: &str) -> Option<String> {
    search_dirs().into_iter().find_map(|d| {
        let candidate = Path::new(&d).join(name);
        candidate.is_file().then(|| candidate.display().to_string())
    })
}

/// The message of a required program that is missing.
pub fn missing_message(name: &str) -> String {
    format!(
        "Failed to find required executable \"{name}\" in paths: {}",
        search_dirs().join(":")
    )
}

/// The directories Ansible's `get_bin_path` searches in a module whose process has
/// the task's `environment` (`env`, its PATH first, else the agent's): PATH's
/// entries as they are (empty ones too, as Python's split keeps them), then those
/// of /sbin, /usr/sbin and /usr/local/sbin that exist and are not in PATH.
pub fn search_dirs_env(env: &BTreeMap<String, String>) -> Vec<String> {
    let path = env
        .get("PATH")
        .cloned()
        .or_else(|| std::env::var("PATH").ok())
        .unwrap_or_default();
    let mut dirs: Vec<String> = path.split(':').map(str::to_string).collect();
    for extra in ["/sbin", "/usr/sbin", "/usr/local/sbin"] {
        if !dirs.iter().any(|d| d == extra) && Path::new(extra).exists() {
            dirs.push(extra.to_string());
        }
    }
    dirs
}

/// `get_bin_path(name)` as the module process sees PATH (`search_dirs_env`): the
/// first entry that exists, is not a directory and is executable.
pub fn get_bin_path_env(name: &str, env: &BTreeMap<String, String>) -> Option<String> {
    search_dirs_env(env)
        .into_iter()
        .filter(|d| !d.is_empty())
        .find_map(|d| {
            let candidate = Path::new(&d).join(name);
            let meta = std::fs::metadata(&candidate).ok()?;
            (!meta.is_dir() && meta.permissions().mode() & 0o111 != 0)
                .then(|| candidate.display().to_string())
        })
}

/// The message of a required program that `get_bin_path_env` did not find.
pub fn missing_message_env(name: &str, env: &BTreeMap<String, String>) -> String {
    format!(
        "Failed to find required executable \"{name}\" in paths: {}",
        search_dirs_env(env).join(":")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_task_path_is_searched_and_only_executables_count() {
        let dir = tempfile::tempdir().unwrap();
        let (a, b) = (dir.path().join("a"), dir.path().join("b"));
        std::fs::create_dir_all(a.join("tool")).unwrap();
        std::fs::create_dir(&b).unwrap();
        std::fs::write(b.join("plain"), "").unwrap();
        std::fs::write(b.join("tool"), "#!/bin/sh\n").unwrap();
        std::fs::set_permissions(b.join("tool"), std::fs::Permissions::from_mode(0o755)).unwrap();
        let env = BTreeMap::from([(
            "PATH".to_string(),
            format!("{}::{}", a.display(), b.display()),
        )]);
        // a/tool is a directory: skipped.
        assert_eq!(
            get_bin_path_env("tool", &env),
            Some(b.join("tool").display().to_string())
        );
        assert_eq!(get_bin_path_env("plain", &env), None);
        let msg = missing_message_env("plain", &env);
        assert!(
            msg.starts_with(&format!(
                "Failed to find required executable \"plain\" in paths: {}::{}",
                a.display(),
                b.display()
            )),
            "{msg}"
        );
    }
}
