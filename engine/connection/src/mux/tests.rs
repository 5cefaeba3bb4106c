//! Master sessions against a real loopback sshd: the master is started by `ssh`
//! as rsible starts it; sessions are then opened from this process.

use super::route::{route_for, MuxRoute};
use crate::child::{spawn_mux, Spawned};
use rsible_testsupport::TestSshd;
use std::io::Read;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

struct Master {
    sshd: TestSshd,
    _dir: tempfile::TempDir,
    /// ssh options (no destination, no command), as rsible builds them.
    options: Vec<String>,
}

impl Master {
    /// An sshd and a ControlPersist master on it, started by `ssh`.
    fn start() -> Master {
        let sshd = TestSshd::start().expect("a loopback sshd must start");
        let dir = tempfile::tempdir().expect("temp dir");
        let mut options = sshd.ssh_args();
        options.extend(
            [
                "-o",
                "ControlMaster=auto",
                "-o",
                "ControlPersist=60s",
                "-o",
                "LogLevel=ERROR",
            ]
            .map(String::from),
        );
        options.extend([
            "-o".into(),
            format!("ControlPath={}/%C", dir.path().display()),
        ]);
        let m = Master {
            sshd,
            _dir: dir,
            options,
        };
        let status = Command::new("ssh")
            .args(m.argv("true"))
            .stdin(Stdio::null())
            .status()
            .expect("ssh runs");
        assert!(
            status.success(),
            "the master did not start: {}",
            m.sshd.log()
        );
        m
    }

    fn argv(&self, command: &str) -> Vec<String> {
        let mut a = self.options.clone();
        a.push(self.sshd.host.clone());
        a.push(command.into());
        a
    }

    fn route(&self) -> Arc<MuxRoute> {
        route_for("ssh", &self.argv("ignored")).expect("ssh -G allows a master session")
    }

    fn open(&self, command: &str) -> Spawned {
        spawn_mux(&self.route(), command, Duration::from_secs(10), None, None)
            .unwrap_or_else(|e| panic!("no master session: {e:?}"))
    }

    /// The master's pid, as `ssh -O check` reports it.
    fn master_pid(&self) -> u32 {
        let mut a = self.options.clone();
        a.extend(["-O".into(), "check".into(), self.sshd.host.clone()]);
        let out = Command::new("ssh").args(a).output().expect("ssh -O check");
        let text = String::from_utf8_lossy(&out.stderr).into_owned();
        text.split("pid=")
            .nth(1)
            .and_then(|rest| rest.split(')').next())
            .and_then(|pid| pid.parse().ok())
            .unwrap_or_else(|| panic!("no master pid in: {text}"))
    }
}

fn read_all(proc: &mut Spawned) -> String {
    let mut out = String::new();
    proc.stdout.read_to_string(&mut out).expect("read stdout");
    out
}

#[test]
fn a_session_carries_output_stderr_and_the_exit_status() {
    let m = Master::start();
    let mut proc = m.open("echo out; echo err >&2; exit 3");
    assert_eq!(read_all(&mut proc), "out\n");
    assert_eq!(proc.wait_for_exit(Duration::from_secs(10)), Some(3));
    assert_eq!(proc.stderr_text(), "err");
}

#[test]
fn a_session_reads_stdin_until_we_close_it() {
    let m = Master::start();
    let mut proc = m.open("cat; echo done");
    proc.write_all(b"line one\n").expect("write");
    proc.close_stdin();
    assert_eq!(read_all(&mut proc), "line one\ndone\n");
    assert_eq!(proc.wait_for_exit(Duration::from_secs(10)), Some(0));
}

#[test]
fn killing_the_session_closes_the_remote_input_then_the_session() {
    let m = Master::start();
    let mut proc = m.open("echo started; cat >/dev/null; echo saw-eof");
    let mut line = String::new();
    std::io::BufRead::read_line(&mut proc.stdout, &mut line).expect("read");
    assert_eq!(line, "started\n");
    proc.kill();
    assert_eq!(read_all(&mut proc), "saw-eof\n");

    // A command that ignores its input: the control socket's shutdown ends the
    // session on our side at once, as killing an `ssh` client would.
    let mut proc = m.open("echo started; exec sleep 30");
    let mut line = String::new();
    std::io::BufRead::read_line(&mut proc.stdout, &mut line).expect("read");
    let started = std::time::Instant::now();
    proc.kill();
    assert_eq!(read_all(&mut proc), "");
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
}

#[test]
fn a_killed_master_ends_the_session_with_255() {
    let m = Master::start();
    let mut proc = m.open("echo started; sleep 30");
    let mut line = String::new();
    std::io::BufRead::read_line(&mut proc.stdout, &mut line).expect("read");
    assert_eq!(line, "started\n");
    let pid = m.master_pid();
    // SAFETY: signalling the ssh master this test started.
    unsafe {
        libc::kill(pid as libc::pid_t, libc::SIGKILL);
    }
    assert_eq!(read_all(&mut proc), "");
    assert_eq!(proc.wait_for_exit(Duration::from_secs(10)), Some(255));
    // A socket without a master refuses: the caller goes back to `ssh`.
    assert!(spawn_mux(&m.route(), "true", Duration::from_secs(5), None, None).is_err());
}

#[test]
fn environment_matching_send_env_travels_with_the_session() {
    let m = Master::start();
    let mut route = (*m.route()).clone();
    route.send_env = vec!["LANG".into()];
    route.set_env = vec!["RSIBLE_MUX_TEST=set env".into()];
    // The test sshd accepts no variables: what it does with them is its choice, the
    // session must open either way (as with `ssh`).
    let mut proc = spawn_mux(&route, "echo ok", Duration::from_secs(10), None, None)
        .expect("session with environment");
    assert_eq!(read_all(&mut proc), "ok\n");
    assert_eq!(proc.wait_for_exit(Duration::from_secs(10)), Some(0));
}

#[test]
fn options_that_need_the_ssh_process_get_no_route() {
    let m = Master::start();
    let with = |extra: &[&str]| {
        let mut a: Vec<String> = extra.iter().map(|s| s.to_string()).collect();
        a.extend(m.argv("x"));
        route_for("ssh", &a)
    };
    assert!(with(&[]).is_some());
    assert!(with(&["-o", "ControlMaster=no"]).is_none());
    assert!(with(&["-o", "ControlMaster=yes"]).is_none());
    assert!(with(&["-t"]).is_none());
    assert!(with(&["-L", "18080:localhost:80"]).is_none());
    assert!(with(&["-o", "ControlPath=none"]).is_none());
}
