//! Reading the `json` stdout callback's document (ANSIBLE_STDOUT_CALLBACK=json),
//! which both engines print, for differential tests that compare results.

use std::path::Path;
use std::process::Output;

use serde_json::Value;

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
