//! A host that cannot run the agent, over real SSH: its sshd gives sessions a
//! PATH whose `uname` says `aarch64`, so the bootstrap sees another
//! architecture for real and the host's modules run as ansible-core's Python
//! modules, one session each. The same play runs on a normal host beside it,
//! and ansible-playbook 2.18 runs it too: both engines must print the same,
//! leave the same files, and rsible must warn once about the agentless host.
//!
//! become uses `su` here: sudo's `secure_path` would replace the session's
//! PATH and show the real architecture to the become session, while `su`
//! keeps it (as a real aarch64 host would show aarch64 to both).

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use rsible_testsupport::{SshdOptions, SudoPasswordUser, TestSshd};

const TEST_USER: &str = "rsibletest";

const PLAYBOOK: &str = r#"---
- name: Agentless and agent hosts side by side
  hosts: nodes
  gather_facts: true
  vars:
    node_dir: "{{ nodes_root }}/{{ inventory_hostname }}"
  tasks:
    - name: Facts came from the target
      ansible.builtin.debug:
        msg: "{{ ansible_facts.system }} {{ ansible_facts.user_id }}"

    - name: Create the node directory
      ansible.builtin.file:
        path: "{{ node_dir }}"
        state: directory
        mode: "0777"

    - name: Copy content
      ansible.builtin.copy:
        content: "hello {{ inventory_hostname }}\n"
        dest: "{{ node_dir }}/content.txt"
        mode: "0644"

    - name: Copy content again
      ansible.builtin.copy:
        content: "hello {{ inventory_hostname }}\n"
        dest: "{{ node_dir }}/content.txt"
        mode: "0644"

    - name: Copy a controller file
      ansible.builtin.copy:
        src: source.txt
        dest: "{{ node_dir }}/source.txt"
        mode: "0600"

    - name: Render a template
      ansible.builtin.template:
        src: node.j2
        dest: "{{ node_dir }}/node.conf"
        mode: "0644"

    - name: Render a template in utf-16 (bytes that are not UTF-8)
      ansible.builtin.template:
        src: node.j2
        dest: "{{ node_dir }}/node.utf16"
        mode: "0644"
        output_encoding: utf-16
      register: enc

    - name: Show the encoded file
      ansible.builtin.debug:
        msg: "{{ enc.changed }} {{ enc.checksum }} {{ enc.size }}"

    - name: Stat the copy
      ansible.builtin.stat:
        path: "{{ node_dir }}/content.txt"
      register: st

    - name: Show the stat
      ansible.builtin.debug:
        msg: "{{ st.stat.exists }} {{ st.stat.size }} {{ st.stat.mode }} {{ st.stat.checksum }}"

    - name: Add a line
      ansible.builtin.lineinfile:
        path: "{{ node_dir }}/content.txt"
        line: "second line"

    - name: Read it back
      ansible.builtin.command: cat {{ node_dir }}/content.txt
      register: cat_out
      changed_when: false

    - name: Show it
      ansible.builtin.debug:
        var: cat_out.stdout_lines

    - name: A shell with creates
      ansible.builtin.shell: echo $((6 * 7)) > {{ node_dir }}/shell.txt
      args:
        creates: "{{ node_dir }}/shell.txt"

    - name: The shell again
      ansible.builtin.shell: echo $((6 * 7)) > {{ node_dir }}/shell.txt
      args:
        creates: "{{ node_dir }}/shell.txt"

    - name: As another user
      ansible.builtin.command: id -un
      become: true
      become_method: su
      become_user: rsibletest
      register: who
      changed_when: false

    - name: Show the user
      ansible.builtin.debug:
        var: who.stdout

    - name: Write as another user
      ansible.builtin.copy:
        content: "from {{ who.stdout }}\n"
        dest: "{{ node_dir }}/become.txt"
        mode: "0644"
      become: true
      become_method: su
      become_user: rsibletest

    - name: A controller script with arguments
      ansible.builtin.script: greet.sh "{{ inventory_hostname }}" 'two words'
      register: greeted

    - name: Its lines
      ansible.builtin.debug:
        var: greeted.stdout_lines

    - name: Unpack a controller archive (sent to the host first)
      ansible.builtin.unarchive:
        src: bundle.tgz
        dest: "{{ node_dir }}"
      register: unpacked

    - name: Unpack it again
      ansible.builtin.unarchive:
        src: bundle.tgz
        dest: "{{ node_dir }}"
        list_files: true
      register: unpacked_again

    - name: What the two unpacks did
      ansible.builtin.debug:
        msg: "{{ unpacked.changed }} {{ unpacked_again.changed }} {{ unpacked_again.handler }} {{ unpacked_again.files }}"

    - name: A module without a native twin
      ansible.builtin.getent:
        database: passwd
        key: root
      register: ent

    - name: Show its result
      ansible.builtin.debug:
        msg: "{{ ent.ansible_facts.getent_passwd.root[4] }}"

    - name: A failing command
      ansible.builtin.command: /bin/false
      ignore_errors: true
