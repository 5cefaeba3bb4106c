//! `raw` over real SSH (a loopback sshd): the command runs through the
//! connection without the agent, on a terminal (`-tt`, so `\r\n` line ends
//! and stderr joined to stdout, as Ansible's ssh plugin runs it), with
//! become wrapping it in sudo, and an unreachable host reported as
//! UNREACHABLE while the others go on. The reference ansible-playbook runs
//! the same playbook; stdout and exit codes must match.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use rsible_testsupport::TestSshd;

const PLAYBOOK: &str = r#"---
- name: Bootstrap without Python
  hosts: nodes
  gather_facts: false
  tasks:
    - name: Fetch /etc/os-release
      raw: cat /etc/os-release
      register: os_release
      changed_when: false
      check_mode: false

    - name: The release file's first field
      debug:
        msg: "{{ os_release.stdout_lines | select('match', '^[A-Z_]+=') | first | regex_replace('=.*$', '') }}"

    - name: Both output streams
      raw: echo out; echo err >&2; exit 4
      register: streams
      failed_when: false

    - name: What raw returned
      debug:
        msg: "rc={{ streams.rc }} stdout={{ streams.stdout | to_json }} lines={{ streams.stdout_lines }}"

    - name: As another user through sudo
      raw: id -un
      become: true
      become_user: nobody
      register: other
      changed_when: false

    - name: Who ran it
      debug:
        msg: "{{ other.stdout_lines }}"

    - name: A failing command
      raw: exit 3
      ignore_errors: true
"#;

fn reference() -> Option<PathBuf> {
    rsible_testsupport::reference_bin_dir().map(|dir| dir.join("ansible-playbook"))
}

fn run(dir: &Path, program: &Path) -> (String, Option<i32>) {
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

#[test]
fn raw_over_ssh_matches_ansible() {
    let Some(ansible) = reference() else { return };
    let rsible = PathBuf::from(env!("CARGO_BIN_EXE_rsible-playbook"));
    let sshd = TestSshd::start()
        .expect("a loopback sshd must start (scripts/test.sh installs openssh-server)");
    // A port nothing listens on: the host is unreachable.
    let closed_port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind loopback");
        l.local_addr().expect("bound address").port()
    };
    let dir = tempfile::tempdir().expect("temp dir");
    let inventory = format!(
        "[nodes]\nkube1 ansible_host=127.0.0.1\nkube2 ansible_host=127.0.0.1 ansible_port={closed_port}\n\n\
         [nodes:vars]\nansible_port={}\nansible_user={}\nansible_ssh_private_key_file={}\n\
         ansible_ssh_common_args='-o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o LogLevel=ERROR'\n",
        sshd.port,
        sshd.user,
        sshd.client_key_path.display(),
    );
    fs::write(dir.path().join("inventory.ini"), inventory).unwrap();
    fs::write(dir.path().join("site.yml"), PLAYBOOK).unwrap();
    fs::write(
        dir.path().join("ansible.cfg"),
        "[defaults]\nretry_files_enabled = False\nhost_key_checking = False\n",
    )
    .unwrap();
    let want = run(dir.path(), &ansible);
    let got = run(dir.path(), &rsible);
    assert_eq!(want, got, "stdout and exit code differ");
    // What the comparison stands on: the commands really ran on kube1, on a
    // terminal, as nobody through sudo, and kube2 was unreachable.
    let (text, code) = got;
    assert_eq!(code, Some(4), "{text}");
    assert!(text.contains(r#"stdout=\"out\\r\\nerr\\r\\n\""#), "{text}");
    assert!(text.contains("\"nobody\""), "{text}");
    assert!(text.contains("fatal: [kube2]: UNREACHABLE!"), "{text}");
    assert!(text.contains("rc=4"), "{text}");
}
