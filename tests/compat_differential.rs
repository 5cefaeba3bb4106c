//! Differential tests: every playbook under tests/compat/ is run by the
//! reference ansible-playbook (ansible-core 2.18, from RSIBLE_REF_BIN) and by
//! rsible-playbook against the same inventory, and their stdout and exit codes
//! must be identical. Both run with one fork so that results are printed in
//! inventory order (with more forks Ansible prints them as they arrive).

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

struct Run {
    stdout: String,
    stderr: String,
    code: Option<i32>,
}

/// Timing values differ between any two runs: `"delta": "0:00:00.005972"`,
/// `"start": ...`, `"end": ...` are replaced by a fixed text.
fn mask_times(text: &str) -> String {
    let re = regex::Regex::new(r#""(delta|start|end)": "[0-9:. -]+""#).expect("valid regex");
    re.replace_all(text, r#""$1": "<masked>""#).into_owned()
}

/// The venv holding the reference's bin directory.
fn reference_venv() -> PathBuf {
    let bin = std::env::var_os("RSIBLE_REF_BIN")
        .map(PathBuf::from)
        .unwrap_or_default();
    bin.parent().map(Path::to_path_buf).unwrap_or(bin)
}

/// `forks`: the reference runs with one fork, so that it prints results in
/// inventory order; rsible prints in that order whatever its forks, and runs
/// with several so that its parallel path (`play_exec/prefetch.rs`) is the one
/// compared.
fn run(program: &Path, playbook: &str, forks: &str) -> Run {
    // Playbooks keep their files under .work/; each engine starts without it.
    let _ = std::fs::remove_dir_all(compat_dir().join(".work"));
    let out = Command::new(program)
        .args(["-f", forks, "-i", "inventory.ini", playbook])
        .current_dir(compat_dir())
        .env("ANSIBLE_CONFIG", compat_dir().join("ansible.cfg"))
        .env("ANSIBLE_NOCOLOR", "1")
        .env_remove("ANSIBLE_FORCE_COLOR")
        // rsible finds collections (community.general, ansible.posix) through the
        // reference venv, as the Kubespray scripts do.
        .env("VIRTUAL_ENV", reference_venv())
        .output()
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", program.display()));
    Run {
        stdout: mask_times(&String::from_utf8_lossy(&out.stdout)),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        code: out.status.code(),
    }
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

#[test]
fn compat_playbooks_match_ansible() {
    let Some(ref_bin) = reference_bin() else {
        return;
    };
    let ansible = ref_bin.join("ansible-playbook");
    let rsible = PathBuf::from(env!("CARGO_BIN_EXE_rsible-playbook"));
    let mut playbooks: Vec<String> = std::fs::read_dir(compat_dir())
        .expect("tests/compat exists")
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".yml"))
        .collect();
    playbooks.sort();
    assert!(!playbooks.is_empty(), "no playbooks under tests/compat");
    let mut different = Vec::new();
    for pb in &playbooks {
        let want = run(&ansible, pb, "1");
        let got = run(&rsible, pb, "5");
        if want.stdout != got.stdout || want.code != got.code {
            different.push(format!(
                "{pb}: exit {:?} vs {:?}; {}\n  rsible stderr: {}",
                want.code,
                got.code,
                first_difference(&want.stdout, &got.stdout),
                got.stderr.trim()
            ));
        }
    }
    println!(
        "compat: {} same, {} different",
        playbooks.len() - different.len(),
        different.len()
    );
    assert!(different.is_empty(), "different:\n{}", different.join("\n"));
}
