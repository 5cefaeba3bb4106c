//! Reading the `json` stdout callback's document (ANSIBLE_STDOUT_CALLBACK=json),
//! which both engines print, for differential tests that compare results.

use std::path::Path;
use std::process::Output;

use serde_json::{Map, Value};

/// The environment under which a playbook prints the document
/// json_task_results reads: the json callback, and no localhost warning,
/// retry files or colour (`command.envs(JSON_RESULTS_ENV.iter().copied())`).
pub const JSON_RESULTS_ENV: &[(&str, &str)] = &[
    ("ANSIBLE_STDOUT_CALLBACK", "json"),
    ("ANSIBLE_LOCALHOST_WARNING", "false"),
    ("ANSIBLE_RETRY_FILES_ENABLED", "false"),
    ("ANSIBLE_NOCOLOR", "1"),
];

/// Messages of Ansible's argument validation: native modules report no
/// `invocation` with them (a known difference, modules/COMPATIBILITY.md).
const ARGUMENT_ERRORS: &[&str] = &[
    "value of ",
    "missing required arguments",
    "Unsupported parameters",
];

/// Drops from a registered result what differs between the engines by
/// design: Ansible's `_ansible_*` keys, and the `invocation` of a result that
/// failed Ansible's argument validation.
pub fn drop_engine_specific_keys(result: &mut Map<String, Value>) {
    result.retain(|k, _| !k.starts_with("_ansible_"));
    let msg = result
        .get("msg")
        .and_then(Value::as_str)
        .unwrap_or_default();
    if ARGUMENT_ERRORS.iter().any(|m| msg.starts_with(m)) {
        result.remove("invocation");
    }
}

/// Each task's result for `host` in the first play of `program`'s json
/// document; panics with both streams when the document is missing or does
/// not hold `expected` tasks.
pub fn json_task_results(program: &Path, out: &Output, host: &str, expected: usize) -> Vec<Value> {
    let report: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "{} did not print the json callback's document ({e}): {}\n{}",
            program.display(),
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    });
    let tasks: Vec<Value> = report["plays"][0]["tasks"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .into_iter()
        .map(|t| t["hosts"][host].clone())
        .collect();
    assert_eq!(
        tasks.len(),
        expected,
        "{}: one result per task: {report}",
        program.display()
    );
    tasks
}