"#;

fn ensure_user() {
    rsible_testsupport::ensure_local_user(TEST_USER);
}

/// A directory holding a `uname` that reports aarch64 for `-m`.
fn uname_shim(dir: &Path) -> PathBuf {
    let bin = dir.join("arm-bin");
    fs::create_dir_all(&bin).unwrap();
    let shim = bin.join("uname");
    fs::write(
        &shim,
        "#!/bin/sh\nif [ \"$1\" = \"-m\" ]; then echo aarch64; else exec /usr/bin/uname \"$@\"; fi\n",
    )
    .unwrap();
    use std::os::unix::fs::PermissionsExt;
    fs::set_permissions(&shim, fs::Permissions::from_mode(0o755)).unwrap();
    fs::set_permissions(&bin, fs::Permissions::from_mode(0o755)).unwrap();
    fs::set_permissions(dir, fs::Permissions::from_mode(0o755)).unwrap();
    bin
}

struct Run {
    stdout: String,
    stderr: String,
    code: Option<i32>,
}

fn run(program: &Path, dir: &Path, root: &Path, venv: Option<&Path>) -> Run {
    fs::create_dir_all(root).unwrap();
    use std::os::unix::fs::PermissionsExt;
    fs::set_permissions(root, fs::Permissions::from_mode(0o777)).unwrap();
    let mut cmd = Command::new(program);
    // rsible finds the ansible-core whose modules agentless hosts run
    // through the virtualenv, as an operator's would be found.
    if let Some(venv) = venv {
        cmd.env("VIRTUAL_ENV", venv);
    }
    let out = cmd
        .args(["-f", "1", "-i", "inventory.ini", "site.yml", "-e"])
        .arg(format!("nodes_root={}", root.display()))
        .current_dir(dir)
        .env("ANSIBLE_CONFIG", dir.join("ansible.cfg"))
        .env("ANSIBLE_NOCOLOR", "1")
        .output()
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", program.display()));
    let stdout =
        String::from_utf8_lossy(&out.stdout).replace(&root.display().to_string(), "<ROOT>");
    let times = regex::Regex::new(r#""(delta|start|end)": "[0-9:. -]+""#).expect("valid regex");
    let stdout = times
        .replace_all(&stdout, r#""$1": "<masked>""#)
        .into_owned();
    Run {
        stdout,
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        code: out.status.code(),
    }
}

/// The same play under ansible-playbook (its files under `nodes-ansible`):
/// it must succeed with rsible's stdout and leave the same files.
fn assert_same_as_ansible(reference: &Path, dir: &Path, got: &Run, rsible_root: &Path) {
    let ansible_root = dir.join("nodes-ansible");
    let want = run(
        &reference.join("ansible-playbook"),
        dir,
        &ansible_root,
        None,
    );
    assert_eq!(
        want.code,
        Some(0),
        "ansible-playbook failed:\n{}\n{}",
        want.stdout,
        want.stderr
    );
    assert_eq!(
        got.stdout, want.stdout,
        "stdout differs from ansible-playbook"
    );
    assert_eq!(tree(rsible_root), tree(&ansible_root), "files differ");
}

/// Every file under `root`: relative path, mode and content.
fn tree(root: &Path) -> Vec<(String, u32, String)> {
    use std::os::unix::fs::PermissionsExt;
    let mut out = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            let meta = fs::metadata(&p).unwrap();
            let rel = p.strip_prefix(root).unwrap().display().to_string();
            if meta.is_dir() {
                out.push((rel, meta.permissions().mode() & 0o7777, String::new()));
                stack.push(p);
            } else {
                let text = fs::read_to_string(&p).unwrap_or_default();
                out.push((rel, meta.permissions().mode() & 0o7777, text));
            }
        }
    }
    out.sort();
    out
}

