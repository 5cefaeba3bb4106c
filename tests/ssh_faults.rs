//! Faults over real SSH (a loopback sshd serving kube1 = 127.0.0.1 and
//! kube2 = 127.0.0.2): Ctrl-C in the middle of a task, and a host whose SSH
//! session is killed in the middle of a task. Each test asserts the end state:
//! exit code, what was printed, the retry file, and that nothing rsible
//! started is still running on the target side.

use std::fs;
use std::io::Read;
use std::path::Path;
use std::process::{Child, Command};
use std::thread::sleep;
use std::time::{Duration, Instant};

use rsible_testsupport::{
    agents_and_commands, assert_none_left, descendants, finish, spawn_playbook, SshdOptions,
    TestSshd,
};

const PLAYBOOK: &str = r#"---
- name: Nap
  hosts: nodes
  gather_facts: false
  tasks:
    - name: Sleep
      ansible.builtin.command: "sleep {{ nap }}"

    - name: After the nap
      ansible.builtin.command: "true"
"#;

/// Bounds for a loaded CI machine, all well under the 41 s naps, so that a
/// run that waited for its task, or a command left running, still fails:
/// an interrupted run must have ended within [`STOPPED_WITHIN_SECS`]
/// ([`finish`] gives up at [`STOP_LIMIT_SECS`]), and nothing of ours may be
/// left on the target [`LEFT_LIMIT_SECS`] after the run ended (a condition
/// waited for: it passes as soon as it holds).
const STOPPED_WITHIN_SECS: u64 = 15;
const STOP_LIMIT_SECS: u64 = 30;
const LEFT_LIMIT_SECS: u64 = 20;

struct Bed {
    sshd: TestSshd,
    dir: tempfile::TempDir,
}

impl Bed {
    /// `naps`: seconds each host sleeps in the first task (kube1, kube2).
    fn new(naps: (&str, &str)) -> Bed {
        Bed::with_kube2_at(naps, "127.0.0.2")
    }

