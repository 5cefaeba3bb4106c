//! The end of a run over real SSH. rsible returns once every result is in and
//! every agent was told to end (EOF on its stdin), without waiting for their
//! sessions to end on the targets. The exception is an agent that ran Python
//! modules: it removes its private directory when it ends, and that must have
//! happened when the run returns. Checked here: that directory is gone the
//! moment rsible exits, and the released agents do end (nothing of the run is
//! left under the sshd a little later). The playbook is given twice on the
//! command line: `rsible-playbook` leaves a run's other sessions for its exit
//! to close, and the first playbook's are released when the second one ends.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use rsible_testsupport::{agents_and_commands, assert_none_left, SshdOptions, TestSshd};

const PLAYBOOK: &str = r#"---
- name: Three aliases of one machine
  hosts: nodes
  gather_facts: true
  tasks:
    - name: A native command everywhere
      ansible.builtin.command: "true"
      changed_when: false

    - name: A module without a native twin, on one host
      ansible.builtin.getent:
        database: passwd
        key: root
      register: ent
      when: inventory_hostname == 'node2'

    - name: Show its result
      ansible.builtin.debug:
        msg: "root's shell: {{ ent.ansible_facts.getent_passwd.root[5] }}"
      when: inventory_hostname == 'node2'

    - name: The agent's private directory while the run goes on
      ansible.builtin.shell: ls "$TMPDIR"
      register: held
      changed_when: false
      when: inventory_hostname == 'node2'

    - name: Show it
      ansible.builtin.debug:
        msg: "held: {{ held.stdout_lines | select('match', 'rsible-agent-') | list | length }}"
      when: inventory_hostname == 'node2'
"#;

/// Bound for the released agents to be gone: generous for a loaded CI
/// machine (they end within milliseconds); a condition waited for.
const LEFT_LIMIT: Duration = Duration::from_secs(20);

/// The Python modules' private directories (`rsible-agent-<pid>-...`) in `dir`.
fn private_dirs(dir: &Path) -> Vec<String> {
    fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("cannot list {}: {e}", dir.display()))
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with("rsible-agent-"))
        .collect()
}

#[test]
fn the_run_returns_with_python_state_gone_and_the_agents_end_after() {
    let reference = rsible_testsupport::reference_bin_dir();
    let dir = tempfile::tempdir().expect("temp dir");
    // The sessions' TMPDIR: where the agent keeps its Python payloads. Private
    // to this test, so other tests' agents cannot show up in it.
    let remote_tmp = dir.path().join("remote-tmp");
    fs::create_dir_all(&remote_tmp).unwrap();
    let sshd = TestSshd::start_with(&SshdOptions {
        extra_config: vec![format!("SetEnv TMPDIR={}", remote_tmp.display())],
        ..SshdOptions::default()
    })
    .expect("a loopback sshd must start (scripts/test.sh installs openssh-server)");
    let inventory = format!(
        "[nodes]\nnode1\nnode2\nnode3\n\n[nodes:vars]\nansible_host=127.0.0.1\n\
         ansible_port={}\nansible_user={}\nansible_ssh_private_key_file={}\n\
         ansible_python_interpreter=/usr/bin/python3\n",
        sshd.port,
        sshd.user,
        sshd.client_key_path.display()
    );
    fs::write(dir.path().join("inventory.ini"), inventory).unwrap();
    fs::write(
        dir.path().join("ansible.cfg"),
        "[defaults]\nhost_key_checking = False\nretry_files_enabled = False\n\
         [ssh_connection]\npipelining = True\n\
         ssh_args = -o ControlMaster=auto -o ControlPersist=60s \
         -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null\n",
    )
    .unwrap();
    fs::write(dir.path().join("site.yml"), PLAYBOOK).unwrap();

    let rsible = PathBuf::from(env!("CARGO_BIN_EXE_rsible-playbook"));
    let mut cmd = Command::new(&rsible);
    // rsible finds the ansible-core whose getent module it runs through the
    // virtualenv, as an operator's would be found.
    if let Some(venv) = reference.as_deref().and_then(Path::parent) {
        cmd.env("VIRTUAL_ENV", venv);
    }
    let out = cmd
        .args(["-i", "inventory.ini", "site.yml", "site.yml"])
        .current_dir(dir.path())
        .env("ANSIBLE_CONFIG", dir.path().join("ansible.cfg"))
        .env("ANSIBLE_NOCOLOR", "1")
        .output()
        .expect("run rsible-playbook");
    // Read before anything else: the agents must have cleaned up already.
    let left_dirs = private_dirs(&remote_tmp);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "rsible failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains("\"msg\": \"root's shell: "),
        "the Python module ran on node2:\n{stdout}"
    );
    assert_eq!(
        stdout.matches("\"msg\": \"held: 1\"").count(),
        2,
        "in each playbook, node2's agent held one private directory in the sessions' TMPDIR \
         (the first playbook's was gone):\n{stdout}"
    );
    assert!(
        left_dirs.is_empty(),
        "an agent's private directory was still there when the run returned: {left_dirs:?}"
    );
    assert_none_left(LEFT_LIMIT, || {
        agents_and_commands(sshd.pid(), "rsible-agent")
    });
}
