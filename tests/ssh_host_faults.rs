//! Hosts that misbehave, over a real loopback sshd: one that refuses the
//! connection, one that never answers, one whose agent is killed mid-task,
//! one whose disk fills up during copy/template, and flaky ones that only
//! answer after a few tries (`ansible_ssh_retries`). In each, a healthy host
//! runs beside the faulty one, and the test asserts the end state: exit code,
//! each host's status and recap line, the retry file, the files in every
//! host's directory (no temporary or half-written files) and no agent or
//! command of ours left running on the target side.

use std::collections::BTreeSet;
use std::fs;
use std::io::Read;
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::{self, sleep};
use std::time::{Duration, Instant};

use rsible_testsupport::{
    agents_and_commands, assert_none_left, descendants, finish, spawn_playbook, PlaybookRun,
    SshdOptions, TestSshd,
};

/// How long after a run nothing of ours may be left on the target: waited
/// for (it passes as soon as it holds), generous for a loaded CI machine and
/// well under the 43.75 s nap, so that a command left running still fails.
const LEFT_LIMIT_SECS: u64 = 20;

/// A project (inventory, playbook, ansible.cfg) and the sshd its hosts use.
struct Bed {
    sshd: TestSshd,
    dir: tempfile::TempDir,
}

/// Host lines are `name key=value ...`; the group `nodes` gets the sshd's
/// connection settings and a `work_dir` of its own per host.
impl Bed {
    fn new(opts: SshdOptions, hosts: &[&str], playbook: &str) -> Bed {
        let sshd = TestSshd::start_with(&opts)
            .expect("a loopback sshd must start (scripts/test.sh installs openssh-server)");
        let dir = tempfile::tempdir().expect("temp dir");
        let mut inventory = String::from("[nodes]\n");
        for line in hosts {
            if line.contains(" work_dir=") {
                inventory.push_str(&format!("{line}\n"));
                continue;
            }
            let name = line.split_whitespace().next().unwrap_or_default();
            let work = dir.path().join("hosts").join(name);
            fs::create_dir_all(&work).unwrap();
            inventory.push_str(&format!("{line} work_dir={}\n", work.display()));
        }
        inventory.push_str(&format!(
            "\n[nodes:vars]\nansible_port={}\n{}",
            sshd.port,
            sshd.inventory_login_vars(),
        ));
        fs::write(dir.path().join("inventory.ini"), inventory).unwrap();
        fs::write(dir.path().join("site.yml"), playbook).unwrap();
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

    fn work_dir(&self, host: &str) -> PathBuf {
        self.path().join("hosts").join(host)
    }

    fn start(&self, extra: &[&str]) -> Child {
        let args = ["-i", "inventory.ini", "site.yml", "-f", "5"]
            .iter()
            .chain(extra);
        spawn_playbook(
            Path::new(env!("CARGO_BIN_EXE_rsible-playbook")),
            self.path(),
            args,
        )
    }

    fn run(&self, extra: &[&str]) -> PlaybookRun {
        finish(self.start(extra), Duration::from_secs(90))
    }

    fn retry_file(&self) -> Option<String> {
        fs::read_to_string(self.path().join("site.retry")).ok()
    }

    /// Every process on the machine running `marker` (orphans included: a
    /// command whose agent was killed is re-parented away from the sshd).
    fn anywhere(marker: &str) -> Vec<String> {
        descendants(1)
            .into_iter()
            .filter(|p| p.cmdline.contains(marker) && !p.cmdline.contains("ssh_host_faults"))
            .map(|p| format!("{} {}", p.pid, p.cmdline))
            .collect()
    }

    /// Waits up to `limit` for no agent or `marker` command of ours to be
    /// left, under the sshd or anywhere else.
    fn assert_nothing_left(&self, marker: &str, limit: Duration) {
        assert_none_left(limit, || {
            let mut left = agents_and_commands(self.sshd.pid(), marker);
            left.extend(Self::anywhere(marker));
            left
        });
    }
}

/// Names in a directory, sorted.
fn listing(dir: &Path) -> BTreeSet<String> {
    fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("cannot list {}: {e}", dir.display()))
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect()
}