    /// As [`Bed::new`], kube2 at `address`: with 127.0.0.1 both hosts are aliases
    /// of one machine, and kube2's session goes through kube1's ssh master.
    fn with_kube2_at(naps: (&str, &str), address: &str) -> Bed {
        let sshd = TestSshd::start_with(&SshdOptions {
            extra_addresses: vec!["127.0.0.2".into()],
            ..SshdOptions::default()
        })
        .expect("a loopback sshd must start (scripts/test.sh installs openssh-server)");
        let dir = tempfile::tempdir().expect("temp dir");
        let inventory = format!(
            "[nodes]\nkube1 ansible_host=127.0.0.1 nap={}\nkube2 ansible_host={address} nap={}\n\n\
             [nodes:vars]\nansible_port={}\n{}",
            naps.0,
            naps.1,
            sshd.port,
            sshd.inventory_login_vars(),
        );
        fs::write(dir.path().join("inventory.ini"), inventory).unwrap();
        fs::write(dir.path().join("site.yml"), PLAYBOOK).unwrap();
        fs::write(
            dir.path().join("ansible.cfg"),
            "[defaults]\nretry_files_enabled = True\nhost_key_checking = False\n",
        )
        .unwrap();
        Bed { sshd, dir }
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    fn start(&self, extra: &[&str]) -> Child {
        let args = ["-i", "inventory.ini", "site.yml"].iter().chain(extra);
        spawn_playbook(
            Path::new(env!("CARGO_BIN_EXE_rsible-playbook")),
            self.path(),
            args,
        )
    }

    /// Waits until a process started through the sshd runs `marker`.
    fn wait_for_remote(&self, run: &mut Child, marker: &str) {
        let deadline = Instant::now() + Duration::from_secs(60);
        while Instant::now() < deadline {
            if let Ok(Some(status)) = run.try_wait() {
                let mut out = String::new();
                let mut err = String::new();
                if let Some(mut o) = run.stdout.take() {
                    let _ = o.read_to_string(&mut out);
                }
                if let Some(mut e) = run.stderr.take() {
                    let _ = e.read_to_string(&mut err);
                }
                panic!("the run ended ({status}) before '{marker}' started:\n{out}\n{err}");
            }
            if descendants(self.sshd.pid())
                .iter()
                .any(|p| p.cmdline.contains(marker))
            {
                return;
            }
            sleep(Duration::from_millis(50));
        }
        panic!(
            "'{marker}' never started on the target; sshd log:\n{}\nrun's processes: {:#?}\nsshd's: {:#?}",
            self.sshd.log(),
            descendants(run.id()),
            descendants(self.sshd.pid())
        );
    }

    /// Waits up to `limit` for nothing of ours to be left on the target side.
    fn assert_nothing_left(&self, marker: &str, limit: Duration) {
        assert_none_left(limit, || agents_and_commands(self.sshd.pid(), marker));
    }
}

fn signal(pid: u32, sig: &str) {
    let ok = Command::new("kill")
        .args([sig, &pid.to_string()])
        .status()
        .map(|s| s.success())
        .unwrap_or(false);
    assert!(ok, "kill {sig} {pid} failed");
}

fn retry_file(bed: &Bed) -> Option<String> {
    fs::read_to_string(bed.path().join("site.retry")).ok()
}

#[test]
fn interrupt_stops_the_run_and_every_agent() {
    for sig in ["-INT", "-TERM"] {
        let bed = Bed::new(("41.25", "41.25"));
        let mut child = bed.start(&[]);
        let pid = child.id();
        bed.wait_for_remote(&mut child, "sleep 41.25");
        signal(pid, sig);
        let run = finish(child, Duration::from_secs(STOP_LIMIT_SECS));
        assert_eq!(
            run.code,
            Some(99),
            "{sig}: exit code; stderr: {}",
            run.stderr
        );
        assert!(
            run.took < Duration::from_secs(STOPPED_WITHIN_SECS),
            "{sig}: took {:?} to stop",
            run.took
        );
        assert!(
            run.stderr.contains(" [ERROR]: User interrupted execution"),
            "{sig}: stderr: {}",
            run.stderr
        );
        assert!(run.stdout.contains("TASK [Sleep]"), "{}", run.stdout);
        assert!(!run.stdout.contains("PLAY RECAP"), "{}", run.stdout);
        bed.assert_nothing_left("sleep 41.25", Duration::from_secs(LEFT_LIMIT_SECS));
    }
}

/// Kills this run's ssh client process(es) for `address` (argv element equal
/// to the address, as our ssh command line puts it).
fn kill_ssh_to(run_pid: u32, address: &str) -> usize {
    let victims: Vec<u32> = descendants(run_pid)
        .into_iter()
        .filter(|p| p.argv.first().is_some_and(|a| a.ends_with("ssh")))
        .filter(|p| {
            p.argv
                .iter()
                .any(|a| a == address || a.ends_with(&format!("@{address}")))
        })
        .map(|p| p.pid)
        .collect();
    for pid in &victims {
        signal(*pid, "-KILL");
    }
    victims.len()
}

#[test]
fn killed_ssh_session_makes_the_host_unreachable_and_the_retry_reruns_it() {
    let bed = Bed::new(("42.5", "0.1"));
    let mut child = bed.start(&["-f", "1"]);
    let pid = child.id();
    bed.wait_for_remote(&mut child, "sleep 42.5");
    assert!(
        kill_ssh_to(pid, "127.0.0.1") > 0,
        "no ssh process of the run connects to 127.0.0.1: {:#?}",
        descendants(pid)
    );
    let run = finish(child, Duration::from_secs(60));
    assert_eq!(
        run.code,
        Some(4),
        "exit code; stdout:\n{}\nstderr:\n{}",
        run.stdout,
        run.stderr
    );
    assert!(
        run.stdout.contains("fatal: [kube1]: UNREACHABLE!"),
        "{}",
        run.stdout
    );
    run.assert_recap("kube1", "ok=0 changed=0 unreachable=1 failed=0");
    run.assert_recap("kube2", "ok=2 changed=2 unreachable=0 failed=0");
    assert_eq!(retry_file(&bed).as_deref(), Some("kube1\n"));
    // The agent that ran kube1's sleep saw its controller go and stopped it.
    bed.assert_nothing_left("sleep 42.5", Duration::from_secs(LEFT_LIMIT_SECS));

    let rerun = finish(
        bed.start(&["--limit", "@site.retry", "-e", "nap=0.1"]),
        Duration::from_secs(60),
    );
    assert_eq!(
        rerun.code,
        Some(0),
        "rerun:\n{}\n{}",
        rerun.stdout,
        rerun.stderr
    );
    assert!(
        rerun.stdout.contains("changed: [kube1]"),
        "{}",
        rerun.stdout
    );
    assert!(!rerun.stdout.contains("[kube2]"), "{}", rerun.stdout);
}

/// This run's ssh client processes to 127.0.0.1 (the first connection's, which set
/// up the master; later sessions on the master need none).
fn ssh_clients(run_pid: u32) -> usize {
    descendants(run_pid)
        .into_iter()
        .filter(|p| p.argv.first().is_some_and(|a| a.ends_with("ssh")))
        .filter(|p| p.argv.iter().any(|a| a == "127.0.0.1"))
        .count()
}

/// Waits until `count` processes on the target run `marker`.
fn wait_for_count(bed: &Bed, marker: &str, count: usize) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while descendants(bed.sshd.pid())
        .iter()
        .filter(|p| p.cmdline.starts_with(marker))
        .count()
        < count
    {
        assert!(Instant::now() < deadline, "{count} x '{marker}' never ran");
        sleep(Duration::from_millis(50));
    }
}

