//! The binaries against the reference on the bundled example: rsible-inventory
//! vs ansible-inventory, and rsible-playbook's listing modes vs
//! ansible-playbook's, byte for byte (host lists sorted: Ansible prints them
//! in set order).

use std::path::{Path, PathBuf};
use std::process::Command;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn reference_bin() -> Option<PathBuf> {
    rsible_testsupport::reference_bin_dir()
}

fn output(program: &Path, args: &[&str], sort_lines: bool) -> (String, Option<i32>) {
    let out = Command::new(program)
        .args(args)
        .current_dir(root())
        .env("ANSIBLE_NOCOLOR", "1")
        .output()
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", program.display()));
    let mut text = String::from_utf8_lossy(&out.stdout).into_owned();
    if sort_lines {
        let mut lines: Vec<&str> = text.lines().collect();
        lines.sort();
        text = lines.join("\n");
    }
    (text, out.status.code())
}

fn compare(
    reference: &str,
    ours: &str,
    args: &[&str],
    sort_lines: bool,
    failures: &mut Vec<String>,
) {
    let Some(bin) = reference_bin() else { return };
    let want = output(&bin.join(reference), args, sort_lines);
    let got = output(Path::new(ours), args, sort_lines);
    if want != got {
        failures.push(format!(
            "{reference} {}:\n--- ansible (exit {:?})\n{}\n--- rsible (exit {:?})\n{}",
            args.join(" "),
            want.1,
            want.0,
            got.1,
            got.0
        ));
    }
}

const INVENTORY: &str = "inventory/sandbox/inventory.ini";