fn names(list: &[&str]) -> BTreeSet<String> {
    list.iter().map(|s| s.to_string()).collect()
}

/// A TCP port nothing listens on (bound, then released).
fn closed_port() -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap().port()
}

/// Two tasks writing into the host's directory: enough to tell a host that
/// ran the play from one that did not.
const TWO_FILES: &str = r#"---
- name: Faults
  hosts: nodes
  gather_facts: false
  tasks:
    - name: First file
      ansible.builtin.copy:
        content: "one\n"
        dest: "{{ work_dir }}/one"
    - name: Second file
      ansible.builtin.shell: echo two > {{ work_dir }}/two
"#;

#[test]
fn a_host_that_refuses_the_connection_is_unreachable_and_the_others_finish() {
    let port = closed_port();
    let bed = Bed::new(
        SshdOptions::default(),
        &[
            "good ansible_host=127.0.0.1",
            &format!("refusing ansible_host=127.0.0.1 ansible_port={port}"),
        ],
        TWO_FILES,
    );
    let run = bed.run(&[]);
    assert_eq!(run.code, Some(4), "{}", run.describe());
    let fatal = run.fatal_line("refusing");
    assert!(
        fatal.starts_with("fatal: [refusing]: UNREACHABLE! => ")
            && fatal.contains("Failed to connect to the host via ssh: ")
            && fatal.contains(&format!("port {port}: Connection refused")),
        "{}",
        run.describe()
    );
    run.assert_recap("good", "ok=2 changed=2 unreachable=0 failed=0");
    run.assert_recap("refusing", "ok=0 changed=0 unreachable=1 failed=0");
    assert_eq!(bed.retry_file().as_deref(), Some("refusing\n"));
    assert_eq!(listing(&bed.work_dir("good")), names(&["one", "two"]));
    assert!(listing(&bed.work_dir("refusing")).is_empty());
    bed.assert_nothing_left("rsible-never-started", Duration::from_secs(LEFT_LIMIT_SECS));
}

/// Accepts connections and never says a word: an SSH server that hangs
/// before its banner. Records how long each client waited before giving up.
fn silent_listener() -> (u16, Arc<Mutex<Vec<Duration>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let waits = Arc::new(Mutex::new(Vec::new()));
    let record = Arc::clone(&waits);
    thread::spawn(move || {
        for mut stream in listener.incoming().flatten() {
            let record = Arc::clone(&record);
            thread::spawn(move || {
                let accepted = Instant::now();
                let mut sink = [0u8; 1024];
                while matches!(stream.read(&mut sink), Ok(n) if n > 0) {}
                record.lock().unwrap().push(accepted.elapsed());
            });
        }
    });
    (port, waits)
}

#[test]
fn a_host_that_never_answers_times_out_after_its_ssh_timeout() {
    let (port, waits) = silent_listener();
    let bed = Bed::new(
        SshdOptions::default(),
        &[
            "good ansible_host=127.0.0.1",
            // The default timeout is 10 s; the host's own setting wins.
            &format!("silent ansible_host=127.0.0.1 ansible_port={port} ansible_ssh_timeout=2"),
        ],
        TWO_FILES,
    );
    let run = bed.run(&[]);
    assert_eq!(run.code, Some(4), "{}", run.describe());
    let fatal = run.fatal_line("silent");
    assert!(
        fatal.starts_with("fatal: [silent]: UNREACHABLE! => ")
            && fatal.contains("Failed to connect to the host via ssh: ")
            && fatal.contains("timed out"),
        "{}",
        run.describe()
    );
    // ssh gave up after about ansible_ssh_timeout, not the default 10 s. The
    // listener's thread records the wait when it sees the connection closed:
    // wait for that (not a fixed nap, which a loaded machine may outlast).
    let deadline = Instant::now() + Duration::from_secs(30);
    while waits.lock().unwrap().is_empty() && Instant::now() < deadline {
        sleep(Duration::from_millis(50));
    }
    let waits = waits.lock().unwrap().clone();
    assert_eq!(waits.len(), 1, "one connection attempt: {waits:?}");
    assert!(
        waits[0] >= Duration::from_millis(1500) && waits[0] < Duration::from_secs(8),
        "ssh waited {:?} for the banner",
        waits[0]
    );
    run.assert_recap("good", "ok=2 changed=2 unreachable=0 failed=0");
    run.assert_recap("silent", "ok=0 changed=0 unreachable=1 failed=0");
    assert_eq!(bed.retry_file().as_deref(), Some("silent\n"));
    assert_eq!(listing(&bed.work_dir("good")), names(&["one", "two"]));
    assert!(listing(&bed.work_dir("silent")).is_empty());
}

