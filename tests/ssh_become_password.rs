//! become with passwords over real SSH, and secrets that never leak.
//!
//! The bed logs in as a user made for the test whose sudo asks for a
//! password, and has a second user to `su` to. Both are removed, with their
//! sudoers.d entry, when the test ends. The ad hoc cases run under the
//! reference `ansible` too and must print the same; the leak test scans
//! every process's command line while a playbook runs, and the run's
//! output, retry file, fact cache and files, for the secrets.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use rsible_testsupport::TestSshd;

/// Users and a sudoers.d entry that exist while it lives.
struct Users {
    login: String,
    login_password: String,
    su_target: String,
    su_password: String,
    sudoers: PathBuf,
}

fn sh(cmd: &str, what: &str) {
    let out = Command::new("/bin/sh")
        .args(["-c", cmd])
        .output()
        .unwrap_or_else(|e| panic!("prerequisite missing: /bin/sh: {e}"));
    assert!(
        out.status.success(),
        "prerequisite missing: {what}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

impl Users {
    /// `tag` keeps the names of tests running in one process apart.
    fn create(tag: char) -> Users {
        let id = format!("{}{tag}", std::process::id() % 100_000);
        let users = Users {
            login: format!("rsbpw{id}"),
            login_password: format!("Sudo-{id}-pw!"),
            su_target: format!("rsbsu{id}"),
            su_password: format!("Su-{id}-pw?"),
            sudoers: PathBuf::from(format!("/etc/sudoers.d/rsible-test-{id}")),
        };
        for (user, pw) in [
            (&users.login, &users.login_password),
            (&users.su_target, &users.su_password),
        ] {
            sh(&format!("useradd -m -s /bin/sh {user}"), "useradd");
            // chpasswd reads the pair on stdin: the password is on no command line.
            let mut child = Command::new("chpasswd")
                .stdin(Stdio::piped())
                .spawn()
                .expect("prerequisite missing: chpasswd");
            writeln!(child.stdin.take().unwrap(), "{user}:{pw}").unwrap();
            assert!(child.wait().unwrap().success(), "chpasswd failed");
        }
        fs::write(&users.sudoers, format!("{} ALL=(ALL) ALL\n", users.login)).unwrap();
        sh(
            &format!("chmod 0440 {}", users.sudoers.display()),
            "chmod sudoers",
        );
        users
    }
}

impl Drop for Users {
    fn drop(&mut self) {
        let _ = fs::remove_file(&self.sudoers);
        for user in [&self.login, &self.su_target] {
            let _ = Command::new("pkill").args(["-KILL", "-u", user]).status();
            let _ = Command::new("userdel").args(["-r", user]).output();
        }
    }
}

struct Bed {
    _sshd: TestSshd,
    users: Users,
    dir: tempfile::TempDir,
}

impl Bed {
    fn new(tag: char) -> Bed {
        let users = Users::create(tag);
        let sshd = TestSshd::start().expect("a loopback sshd must start");
        // sshd reads the authorized keys as the logging-in user.
        sh(
            &format!(
                "chmod 0755 {0} && chmod 0644 {0}/authorized_keys",
                sshd.dir().display()
            ),
            "chmod sshd dir",
        );
        let dir = tempfile::tempdir().unwrap();
        let python = Path::new("/usr/bin/python3");
        assert!(python.exists(), "prerequisite missing: /usr/bin/python3");
        fs::write(
            dir.path().join("inventory.ini"),
            format!(
                "node ansible_host=127.0.0.1 ansible_port={} ansible_user={} \
                 ansible_ssh_private_key_file={} ansible_python_interpreter={}\n",
                sshd.port,
                users.login,
                sshd.client_key_path.display(),
                python.display()
            ),
        )
        .unwrap();
        fs::write(
            dir.path().join("ansible.cfg"),
            format!(
                "[defaults]\nhost_key_checking = False\nfact_caching = jsonfile\n\
                 allow_world_readable_tmpfiles = True\n\
                 fact_caching_connection = {}\n\
                 [ssh_connection]\npipelining = True\n\
                 ssh_args = -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null\n",
                dir.path().join("facts").display()
            ),
        )
        .unwrap();
        Bed {
            _sshd: sshd,
            users,
            dir,
        }
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Runs `program` in a new session (no controlling terminal, so `-K`
    /// reads stdin as Python's getpass does); returns (stdout, stderr, code).
    fn run(&self, program: &Path, args: &[&str], stdin: &str) -> (String, String, Option<i32>) {
        let mut child = Command::new("setsid")
            .arg("-w")
            .arg(program)
            .args(["-f", "1", "-i", "inventory.ini"])
            .args(args)
            .current_dir(self.path())
            .env("ANSIBLE_CONFIG", self.path().join("ansible.cfg"))
            .env("ANSIBLE_NOCOLOR", "1")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot run {}: {e}", program.display()));
        let _ = child.stdin.take().unwrap().write_all(stdin.as_bytes());
        let out = child.wait_with_output().unwrap();
        (
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
            out.status.code(),
        )
    }
}

fn reference() -> Option<PathBuf> {
    rsible_testsupport::reference_bin_dir()
}

fn rsible_bin(name: &str) -> PathBuf {
    PathBuf::from(match name {
        "rsible" => env!("CARGO_BIN_EXE_rsible"),
        "rsible-playbook" => env!("CARGO_BIN_EXE_rsible-playbook"),
        _ => env!("CARGO_BIN_EXE_rsible-vault"),
    })
}

#[test]
fn become_passwords_match_ansible() {
    let ref_bin = reference();
    let bed = Bed::new('a');
    let right = bed.users.login_password.clone();
    let su_pw = bed.users.su_password.clone();
    let su_user = bed.users.su_target.clone();
    let pw_var = format!("ansible_become_password={right}");
    let su_var = format!("ansible_become_password={su_pw}");
    let cases: Vec<(&str, Vec<&str>, String)> = vec![
        (
            "no password",
            vec!["node", "-b", "-a", "whoami"],
            String::new(),
        ),
        (
            "-K",
            vec!["node", "-b", "-K", "-a", "whoami"],
            format!("{right}\n"),
        ),
        (
            "-K wrong",
            vec!["node", "-b", "-K", "-a", "whoami"],
            "nope\n".into(),
        ),
        (
            "variable",
            vec!["node", "-b", "-a", "whoami", "-e", &pw_var],
            String::new(),
        ),
        (
            "su",
            vec![
                "node",
                "-b",
                "--become-method",
                "su",
                "--become-user",
                &su_user,
                "-a",
                "whoami",
                "-e",
                &su_var,
            ],
            String::new(),
        ),
        (
            "su wrong",
            vec![
                "node",
                "-b",
                "--become-method",
                "su",
                "--become-user",
                &su_user,
                "-a",
                "whoami",
                "-e",
                "ansible_become_password=bad",
            ],
            String::new(),
        ),
    ];
    let rsible = rsible_bin("rsible");
    for (what, args, stdin) in &cases {
        let got = bed.run(&rsible, args, stdin);
        match *what {
            "-K" | "variable" => {
                assert_eq!(got.2, Some(0), "{what}: {got:?}");
                assert_eq!(got.0, "node | CHANGED | rc=0 >>\nroot\n", "{what}");
            }
            "su" => assert_eq!(got.0, format!("node | CHANGED | rc=0 >>\n{su_user}\n")),
            _ => assert_eq!(got.2, Some(2), "{what}: {got:?}"),
        }
        assert!(
            !got.0.contains(&right) && !got.1.contains(&right),
            "{what}: password printed"
        );
        if let Some(bin) = &ref_bin {
            let want = bed.run(&bin.join("ansible"), args, stdin);
            assert_eq!(
                (&want.0, want.2),
                (&got.0, got.2),
                "case '{what}' differs from ansible"
            );
        }
    }

    // A vaulted, per-host password: host_vars/node.yml encrypted whole.
    fs::create_dir_all(bed.path().join("host_vars")).unwrap();
    fs::write(
        bed.path().join("host_vars/node.yml"),
        format!("ansible_become_pass: \"{right}\"\n"),
    )
    .unwrap();
    fs::write(bed.path().join("vault-pw"), "vault-secret-1\n").unwrap();
    let out = Command::new(rsible_bin("rsible-vault"))
        .args([
            "encrypt",
            "host_vars/node.yml",
            "--vault-password-file",
            "vault-pw",
        ])
        .current_dir(bed.path())
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    let args = [
        "node",
        "-b",
        "-a",
        "whoami",
        "--vault-password-file",
        "vault-pw",
    ];
    let got = bed.run(&rsible, &args, "");
    assert_eq!(got.0, "node | CHANGED | rc=0 >>\nroot\n", "{got:?}");
    if let Some(bin) = &ref_bin {
        let want = bed.run(&bin.join("ansible"), &args, "");
        assert_eq!(want.0, got.0);
    }
}

const LEAK_PLAYBOOK: &str = r#"---
- name: secrets stay secret
  hosts: all
  gather_facts: true
  become: true
  tasks:
    - name: As root, through sudo with the vaulted password
      ansible.builtin.command: id -un
      changed_when: false

    - name: A secret in a no_log task (in the environment, not on a command line)
      ansible.builtin.shell: 'test -n "$API_TOKEN" && sleep 1'
      environment:
        API_TOKEN: "{{ api_token }}"
      no_log: true
      changed_when: false

    - name: Fail so that a retry file is written
      ansible.builtin.command: "false"
"#;

/// Every process's command line, as text.
fn all_cmdlines() -> Vec<String> {
    let mut out = Vec::new();
    for e in fs::read_dir("/proc").into_iter().flatten().flatten() {
        if let Ok(bytes) = fs::read(e.path().join("cmdline")) {
            out.push(String::from_utf8_lossy(&bytes).replace('\0', " "));
        }
    }
    out
}

#[test]
fn secrets_never_leak() {
    let bed = Bed::new('b');
    let become_pw = bed.users.login_password.clone();
    let vault_pw = "vault-Secret-2-xyz".to_string();
    let token = "TOKEN-no-log-8c1e".to_string();
    fs::create_dir_all(bed.path().join("host_vars")).unwrap();
    fs::write(
        bed.path().join("host_vars/node.yml"),
        format!("ansible_become_password: \"{become_pw}\"\napi_token: \"{token}\"\n"),
    )
    .unwrap();
    fs::write(bed.path().join("vault-pw"), format!("{vault_pw}\n")).unwrap();
    let out = Command::new(rsible_bin("rsible-vault"))
        .args([
            "encrypt",
            "host_vars/node.yml",
            "--vault-password-file",
            "vault-pw",
        ])
        .current_dir(bed.path())
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    fs::write(bed.path().join("site.yml"), LEAK_PLAYBOOK).unwrap();
    let secrets = [become_pw.as_str(), vault_pw.as_str(), token.as_str()];

    // Sample every process's command line while the run goes on.
    let stop = Arc::new(AtomicBool::new(false));
    let sampler = {
        let stop = Arc::clone(&stop);
        let secrets: Vec<String> = secrets.iter().map(|s| s.to_string()).collect();
        std::thread::spawn(move || {
            let (mut samples, mut hits) = (0usize, Vec::new());
            while !stop.load(Ordering::Relaxed) {
                for line in all_cmdlines() {
                    if secrets.iter().any(|s| line.contains(s.as_str())) {
                        hits.push(line);
                    }
                }
                samples += 1;
                std::thread::sleep(std::time::Duration::from_millis(5));
            }
            (samples, hits)
        })
    };
    let (stdout, stderr, code) = bed.run(
        &rsible_bin("rsible-playbook"),
        &["site.yml", "-vvv", "--vault-password-file", "vault-pw"],
        "",
    );
    stop.store(true, Ordering::Relaxed);
    let (samples, hits) = sampler.join().unwrap();
    assert!(
        samples >= 10,
        "too few samples ({samples}) to mean anything"
    );
    assert!(
        hits.is_empty(),
        "a secret appeared on a command line: {hits:?}"
    );
    assert_eq!(
        code,
        Some(2),
        "the run should fail its last task:\n{stdout}\n{stderr}"
    );
    assert!(
        stdout.contains("the output has been hidden due to the fact that 'no_log: true'"),
        "{stdout}"
    );
    for s in secrets {
        assert!(!stdout.contains(s), "stdout holds a secret:\n{stdout}");
        assert!(!stderr.contains(s), "stderr holds a secret:\n{stderr}");
    }
    let retry = fs::read_to_string(bed.path().join("site.retry")).expect("a retry file");
    assert_eq!(retry, "node\n");
    assert!(
        fs::read_dir(bed.path().join("facts")).is_ok_and(|mut d| d.next().is_some()),
        "the fact cache was not written"
    );
    // Every file the run left (the password file itself aside), on the
    // controller and in the users' homes on the target.
    let mut roots = vec![bed.path().to_path_buf()];
    roots.push(PathBuf::from(format!("/home/{}", bed.users.login)));
    let mut checked = 0;
    while let Some(dir) = roots.pop() {
        for e in fs::read_dir(&dir).into_iter().flatten().flatten() {
            let p = e.path();
            if p.is_dir() {
                roots.push(p);
            } else if p != bed.path().join("vault-pw") {
                let body = String::from_utf8_lossy(&fs::read(&p).unwrap_or_default()).into_owned();
                checked += 1;
                for s in secrets {
                    assert!(!body.contains(s), "{} holds a secret", p.display());
                }
            }
        }
    }
    assert!(checked >= 4, "too few files checked ({checked})");
}
