//! What the modules crate's differential tests share: finding the reference Ansible and
//! reading its per-task results out of a `json` stdout callback run on `localhost`.
#![allow(dead_code)] // each test file uses its own subset

use serde_json::Value;
use std::process::{Command, Output};

/// The reference Ansible's bin directory from RSIBLE_REF_BIN; `None` only when the run
/// asked to skip differential tests (RSIBLE_SKIP_DIFFERENTIAL=1), otherwise a panic: a
/// differential test never passes quietly without its reference.
pub fn reference_bin() -> Option<String> {
    match std::env::var("RSIBLE_REF_BIN") {
        Ok(bin) => Some(bin),
        Err(_) if std::env::var("RSIBLE_SKIP_DIFFERENTIAL").as_deref() == Ok("1") => {
            eprintln!("RSIBLE_SKIP_DIFFERENTIAL=1: skipping the differential test");
            None
        }
        Err(_) => panic!(
            "set RSIBLE_REF_BIN to the reference Ansible's bin directory (or RSIBLE_SKIP_DIFFERENTIAL=1)"
        ),
    }
}

/// The environment every reference run gets: json callback, no localhost warning, no
/// retry files.
pub fn with_json_callback(cmd: &mut Command) -> &mut Command {
    cmd.env("ANSIBLE_STDOUT_CALLBACK", "json")
        .env("ANSIBLE_LOCALHOST_WARNING", "false")
        .env("ANSIBLE_RETRY_FILES_ENABLED", "false")
}

/// The localhost result of each task of the first play, in task order; panics with the
/// reference's output when it is not the json callback's document or when the number of
/// tasks is not `expected`.
pub fn localhost_results(out: &Output, expected: usize) -> Vec<Value> {
    let report: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "reference output is not JSON ({e}): {}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    });
    let results: Vec<Value> = report["plays"][0]["tasks"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .into_iter()
        .map(|t| t["hosts"]["localhost"].clone())
        .collect();
    assert_eq!(
        results.len(),
        expected,
        "one reference result per task: {report}"
    );
    results
}
