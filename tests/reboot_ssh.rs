//! `reboot` over a real loopback sshd, run by the reference ansible-playbook
//! and by rsible on the same hosts. A "reboot" is played by a gate in front
//! of the sshd: the host's `reboot_command` is a script that stages a new
//! boot id and asks for a reboot; the gate then cuts every open connection,
//! refuses new ones, puts the new boot id in place and, after a downtime,
//! accepts again (or never, for the host that does not come back).
//! - `node1`: comes back after 3 s; with no `reboot_command`, its `shutdown`
//!   (the fake) is found through `search_paths` (the `find` step) and run with
//!   the Linux arguments and `msg`, which it writes into the new boot id; the
//!   task after the reboot runs on it (new connection);
//! - `node2`: never comes back: Ansible's "Timed out waiting for last boot time
//!   check (timeout=3)", FAILED (not unreachable), rebooted true;
//! - `broken`: its reboot command fails: "Reboot command failed. Error was: ...",
//!   rebooted false;
//! - `steady`: skips the reboot and finishes the play.
//!
//! stdout of both engines must match once `elapsed` values are masked.
//! Needs RSIBLE_REF_BIN; without it the test fails unless RSIBLE_SKIP_DIFFERENTIAL=1.

use std::fs;
use std::net::{Shutdown, TcpListener, TcpStream};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use rsible_testsupport::{
    forward, free_loopback_port, run_playbook, write_files, PlaybookRun as Run, TestSshd,
};

const PLAYBOOK: &str = r#"
- hosts: nodes
  gather_facts: false
  tasks:
    - name: Check mode reboots nothing
      ansible.builtin.reboot:
        reboot_timeout: 5
      check_mode: true
      register: checked

    - name: Show the check mode result
      ansible.builtin.debug:
        msg: "{{ checked }}"
      when: inventory_hostname == 'steady'

    - name: Reboot the node
      ansible.builtin.reboot:
        reboot_command: "{{ reboot_cmd | default(omit) }}"
        search_paths: ["{{ node_dir }}"]
        boot_time_command: "cat {{ node_dir }}/boot_id"
        reboot_timeout: "{{ reboot_wait }}"
        connect_timeout: 2
        msg: "The system is going down for reboot NOW!"
        post_reboot_delay: 1
      register: rebooted
      when: inventory_hostname != 'steady'

    - name: Show the result
      ansible.builtin.debug:
        msg: "{{ rebooted.rebooted | default('skipped') }} {{ rebooted.changed }}"

    - name: Run a command after the reboot
      ansible.builtin.command: cat {{ node_dir }}/boot_id
      register: boot
      changed_when: false

    - name: Show the boot id
      ansible.builtin.debug:
        var: boot.stdout
"#;

/// A shutdown command that refuses.
const FAILING_REBOOT: &str = "#!/bin/sh\necho not now\necho refused >&2\nexit 3\n";

/// Stages the next boot id (naming the arguments it was given) and asks the
/// gate for a reboot, as `shutdown -r` would.
const FAKE_REBOOT: &str = "#!/bin/sh\n\
dir=$(dirname \"$0\")\n\
echo \"booted-again $*\" > \"$dir/boot_id.next\"\n\
date +%s%N > \"$dir/requested-at\"\n\
touch \"$dir/reboot-requested\"\n";

/// Forwards `port` to the sshd while the host is "up"; reboots it when its
/// directory holds `reboot-requested`. Stops when dropped.
struct Gate {
    stop: Arc<AtomicBool>,
}