#[test]
fn inventory_output_matches_ansible_inventory() {
    let ours = env!("CARGO_BIN_EXE_rsible-inventory");
    let mut failures = Vec::new();
    for args in [
        vec!["-i", INVENTORY, "--list"],
        vec!["-i", INVENTORY, "--graph"],
        vec!["-i", INVENTORY, "--graph", "--vars"],
        vec!["-i", INVENTORY, "--host", "kube2"],
        vec!["-i", INVENTORY, "--list", "--limit", "kube_node:!kube1"],
    ] {
        compare("ansible-inventory", ours, &args, false, &mut failures);
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

#[test]
fn listing_modes_match_ansible_playbook() {
    let ours = env!("CARGO_BIN_EXE_rsible-playbook");
    let mut failures = Vec::new();
    for playbook in ["cluster.yml", "upgrade-cluster.yml"] {
        for mode in ["--list-tasks", "--list-tags", "--syntax-check"] {
            compare(
                "ansible-playbook",
                ours,
                &["-i", INVENTORY, playbook, mode],
                false,
                &mut failures,
            );
        }
        compare(
            "ansible-playbook",
            ours,
            &["-i", INVENTORY, playbook, "--list-hosts"],
            true,
            &mut failures,
        );
        compare(
            "ansible-playbook",
            ours,
            &[
                "-i",
                INVENTORY,
                playbook,
                "--list-tasks",
                "--tags",
                "etcd,version",
                "--limit",
                "kube1",
            ],
            false,
            &mut failures,
        );
        compare(
            "ansible-playbook",
            ours,
            &[
                "-i",
                INVENTORY,
                playbook,
                "--list-tasks",
                "--skip-tags",
                "preinstall",
            ],
            false,
            &mut failures,
        );
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

/// stderr and exit code of a command run in tests/errors/.
fn error_output(program: &Path, args: &[&str]) -> (String, Option<i32>) {
    let dir = root().join("tests/errors");
    let out = Command::new(program)
        .args(args)
        .current_dir(&dir)
        .env("ANSIBLE_NOCOLOR", "1")
        .output()
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", program.display()));
    (
        String::from_utf8_lossy(&out.stderr).into_owned(),
        out.status.code(),
    )
}

#[test]
fn bad_input_fails_like_ansible() {
    let Some(bin) = reference_bin() else { return };
    let ours = Path::new(env!("CARGO_BIN_EXE_rsible-playbook"));
    let mut failures = Vec::new();
    for playbook in [
        "malformed_yaml.yml",
        "unknown_keyword.yml",
        "missing_role.yml",
        "missing_import.yml",
        "unbalanced_args.yml",
        "invalid_var_name.yml",
    ] {
        let args = ["-i", "inventory.ini", playbook, "--syntax-check"];
        let want = error_output(&bin.join("ansible-playbook"), &args);
        let got = error_output(ours, &args);
        if want != got {
            failures.push(format!(
                "{playbook}:\n--- ansible {:?}\n{}\n--- rsible {:?}\n{}",
                want.1, want.0, got.1, got.0
            ));
        }
    }
    let inv_args = ["-i", "bad_inventory.ini", "--list"];
    let want = error_output(&bin.join("ansible-inventory"), &inv_args);
    let got = error_output(Path::new(env!("CARGO_BIN_EXE_rsible-inventory")), &inv_args);
    if want != got {
        failures.push(format!(
            "bad_inventory.ini:\n--- ansible {:?}\n{}\n--- rsible {:?}\n{}",
            want.1, want.0, got.1, got.0
        ));
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

/// Environment variables for one run.
type Env<'a> = &'a [(&'a str, &'a str)];

/// Runs a one-task play on a host that no ssh could reach, so only the
/// connection chosen by `-c` or ansible.cfg's `transport` can succeed.
fn run_unreachable_by_ssh(
    program: &Path,
    extra_args: &[&str],
    env: &[(&str, &str)],
) -> (String, Option<i32>) {
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(
        dir.path().join("play.yml"),
        "- hosts: all\n  gather_facts: false\n  tasks:\n    - command: echo hi\n",
    )
    .unwrap();
    let out = Command::new(program)
        // The interpreter is named: discovery on this machine may find a shim.
        .args(["-i", "nosuchhost.invalid,", "play.yml"])
        .args(["-e", "ansible_python_interpreter=/usr/bin/python3"])
        .args(extra_args)
        .current_dir(dir.path())
        .env("ANSIBLE_NOCOLOR", "1")
        .env("ANSIBLE_RETRY_FILES_ENABLED", "0")
        .envs(env.iter().copied())
        .output()
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", program.display()));
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        out.status.code(),
    )
}

#[test]
fn connection_option_and_transport_setting_pick_the_connection() {
    let ours = Path::new(env!("CARGO_BIN_EXE_rsible-playbook"));
    let cases: [(&[&str], Env); 3] = [
        (&["-c", "local"], &[]),
        (&[], &[("ANSIBLE_TRANSPORT", "local")]),
        (
            &["-c", "ansible.builtin.local"],
            &[("ANSIBLE_TRANSPORT", "ssh")],
        ),
    ];
    for (args, env) in cases {
        let got = run_unreachable_by_ssh(ours, args, env);
        assert_eq!(got.1, Some(0), "{args:?} {env:?}:\n{}", got.0);
        assert!(got.0.contains("changed: [nosuchhost.invalid]"), "{}", got.0);
        if let Some(bin) = reference_bin() {
            let want = run_unreachable_by_ssh(&bin.join("ansible-playbook"), args, env);
            assert_eq!(want, got, "{args:?} {env:?} differs from ansible-playbook");
        }
    }
    // A connection rsible has no plugin for fails the host; it never runs over ssh.
    let got = run_unreachable_by_ssh(ours, &["-c", "foo"], &[]);
    assert_eq!(got.1, Some(2), "{}", got.0);
    assert!(
        got.0.contains("the connection plugin 'foo' was not found"),
        "{}",
        got.0
    );
    let got = run_unreachable_by_ssh(ours, &["-c", "paramiko"], &[]);
    assert!(
        got.0
            .contains("rsible does not support the connection plugin 'paramiko' yet"),
        "{}",
        got.0
    );
}
