//! Differential test of `systemd_service` / `service` against a live systemd, against
//! ansible-core 2.18.
//!
//! Each engine gets its own throwaway machine: a real systemd (/lib/systemd/systemd)
//! as PID 1 of fresh pid, mount, net, uts, ipc and cgroup namespaces, in a private
//! root that cannot reach the real one:
//! - the root is an overlay of / whose upper layer is a tmpfs of the namespace; the
//!   namespace pivots into it and lazily unmounts the old root, so no path leads to
//!   the machine's filesystems (writes and deletions only touch the tmpfs);
//! - /proc is the namespace's own with /proc/sys read-only, /sys is read-only with
//!   the namespace's own cgroup2 on /sys/fs/cgroup (a cgroup the test creates and
//!   removes), /dev, /run, /tmp and /var/tmp are tmpfs;
//! - every unit the distribution ships is masked (sysinit.target, tmpfiles, sysctl,
//!   modules-load, binfmt, remount-fs, ...), generators are removed, and
//!   default.target is the test's own target; all file descriptors but 0-2 are closed
//!   before systemd starts.
//!
//! A canary file in the machine's /tmp is deleted through the overlay before systemd
//! starts and must still exist at the end. systemd is only ever stopped from outside,
//! with SIGKILL to the namespace's PID 1 (never SIGTERM, no `timeout`); the test waits
//! for the namespace to be gone and removes the cgroup, failing if anything is left.
//!
//! The engines run inside their machines (`nsenter`): rsible's binaries copied in and
//! without the reference's venv on PATH (so no task can fall back to a Python module),
//! the reference from its venv (visible through the overlay). The playbook starts,
//! stops, restarts and reloads a `sleep infinity` service (with ExecReload), a
//! oneshot with RemainAfterExit, template instances and a failing unit; enables and
//! starts together, masks and unmasks, daemon_reload, daemon_reexec, no_block, check
//! mode, second runs, `service` on systemd, unknown units, bad arguments and
//! `service_facts` (all units of the machine, in and out of check mode); and
//! `scope: user` against root's user manager (`systemd --user`, which the test starts
//! as a system unit of its own: user@.service needs logind and sysinit.target).
//! Compared: every task's registered result, with the `status` values that differ per
//! run masked (`VARYING`: PIDs, times, invocation and cgroup ids, resource counters;
//! pid/start/stop times inside Exec* values) and unit lists sorted (`UNIT_LISTS`:
//! systemd prints them in hash order); at the end `systemctl is-active` /
//! `is-enabled` of the test units, the units' own logs and the links in /etc.
//! Needs root, unshare, nsenter, pivot_root, bash, systemd and a writable cgroup2
//! hierarchy.

use serde_json::Value;
use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

/// The namespace's PID 1 until it execs systemd: builds the private root (see the
/// module comment). Arguments: the test's work dir (mount points only) and the canary.
const STAGE1: &str = r#"
main() {
set -eu
W=$1; CANARY=$2
for fd in $(ls /proc/self/fd); do
  if [ "$fd" -gt 2 ]; then eval "exec $fd>&-" 2>/dev/null || true; fi
done
mount --make-rprivate /
mount -t tmpfs -o size=1g,mode=700 rsible-sysd "$W/t"
mkdir "$W/t/up" "$W/t/work" "$W/t/root"
mount -t overlay overlay -o "lowerdir=/,upperdir=$W/t/up,workdir=$W/t/work" "$W/t/root"
N=$W/t/root
# Nothing below may run unless $N is the overlay (writes land in the tmpfs).
[ "$(stat -f -c %T "$N")" = overlayfs ]
rm -f "$N$CANARY"
[ ! -e "$N$CANARY" ]
mount -t proc proc "$N/proc"
mount --bind "$N/proc/sys" "$N/proc/sys"; mount -o remount,bind,ro "$N/proc/sys"
if [ -e "$N/proc/sysrq-trigger" ]; then
  mount --bind "$N/proc/sysrq-trigger" "$N/proc/sysrq-trigger"
  mount -o remount,bind,ro "$N/proc/sysrq-trigger"
fi
mount -t sysfs -o ro,nosuid,nodev,noexec sysfs "$N/sys"
mount -t cgroup2 -o nosuid,nodev,noexec cgroup2 "$N/sys/fs/cgroup"
mount -t tmpfs -o mode=755,nosuid tmpfs "$N/dev"
for d in null zero full random urandom tty; do
  : > "$N/dev/$d"; mount --bind "/dev/$d" "$N/dev/$d"
done
: > "$W/t/console"; : > "$N/dev/console"; mount --bind "$W/t/console" "$N/dev/console"
mkdir "$N/dev/pts" "$N/dev/shm"
mount -t devpts -o newinstance,ptmxmode=0666,mode=620 devpts "$N/dev/pts"
ln -s pts/ptmx "$N/dev/ptmx"
mount -t tmpfs -o mode=1777 tmpfs "$N/dev/shm"
mount -t tmpfs -o mode=755 tmpfs "$N/run"
mount -t tmpfs -o mode=1777 tmpfs "$N/tmp"
mount -t tmpfs -o mode=1777 tmpfs "$N/var/tmp"
E=$N/etc/systemd/system
rm -rf "$E"; mkdir -p "$E"
for u in "$N"/lib/systemd/system/* "$N"/usr/lib/systemd/system/*; do
  b=${u##*/}
  case "$b" in -.slice|system.slice|init.scope) continue ;; esac
  [ -e "$E/$b" ] || ln -s /dev/null "$E/$b"
