//! `wait_for_connection` over a real loopback sshd, run by the reference
//! ansible-playbook and by rsible on the same hosts:
//! - `late`: its port only accepts connections a few seconds into the run (a
//!   forwarder to the sshd starts late), so the first tries fail and a later
//!   one answers; the tasks after it then run on that host;
//! - `never`: nothing ever listens on its port, so the task fails after
//!   `timeout` with Ansible's "timed out waiting for ping module test: ..."
//!   (FAILED, not UNREACHABLE);
//! - `good`: answers at once.
//!
//! The stdout of both engines must be the same once `elapsed` values are masked;
//! rsible's own run is also checked on its own (status per host, time taken).
//!
//! Needs RSIBLE_REF_BIN; without it the test fails unless RSIBLE_SKIP_DIFFERENTIAL=1.

use std::net::TcpListener;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::Duration;

use rsible_testsupport::{
    forward, free_loopback_port, run_playbook, write_files, PlaybookRun as Run, TestSshd,
};

const PLAYBOOK: &str = r#"
- hosts: nodes
  gather_facts: false
  tasks:
    - name: Wait for the host to answer
      ansible.builtin.wait_for_connection:
        timeout: "{{ wait_timeout }}"
        sleep: 1
        delay: 0
        connect_timeout: 2
      register: waited

    - name: The wait took whole seconds
      ansible.builtin.assert:
        that: waited.elapsed is integer
        quiet: true

    - name: Run a command once the host answers
      ansible.builtin.command: echo {{ inventory_hostname }} is up
      register: up
      changed_when: false

    - name: Show it
      ansible.builtin.debug:
        var: up.stdout
"#;

/// Forwards `port` to `to` from `after` on, until dropped: a host whose sshd
/// comes up late.
struct LateForwarder {
    stop: Arc<AtomicBool>,
}

impl LateForwarder {
    fn start(port: u16, to: u16, after: Duration) -> LateForwarder {
        let stop = Arc::new(AtomicBool::new(false));
        let flag = stop.clone();
        thread::spawn(move || {
            thread::sleep(after);
            // Retried: an outgoing connection may hold the port as its local
            // end for a moment; giving up would leave the host down for good.
            let listener = loop {
                if flag.load(Ordering::Relaxed) {
                    return;
                }
                match TcpListener::bind(("127.0.0.1", port)) {
                    Ok(listener) => break listener,
                    Err(_) => thread::sleep(Duration::from_millis(20)),
                }
            };
            let _ = listener.set_nonblocking(true);
            while !flag.load(Ordering::Relaxed) {
                match listener.accept() {
                    Ok((client, _)) => {
                        forward(client, to);
                    }
                    Err(_) => thread::sleep(Duration::from_millis(20)),
                }
            }
        });
        LateForwarder { stop }
    }
}

impl Drop for LateForwarder {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

/// Runs `program` on a fresh inventory whose `late` host listens after 3 seconds.
fn run(program: &Path, dir: &Path, sshd: &TestSshd, python: &str) -> Run {
    let late_port = free_loopback_port();
    let never_port = free_loopback_port();
    let inventory = format!(
        "[nodes]\n\
         late ansible_host=127.0.0.1 ansible_port={late_port} wait_timeout=30\n\
         never ansible_host=127.0.0.1 ansible_port={never_port} wait_timeout=3\n\
         good ansible_host=127.0.0.1 ansible_port={} wait_timeout=10\n\n\
         [nodes:vars]\n{}ansible_python_interpreter={python}\n",
        sshd.port,
        sshd.inventory_login_vars(),
    );
    write_files(dir, &[("inventory.ini", &inventory)]);
    let _late = LateForwarder::start(late_port, sshd.port, Duration::from_secs(3));
    let mut run = run_playbook(program, dir, ["-f", "1", "-i", "inventory.ini", "site.yml"]);
    let masked = regex::Regex::new(r#""elapsed": \d+"#).expect("valid regex");
    let stdout = masked.replace_all(&run.stdout, r#""elapsed": N"#);
    // The ports differ between the two runs.
    run.stdout = stdout.replace(&format!("port {never_port}:"), "port NEVER:");
    run
}

#[test]
fn waits_for_a_late_host_and_times_out_on_a_dead_one() {
    let Some(ref_bin) = rsible_testsupport::reference_bin_dir() else {
        return;
    };
    let sshd = TestSshd::start()
        .expect("a loopback sshd must start (scripts/test.sh installs openssh-server)");
    let dir = tempfile::tempdir().expect("temp dir");
    write_files(
        dir.path(),
        &[
            ("site.yml", PLAYBOOK),
            (
                "ansible.cfg",
                "[defaults]\nretry_files_enabled = False\nhost_key_checking = False\n",
            ),
        ],
    );
    let python = ref_bin.join("python").display().to_string();

    let ours = run(
        Path::new(env!("CARGO_BIN_EXE_rsible-playbook")),
        dir.path(),
        &sshd,
        &python,
    );
    let describe = |r: &Run| {
        format!(
            "exit {:?} after {:?}\nstdout:\n{}\nstderr:\n{}\nsshd log:\n{}",
            r.code,
            r.took,
            r.stdout,
            r.stderr,
            sshd.log()
        )
    };
    assert_eq!(ours.code, Some(2), "{}", describe(&ours));
    assert!(
        ours.stdout.contains("ok: [late]") && ours.stdout.contains("\"up.stdout\": \"late is up\""),
        "the late host must answer and run the later tasks:\n{}",
        describe(&ours)
    );
    let never_fatal = "fatal: [never]: FAILED! => {\"changed\": false, \"elapsed\": N, \"msg\": \"timed out waiting for ping module test: \
         Failed to connect to the host via ssh: ssh: connect to host 127.0.0.1 port NEVER: Connection refused\"}".to_string();
    assert!(
        ours.stdout.lines().any(|l| l == never_fatal),
        "want the line\n{never_fatal}\n{}",
        describe(&ours)
    );
    // late waits ~3 s for its port, never times out after 3 s (a loaded
    // machine may take much longer, never less).
    assert!(
        ours.took >= Duration::from_millis(5500) && ours.took < Duration::from_secs(150),
        "{}",
        describe(&ours)
    );

    let reference = run(
        &ref_bin.join("ansible-playbook"),
        dir.path(),
        &sshd,
        &python,
    );
    assert_eq!(
        reference.stdout,
        ours.stdout,
        "stdout differs from ansible-playbook's:\n--- ansible\n{}\n--- rsible\n{}",
        describe(&reference),
        describe(&ours)
    );
    assert_eq!(reference.code, ours.code);
}