#[test]
fn interrupt_stops_sessions_opened_on_the_master_too() {
    let bed = Bed::with_kube2_at(("41.75", "41.75"), "127.0.0.1");
    let mut child = bed.start(&[]);
    let pid = child.id();
    bed.wait_for_remote(&mut child, "sleep 41.75");
    wait_for_count(&bed, "sleep 41.75", 2);
    assert_eq!(
        ssh_clients(pid),
        1,
        "kube2's session goes through kube1's master, without an ssh process: {:#?}",
        descendants(pid)
    );
    signal(pid, "-INT");
    let run = finish(child, Duration::from_secs(STOP_LIMIT_SECS));
    assert_eq!(run.code, Some(99), "stderr: {}", run.stderr);
    assert!(
        run.took < Duration::from_secs(STOPPED_WITHIN_SECS),
        "took {:?}",
        run.took
    );
    assert!(
        run.stderr.contains(" [ERROR]: User interrupted execution"),
        "{}",
        run.stderr
    );
    bed.assert_nothing_left("sleep 41.75", Duration::from_secs(LEFT_LIMIT_SECS));
}

/// The ssh master of kube1 and kube2, found by its control socket (rsible's
/// default ControlPath, `~/.rsible/cp/%C`, expanded by `ssh -G`): ssh retitles
/// the master `ssh: <socket> [mux]`.
fn kill_master(bed: &Bed) {
    let home = std::env::var("HOME").unwrap_or_else(|_| "/tmp".into());
    let out = Command::new("ssh")
        .args(["-G", "-o", &format!("ControlPath={home}/.rsible/cp/%C")])
        .args(["-o", &format!("Port={}", bed.sshd.port)])
        .args(["-o", &format!("User={}", bed.sshd.user), "127.0.0.1"])
        .output()
        .expect("ssh -G");
    let config = String::from_utf8_lossy(&out.stdout).into_owned();
    let socket = config
        .lines()
        .find_map(|l| l.strip_prefix("controlpath "))
        .unwrap_or_else(|| panic!("no controlpath in ssh -G output: {config}"))
        .to_string();
    let masters: Vec<u32> = descendants(1)
        .into_iter()
        .filter(|p| p.cmdline.contains(&socket) && p.cmdline.contains("[mux]"))
        .map(|p| p.pid)
        .collect();
    assert_eq!(masters.len(), 1, "one master on {socket}");
    signal(masters[0], "-KILL");
}

#[test]
fn a_killed_master_makes_its_hosts_unreachable() {
    let bed = Bed::with_kube2_at(("42.75", "42.75"), "127.0.0.1");
    let mut child = bed.start(&[]);
    bed.wait_for_remote(&mut child, "sleep 42.75");
    wait_for_count(&bed, "sleep 42.75", 2);
    kill_master(&bed);
    let run = finish(child, Duration::from_secs(60));
    assert_eq!(run.code, Some(4), "{}\n{}", run.stdout, run.stderr);
    for host in ["kube1", "kube2"] {
        assert!(
            run.stdout
                .contains(&format!("fatal: [{host}]: UNREACHABLE!")),
            "{}",
            run.stdout
        );
    }
    bed.assert_nothing_left("sleep 42.75", Duration::from_secs(LEFT_LIMIT_SECS));
}
