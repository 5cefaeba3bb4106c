//! Ansible's `get_bin_path`: a program looked up in PATH plus the sbin directories.

use std::collections::BTreeMap;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

/// The directories Ansible's `get_bin_path(name, opt_dirs=...)` searches in a module
/// whose process has the task's `environment` (`env`; its PATH first, else the
/// agent's): the `opt_dirs` that exist, PATH's entries as they are (empty ones too,
/// as Python's split keeps them), then those of /sbin, /usr/sbin and /usr/local/sbin
/// that exist and are not listed yet.
pub fn search_dirs_opt(opt_dirs: &[&str], env: &BTreeMap<String, String>) -> Vec<String> {
    let path = env
        .get("PATH")
        .cloned()
        .or_else(|| std::env::var("PATH").ok())
        .unwrap_or_default();
    let mut dirs: Vec<String> = opt_dirs
        .iter()
        .filter(|d| Path::new(d).exists())
        .map(|d| d.to_string())
        .collect();
    dirs.extend(path.split(':').map(str::to_string));
    for extra in ["/sbin", "/usr/sbin", "/usr/local/sbin"] {
        if !dirs.iter().any(|d| d == extra) && Path::new(extra).exists() {
            dirs.push(extra.to_string());
        }
    }
    dirs
}

/// `search_dirs_opt` without extra directories.
pub fn search_dirs(env: &BTreeMap<String, String>) -> Vec<String> {
    search_dirs_opt(&[], env)
}

/// `get_bin_path(name, opt_dirs=...)` as the module process sees PATH
/// (`search_dirs_opt`): the first entry that exists, is not a directory and is
/// executable.
pub fn get_bin_path_opt(
    name: &str,
    opt_dirs: &[&str],
    env: &BTreeMap<String, String>,
) -> Option<String> {
    find_in(name, &search_dirs_opt(opt_dirs, env))
}

/// `name` in `dirs` (a `search_dirs` list, for a caller that looks up several
/// programs in the same PATH): the first entry that exists, is not a directory
/// and is executable.
pub fn find_in(name: &str, dirs: &[String]) -> Option<String> {
    dirs.iter().filter(|d| !d.is_empty()).find_map(|d| {
        let candidate = Path::new(d).join(name);
        let meta = std::fs::metadata(&candidate).ok()?;
        (!meta.is_dir() && meta.permissions().mode() & 0o111 != 0)
            .then(|| candidate.display().to_string())
    })
}

/// `get_bin_path(name)` with the task's environment `env` (see `search_dirs_opt`).
pub fn get_bin_path(name: &str, env: &BTreeMap<String, String>) -> Option<String> {
    get_bin_path_opt(name, &[], env)
}

/// The message of a required program that `get_bin_path` did not find.
pub fn missing_message(name: &str, env: &BTreeMap<String, String>) -> String {
    format!(
        "Failed to find required executable \"{name}\" in paths: {}",
        search_dirs(env).join(":")
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
            get_bin_path("tool", &env),
            Some(b.join("tool").display().to_string())
        );
        assert_eq!(get_bin_path("plain", &env), None);
        let msg = missing_message("plain", &env);
        assert!(
            msg.starts_with(&format!(
                "Failed to find required executable \"plain\" in paths: {}::{}",
                a.display(),
                b.display()
            )),
            "{msg}"
        );
    }

    #[test]
    fn opt_dirs_come_first_and_the_agent_path_is_the_fallback() {
        let dir = tempfile::tempdir().unwrap();
        let (opt, task) = (dir.path().join("opt"), dir.path().join("task"));
        for d in [&opt, &task] {
            std::fs::create_dir(d).unwrap();
            std::fs::write(d.join("tool"), "#!/bin/sh\n").unwrap();
            std::fs::set_permissions(d.join("tool"), std::fs::Permissions::from_mode(0o755))
                .unwrap();
        }
        let env = BTreeMap::from([("PATH".to_string(), task.display().to_string())]);
        let missing = dir.path().join("missing").display().to_string();
        let opt_s = opt.display().to_string();
        assert_eq!(
            get_bin_path_opt("tool", &[&missing, &opt_s], &env),
            Some(opt.join("tool").display().to_string())
        );
        // An opt dir that does not exist is not listed.
        assert!(!search_dirs_opt(&[&missing], &env).contains(&missing));
        assert_eq!(
            get_bin_path("tool", &env),
            Some(task.join("tool").display().to_string())
        );
        // Without a task PATH the agent's own PATH is searched: `sh` is on it.
        assert!(get_bin_path("sh", &BTreeMap::new()).is_some());
        // The task's PATH replaces the agent's: `sh` is not in `task` (the sbin
        // directories may still hold one, so only a name nowhere else is checked).
        assert_eq!(get_bin_path("rsible-no-such-program", &env), None);
        assert!(get_bin_path("tool", &BTreeMap::new()).is_none());
    }
}
