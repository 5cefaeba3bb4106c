//! `script` over real SSH: the script is transferred, runs as the become
//! user with the task's environment, and its temporary directory is gone
//! afterwards. Not compared line by line with ansible-playbook: over ssh
//! Ansible runs the script on a terminal, so its stderr joins stdout with
//! `\r\n` line ends, where rsible keeps them apart (COMPATIBILITY.md); the
//! same facts are asserted from both engines' registered results instead.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use rsible_testsupport::TestSshd;

const TEST_USER: &str = "rsibletest";

const PLAYBOOK: &str = r#"---
- name: script over ssh
  hosts: target
  gather_facts: false
  tasks:
    - name: As the remote user, with arguments
      ansible.builtin.script: who.sh "two words" last
      register: plain

    - name: As another user, with the task's environment
      ansible.builtin.script: who.sh
      become: true
      become_user: rsibletest
      environment:
        GREETING: hello
      register: other

    - name: A failing script as another user
      ansible.builtin.script: who.sh fail
      become: true
      become_user: rsibletest
      register: failing
      ignore_errors: true

    - name: Facts to compare
      ansible.builtin.debug:
        msg: >-
          plain={{ plain.stdout_lines | select('match', '^(user|arg|greeting)=') | join(',') }}
          other={{ other.stdout_lines | select('match', '^(user|arg|greeting)=') | join(',') }}
          failing={{ failing.rc }}/{{ failing.failed }}/{{ failing.msg }}
"#;

const SCRIPT: &str = r#"#!/bin/sh
echo "user=$(id -un)"
for a in "$@"; do echo "arg=$a"; done
echo "greeting=${GREETING:-unset}"
echo "to stderr" >&2
[ "$1" = fail ] && exit 4
exit 0
"#;

fn run(program: &Path, dir: &Path) -> (String, Option<i32>) {
    let out = Command::new(program)
        .args(["-f", "1", "-i", "inventory.ini", "site.yml"])
        .current_dir(dir)
        .env("ANSIBLE_CONFIG", dir.join("ansible.cfg"))
        .env("ANSIBLE_NOCOLOR", "1")
        .output()
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", program.display()));
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        out.status.code(),
    )
}

/// The debug task's message: the facts both engines must agree on.
fn facts(output: &str) -> String {
    output
        .lines()
        .find_map(|l| l.trim().strip_prefix("\"msg\": "))
        .unwrap_or_default()
        .to_string()
}

/// Names under `home/.ansible/tmp` that rsible's script action makes.
fn leftovers(home: &Path) -> Vec<String> {
    fs::read_dir(home.join(".ansible/tmp"))
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with("ansible-tmp-") && !n.contains('.'))
        .collect()
}

#[test]
fn script_runs_as_the_become_user_and_leaves_nothing() {
    let rsible = PathBuf::from(env!("CARGO_BIN_EXE_rsible-playbook"));
    rsible_testsupport::ensure_local_user(TEST_USER);
    let sshd = TestSshd::start()
        .expect("a loopback sshd must start (scripts/test.sh installs openssh-server)");
    let dir = tempfile::tempdir().unwrap();
    sshd.write_single_node_bed(dir.path());
    fs::write(dir.path().join("site.yml"), PLAYBOOK).unwrap();
    fs::create_dir_all(dir.path().join("files")).unwrap();
    fs::write(dir.path().join("files/who.sh"), SCRIPT).unwrap();
    let other_home = PathBuf::from(format!("/home/{TEST_USER}"));
    let before = leftovers(&other_home);

    let got = run(&rsible, dir.path());
    assert_eq!(got.1, Some(0), "rsible failed:\n{}", got.0);
    let want_facts = format!(
        "\"plain=user={},arg=two words,arg=last,greeting=unset other=user={TEST_USER},greeting=hello failing=4/True/non-zero return code\"",
        sshd.user
    );
    assert_eq!(facts(&got.0), want_facts, "{}", got.0);
    assert_eq!(
        leftovers(&other_home),
        before,
        "the script's temporary directory was left behind"
    );

    match std::env::var_os("RSIBLE_REF_BIN") {
        Some(bin) => {
            let want = run(&PathBuf::from(bin).join("ansible-playbook"), dir.path());
            assert_eq!(want.1, got.1, "exit codes differ:\n{}", want.0);
            assert_eq!(facts(&want.0), facts(&got.0), "{}", want.0);
        }
        None if std::env::var_os("RSIBLE_SKIP_DIFFERENTIAL").is_some() => {}
        None => panic!("RSIBLE_REF_BIN is not set (scripts/test.sh sets it); RSIBLE_SKIP_DIFFERENTIAL=1 skips knowingly"),
    }
}