done
for g in "$N"/lib/systemd/system-generators "$N"/usr/lib/systemd/system-generators \
         "$N"/usr/lib/systemd/system-environment-generators "$N"/etc/systemd/system-generators; do
  if [ -d "$g" ]; then rm -rf "$g"/*; fi
done
printf '[Unit]\nDescription=rsible test target\nDefaultDependencies=no\n' > "$E/rsible-test.target"
ln -sfn rsible-test.target "$E/default.target"
echo rsible-sysd > "$N/etc/hostname"; hostname rsible-sysd
rm -f "$N/etc/machine-id"; : > "$N/etc/machine-id"
cd "$N"
mkdir .oldroot
pivot_root . .oldroot
cd /
umount -l /.oldroot
rmdir /.oldroot
if grep -q ' /.oldroot' /proc/self/mountinfo; then echo "old root still mounted" >&2; exit 1; fi
export container=rsible-test
exec /lib/systemd/systemd --system --log-target=console
}
main "$@"
"#;

/// The test's units, written into the machine before the playbook runs.
const UNITS: &[(&str, &str)] = &[
    (
        "rsible-sleep.service",
        "[Unit]\nDescription=rsible sleep\nDefaultDependencies=no\n[Service]\n\
         ExecStartPre=/bin/sh -c 'echo start >> /run/rsible-sleep.log'\n\
         ExecStart=/bin/sleep infinity\n\
         ExecReload=/bin/sh -c 'echo reload >> /run/rsible-sleep.log'\n\
         [Install]\nWantedBy=rsible-test.target\n",
    ),
    (
        "rsible-once.service",
        "[Unit]\nDescription=rsible oneshot\nDefaultDependencies=no\n[Service]\nType=oneshot\n\
         RemainAfterExit=yes\nExecStart=/bin/sh -c 'echo start >> /run/rsible-once.log'\n\
         ExecStop=/bin/sh -c 'echo stop >> /run/rsible-once.log'\n\
         [Install]\nWantedBy=rsible-test.target\n",
    ),
    (
        "rsible-tpl@.service",
        "[Unit]\nDescription=rsible template %i\nDefaultDependencies=no\n[Service]\n\
         Type=oneshot\nRemainAfterExit=yes\n\
         ExecStart=/bin/sh -c 'echo start %i >> /run/rsible-tpl.log'\n\
         [Install]\nWantedBy=rsible-test.target\n",
    ),
    (
        "rsible-fail.service",
        "[Unit]\nDescription=rsible failing\nDefaultDependencies=no\n[Service]\nType=oneshot\n\
         ExecStart=/bin/false\n",
    ),
    (
        "rsible-user-manager.service",
        "[Unit]\nDescription=rsible: a user manager for root\nDefaultDependencies=no\n\
         [Service]\nType=notify\nEnvironment=XDG_RUNTIME_DIR=/run/user/0\n\
         ExecStartPre=/bin/mkdir -p -m 0700 /run/user/0\n\
         ExecStart=/lib/systemd/systemd --user --unit=rsible-user.target\nDelegate=yes\n",
    ),
    (
        "rsible-plain.service",
        "[Unit]\nDescription=rsible without reload\nDefaultDependencies=no\n[Service]\n\
         ExecStart=/bin/sleep infinity\n",
    ),
];

const PLAYBOOK: &str = r#"
- hosts: localhost
  gather_facts: false
  tasks:
    - systemd_service: {daemon_reload: true}
    - systemd_service: {name: rsible-sleep, state: started}
      check_mode: true
    - systemd_service: {name: rsible-sleep, state: started}
    - systemd_service: {name: rsible-sleep, state: started}
    - systemd_service: {name: rsible-sleep, state: reloaded}
    - systemd_service: {name: rsible-sleep.service, state: restarted}
    - systemd_service: {name: rsible-sleep, state: stopped}
      check_mode: true
    - systemd_service: {name: rsible-sleep, state: stopped}
    - systemd_service: {name: rsible-sleep, state: stopped}
    - name: reloaded starts a stopped unit
      systemd_service: {name: rsible-sleep, state: reloaded}
    - systemd_service: {name: rsible-once, state: started, enabled: true}
      check_mode: true
    - systemd_service: {name: rsible-once, state: started, enabled: true}
    - systemd_service: {name: rsible-once, state: started, enabled: true}
    - systemd_service: {name: rsible-once, enabled: false}
    - systemd_service: {name: rsible-plain, enabled: true}
      ignore_errors: true
    - systemd_service: {name: rsible-plain, masked: true}
      check_mode: true
    - systemd_service: {name: rsible-plain, masked: true}
    - systemd_service: {name: rsible-plain, masked: true}
    - systemd_service: {name: rsible-plain, state: started}
      ignore_errors: true
    - systemd_service: {name: rsible-plain, masked: false, state: started}
    - systemd_service: {name: rsible-nosuch, state: started}
      ignore_errors: true
    - systemd_service: {name: rsible-nosuch}
      ignore_errors: true
    - service: {name: rsible-plain, state: stopped}
    - service: {name: rsible-plain, state: stopped, enabled: false}
    - service: {name: rsible-sleep, state: restarted, enabled: true}
    - systemd_service: {daemon_reexec: true}
    - systemd_service: {name: rsible-sleep, state: started, enabled: true}
    - systemd_service: {name: rsible-sleep, state: restarted, daemon_reload: true}
    - systemd_service: {name: rsible-once, state: stopped, daemon_reexec: true}
    # Template instances, a unit that fails to start, no_block, the old module name
    # and the FQCN, reload through `service`.
    - systemd_service: {name: rsible-tpl@one, state: started, enabled: true}
      check_mode: true
    - systemd_service: {name: rsible-tpl@one, state: started, enabled: true}
    - systemd_service: {name: rsible-tpl@one.service, state: started, enabled: true}
    - systemd_service: {name: rsible-tpl@two, state: stopped, enabled: false}
    - systemd_service: {name: rsible-fail, state: started}
      ignore_errors: true
    - systemd_service: {name: rsible-once, state: started, no_block: true}
    - systemd: {name: rsible-sleep, state: started}
    - ansible.builtin.systemd_service: {name: rsible-sleep, state: stopped, masked: false}
    - service: {name: rsible-sleep, state: reloaded}
    - systemd_service: {name: rsible-sleep, bogus: 1}
      ignore_errors: true
    - systemd_service: {name: rsible-sleep, state: sleeping}
      ignore_errors: true
    # scope: user, against root's user manager.
    - systemd_service: {name: rsible-usleep, state: started, enabled: true, scope: user}
      check_mode: true
    - systemd_service: {name: rsible-usleep, state: started, enabled: true, scope: user}
    - systemd_service: {name: rsible-usleep, state: started, enabled: true, scope: user}
    - systemd_service: {name: rsible-usleep, state: restarted, daemon_reload: true, scope: user}
    - systemd_service: {name: rsible-usleep, state: stopped, scope: user}
    - systemd_service: {name: rsible-nosuch, state: started, scope: user}
      ignore_errors: true
    # service_facts on systemd: every unit of the machine (the masked ones included).
    - service_facts:
    - service_facts:
      check_mode: true
"#;

const TASKS: usize = 48;

/// User units (/etc/systemd/user) for root's user manager, which the test starts
/// as a system service of its own (user@.service needs logind and sysinit.target).
const USER_UNITS: &[(&str, &str)] = &[
    (
        "rsible-user.target",
        "[Unit]\nDescription=rsible user target\n",
    ),
    (
        "rsible-usleep.service",
        "[Unit]\nDescription=rsible user sleep\n[Service]\nExecStart=/bin/sleep infinity\n\
         [Install]\nWantedBy=rsible-user.target\n",
    ),
];

/// `status` keys whose values differ from one run (or machine) to the next.
const VARYING: &[&str] = &[
    "MainPID",
    "ExecMainPID",
    "ControlPID",
    "InvocationID",
    "ControlGroupId",
    "MemoryCurrent",
    "MemoryPeak",
    "MemoryAvailable",
    "CPUUsageNSec",
    "TasksCurrent",
    "IOReadBytes",
    "IOReadOperations",
    "IOWriteBytes",
    "IOWriteOperations",
    "IPIngressBytes",
    "IPIngressPackets",
    "IPEgressBytes",
    "IPEgressPackets",
];

/// The cgroup2 directory the machines' cgroups go under.
fn cgroup_base() -> PathBuf {
    for base in ["/sys/fs/cgroup/unified", "/sys/fs/cgroup"] {
        // cgroup.subtree_control exists in cgroup2 only.
        if Path::new(base).join("cgroup.subtree_control").exists() {
            return PathBuf::from(base);
        }
    }
    panic!("no cgroup2 hierarchy (/sys/fs/cgroup/unified or /sys/fs/cgroup): systemd cannot run in a namespace here");
}

/// The first child of `pid` (unshare's child is the namespace's PID 1).
fn child_of(pid: u32) -> Option<u32> {
    fs::read_to_string(format!("/proc/{pid}/task/{pid}/children"))
        .ok()
        .and_then(|c| c.split_whitespace().next().and_then(|p| p.parse().ok()))
}

/// One throwaway machine with systemd as PID 1.
struct Machine {
    child: Option<Child>,
    cgroup: PathBuf,
    pid1: u32,
    canary: PathBuf,
    _dir: tempfile::TempDir,
}

impl Machine {
    fn start() -> Machine {
        let dir = tempfile::tempdir().expect("tempdir");
        fs::create_dir(dir.path().join("t")).expect("mount point");
        let canary = dir.path().join("canary");
        fs::write(&canary, "canary\n").expect("canary");
        let cgroup = cgroup_base().join(format!(
            "rsible-test-{}",
            dir.path().file_name().unwrap().to_string_lossy()
        ));
        fs::create_dir(&cgroup).expect("create the machine's cgroup");
        let log = fs::File::create(dir.path().join("stage1.log")).expect("log");
        let child = Command::new("sh")
            .arg("-c")
            .arg("echo $$ > \"$1/cgroup.procs\" && exec unshare --mount --pid --fork --net --uts --ipc --cgroup --propagation private -- bash -c \"$2\" stage1 \"$3\" \"$4\"")
            .arg("sh")
            .arg(&cgroup)
            .arg(STAGE1)
            .arg(dir.path())
            .arg(&canary)
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("log"))
            .stderr(log)
            .spawn()
            .expect("start unshare");
        let mut m = Machine {
            pid1: 0,
            child: Some(child),
            cgroup,
            canary,
            _dir: dir,
        };
        m.pid1 = m.wait_for_systemd();
        m
    }

    fn stage1_log(&self) -> String {
        fs::read_to_string(self._dir.path().join("stage1.log")).unwrap_or_default()
    }

    /// The host pid of the namespace's PID 1 once it is systemd and running.
    fn wait_for_systemd(&mut self) -> u32 {
        let unshare = self.child.as_ref().unwrap().id();
        let deadline = Instant::now() + Duration::from_secs(120);
        loop {
            if let Ok(Some(status)) = self.child.as_mut().unwrap().try_wait() {
                panic!(
                    "the machine ended before systemd ran ({status}):\n{}",
                    self.stage1_log()
                );
            }
            if let Some(pid1) = child_of(unshare) {
                let comm = fs::read_to_string(format!("/proc/{pid1}/comm")).unwrap_or_default();
                if comm.trim() == "systemd" {
                    let state = self.sh_at(pid1, "systemctl is-system-running");
                    let state = String::from_utf8_lossy(&state.stdout).trim().to_string();
                    if state == "running" {
                        return pid1;
                    }
                    assert!(
                        ["initializing", "starting", "offline", ""].contains(&state.as_str()),
                        "systemd in the machine is {state}:\n{}",
                        self.stage1_log()
                    );
                }
            }
            assert!(
                Instant::now() < deadline,
                "systemd did not come up within 120 s:\n{}",
                self.stage1_log()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    fn sh_at(&self, pid1: u32, script: &str) -> Output {
        Command::new("nsenter")
            .args(["-t", &pid1.to_string(), "-a", "sh", "-c", script])
            .stdin(Stdio::null())
            .output()
            .expect("run nsenter")
    }

    /// A shell command inside the machine.
    fn sh(&self, script: &str) -> Output {
        self.sh_at(self.pid1, script)
    }

    /// A path of the machine's root, seen from outside.
    fn path(&self, inside: &str) -> PathBuf {
        PathBuf::from(format!("/proc/{}/root{inside}", self.pid1))
    }

    /// SIGKILL (never another signal) to the namespace's PID 1, from outside: the
    /// kernel kills the rest of the namespace; unshare reaps it and ends. Then the
    /// cgroup must be empty, and is removed.
    fn kill(&mut self) -> Result<(), String> {
        let Some(mut child) = self.child.take() else {
            return Ok(());
        };
        let pid1 = match self.pid1 {
            0 => child_of(child.id()).unwrap_or(0),
            pid => pid,
        };
        // The namespace's PID 1 is a child of unshare, which has not reaped it yet
        // (so the pid is not reused).
        let killed = pid1 != 0
            && Command::new("kill")
                .args(["-s", "KILL", &pid1.to_string()])
                .status()
                .is_ok_and(|s| s.success());
        if !killed {
            // No PID 1 found (or kill failed): SIGKILL to everything in the cgroup.
            fs::write(self.cgroup.join("cgroup.kill"), "1")
                .map_err(|e| format!("cgroup.kill of {}: {e}", self.cgroup.display()))?;
        }
        child.wait().map_err(|e| format!("wait for unshare: {e}"))?;
        let deadline = Instant::now() + Duration::from_secs(60);
        while fs::read_to_string(self.cgroup.join("cgroup.events"))
            .is_ok_and(|e| e.contains("populated 1"))
        {
            if Instant::now() > deadline {
                return Err(format!("processes left in {}", self.cgroup.display()));
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let mut dirs = Vec::new();
        let mut stack = vec![self.cgroup.clone()];
        while let Some(d) = stack.pop() {
            if let Ok(entries) = fs::read_dir(&d) {
                for e in entries.flatten() {
                    if e.file_type().is_ok_and(|t| t.is_dir()) {
                        stack.push(e.path());
                    }
                }
            }
            dirs.push(d);
        }
        for d in dirs.iter().rev() {
            fs::remove_dir(d).map_err(|e| format!("remove cgroup {}: {e}", d.display()))?;
        }
        Ok(())
    }

    /// Stops the machine and checks it left nothing: no process, no cgroup, the
    /// canary intact.
    fn stop(mut self) {
        let pid1 = self.pid1;
        if let Err(e) = self.kill() {
            panic!("stopping the machine: {e}");
        }
        assert!(
            !Path::new(&format!("/proc/{pid1}")).exists(),
            "systemd (pid {pid1}) is still there after unshare ended"
        );
        assert_eq!(
            fs::read_to_string(&self.canary).ok().as_deref(),
            Some("canary\n"),
            "the canary in the machine's /tmp was touched"
        );
    }
}

impl Drop for Machine {
    fn drop(&mut self) {
        // A failing test still kills its machine (SIGKILL only).
        if let Err(e) = self.kill() {
            eprintln!("cleaning up the machine: {e}");
        }
    }
}

/// Runs one engine inside a fresh machine; returns its results and the end state.
fn run_engine(program: &Path, ref_bin: &Path, copy_in: bool) -> (Vec<Value>, Vec<String>) {
    let machine = Machine::start();
    fs::create_dir_all(machine.path("/root/rsible-test")).expect("test dir");
    for (name, text) in UNITS {
        // Shipped units (in /usr/lib), so that masking can link over them in /etc.
        fs::write(
            machine.path(&format!("/usr/lib/systemd/system/{name}")),
            text,
        )
        .expect("unit");
    }
    fs::create_dir_all(machine.path("/etc/systemd/user")).expect("user unit dir");
    for (name, text) in USER_UNITS {
        fs::write(machine.path(&format!("/etc/systemd/user/{name}")), text).expect("unit");
    }
    let started = machine.sh("systemctl daemon-reload && systemctl start rsible-user-manager");
    assert!(
        started.status.success(),
        "root's user manager did not start: {}",
        String::from_utf8_lossy(&started.stderr)
    );
    fs::write(machine.path("/root/rsible-test/playbook.yml"), PLAYBOOK).expect("playbook");
    fs::write(
        machine.path("/root/rsible-test/inventory"),
        "localhost ansible_connection=local ansible_python_interpreter=/usr/bin/python3\n",
    )
    .expect("inventory");
    let inside = if copy_in {
        // rsible-playbook and the agent it ships, side by side as cargo builds them.
        for (from, name) in [
            (program, "rsible-playbook"),
            (
                Path::new(env!("CARGO_BIN_EXE_rsible-agent")),
                "rsible-agent",
            ),
        ] {
            let to = machine.path(&format!("/usr/local/bin/{name}"));
            fs::copy(from, &to).unwrap_or_else(|e| panic!("copy {name} in: {e}"));
            fs::set_permissions(&to, fs::Permissions::from_mode(0o755)).expect("chmod");
        }
        "/usr/local/bin/rsible-playbook".to_string()
    } else {
        program.display().to_string()
    };
    // The reference's venv on PATH for ansible-playbook only: rsible gets no Python
    // modules to fall back to, so every task here runs natively in its agent.
    const SYSTEM_PATH: &str = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
    let path = if copy_in {
        SYSTEM_PATH.to_string()
    } else {
        format!("{}:{SYSTEM_PATH}", ref_bin.display())
    };
    let out = Command::new("nsenter")
        .args(["-t", &machine.pid1.to_string(), "-a", "sh", "-c"])
        .arg("cd /root/rsible-test && exec \"$@\" -i inventory playbook.yml")
        .arg("sh")
        .arg(&inside)
        .env("PATH", path)
        .env("HOME", "/root")
        .envs(rsible_testsupport::JSON_RESULTS_ENV.iter().copied())
        .stdin(Stdio::null())
        .output()
        .expect("run the playbook in the machine");
    let results = rsible_testsupport::json_task_results(program, &out, "localhost", TASKS);
    let mut state = Vec::new();
    for unit in [
        "rsible-sleep",
        "rsible-once",
        "rsible-plain",
        "rsible-tpl@one",
        "rsible-fail",
    ] {
        for q in ["is-active", "is-enabled"] {
            let o = machine.sh(&format!("systemctl {q} {unit}"));
            state.push(format!(
                "{q} {unit}: {}",
                String::from_utf8_lossy(&o.stdout).trim()
            ));
        }
    }
    for q in ["is-active", "is-enabled"] {
        let o = machine.sh(&format!(
            "XDG_RUNTIME_DIR=/run/user/0 systemctl --user {q} rsible-usleep"
        ));
        state.push(format!(
            "--user {q} rsible-usleep: {}",
            String::from_utf8_lossy(&o.stdout).trim()
        ));
    }
    for log in ["rsible-sleep.log", "rsible-once.log", "rsible-tpl.log"] {
        let text = fs::read_to_string(machine.path(&format!("/run/{log}")))
            .unwrap_or_else(|_| "absent".into());
        state.push(format!("{log}:\n{text}"));
    }
    let links = machine.sh(
        "cd /etc/systemd/system && for f in rsible-test.target.wants/* rsible-*; do echo \"$f -> $(readlink $f)\"; done",
    );
    state.push(String::from_utf8_lossy(&links.stdout).into_owned());
    machine.stop();
    (results, state)
}

/// `status` keys holding unit lists, whose order is systemd's hash order (it differs
/// from one systemd to the next): compared sorted.
const UNIT_LISTS: &[&str] = &[
    "After",
    "Before",
    "Requires",
    "Requisite",
    "Wants",
    "BindsTo",
    "PartOf",
    "Upholds",
    "RequiredBy",
    "RequisiteOf",
    "WantedBy",
    "BoundBy",
    "UpheldBy",
    "ConsistsOf",
    "Conflicts",
    "ConflictedBy",
    "OnFailure",
    "OnSuccess",
    "Triggers",
    "TriggeredBy",
    "PropagatesReloadTo",
    "ReloadPropagatedFrom",
    "JoinsNamespaceOf",
    "RequiresMountsFor",
    "Names",
];

/// Masks `pid=`, `start_time=` and `stop_time=` inside systemctl's Exec* values.
fn mask_exec(v: &str) -> String {
    let mut out = Vec::new();
    for part in v.split(" ; ") {
        let key = part.split('=').next().unwrap_or_default();
        if ["pid", "start_time", "stop_time"].contains(&key) {
            out.push(format!("{key}=@"));
        } else {
            out.push(part.to_string());
        }
    }
    out.join(" ; ")
}

fn normalized(result: &Value) -> String {
    let mut r = result.clone();
    if let Some(map) = r.as_object_mut() {
        rsible_testsupport::drop_engine_specific_keys(map);
        if let Some(Value::Object(status)) = map.get_mut("status") {
            for (k, v) in status.iter_mut() {
                let varying = VARYING.contains(&k.as_str())
                    || k.ends_with("Timestamp")
                    || k.ends_with("TimestampMonotonic");
                if varying {
                    *v = Value::String("@".into());
                } else if let Value::String(s) = v {
                    if k.starts_with("Exec") {
                        *s = mask_exec(s);
                    } else if UNIT_LISTS.contains(&k.as_str()) {
                        let mut units: Vec<&str> = s.split_whitespace().collect();
                        units.sort_unstable();
                        *s = units.join(" ");
                    }
                }
            }
        }
    }
    serde_json::to_string_pretty(&r).expect("json")
}

#[test]
fn systemd_service_matches_ansible_on_a_live_systemd() {
    let Some(ref_bin) = rsible_testsupport::reference_bin_dir() else {
        eprintln!("RSIBLE_SKIP_DIFFERENTIAL set: skipping the live systemd differential test");
        return;
    };
    let uid = Command::new("id").arg("-u").output().expect("run id");
    assert_eq!(
        String::from_utf8_lossy(&uid.stdout).trim(),
        "0",
        "the live systemd test needs root (namespaces, cgroups)"
    );
    for tool in ["unshare", "nsenter", "pivot_root", "bash"] {
        let found = Command::new("sh")
            .arg("-c")
            .arg(format!("command -v {tool}"))
            .output()
            .is_ok_and(|o| o.status.success());
        assert!(found, "{tool} is missing (util-linux, bash)");
    }
    assert!(
        Path::new("/lib/systemd/systemd").exists(),
        "/lib/systemd/systemd is missing: scripts/setup-test-env.sh installs systemd"
    );
    let reference = ref_bin.join("ansible-playbook");
    let ours = PathBuf::from(env!("CARGO_BIN_EXE_rsible-playbook"));
    let ((theirs, want), (mine, got)) = std::thread::scope(|s| {
        let t = s.spawn(|| run_engine(&reference, &ref_bin, false));
        let m = s.spawn(|| run_engine(&ours, &ref_bin, true));
        (
            t.join().expect("reference run"),
            m.join().expect("rsible run"),
        )
    });
    if std::env::var_os("RSIBLE_TEST_SHOW").is_some() {
        for (i, t) in theirs.iter().enumerate() {
            eprintln!("task {} reference: {}", i + 1, normalized(t));
        }
        eprintln!("end state: {want:#?}");
    }
    let mut differences = Vec::new();
    for (i, (t, m)) in theirs.iter().zip(&mine).enumerate() {
        let (t, m) = (normalized(t), normalized(m));
        if t != m {
            differences.push(format!("task {}:\nansible: {t}\nrsible:  {m}", i + 1));
        }
    }
    if want != got {
        differences.push(format!("end state:\nansible: {want:#?}\nrsible:  {got:#?}"));
    }
    assert!(differences.is_empty(), "{}", differences.join("\n\n"));
    // The runs did what the playbook asks (1-based task numbers): first runs change,
    // second runs do not, and the units ended as the last tasks left them.
    for task in [3, 8, 12, 17, 20, 31, 42, 45] {
        assert_eq!(
            theirs[task - 1]["changed"],
            Value::Bool(true),
            "task {task}"
        );
    }
    for task in [4, 9, 13, 18, 27, 32, 43] {
        assert_eq!(
            theirs[task - 1]["changed"],
            Value::Bool(false),
            "task {task} should be a no-change second run"
        );
    }
    assert_eq!(
        theirs[46]["ansible_facts"]["services"]["rsible-sleep.service"]["state"], "running",
        "service_facts should list the test units"
    );
    assert_eq!(
        &want[..4],
        [
            "is-active rsible-sleep: active",
            "is-enabled rsible-sleep: enabled",
            "is-active rsible-once: active",
            "is-enabled rsible-once: disabled",
        ]
    );
}