/// Forwards connections to `target`, except that the first `drop_first`
/// are closed at once (ssh fails with exit status 255, as when a host is
/// still booting). Counts the connections it saw.
fn flaky_proxy(target: u16, drop_first: usize) -> (u16, Arc<AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let seen = Arc::new(AtomicUsize::new(0));
    let count = Arc::clone(&seen);
    thread::spawn(move || {
        for client in listener.incoming().flatten() {
            let n = count.fetch_add(1, Ordering::SeqCst);
            if n < drop_first {
                drop(client);
                continue;
            }
            let Ok(server) = TcpStream::connect(("127.0.0.1", target)) else {
                continue;
            };
            for (from, to) in [
                (client.try_clone(), server.try_clone()),
                (server.try_clone(), client.try_clone()),
            ] {
                if let (Ok(mut from), Ok(mut to)) = (from, to) {
                    thread::spawn(move || {
                        let _ = std::io::copy(&mut from, &mut to);
                        let _ = to.shutdown(std::net::Shutdown::Write);
                    });
                }
            }
        }
    });
    (port, seen)
}

#[test]
fn ssh_retries_reconnect_with_backoff_until_the_host_answers() {
    // Each proxy is set up before the sshd it forwards to exists, so start
    // the daemon first and build the inventory from its port.
    let sshd_probe = TestSshd::start().expect("sshd starts");
    let (patient_port, patient_seen) = flaky_proxy(sshd_probe.port, 2);
    let (impatient_port, impatient_seen) = flaky_proxy(sshd_probe.port, 2);
    let bed = Bed {
        sshd: sshd_probe,
        dir: tempfile::tempdir().unwrap(),
    };
    let hosts = [
        // Two failures, two retries: the third attempt gets through.
        format!("patient ansible_host=127.0.0.1 ansible_port={patient_port} ansible_ssh_retries=2"),
        // One retry is not enough.
        format!(
            "impatient ansible_host=127.0.0.1 ansible_port={impatient_port} ansible_ssh_retries=1"
        ),
    ];
    let mut inventory = String::from("[nodes]\n");
    for line in &hosts {
        let name = line.split_whitespace().next().unwrap();
        let work = bed.work_dir(name);
        fs::create_dir_all(&work).unwrap();
        inventory.push_str(&format!("{line} work_dir={}\n", work.display()));
    }
    inventory.push_str(&format!(
        "\n[nodes:vars]\n{}",
        bed.sshd.inventory_login_vars()
    ));
    fs::write(bed.path().join("inventory.ini"), inventory).unwrap();
    fs::write(bed.path().join("site.yml"), TWO_FILES).unwrap();
    fs::write(
        bed.path().join("ansible.cfg"),
        "[defaults]\nretry_files_enabled = True\nhost_key_checking = False\n",
    )
    .unwrap();

    let run = bed.run(&[]);
    assert_eq!(run.code, Some(4), "{}", run.describe());
    // Ansible's ssh plugin: attempts = retries + 1, pausing 2^n - 1 seconds
    // (0 s, then 1 s) between them.
    assert_eq!(patient_seen.load(Ordering::SeqCst), 3, "{}", run.describe());
    assert_eq!(
        impatient_seen.load(Ordering::SeqCst),
        2,
        "{}",
        run.describe()
    );
    assert!(
        run.took >= Duration::from_secs(1),
        "no pause between attempts: {}",
        run.describe()
    );
    run.assert_recap("patient", "ok=2 changed=2 unreachable=0 failed=0");
    run.assert_recap("impatient", "ok=0 changed=0 unreachable=1 failed=0");
    assert!(
        run.fatal_line("impatient")
            .contains("Failed to connect to the host via ssh: "),
        "{}",
        run.describe()
    );
    assert_eq!(bed.retry_file().as_deref(), Some("impatient\n"));
    assert_eq!(listing(&bed.work_dir("patient")), names(&["one", "two"]));
    assert!(listing(&bed.work_dir("impatient")).is_empty());
}

