//! `ansible.posix.synchronize` over real SSH, side by side with
//! ansible-playbook 2.18: push from the controller (a role's `files/`, a
//! directory, with become as `--rsync-path='sudo -u root rsync'`), the
//! second push unchanged, pull with `use_ssh_args`, delegated to the host
//! itself (a local copy there), check mode, and a missing `dest`. Both
//! engines' whole output must be the same (the module's `cmd` shows the
//! rsync command line the action plugin built: key, port, user@host,
//! rsync path) and so must the files they leave.
//!
//! The loopback host is this machine, so "controller" and "host" paths are
//! both under the bed; which end rsync ran on shows in `cmd`.

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use rsible_testsupport::{run_playbook, run_playbook_with_env, TestSshd};

const PLAYBOOK: &str = r#"---
- name: synchronize over ssh
  hosts: target
  gather_facts: false
  vars:
    w: "{{ playbook_dir }}/work"
  roles:
    - shipper
  tasks:
    - name: Pull with the connection's ssh arguments
      ansible.posix.synchronize:
        src: "{{ w }}/pushed/a.txt"
        dest: "{{ w }}/pulled.txt"
        mode: pull
        use_ssh_args: true
      register: pulled

    - name: Delegated to the host itself
      ansible.posix.synchronize:
        src: "{{ w }}/pushed/a.txt"
        dest: "{{ w }}/self.txt"
      delegate_to: "{{ inventory_hostname }}"
      register: on_host

    - name: A directory, with become
      ansible.posix.synchronize:
        src: tree/
        dest: "{{ w }}/tree"
      become: true
      register: tree

    - name: Check mode changes nothing
      ansible.posix.synchronize:
        src: tree/
        dest: "{{ w }}/checked"
      check_mode: true
      register: checked

    - name: No dest
      ansible.posix.synchronize:
        src: tree/
      register: no_dest
      ignore_errors: true

    - name: What both engines must agree on
      ansible.builtin.debug:
        msg:
          - "{{ pulled }}"
          - "{{ on_host }}"
          - "{{ tree }}"
          - "{{ checked }}"
          - "{{ no_dest }}"
"#;

const ROLE_TASKS: &str = r#"---
- name: Start clean
  ansible.builtin.file:
    path: "{{ w }}"
    state: absent
  delegate_to: localhost

- name: Destination directory
  ansible.builtin.file:
    path: "{{ w }}/pushed"
    state: directory
  delegate_to: localhost

- name: Push a file from the role's files/
  ansible.posix.synchronize:
    src: a.txt
    dest: "{{ w }}/pushed/"
  register: first

- name: Push it again
  ansible.posix.synchronize:
    src: a.txt
    dest: "{{ w }}/pushed/"
  register: second

- name: Role results
  ansible.builtin.debug:
    msg:
      - "{{ first }}"
      - "{{ second.changed }}"
"#;

/// Every path under `root` with its content (files) and mode.
fn tree(root: &Path) -> Vec<String> {
    let mut out = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        let Ok(entries) = fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            let meta = fs::symlink_metadata(&path).unwrap();
            let rel = path.strip_prefix(root).unwrap().display().to_string();
            let mode = meta.permissions().mode() & 0o7777;
            if meta.is_dir() {
                out.push(format!("{rel}/ {mode:o}"));
                stack.push(path);
            } else {
                let text = fs::read_to_string(&path).unwrap_or_default();
                out.push(format!("{rel} {mode:o} {text:?}"));
            }
        }
    }
    out.sort();
    out
}

fn bed(sshd: &TestSshd) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    sshd.write_single_node_bed(d);
    fs::write(d.join("site.yml"), PLAYBOOK).unwrap();
    fs::create_dir_all(d.join("roles/shipper/tasks")).unwrap();
    fs::create_dir_all(d.join("roles/shipper/files")).unwrap();
    fs::write(d.join("roles/shipper/tasks/main.yml"), ROLE_TASKS).unwrap();
    fs::write(d.join("roles/shipper/files/a.txt"), "from the role\n").unwrap();
    fs::create_dir_all(d.join("files/tree/sub")).unwrap();
    fs::write(d.join("files/tree/one.txt"), "one\n").unwrap();
    fs::write(d.join("files/tree/sub/two.txt"), "two\n").unwrap();
    fs::set_permissions(
        d.join("files/tree/sub/two.txt"),
        fs::Permissions::from_mode(0o640),
    )
    .unwrap();
    dir
}

#[test]
fn synchronize_runs_rsync_where_the_action_plugin_would() {
    assert!(
        Path::new("/usr/bin/rsync").exists(),
        "prerequisite missing: rsync (scripts/setup-test-env.sh installs it)"
    );
    let reference = rsible_testsupport::reference_bin_dir();
    let rsible = PathBuf::from(env!("CARGO_BIN_EXE_rsible-playbook"));
    let sshd = TestSshd::start()
        .expect("a loopback sshd must start (scripts/test.sh installs openssh-server)");
    let dir = bed(&sshd);
    let args = ["-f", "1", "-i", "inventory.ini", "site.yml"];

    // rsible finds ansible.posix (the module it runs) in the reference venv,
    // as in a shell where that venv is active.
    let venv = reference
        .as_ref()
        .and_then(|bin| bin.parent())
        .map(|v| v.display().to_string());
    let env: Vec<(&str, &str)> = venv.iter().map(|v| ("VIRTUAL_ENV", v.as_str())).collect();
    let got = run_playbook_with_env(&rsible, dir.path(), args, &env);
    assert_eq!(got.code, Some(0), "{}", got.describe());
    let got_files = tree(&dir.path().join("work"));
    assert!(
        got_files.contains(&"pushed/a.txt 644 \"from the role\\n\"".to_string())
            && got_files.contains(&"pulled.txt 644 \"from the role\\n\"".to_string())
            && got_files.contains(&"tree/sub/two.txt 640 \"two\\n\"".to_string())
            && !got_files.iter().any(|f| f.starts_with("checked")),
        "{got_files:#?}"
    );
    assert!(
        got.stdout.contains("--rsync-path='sudo -u root rsync'")
            && got.stdout.contains(&format!("-o Port={}", sshd.port)),
        "{}",
        got.stdout
    );

    let Some(bin) = reference else { return };
    // The same start: the playbook's first task then finds nothing to remove.
    fs::remove_dir_all(dir.path().join("work")).unwrap();
    let want = run_playbook(&bin.join("ansible-playbook"), dir.path(), args);
    assert_eq!(want.code, got.code, "{}", want.describe());
    assert_eq!(tree(&dir.path().join("work")), got_files);
    assert_eq!(got.stdout, want.stdout);
}
