//! `forks`: a task's module calls on several hosts run side by side. Each
//! host's command is a barrier that waits for every host to arrive, so it can
//! only succeed when the calls overlap; with one fork the first host waits
//! alone and gives up. Local connection; no reference needed (Ansible's own
//! forks are not what is compared here, rsible's parallel path is).

use std::fs;
use std::process::Command;

const PLAYBOOK: &str = r#"---
- hosts: nodes
  gather_facts: false
  tasks:
    - name: Meet at the barrier
      ansible.builtin.shell: |
        touch {{ barrier }}/{{ inventory_hostname }}
        for i in $(seq 1 {{ (patience | int) * 10 }}); do
          [ "$(ls {{ barrier }} | wc -l)" -ge 3 ] && exit 0
          sleep 0.1
        done
        exit 1
"#;

fn run(forks: &str, patience: u32) -> (Option<i32>, String) {
    let dir = tempfile::tempdir().expect("temp dir");
    let barrier = dir.path().join("barrier");
    fs::create_dir(&barrier).unwrap();
    fs::write(
        dir.path().join("inventory.ini"),
        "[nodes]\nn1\nn2\nn3\n\n[nodes:vars]\nansible_connection=local\n",
    )
    .unwrap();
    fs::write(dir.path().join("site.yml"), PLAYBOOK).unwrap();
    fs::write(
        dir.path().join("ansible.cfg"),
        "[defaults]\nretry_files_enabled = False\n",
    )
    .unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_rsible-playbook"))
        .args(["-i", "inventory.ini", "site.yml", "-f", forks])
        .args(["-e", &format!("barrier={}", barrier.display())])
        .args(["-e", &format!("patience={patience}")])
        .current_dir(dir.path())
        .env("ANSIBLE_CONFIG", dir.path().join("ansible.cfg"))
        .env("ANSIBLE_NOCOLOR", "1")
        .output()
        .expect("rsible-playbook runs");
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
    )
}

#[test]
fn hosts_run_side_by_side_with_several_forks() {
    // Generous patience: on a loaded machine the three calls may start seconds apart.
    let (code, stdout) = run("3", 60);
    assert_eq!(code, Some(0), "{stdout}");
    for host in ["n1", "n2", "n3"] {
        assert!(stdout.contains(&format!("changed: [{host}]")), "{stdout}");
    }
    // Results are still printed in inventory order.
    let pos = |h: &str| stdout.find(&format!("changed: [{h}]")).unwrap_or(0);
    assert!(pos("n1") < pos("n2") && pos("n2") < pos("n3"), "{stdout}");
}

#[test]
fn one_fork_runs_hosts_one_after_another() {
    let (code, stdout) = run("1", 2);
    assert_eq!(code, Some(2), "{stdout}");
    assert!(stdout.contains("fatal: [n1]: FAILED!"), "{stdout}");
}

/// Under an open-files limit that holds only two connections, 25 hosts (75
/// descriptors if all stayed connected) still all run every task: the least recently used agent is closed to make
/// room and reopened when its host's turn comes again.
#[test]
fn more_hosts_than_the_open_files_limit_allows_connected_still_complete() {
    let dir = tempfile::tempdir().expect("temp dir");
    fs::write(
        dir.path().join("inventory.ini"),
        "[nodes]\nn[01:25]\n\n[nodes:vars]\nansible_connection=local\n",
    )
    .unwrap();
    fs::write(
        dir.path().join("site.yml"),
        "- hosts: nodes\n  gather_facts: false\n  tasks:\n\
         \x20   - command: echo one {{ inventory_hostname }}\n\
         \x20   - command: echo two {{ inventory_hostname }}\n",
    )
    .unwrap();
    fs::write(
        dir.path().join("ansible.cfg"),
        "[defaults]\nretry_files_enabled = False\n",
    )
    .unwrap();
    // 72 descriptors: 64 reserved + 4 per connection → room for two.
    let script = format!(
        "ulimit -n 72 && exec '{}' -i inventory.ini site.yml -f 2",
        env!("CARGO_BIN_EXE_rsible-playbook")
    );
    let out = Command::new("sh")
        .args(["-c", &script])
        .current_dir(dir.path())
        .env("ANSIBLE_CONFIG", dir.path().join("ansible.cfg"))
        .env("ANSIBLE_NOCOLOR", "1")
        .output()
        .expect("sh runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stdout}\n{stderr}");
    for n in 1..=25 {
        let line = format!("n{n:02}                        : ok=2    changed=2");
        assert!(stdout.contains(&line), "{line}\n{stdout}");
    }
}