#[test]
fn agentless_host_runs_modules_through_python_like_ansible() {
    let rsible = PathBuf::from(env!("CARGO_BIN_EXE_rsible-playbook"));
    ensure_user();
    let dir = tempfile::tempdir().unwrap();
    let shim = uname_shim(dir.path());
    let normal = TestSshd::start()
        .expect("a loopback sshd must start (scripts/test.sh installs openssh-server)");
    // A home of its own, as another machine has: a cached agent that passes the
    // bootstrap's builtins-only check (owner, mode, stamp) is exec'd without asking
    // `uname`, and the normal host's cache holds one that really runs here.
    let arm_home = dir.path().join("arm-home");
    fs::create_dir(&arm_home).unwrap();
    let arm = TestSshd::start_with(&SshdOptions {
        extra_config: vec![format!(
            "SetEnv PATH={}:/usr/bin:/bin HOME={}",
            shim.display(),
            arm_home.display()
        )],
        ..SshdOptions::default()
    })
    .expect("a second loopback sshd must start");
    // The session really sees another architecture.
    let probe = Command::new("ssh")
        .args(arm.ssh_args())
        .arg(format!("{}@127.0.0.1", arm.user))
        .arg("uname -m")
        .output()
        .expect("ssh runs");
    assert_eq!(
        String::from_utf8_lossy(&probe.stdout).trim(),
        "aarch64",
        "the shim PATH did not reach the session: {}",
        String::from_utf8_lossy(&probe.stderr)
    );
    let python = "/usr/bin/python3";
    assert!(Path::new(python).exists(), "prerequisite missing: {python}");
    fs::write(
        dir.path().join("inventory.ini"),
        format!(
            "[nodes]\n\
             x86node ansible_host=127.0.0.1 ansible_port={} ansible_ssh_private_key_file={}\n\
             armnode ansible_host=127.0.0.1 ansible_port={} ansible_ssh_private_key_file={}\n\n\
             [nodes:vars]\nansible_user={}\nansible_python_interpreter={python}\n",
            normal.port,
            normal.client_key_path.display(),
            arm.port,
            arm.client_key_path.display(),
            normal.user,
        ),
    )
    .unwrap();
    fs::write(
        dir.path().join("ansible.cfg"),
        "[defaults]\nhost_key_checking = False\nretry_files_enabled = False\n\
         [ssh_connection]\npipelining = True\nssh_args = -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o ControlMaster=auto -o ControlPersist=60s\n",
    )
    .unwrap();
    fs::write(dir.path().join("site.yml"), PLAYBOOK).unwrap();
    fs::write(dir.path().join("source.txt"), "controller file\n").unwrap();
    fs::write(
        dir.path().join("greet.sh"),
        "#!/bin/sh\nfor a in \"$@\"; do echo \"hello [$a]\"; done\n",
    )
    .unwrap();
    // A controller-side archive for unarchive (a gzip'd tar, fixed times).
    fs::create_dir_all(dir.path().join("bundle/sub")).unwrap();
    fs::write(dir.path().join("bundle/sub/inner.txt"), "packed\n").unwrap();
    let packed = Command::new("tar")
        .args(["--mtime=2020-01-01", "-czf", "bundle.tgz", "bundle"])
        .current_dir(dir.path())
        .status()
        .expect("tar runs");
    assert!(packed.success(), "tar could not make bundle.tgz");
    fs::write(
        dir.path().join("node.j2"),
        "name={{ inventory_hostname }}\nsum={{ 40 + 2 }}\n",
    )
    .unwrap();

    // Panics unless the reference is set or skipping was asked for.
    let reference = rsible_testsupport::reference_bin_dir();
    let venv = reference.as_deref().and_then(Path::parent);
    let rsible_root = dir.path().join("nodes-rsible");
    let got = run(&rsible, dir.path(), &rsible_root, venv);
    assert_eq!(
        got.code,
        Some(0),
        "rsible failed:\n{}\n{}",
        got.stdout,
        got.stderr
    );
    let warning = "The rsible agent cannot run on host armnode";
    assert_eq!(
        got.stderr.matches(warning).count(),
        1,
        "one warning for the agentless host expected:\n{}",
        got.stderr
    );
    assert!(got.stderr.contains("aarch64"), "{}", got.stderr);
    assert!(
        !got.stderr.contains("cannot run on host x86node"),
        "{}",
        got.stderr
    );
    assert!(
        got.stdout.contains("\"who.stdout\": \"rsibletest\""),
        "become did not switch users:\n{}",
        got.stdout
    );
    let files = tree(&rsible_root);
    let x86: Vec<_> = files
        .iter()
        .filter_map(|(p, m, t)| {
            p.strip_prefix("x86node")
                .map(|p| (p, m, t.replace("x86node", "H")))
        })
        .collect();
    let arm_files: Vec<_> = files
        .iter()
        .filter_map(|(p, m, t)| {
            p.strip_prefix("armnode")
                .map(|p| (p, m, t.replace("armnode", "H")))
        })
        .collect();
    assert_eq!(x86, arm_files, "the two hosts' files differ");
    assert!(
        arm_files
            .iter()
            .any(|(p, _, t)| *p == "/become.txt" && t == "from rsibletest\n"),
        "{arm_files:?}"
    );

    if let Some(reference) = reference {
        assert_same_as_ansible(&reference, dir.path(), &got, &rsible_root);
    }
}

