//! become over real SSH: `become: true` (root) and `become_user` (another
//! user, created for the test if missing), compared with ansible-playbook 2.18.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use rsible_testsupport::TestSshd;

const TEST_USER: &str = "rsibletest";

const PLAYBOOK: &str = r#"---
- name: become
  hosts: target
  gather_facts: false
  tasks:
    - name: Without become
      ansible.builtin.command: id -un
      register: plain
      changed_when: false

    - name: As another user
      ansible.builtin.command: id -un
      become: true
      become_user: rsibletest
      register: other
      changed_when: false

    - name: Show who ran what
      ansible.builtin.debug:
        msg: "{{ plain.stdout }} then {{ other.stdout }}"

    # Done at the first poll whatever the load: the reference's job (sudo and
    # a Python start over ssh) can take more than the 2 s this polled after,
    # and its ASYNC POLL line then made the outputs differ.
    - name: A background job as another user
      ansible.builtin.command: id -un
      become: true
      become_user: rsibletest
      async: 10
      poll: 4
      register: background
      changed_when: false

    - name: Show who ran the job and where its file was
      ansible.builtin.debug:
        msg: "{{ background.stdout }} {{ background.results_file is search('^/home/rsibletest/[.]ansible_async/j') }}"

- name: become for the whole play
  hosts: target
  gather_facts: false
  become: true
  become_user: rsibletest
  tasks:
    - name: Inherited from the play
      ansible.builtin.command: id -un
      register: inherited
      changed_when: false

    - name: Show it
      ansible.builtin.debug:
        var: inherited.stdout
"#;

fn ensure_user() {
    rsible_testsupport::ensure_local_user(TEST_USER);
}

fn run(program: &Path, dir: &Path) -> (String, Option<i32>) {
    let out = Command::new(program)
        .args(["-f", "1", "-i", "inventory.ini", "site.yml"])
        .current_dir(dir)
        .env("ANSIBLE_CONFIG", dir.join("ansible.cfg"))
        .env("ANSIBLE_NOCOLOR", "1")
        .output()
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", program.display()));
    // Async job ids differ between any two runs.
    let jid = regex::Regex::new(r"\bj[0-9]{1,12}\.[0-9]+\b").expect("valid regex");
    (
        jid.replace_all(&String::from_utf8_lossy(&out.stdout), "<jid>")
            .into_owned(),
        out.status.code(),
    )
}

#[test]
fn become_matches_ansible() {
    let rsible = PathBuf::from(env!("CARGO_BIN_EXE_rsible-playbook"));
    ensure_user();
    let sshd = TestSshd::start()
        .expect("a loopback sshd must start (scripts/test.sh installs openssh-server)");
    let dir = tempfile::tempdir().unwrap();
    sshd.write_single_node_bed(dir.path());
    fs::write(dir.path().join("site.yml"), PLAYBOOK).unwrap();

    let got = run(&rsible, dir.path());
    assert_eq!(got.1, Some(0), "rsible failed:\n{}", got.0);
    assert!(
        got.0
            .contains(&format!("\"msg\": \"{} then {TEST_USER}\"", sshd.user)),
        "become_user did not switch users:\n{}",
        got.0
    );
    assert!(
        got.0.contains(&format!("\"msg\": \"{TEST_USER} True\"")),
        "the async job ran as another user, its file in that user's home:\n{}",
        got.0
    );
    assert!(
        got.0
            .contains(&format!("\"inherited.stdout\": \"{TEST_USER}\"")),
        "play-level become:\n{}",
        got.0
    );

    match std::env::var_os("RSIBLE_REF_BIN") {
        Some(bin) => {
            let want = run(&PathBuf::from(bin).join("ansible-playbook"), dir.path());
            assert_eq!(want, got, "rsible and ansible-playbook differ");
        }
        None if std::env::var_os("RSIBLE_SKIP_DIFFERENTIAL").is_some() => {}
        None => panic!("RSIBLE_REF_BIN is not set (scripts/test.sh sets it); RSIBLE_SKIP_DIFFERENTIAL=1 skips knowingly"),
    }
}
