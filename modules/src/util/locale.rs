//! `get_best_parsable_locale`: the locale modules force on programs whose output they
//! parse — the first of Ansible's preferences that `locale -a` lists, else C.

use crate::util::bin_path::get_bin_path;
use std::collections::BTreeMap;
use std::process::{Command, Stdio};

const PREFERENCES: [&str; 6] = [
    "C.utf8",
    "C.UTF-8",
    "en_US.utf8",
    "en_US.UTF-8",
    "C",
    "POSIX",
];

/// `locale` is looked up and run as the module's process would: with the task's
/// environment `env`.
pub fn best_parsable_locale(env: &BTreeMap<String, String>) -> String {
    let Some(locale) = get_bin_path("locale", env) else {
        return "C".into();
    };
    let Ok(out) = Command::new(locale)
        .arg("-a")
        .envs(env)
        .stdin(Stdio::null())
        .stderr(Stdio::null())
        .output()
    else {
        return "C".into();
    };
    if !out.status.success() {
        return "C".into();
    }
    let text = String::from_utf8_lossy(&out.stdout);
    let available: Vec<&str> = text.lines().map(str::trim).collect();
    PREFERENCES
        .into_iter()
        .find(|p| available.contains(p))
        .unwrap_or("C")
        .to_string()
}
