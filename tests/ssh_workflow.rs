//! The everyday workflow over real SSH: three hosts served by a loopback
//! sshd (127.0.0.1-3), a run where one host fails, the retry file, a rerun
//! with `--limit @file.retry`, `--limit` patterns and `-e` overrides. Each
//! run is made by the reference ansible-playbook too, on fresh host
//! directories, and the two must print the same and leave the same files.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use rsible_testsupport::{SshdOptions, TestSshd};

const PLAYBOOK: &str = r#"---
- name: Configure the nodes
  hosts: nodes
  gather_facts: false
  vars:
    node_dir: "{{ nodes_root }}/{{ inventory_hostname }}"
  tasks:
    - name: Create the node directory
      ansible.builtin.file:
        path: "{{ node_dir }}/etc"
        state: directory
        mode: "0755"

    - name: Write the version file
      ansible.builtin.copy:
        dest: "{{ node_dir }}/etc/version"
        content: "{{ kube_version }}\n"
        mode: "0644"

    - name: Fail where asked
      ansible.builtin.command: "false"
      when: inventory_hostname == fail_on | default('')

    - name: Record completion
      ansible.builtin.shell: echo done > {{ node_dir }}/etc/complete
      args:
        creates: "{{ node_dir }}/etc/complete"
"#;

struct Bed {
    _sshd: TestSshd,
    dir: tempfile::TempDir,
}