const NAP: &str = r#"---
- name: Nap
  hosts: nodes
  gather_facts: false
  tasks:
    - name: Sleep
      ansible.builtin.command: "sleep {{ nap }}"
    - name: After the nap
      ansible.builtin.copy:
        content: "awake\n"
        dest: "{{ work_dir }}/awake"
"#;

#[test]
fn an_agent_killed_mid_task_fails_its_host_and_leaves_nothing_running() {
    let bed = Bed::new(
        SshdOptions {
            extra_addresses: vec!["127.0.0.2".into()],
            ..SshdOptions::default()
        },
        &[
            "victim ansible_host=127.0.0.1 nap=43.75",
            "good ansible_host=127.0.0.2 nap=0.5",
        ],
        NAP,
    );
    let mut child = bed.start(&[]);
    // Find the agent running the victim's sleep: the sleep's parent.
    let deadline = Instant::now() + Duration::from_secs(60);
    let agent = loop {
        let procs = descendants(bed.sshd.pid());
        if let Some(sleeper) = procs.iter().find(|p| p.cmdline == "sleep 43.75") {
            let parent = fs::read_to_string(format!("/proc/{}/stat", sleeper.pid))
                .ok()
                .and_then(|s| {
                    let after = s[s.rfind(')')? + 2..].to_string();
                    after.split_whitespace().nth(1)?.parse::<u32>().ok()
                });
            if let Some(agent) = parent.and_then(|pp| procs.iter().find(|p| p.pid == pp)) {
                assert_eq!(agent.argv.get(1).map(String::as_str), Some("agent"));
                break agent.pid;
            }
        }
        if let Ok(Some(status)) = child.try_wait() {
            panic!("the run ended ({status}) before the sleep started");
        }
        assert!(Instant::now() < deadline, "the sleep never started");
        sleep(Duration::from_millis(50));
    };
    let killed = Command::new("kill")
        .args(["-KILL", &agent.to_string()])
        .status()
        .is_ok_and(|s| s.success());
    assert!(killed, "kill -KILL {agent} failed");
    let run = finish(child, Duration::from_secs(60));
    assert_eq!(run.code, Some(4), "{}", run.describe());
    assert!(
        run.took < Duration::from_secs(30),
        "the run waited for the orphaned command: {}",
        run.describe()
    );
    let fatal = run.fatal_line("victim");
    assert!(
        fatal.starts_with("fatal: [victim]: UNREACHABLE! => ")
            && fatal.contains("the session ended during the task"),
        "{}",
        run.describe()
    );
    run.assert_recap("victim", "ok=0 changed=0 unreachable=1 failed=0");
    run.assert_recap("good", "ok=2 changed=2 unreachable=0 failed=0");
    assert_eq!(bed.retry_file().as_deref(), Some("victim\n"));
    assert!(listing(&bed.work_dir("victim")).is_empty());
    assert_eq!(listing(&bed.work_dir("good")), names(&["awake"]));
    // The command the killed agent ran does not outlive it.
    bed.assert_nothing_left("sleep 43.75", Duration::from_secs(LEFT_LIMIT_SECS));
}

const FILL: &str = r#"---
- name: Write onto a full disk
  hosts: nodes
  gather_facts: false
  tasks:
    - name: Copy
      ansible.builtin.copy:
        content: "{{ 'new copy content ' * 20000 }}"
        dest: "{{ work_dir }}/copied"
      ignore_errors: true
    - name: Template
      ansible.builtin.template:
        src: big.j2
        dest: "{{ work_dir }}/templated"
