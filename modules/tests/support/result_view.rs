//! Reducing a module result to what the two sides must agree on.

use serde_json::{json, Map, Value};
use std::path::Path;

/// Keys the controller or the callback adds to a result, not the module.
pub const CONTROLLER_KEYS: [&str; 6] = [
    "_ansible_no_log",
    "action",
    "warnings",
    "deprecations",
    "exception",
    "_ansible_verbose_always",
];

/// Keys that time a command: never the same twice.
pub const TIMING_KEYS: [&str; 3] = ["start", "end", "delta"];

/// The result as a mapping with every occurrence of `dir` written as `placeholder`
/// (each side runs in a directory of its own).
pub fn with_placeholder(result: &Value, dir: &Path, placeholder: &str) -> Map<String, Value> {
    let text = result
        .to_string()
        .replace(&dir.display().to_string(), placeholder);
    serde_json::from_str(&text).unwrap_or_default()
}

pub fn remove_keys(result: &mut Map<String, Value>, keys: &[&str]) {
    for k in keys {
        result.remove(*k);
    }
}

/// Backup names (they carry a pid and a timestamp) reduced to whether one was made.
pub fn backup_made(result: &mut Map<String, Value>, keys: &[&str]) {
    for k in keys {
        if let Some(b) = result.get_mut(*k) {
            *b = json!(b.as_str().is_some_and(|s| !s.is_empty()));
        }
    }
}

/// `volatile` keys' values replaced: only their presence is compared.
pub fn mark_volatile(result: &mut Map<String, Value>, volatile: &[&str]) {
    for k in volatile {
        if let Some(x) = result.get_mut(*k) {
            *x = json!("<volatile>");
        }
    }
}