impl Gate {
    fn start(port: u16, to: u16, dir: PathBuf, downtime: Option<Duration>) -> Gate {
        let stop = Arc::new(AtomicBool::new(false));
        let flag = stop.clone();
        thread::spawn(move || {
            let mut listener = bind(port);
            let mut open: Vec<TcpStream> = Vec::new();
            // Not bound at once (the port was free a moment ago, something
            // holds it now): come up as soon as it can, as after a reboot.
            let mut up_at: Option<Instant> = listener.is_none().then(Instant::now);
            let request = dir.join("reboot-requested");
            while !flag.load(Ordering::Relaxed) {
                if listener.is_some() && request.exists() {
                    // Let the reboot command's own session end first, as a
                    // real `shutdown -r` returns before the host goes down.
                    thread::sleep(Duration::from_millis(300));
                    let _ = fs::remove_file(&request);
                    listener = None;
                    for conn in open.drain(..) {
                        let _ = conn.shutdown(Shutdown::Both);
                    }
                    let _ = fs::rename(dir.join("boot_id.next"), dir.join("boot_id"));
                    up_at = downtime.map(|d| Instant::now() + d);
                }
                // Bound again only once it can be: while the host is down, an
                // outgoing connection may hold the port as its local end for
                // a moment; giving up would leave the host down for good.
                if listener.is_none() && up_at.is_some_and(|t| Instant::now() >= t) {
                    listener = bind(port);
                    if listener.is_none() {
                        thread::sleep(Duration::from_millis(20));
                        continue;
                    }
                    up_at = None;
                    // When the host came back, in the clock `date +%s%N` reads.
                    let now = std::time::SystemTime::now()
                        .duration_since(std::time::UNIX_EPOCH)
                        .map_or(0, |d| d.as_nanos());
                    let _ = fs::write(dir.join("up-at"), format!("{now}\n"));
                }
                match listener.as_ref().map(TcpListener::accept) {
                    Some(Ok((client, _))) => open.extend(forward(client, to)),
                    _ => thread::sleep(Duration::from_millis(20)),
                }
            }
        });
        Gate { stop }
    }
}

fn bind(port: u16) -> Option<TcpListener> {
    let listener = TcpListener::bind(("127.0.0.1", port)).ok()?;
    listener.set_nonblocking(true).ok()?;
    Some(listener)
}

