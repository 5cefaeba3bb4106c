//! The `json` stdout callback (`ANSIBLE_STDOUT_CALLBACK=json`, which
//! ansible-core 2.18 resolves to `ansible.posix.json`): playbooks under
//! tests/compat/ are run by the reference ansible-playbook and by
//! rsible-playbook, and the two documents must be the same text once ids,
//! timestamps and durations are masked (so indentation, key order and
//! escaping are compared too), with the same exit code.

use std::path::{Path, PathBuf};
use std::process::Command;

fn compat_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/compat")
}

fn reference_bin() -> Option<PathBuf> {
    rsible_testsupport::reference_bin_dir()
}

/// The venv holding the reference (rsible finds the collections through it).
fn reference_venv() -> PathBuf {
    let bin = std::env::var_os("RSIBLE_REF_BIN")
        .map(PathBuf::from)
        .unwrap_or_default();
    bin.parent().map(Path::to_path_buf).unwrap_or(bin)
}

struct Run {
    stdout: String,
    stderr: String,
    code: Option<i32>,
}

fn run(program: &Path, playbook: &str, env: &[(&str, &str)]) -> Run {
    let _ = std::fs::remove_dir_all(compat_dir().join(".work"));
    let out = Command::new(program)
        .args(["-f", "1", "-i", "inventory.ini", playbook])
        .current_dir(compat_dir())
        .env("ANSIBLE_CONFIG", compat_dir().join("ansible.cfg"))
        .env("ANSIBLE_NOCOLOR", "1")
        .env("ANSIBLE_STDOUT_CALLBACK", "json")
        .env("VIRTUAL_ENV", reference_venv())
        .envs(env.iter().copied())
        .output()
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", program.display()));
    Run {
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        code: out.status.code(),
    }
}

/// Object ids, the callback's ISO timestamps and the modules' own times
/// (`start`, `end`, `delta`) differ between any two runs.
fn mask(text: &str) -> String {
    let id = regex::Regex::new(r#""id": "[0-9a-f-]+""#).expect("valid regex");
    let times = regex::Regex::new(r#""(start|end|delta)": "[0-9:. TZ-]+""#).expect("valid regex");
    let text = id.replace_all(text, r#""id": "<id>""#);
    times.replace_all(&text, r#""$1": "<time>""#).into_owned()
}

fn first_difference(a: &str, b: &str) -> String {
    for (i, (la, lb)) in a.lines().zip(b.lines()).enumerate() {
        if la != lb {
            return format!("line {}:\n  ansible: {la}\n  rsible:  {lb}", i + 1);
        }
    }
    format!(
        "one output is a prefix of the other ({} vs {} lines)",
        a.lines().count(),
        b.lines().count()
    )
}

/// (playbook, extra environment) pairs compared; json_callback_cases covers
/// ok/changed/failed/skipped/ignored/unreachable hosts, loops, registers,
/// handlers and set_stats (shown with show_custom_stats, indent 2).
const CASES: &[(&str, &[(&str, &str)])] = &[
    (
        "json_callback_cases.yml",
        &[
            ("ANSIBLE_SHOW_CUSTOM_STATS", "1"),
            ("ANSIBLE_JSON_INDENT", "2"),
        ],
    ),
    ("no_log.yml", &[]),
    ("loops.yml", &[("ANSIBLE_JSON_INDENT", "0")]),
    // include results per host and per item, skipped includes
    ("include_tasks_loop.yml", &[]),
];

#[test]
fn json_documents_match_ansible() {
    let Some(ref_bin) = reference_bin() else {
        return;
    };
    let ansible = ref_bin.join("ansible-playbook");
    let rsible = PathBuf::from(env!("CARGO_BIN_EXE_rsible-playbook"));
    let mut different = Vec::new();
    for (playbook, env) in CASES {
        let want = run(&ansible, playbook, env);
        let got = run(&rsible, playbook, env);
        // Both must be one JSON document, not just equal text.
        for (who, r) in [("ansible", &want), ("rsible", &got)] {
            if let Err(e) = serde_json::from_str::<serde_json::Value>(&r.stdout) {
                different.push(format!(
                    "{playbook}: {who}'s stdout is not JSON ({e}): {}",
                    r.stderr
                ));
            }
        }
        let (want_text, got_text) = (mask(&want.stdout), mask(&got.stdout));
        if want_text != got_text || want.code != got.code {
            different.push(format!(
                "{playbook}: exit {:?} vs {:?}; {}\n  rsible stderr: {}",
                want.code,
                got.code,
                first_difference(&want_text, &got_text),
                got.stderr.trim()
            ));
        }
    }
    assert!(different.is_empty(), "different:\n{}", different.join("\n"));
}

/// Issue 6: a `no_log` task's data never reaches the json output, whatever
/// the task does with it (command, failure, debug, loop, retries, skip).
#[test]
fn no_log_secrets_stay_out_of_the_json_output() {
    let rsible = PathBuf::from(env!("CARGO_BIN_EXE_rsible-playbook"));
    let r = run(&rsible, "no_log.yml", &[]);
    assert_eq!(r.code, Some(0), "{}{}", r.stdout, r.stderr);
    let doc: serde_json::Value = serde_json::from_str(&r.stdout).expect("one JSON document");
    assert!(!r.stdout.contains("s3cr3t-value"), "{}", r.stdout);
    assert!(!r.stderr.contains("s3cr3t-value"), "{}", r.stderr);
    let first = &doc["plays"][0]["tasks"][0]["hosts"]["db1"];
    assert_eq!(
        first["censored"],
        "the output has been hidden due to the fact that 'no_log: true' was specified for this result"
    );
    assert_eq!(first["action"], "ansible.builtin.command");
    // A task that is not hidden shows its output.
    assert!(r.stdout.contains("\"stdout\": \"shown\""), "{}", r.stdout);
}

#[test]
fn masking_hides_ids_and_times_only() {
    let text = r#"{"id": "02fc0000-0001-2048-6fbb-000000000004", "start": "2026-11-22T07:29:39.073193Z", "delta": "0:00:00.089911", "end": "2026-11-22 07:29:56.885642", "msg": "2026"}"#;
    assert_eq!(
        mask(text),
        r#"{"id": "<id>", "start": "<time>", "delta": "<time>", "end": "<time>", "msg": "2026"}"#
    );
}
