//! The reference Ansible: finding it, running a `localhost` playbook through it with
//! the `json` stdout callback, and reading each task's result back.

use serde_json::{json, Value};
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The reference Ansible's bin directory from RSIBLE_REF_BIN; `None` only when the run
/// asked to skip differential tests (RSIBLE_SKIP_DIFFERENTIAL=1), otherwise a panic: a
/// differential test never passes quietly without its reference.
pub fn reference_bin() -> Option<String> {
    match std::env::var("RSIBLE_REF_BIN") {
        Ok(bin) if !bin.is_empty() => Some(bin),
        _ if std::env::var("RSIBLE_SKIP_DIFFERENTIAL").as_deref() == Ok("1") => {
            eprintln!("RSIBLE_SKIP_DIFFERENTIAL=1: skipping the differential test");
            None
        }
        _ => panic!(
            "set RSIBLE_REF_BIN to the reference Ansible's bin directory (or RSIBLE_SKIP_DIFFERENTIAL=1)"
        ),
    }
}

/// Writes `tasks` as the one play of `<dir>/play.yml` (localhost, no fact gathering)
/// and returns the playbook's path.
pub fn write_localhost_play(dir: &Path, tasks: Vec<Value>) -> PathBuf {
    let play = json!([{"hosts": "localhost", "gather_facts": false, "tasks": tasks}]);
    let playbook = dir.join("play.yml");
    fs::write(
        &playbook,
        serde_json::to_string_pretty(&play).expect("json"),
    )
    .expect("write play.yml");
    playbook
}

/// The command line that runs `playbook` on `localhost` over the local connection with
/// the reference's own Python (its collections and libraries live there).
pub fn playbook_argv(bin: &str, playbook: &Path) -> Vec<String> {
    vec![
        format!("{bin}/ansible-playbook"),
        "-i".into(),
        "localhost,".into(),
        "-c".into(),
        "local".into(),
        "-e".into(),
        format!("ansible_python_interpreter={bin}/python"),
        playbook.display().to_string(),
    ]
}

/// The environment every reference run gets: json callback, no localhost warning, no
/// retry files, pipelining (one Python process a task: faster, same results).
pub fn with_json_callback(cmd: &mut Command) -> &mut Command {
    cmd.env("ANSIBLE_STDOUT_CALLBACK", "json")
        .env("ANSIBLE_LOCALHOST_WARNING", "false")
        .env("ANSIBLE_RETRY_FILES_ENABLED", "false")
        .env("ANSIBLE_PIPELINING", "true")
}

/// The reference run of `playbook`, ready to start: `wrapper` (e.g. `unshare --net`)
/// in front of `ansible-playbook` when not empty.
pub fn playbook_command(bin: &str, playbook: &Path, wrapper: &[&str]) -> Command {
    let argv: Vec<String> = wrapper
        .iter()
        .map(|w| w.to_string())
        .chain(playbook_argv(bin, playbook))
        .collect();
    let mut cmd = Command::new(&argv[0]);
    cmd.args(&argv[1..]);
    with_json_callback(&mut cmd);
    cmd
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
