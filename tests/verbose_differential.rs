//! `-vv` output: both engines run a playbook of tests/compat/ with `-vv`;
//! everything after the version block must be the same (`Using ... as config
//! file`, `Skipping callback ...`, the `PLAYBOOK:` banner, `N plays in`,
//! `task path:`, `META:` lines, results). The version block itself differs
//! deliberately (COMPATIBILITY.md): rsible names itself, not a Python.

use std::path::{Path, PathBuf};
use std::process::Command;

fn compat_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/compat")
}

fn reference_bin() -> Option<PathBuf> {
    match std::env::var_os("RSIBLE_REF_BIN") {
        Some(dir) => Some(PathBuf::from(dir)),
        None if std::env::var_os("RSIBLE_SKIP_DIFFERENTIAL").is_some() => None,
        None => panic!(
            "RSIBLE_REF_BIN is not set: it must point at the bin directory of a venv with ansible-core 2.18 \
             (scripts/test.sh sets it); set RSIBLE_SKIP_DIFFERENTIAL=1 to skip differential tests knowingly"
        ),
    }
}

fn run(program: &Path, playbook: &str) -> (String, Option<i32>) {
    let _ = std::fs::remove_dir_all(compat_dir().join(".work"));
    let out = Command::new(program)
        .args(["-f", "1", "-i", "inventory.ini", playbook, "-vv"])
        .current_dir(compat_dir())
        .env("ANSIBLE_CONFIG", compat_dir().join("ansible.cfg"))
        .env("ANSIBLE_NOCOLOR", "1")
        .output()
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", program.display()));
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        out.status.code(),
    )
}

/// The lines before `Using ... as config file` are the version block.
fn after_version_block(text: &str) -> Vec<String> {
    let times = regex::Regex::new(r#""(delta|start|end)": "[0-9:. -]+""#).expect("valid regex");
    text.lines()
        .skip_while(|l| !l.starts_with("Using ") && !l.starts_with("No config file found"))
        .map(|l| times.replace_all(l, r#""$1": "<time>""#).into_owned())
        .collect()
}

#[test]
fn vv_lines_match_ansible_after_the_version_block() {
    let Some(ref_bin) = reference_bin() else {
        return;
    };
    let rsible = PathBuf::from(env!("CARGO_BIN_EXE_rsible-playbook"));
    let playbook = "meta_tasks.yml";
    let want = run(&ref_bin.join("ansible-playbook"), playbook);
    let got = run(&rsible, playbook);
    assert!(got.0.starts_with("rsible-playbook "), "{}", got.0);
    let (want_lines, got_lines) = (after_version_block(&want.0), after_version_block(&got.0));
    assert!(
        want_lines.iter().any(|l| l.starts_with("META: ")),
        "the playbook shows META lines: {}",
        want.0
    );
    for (i, (w, g)) in want_lines.iter().zip(&got_lines).enumerate() {
        assert_eq!(g, w, "line {} after the version block differs", i + 1);
    }
    assert_eq!(got_lines.len(), want_lines.len(), "{}", got.0);
    assert_eq!(got.1, want.1);
}