"#;

#[test]
fn a_full_disk_fails_copy_and_template_and_leaves_the_destination_untouched() {
    // The sshd, and so every agent, runs in a private mount namespace where
    // `disk` is a 256 KiB tmpfs. Only that namespace sees it; the test
    // reaches it through /proc/<sshd>/root.
    let scratch = tempfile::tempdir().unwrap();
    let disk = scratch.path().join("disk");
    fs::create_dir(&disk).unwrap();
    let wrapper = vec![
        "unshare".to_string(),
        "--mount".into(),
        "--propagation".into(),
        "private".into(),
        "sh".into(),
        "-c".into(),
        r#"mount -t tmpfs -o size=256k rsible-full-disk "$0" && exec "$@""#.into(),
        disk.display().to_string(),
    ];
    let bed = Bed::new(
        SshdOptions {
            extra_addresses: vec!["127.0.0.2".into()],
            wrapper,
            ..SshdOptions::default()
        },
        &[
            "good ansible_host=127.0.0.2",
            &format!("full ansible_host=127.0.0.1 work_dir={}", disk.display()),
        ],
        FILL,
    );
    fs::create_dir_all(bed.path().join("templates")).unwrap();
    fs::write(
        bed.path().join("templates/big.j2"),
        "{% for i in range(20000) %}templated line {{ i }}\n{% endfor %}",
    )
    .unwrap();
    let seen_by_target = PathBuf::from(format!("/proc/{}/root", bed.sshd.pid()))
        .join(disk.strip_prefix("/").unwrap());
    let mounts = fs::read_to_string(format!("/proc/{}/mounts", bed.sshd.pid())).unwrap();
    assert!(
        mounts.contains("rsible-full-disk"),
        "no tmpfs in the sshd's namespace: {mounts}"
    );
    // Destinations with their old content, then fill the rest of the disk.
    fs::write(seen_by_target.join("copied"), "old copy\n").unwrap();
    fs::write(seen_by_target.join("templated"), "old template\n").unwrap();
    {
        use std::io::Write;
        let mut filler = fs::File::create(seen_by_target.join("filler")).unwrap();
        let block = [b'x'; 4096];
        while filler.write_all(&block).is_ok() {}
        // A tmpfs may still take a few bytes below a page.
        while filler.write_all(b"x").is_ok() {}
    }

    let run = bed.run(&[]);
    assert_eq!(run.code, Some(2), "{}", run.describe());
    let copy_fail = run
        .stdout
        .lines()
        .filter(|l| l.starts_with("fatal: [full]: FAILED!"))
        .map(str::to_string)
        .collect::<Vec<_>>();
    assert_eq!(copy_fail.len(), 2, "{}", run.describe());
    for line in &copy_fail {
        assert!(
            line.contains("No space left on device"),
            "unclear message: {line}\n{}",
            run.describe()
        );
    }
    assert!(run.stdout.contains("...ignoring"), "{}", run.describe());
    run.assert_recap(
        "full",
        // As Ansible counts it: an ignored failure is also "ok".
        "ok=1 changed=0 unreachable=0 failed=1 skipped=0 rescued=0 ignored=1",
    );
    run.assert_recap("good", "ok=2 changed=2 unreachable=0 failed=0");
    assert_eq!(bed.retry_file().as_deref(), Some("full\n"));
    // Untouched destinations, no temporary files.
    assert_eq!(
        fs::read_to_string(seen_by_target.join("copied")).unwrap(),
        "old copy\n"
    );
    assert_eq!(
        fs::read_to_string(seen_by_target.join("templated")).unwrap(),
        "old template\n"
    );
    assert_eq!(
        listing(&seen_by_target),
        names(&["copied", "filler", "templated"])
    );
    assert_eq!(
        listing(&bed.work_dir("good")),
        names(&["copied", "templated"])
    );
    assert!(
        listing(&disk).is_empty(),
        "the tmpfs leaked out of its namespace"
    );
    bed.assert_nothing_left("rsible-never-started", Duration::from_secs(LEFT_LIMIT_SECS));
}
