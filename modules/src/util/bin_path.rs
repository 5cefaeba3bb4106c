//! Ansible's `get_bin_path`: a program looked up in PATH plus the sbin directories.

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