impl Drop for Gate {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

/// A node's directory with its boot id and reboot script.
fn node_dir(base: &Path, name: &str) -> PathBuf {
    let dir = base.join(name);
    fs::create_dir_all(&dir).expect("node dir");
    for stale in ["requested-at", "up-at"] {
        let _ = fs::remove_file(dir.join(stale));
    }
    fs::write(dir.join("boot_id"), "first-boot\n").expect("boot id");
    let script = dir.join("shutdown");
    fs::write(&script, FAKE_REBOOT).expect("script");
    fs::set_permissions(&script, fs::Permissions::from_mode(0o755)).expect("chmod");
    dir
}

/// Runs `program` on fresh nodes (new ports, boot ids back to the first)
/// with `forks`; node1 stays down for `downtime`.
fn run(
    program: &Path,
    dir: &Path,
    sshd: &TestSshd,
    python: &str,
    forks: &str,
    downtime: Duration,
) -> Run {
    let (port1, port2) = (free_loopback_port(), free_loopback_port());
    let (dir1, dir2, dir_steady) = (
        node_dir(dir, "node1"),
        node_dir(dir, "node2"),
        node_dir(dir, "steady"),
    );
    let dir_broken = node_dir(dir, "broken");
    let failing = dir_broken.join("failing-reboot");
    fs::write(&failing, FAILING_REBOOT).expect("script");
    fs::set_permissions(&failing, fs::Permissions::from_mode(0o755)).expect("chmod");
    let inventory = format!(
        "[nodes]\n\
         node1 ansible_host=127.0.0.1 ansible_port={port1} node_dir={} reboot_wait=60\n\
         node2 ansible_host=127.0.0.1 ansible_port={port2} node_dir={} reboot_wait=3\n\
         broken ansible_host=127.0.0.1 ansible_port={} node_dir={} reboot_cmd={}/failing-reboot reboot_wait=5\n\
         steady ansible_host=127.0.0.1 ansible_port={} node_dir={}\n\n\
         [nodes:vars]\n{}ansible_python_interpreter={python}\n",
        dir1.display(),
        dir2.display(),
        sshd.port,
        dir_broken.display(),
        dir_broken.display(),
        sshd.port,
        dir_steady.display(),
        sshd.inventory_login_vars(),
    );
    write_files(dir, &[("inventory.ini", &inventory)]);
    let _gate1 = Gate::start(port1, sshd.port, dir1, Some(downtime));
    let _gate2 = Gate::start(port2, sshd.port, dir2, None);
    let mut run = run_playbook(
        program,
        dir,
        ["-f", forks, "-i", "inventory.ini", "site.yml"],
    );
    let elapsed = regex::Regex::new(r#""elapsed": \d+"#).expect("valid regex");
    let start_key = regex::Regex::new(r#""start": "[0-9T:.+-]+""#).expect("valid regex");
    let stdout = elapsed.replace_all(&run.stdout, r#""elapsed": N"#);
    run.stdout = start_key
        .replace_all(&stdout, r#""start": "T""#)
        .into_owned();
    run
}

#[test]
fn reboots_one_node_and_times_out_on_one_that_stays_down() {
    let Some(ref_bin) = rsible_testsupport::reference_bin_dir() else {
        return;
    };
    let sshd = TestSshd::start()
        .expect("a loopback sshd must start (scripts/test.sh installs openssh-server)");
    let dir = tempfile::tempdir().expect("temp dir");
    // Pipelining is Kubespray's setting. Without it, Ansible's action leaves a
    // temporary directory whose removal fails on a host that stays down, and
    // that connection error replaces the timeout message.
    let config = "[defaults]\nretry_files_enabled = False\nhost_key_checking = False\n\
                  [ssh_connection]\npipelining = True\n";
    write_files(
        dir.path(),
        &[("site.yml", PLAYBOOK), ("ansible.cfg", config)],
    );
    let python = ref_bin.join("python").display().to_string();

    let rsible = Path::new(env!("CARGO_BIN_EXE_rsible-playbook"));
    let ours = run(
        rsible,
        dir.path(),
        &sshd,
        &python,
        "1",
        Duration::from_secs(3),
    );
    let describe = |r: &Run| {
        format!(
            "exit {:?} after {:?}\nstdout:\n{}\nstderr:\n{}",
            r.code, r.took, r.stdout, r.stderr
        )
    };
    assert_eq!(ours.code, Some(2), "{}", describe(&ours));
    for want in [
        "changed: [node1]",
        "fatal: [node2]: FAILED! => {\"changed\": false, \"elapsed\": N, \"msg\": \
         \"Timed out waiting for last boot time check (timeout=3)\", \"rebooted\": true}",
        "fatal: [broken]: FAILED! => {\"changed\": false, \"elapsed\": N, \"msg\": \"Reboot command \
         failed. Error was: 'not now\\r\\nrefused, Shared connection to 127.0.0.1 closed.'\", \
         \"rebooted\": false, \"start\": \"T\"}",
        "\"boot.stdout\": \"booted-again -r 0 The system is going down for reboot NOW!\"",
        "\"boot.stdout\": \"first-boot\"",
        "\"msg\": \"True True\"",
    ] {
        assert!(
            ours.stdout.lines().any(|l| l.trim() == want),
            "want the line\n{want}\n{}",
            describe(&ours)
        );
    }
    // Check mode: changed and "rebooted" without touching the host.
    let checked = "ok: [steady] => {\n    \"msg\": {\n        \"changed\": true,\n        \
                   \"elapsed\": N,\n        \"failed\": false,\n        \"rebooted\": true\n    }\n}";
    assert!(
        ours.stdout.contains(checked),
        "want\n{checked}\n{}",
        describe(&ours)
    );
    // node1 is down for 3 s, node2's wait lasts at least 3 s.
    assert!(
        ours.took >= Duration::from_secs(6) && ours.took < Duration::from_secs(120),
        "{}",
        describe(&ours)
    );

    let reference = run(
        &ref_bin.join("ansible-playbook"),
        dir.path(),
        &sshd,
        &python,
        "1",
        Duration::from_secs(3),
    );
    assert_eq!(
        reference.stdout,
        ours.stdout,
        "stdout differs from ansible-playbook's:\n--- ansible\n{}\n--- rsible\n{}",
        describe(&reference),
        describe(&ours)
    );
    assert_eq!(reference.code, ours.code);

    // With forks the hosts reboot side by side: node2 is asked to reboot
    // while node1 is still down (one after the other, node2's turn would
    // only come once node1 was back and had passed its test command). The
    // output stays the host-by-host one.
    let side_by_side = run(
        rsible,
        dir.path(),
        &sshd,
        &python,
        "4",
        Duration::from_secs(10),
    );
    assert_eq!(
        reference.stdout,
        side_by_side.stdout,
        "with -f 4:\n--- ansible\n{}\n--- rsible\n{}",
        describe(&reference),
        describe(&side_by_side)
    );
    let stamp = |node: &str, file: &str| -> u128 {
        let path = dir.path().join(node).join(file);
        fs::read_to_string(&path)
            .unwrap_or_else(|e| panic!("{}: {e}\n{}", path.display(), describe(&side_by_side)))
            .trim()
            .parse()
            .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
    };
    assert!(
        stamp("node2", "requested-at") < stamp("node1", "up-at"),
        "node2 rebooted only after node1 was back:\n{}",
        describe(&side_by_side)
    );
}