/// Everything as root through sudo with a password, on an agentless host.
const SUDO_PLAYBOOK: &str = r#"---
- name: Agentless host with sudo
  hosts: nodes
  gather_facts: false
  become: true
  vars:
    node_dir: "{{ nodes_root }}/{{ inventory_hostname }}"
  tasks:
    - name: Who runs the modules
      ansible.builtin.command: id -un
      register: who
      changed_when: false

    - name: Show the user
      ansible.builtin.debug:
        var: who.stdout

    - name: A root-only directory
      ansible.builtin.file:
        path: "{{ node_dir }}"
        state: directory
        mode: "0700"

    - name: Copy content as root
      ansible.builtin.copy:
        content: "root's {{ inventory_hostname }}\n"
        dest: "{{ node_dir }}/root.txt"
        mode: "0600"

    - name: Stat it
      ansible.builtin.stat:
        path: "{{ node_dir }}/root.txt"
      register: st

    - name: Show the owner
      ansible.builtin.debug:
        msg: "{{ st.stat.pw_name }} {{ st.stat.mode }} {{ st.stat.size }}"

    - name: A module without a native twin
      ansible.builtin.getent:
        database: passwd
        key: root
      register: ent

    - name: Show its result
      ansible.builtin.debug:
        msg: "{{ ent.ansible_facts.getent_passwd.root[4] }}"

    - name: No command line holds the password while a module runs
      ansible.builtin.command: ps -eo args
      register: procs
      changed_when: false
      failed_when: ansible_become_password in procs.stdout

- name: The same host under the free strategy (its calls in the background)
  hosts: nodes
  gather_facts: false
  become: true
  strategy: free
  tasks:
    - name: A command as root
      ansible.builtin.command: id -un
      register: who_free
      changed_when: false

    - name: Show the user
      ansible.builtin.debug:
        var: who_free.stdout

    - name: A module without a native twin, retried
      ansible.builtin.getent:
        database: passwd
        key: root
      register: ent_free
      until: ent_free is not failed
      retries: 1
      delay: 0