impl Bed {
    /// `python` runs the reference's modules on the targets (this machine).
    fn new(python: &Path) -> Bed {
        let sshd = TestSshd::start_with(&SshdOptions {
            extra_addresses: vec!["127.0.0.2".into(), "127.0.0.3".into()],
            ..SshdOptions::default()
        })
        .expect("a loopback sshd must start (scripts/test.sh installs openssh-server)");
        let dir = tempfile::tempdir().expect("temp dir");
        let ssh_args = "-o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null";
        let inventory = format!(
            "[nodes]\nkube1 ansible_host=127.0.0.1\nkube2 ansible_host=127.0.0.2\nkube3 ansible_host=127.0.0.3\n\n\
             [nodes:vars]\nansible_port={}\nansible_user={}\nansible_ssh_private_key_file={}\n\
             ansible_ssh_common_args='{}'\nansible_python_interpreter={}\n",
            sshd.port,
            sshd.user,
            sshd.client_key_path.display(),
            ssh_args,
            python.display()
        );
        fs::write(dir.path().join("inventory.ini"), inventory).unwrap();
        fs::create_dir_all(dir.path().join("group_vars")).unwrap();
        fs::write(
            dir.path().join("group_vars/all.yml"),
            "kube_version: v1.31.4\n",
        )
        .unwrap();
        fs::write(dir.path().join("site.yml"), PLAYBOOK).unwrap();
        fs::write(
            dir.path().join("ansible.cfg"),
            "[defaults]\nretry_files_enabled = True\nhost_key_checking = False\n",
        )
        .unwrap();
        Bed { _sshd: sshd, dir }
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    fn nodes_root(&self, engine: &str) -> PathBuf {
        self.path().join(format!("nodes-{engine}"))
    }

    /// Runs `program` with `args`; returns (stdout with timings masked, exit code).
    fn run(&self, engine: &str, program: &Path, args: &[&str]) -> (String, Option<i32>) {
        let root = self.nodes_root(engine);
        let nodes_root = format!("nodes_root={}", root.display());
        let out = Command::new(program)
            .args([
                "-f",
                "1",
                "-i",
                "inventory.ini",
                "site.yml",
                "-e",
                &nodes_root,
            ])
            .args(args)
            .current_dir(self.path())
            .env("ANSIBLE_CONFIG", self.path().join("ansible.cfg"))
            .env("ANSIBLE_NOCOLOR", "1")
            .output()
            .unwrap_or_else(|e| panic!("cannot run {}: {e}", program.display()));
        let text = String::from_utf8_lossy(&out.stdout)
            .replace(&root.display().to_string(), "<ROOT>")
            .replace(&self.path().display().to_string(), "<BED>");
        let re = regex::Regex::new(r#""(delta|start|end)": "[0-9:. -]+""#).unwrap();
        (
            re.replace_all(&text, r#""$1": "<masked>""#).into_owned(),
            out.status.code(),
        )
    }

    fn retry(&self) -> Option<String> {
        fs::read_to_string(self.path().join("site.retry")).ok()
    }
}

fn reference() -> Option<PathBuf> {
    rsible_testsupport::reference_bin_dir().map(|dir| dir.join("ansible-playbook"))
}

/// Files under a nodes root with their permission bits and contents, for
/// comparing end states. The mode of the file the shell task creates comes
/// from the umask the module ran under (the login's, 022 here), which the
/// agent must hand on unchanged.
fn tree(root: &Path) -> Vec<(String, String, String)> {
    use std::os::unix::fs::PermissionsExt;
    let mut out = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        let Ok(entries) = fs::read_dir(&dir) else {
            continue;
        };
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else {
                let rel = p.strip_prefix(root).unwrap().display().to_string();
                let mode = fs::metadata(&p)
                    .map(|m| format!("{:04o}", m.permissions().mode() & 0o7777))
                    .unwrap_or_default();
                out.push((rel, mode, fs::read_to_string(&p).unwrap_or_default()));
            }
        }
    }
    out.sort();
    out
}

#[test]
fn failure_retry_and_limits_over_ssh() {
    let Some(ansible) = reference() else { return };
    let rsible = PathBuf::from(env!("CARGO_BIN_EXE_rsible-playbook"));
    let python = ansible.with_file_name("python");
    let bed = Bed::new(&python);
    let steps: Vec<(&str, Vec<&str>)> = vec![
        ("kube2 fails", vec!["-e", "fail_on=kube2"]),
        ("rerun the retry file", vec!["--limit", "@site.retry"]),
        (
            "limit with exclusion",
            vec![
                "--limit",
                "nodes:!kube1",
                "-e",
                "{\"kube_version\": \"v1.32.0\"}",
            ],
        ),
        (
            "check mode with diff",
            vec!["--check", "--diff", "-e", "kube_version=v1.33.0"],
        ),
    ];
    for (what, args) in steps {
        // The reference first, then rsible on its own copy of the hosts' files;
        // the retry file the reference wrote is what rsible's step reads too.
        let retry_before = bed.retry();
        let want = bed.run("ansible", &ansible, &args);
        let retry_ansible = bed.retry();
        if let Some(r) = &retry_before {
            fs::write(bed.path().join("site.retry"), r).unwrap();
        } else {
            let _ = fs::remove_file(bed.path().join("site.retry"));
        }
        let got = bed.run("rsible", &rsible, &args);
        let retry_rsible = bed.retry();
        assert_eq!(want, got, "step '{what}': stdout and exit code differ");
        if what == "check mode with diff" {
            assert!(
                got.0.contains(
                    "+++ after: <ROOT>/kube1/etc/version\n@@ -1 +1 @@\n-v1.31.4\n+v1.33.0\n"
                ),
                "the diff is shown: {}",
                got.0
            );
        }
        assert_eq!(
            retry_ansible, retry_rsible,
            "step '{what}': retry files differ"
        );
        assert_eq!(
            tree(&bed.nodes_root("ansible")),
            tree(&bed.nodes_root("rsible")),
            "step '{what}': the hosts' files differ"
        );
    }
    // The first step really failed kube2 only, and the rerun completed it.
    let files = tree(&bed.nodes_root("rsible"));
    assert!(
        files.iter().any(|(p, _, _)| p == "kube2/etc/complete"),
        "kube2 completed on the rerun: {files:?}"
    );
    assert!(
        files
            .iter()
            .any(|(p, _, c)| p == "kube3/etc/version" && c == "v1.32.0\n"),
        "-e JSON override applied: {files:?}"
    );
    assert!(
        files
            .iter()
            .any(|(p, _, c)| p == "kube1/etc/version" && c == "v1.31.4\n"),
        "--limit kept kube1 out: {files:?}"
    );
}