"#;

#[test]
fn agentless_host_becomes_root_through_sudo_with_a_password() {
    let rsible = PathBuf::from(env!("CARGO_BIN_EXE_rsible-playbook"));
    let dir = tempfile::tempdir().unwrap();
    let shim = uname_shim(dir.path());
    // A real aarch64 host shows aarch64 under sudo too: this user's sudo
    // keeps the shim first in its secure_path, and its HOME: root's holds the
    // agent other tests cached on this machine, which the bootstrap would exec
    // without asking `uname`. Keeping HOME needs become flags without sudo's
    // `-H` (the inventory's ansible_become_flags, for both engines).
    let user = SudoPasswordUser::create(
        "rsbag",
        &[
            format!(
                "secure_path=\"{}:/usr/sbin:/usr/bin:/sbin:/bin\"",
                shim.display()
            ),
            "env_keep+=HOME".to_string(),
        ],
    );
    let arm = TestSshd::start_with(&SshdOptions {
        extra_config: vec![format!("SetEnv PATH={}:/usr/bin:/bin", shim.display())],
        ..SshdOptions::default()
    })
    .expect("a loopback sshd must start (scripts/test.sh installs openssh-server)");
    // sshd reads the authorized keys as the logging-in user.
    use std::os::unix::fs::PermissionsExt;
    fs::set_permissions(arm.dir(), fs::Permissions::from_mode(0o755)).unwrap();
    fs::set_permissions(
        arm.dir().join("authorized_keys"),
        fs::Permissions::from_mode(0o644),
    )
    .unwrap();
    let python = "/usr/bin/python3";
    assert!(Path::new(python).exists(), "prerequisite missing: {python}");
    fs::write(
        dir.path().join("inventory.ini"),
        format!(
            "[nodes]\n\
             armnode ansible_host=127.0.0.1 ansible_port={} ansible_ssh_private_key_file={}\n\n\
             [nodes:vars]\nansible_user={}\nansible_python_interpreter={python}\n\
             ansible_become_password={}\nansible_become_flags='-S -n'\n",
            arm.port,
            arm.client_key_path.display(),
            user.name,
            user.password,
        ),
    )
    .unwrap();
    fs::write(
        dir.path().join("ansible.cfg"),
        "[defaults]\nhost_key_checking = False\nretry_files_enabled = False\n\
         [ssh_connection]\npipelining = True\nssh_args = -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o ControlMaster=auto -o ControlPersist=60s\n",
    )
    .unwrap();
    fs::write(dir.path().join("site.yml"), SUDO_PLAYBOOK).unwrap();

    let reference = rsible_testsupport::reference_bin_dir();
    let venv = reference.as_deref().and_then(Path::parent);
    let rsible_root = dir.path().join("nodes-rsible");
    let got = run(&rsible, dir.path(), &rsible_root, venv);
    assert_eq!(
        got.code,
        Some(0),
        "rsible failed:\n{}\n{}",
        got.stdout,
        got.stderr
    );
    assert_eq!(
        got.stderr
            .matches("The rsible agent cannot run on host armnode")
            .count(),
        1,
        "the host must be found agentless once:\n{}",
        got.stderr
    );
    assert!(
        got.stdout.contains("\"who.stdout\": \"root\"")
            && got.stdout.contains("\"who_free.stdout\": \"root\""),
        "sudo did not make the modules run as root:\n{}",
        got.stdout
    );
    assert!(
        !got.stdout.contains(&user.password) && !got.stderr.contains(&user.password),
        "the become password reached the output"
    );
    let root_file = rsible_root.join("armnode/root.txt");
    let meta = fs::metadata(&root_file).expect("root.txt written");
    assert_eq!(std::os::unix::fs::MetadataExt::uid(&meta), 0);

    if let Some(reference) = reference {
        assert_same_as_ansible(&reference, dir.path(), &got, &rsible_root);
    }
}
