//! A running session: an `ssh` (or local agent) process, or a session opened on an
//! ssh ControlMaster from this process (`mux`). stdin shared with the stderr watcher
//! (which answers the become prompt), stdout buffered for markers then frames,
//! stderr collected.

use crate::mux::route::{session_env, term, MuxRoute};
use crate::mux::session::{open_session, ExitWatch, NotOpened, SessionRequest};
use crate::ConnError;
use std::fs::File;
use std::io::{BufReader, Read, Write};
use std::os::fd::OwnedFd;
use std::os::unix::net::UnixStream;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

/// What the stderr watcher concluded about become.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub(crate) enum BecomeFailure {
    #[default]
    None,
    MissingPassword,
    IncorrectPassword,
}

/// What carries the session.
pub(crate) enum Runner {
    Process(Child),
    /// A session of an ssh master: the control socket says when it ended, and how.
    Mux {
        watch: ExitWatch,
        live_token: u64,
    },
}

/// How to end a session from another thread (a become prompt answered wrong: sudo
/// would wait for another try forever).
enum Stopper {
    /// The process group of our child.
    Group(u32),
    /// The session's control socket: shutting it down makes the master end the session.
    Mux(UnixStream),
}

impl Stopper {
    fn stop(&self) {
        match self {
            // SAFETY: kill on our own child's process group has no memory effects.
            Stopper::Group(pid) => unsafe {
                libc::kill(-(*pid as libc::pid_t), libc::SIGTERM);
            },
            Stopper::Mux(control) => {
                let _ = control.shutdown(std::net::Shutdown::Both);
            }
        }
    }
}

pub(crate) struct Spawned {
    runner: Runner,
    pub stdin: Arc<Mutex<Option<File>>>,
    pub stdout: BufReader<File>,
    pub stderr: Arc<Mutex<Vec<u8>>>,
    /// Set by the stderr watcher when it reached the end of the pipe: everything the
    /// process wrote there has been collected.
    stderr_closed: Arc<std::sync::atomic::AtomicBool>,
    /// Set once [`Spawned::stderr_text`] has waited for the watcher (until the
    /// end of the pipe or its deadline): a later report of the same failure
    /// reads what was collected without waiting again.
    stderr_waited: std::sync::atomic::AtomicBool,
    pub become_failure: Arc<Mutex<BecomeFailure>>,
    pub prompt: Option<String>,
    /// `sudo` or `su` when the process was started through become: Ansible
    /// names the method in "Missing/Incorrect <method> password".
    pub become_name: &'static str,
    /// Set once the agent greeted: from then on stderr is the agent's, and
    /// a "Password:" in it is not a become prompt (su's prompt is that plain).
    pub agent_started: Arc<std::sync::atomic::AtomicBool>,
    /// Set by [`Spawned::release`]: the session ends on its own, nobody waits.
    released: bool,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

pub(crate) fn spawn(
    program: &str,
    args: &[String],
    prompt: Option<String>,
    password: Option<String>,
) -> Result<Spawned, ConnError> {
    use std::os::unix::process::CommandExt;
    // Its own process group, so that stopping it also stops what it started (a sudo
    // waiting for another password attempt, a shell's children).
    let mut child = Command::new(program)
        .args(args)
        .process_group(0)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| ConnError::Local(format!("cannot run {program}: {e}")))?;
    crate::live::register(child.id());
    let missing = || ConnError::Local("child has no stdin/stdout/stderr".into());
    let stdin = File::from(OwnedFd::from(child.stdin.take().ok_or_else(missing)?));
    let stdout = File::from(OwnedFd::from(child.stdout.take().ok_or_else(missing)?));
    let stderr = File::from(OwnedFd::from(child.stderr.take().ok_or_else(missing)?));
    let stopper = Stopper::Group(child.id());
    Ok(assemble(
        Runner::Process(child),
        (stdin, stdout, stderr),
        stopper,
        prompt,
        password,
    ))
}

/// Opens `command` as a session of the ssh master `route` names, without an `ssh`
/// process. Err: no session was opened (no master listening, a refusal); nothing ran
/// on the target and the caller runs `ssh` instead.
pub(crate) fn spawn_mux(
    route: &MuxRoute,
    command: &str,
    timeout: Duration,
    prompt: Option<String>,
    password: Option<String>,
) -> Result<Spawned, NotOpened> {
    let env = session_env(route);
    let term = term(route);
    let opened = open_session(
        &route.control_path,
        &SessionRequest {
            command,
            term: &term,
            escape_char: route.escape_char,
            forward_x11: route.forward_x11,
            forward_agent: route.forward_agent,
            env: &env,
        },
        timeout,
    )?;
    let watch = ExitWatch::new(opened.control, opened.session_id)?;
    let stopper = watch.stopper()?;
    let live_token = crate::live::register_mux(watch.stopper()?);
    Ok(assemble(
        Runner::Mux { watch, live_token },
        (opened.stdin, opened.stdout, opened.stderr),
        Stopper::Mux(stopper),
        prompt,
        password,
    ))
}

/// Starts the stderr watcher and puts the session together.
fn assemble(
    runner: Runner,
    (stdin, stdout, mut err_pipe): (File, File, File),
    stopper: Stopper,
    prompt: Option<String>,
    password: Option<String>,
) -> Spawned {
    let stdin = Arc::new(Mutex::new(Some(stdin)));
    let stderr = Arc::new(Mutex::new(Vec::new()));
    let become_failure = Arc::new(Mutex::new(BecomeFailure::None));
    let agent_started = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let stderr_closed = Arc::new(std::sync::atomic::AtomicBool::new(false));
    {
        let closed = Arc::clone(&stderr_closed);
        let started = Arc::clone(&agent_started);
        let stderr = Arc::clone(&stderr);
        let stdin = Arc::clone(&stdin);
        let failure = Arc::clone(&become_failure);
        let prompt = prompt.clone();
        thread::spawn(move || {
            let mut prompts_seen = 0usize;
            let mut buf = [0u8; 4096];
            loop {
                let n = match err_pipe.read(&mut buf) {
                    Ok(0) | Err(_) => {
                        closed.store(true, std::sync::atomic::Ordering::Release);
                        break;
                    }
                    Ok(n) => n,
                };
                let text = {
                    let mut all = lock(&stderr);
                    all.extend_from_slice(&buf[..n]);
                    String::from_utf8_lossy(&all).into_owned()
                };
                if text.contains("a password is required") {
                    *lock(&failure) = BecomeFailure::MissingPassword;
                }
                // su answers a wrong password with this and exits (Ansible's
                // su plugin looks for the same text).
                if prompts_seen > 0 && text.contains("Authentication failure") {
                    *lock(&failure) = BecomeFailure::IncorrectPassword;
                }
                if started.load(std::sync::atomic::Ordering::Relaxed) {
                    continue;
                }
                let Some(p) = &prompt else { continue };
                let count = text.matches(p.as_str()).count();
                while prompts_seen < count {
                    prompts_seen += 1;
                    let verdict = match (&password, prompts_seen) {
                        (Some(pw), 1) => {
                            if let Some(w) = lock(&stdin).as_mut() {
                                let _ = w.write_all(format!("{pw}\n").as_bytes());
                                let _ = w.flush();
                            }
                            None
                        }
                        (Some(_), _) => Some(BecomeFailure::IncorrectPassword),
                        (None, _) => Some(BecomeFailure::MissingPassword),
                    };
                    if let Some(v) = verdict {
                        *lock(&failure) = v;
                        stopper.stop();
                    }
                }
            }
        });
    }
    Spawned {
        runner,
        stdin,
        stdout: BufReader::new(stdout),
        stderr,
        stderr_closed,
        stderr_waited: std::sync::atomic::AtomicBool::new(false),
        become_failure,
        prompt,
        become_name: "sudo",
        agent_started,
        released: false,
    }
}

impl Spawned {
    /// Write to the child's stdin.
    pub fn write_all(&self, data: &[u8]) -> std::io::Result<()> {
        let mut guard = lock(&self.stdin);
        match guard.as_mut() {
            Some(w) => {
                w.write_all(data)?;
                w.flush()
            }
            None => Err(std::io::Error::new(
                std::io::ErrorKind::BrokenPipe,
                "stdin closed",
            )),
        }
    }

    /// Close stdin (the agent sees EOF and exits).
    pub fn close_stdin(&self) {
        lock(&self.stdin).take();
    }

    /// The exit code if the session has ended (reaped and unregistered then).
    fn try_exit(&mut self) -> Option<i32> {
        match &mut self.runner {
            Runner::Process(child) => match child.try_wait() {
                Ok(Some(status)) => {
                    use std::os::unix::process::ExitStatusExt;
                    crate::live::unregister(child.id());
                    Some(
                        status
                            .code()
                            .unwrap_or_else(|| 128 + status.signal().unwrap_or(0)),
                    )
                }
                Ok(None) => None,
                // Already reaped: nothing will say more.
                Err(_) => Some(-1),
            },
            Runner::Mux { watch, live_token } => {
                let code = watch.poll()?;
                crate::live::unregister_mux(*live_token);
                Some(code)
            }
        }
    }

    /// Wait up to `limit` for the session to end; returns its exit code if it did.
    pub fn wait_for_exit(&mut self, limit: Duration) -> Option<i32> {
        let deadline = Instant::now() + limit;
        // A session usually ends within a millisecond or two of its stdin
        // closing: short pauses first, then up to 20 ms between looks.
        let mut pause = Duration::from_millis(1);
        loop {
            match self.try_exit() {
                Some(code) => return Some(code),
                None if Instant::now() < deadline => {
                    thread::sleep(pause);
                    pause = (pause * 2).min(Duration::from_millis(20));
                }
                None => return None,
            }
        }
    }

    /// Wait for the session to end, however long it takes.
    pub fn wait_until_exit(&mut self) -> i32 {
        if let Runner::Process(child) = &mut self.runner {
            use std::os::unix::process::ExitStatusExt;
            let status = child.wait();
            crate::live::unregister(child.id());
            return match status {
                Ok(s) => s.code().unwrap_or_else(|| 128 + s.signal().unwrap_or(0)),
                Err(_) => -1,
            };
        }
        loop {
            if let Some(code) = self.wait_for_exit(Duration::from_secs(60)) {
                return code;
            }
        }
    }

    /// stderr collected so far, with our sudo prompt removed.
    pub fn stderr_text(&self) -> String {
        // Every report of a dead process reads its stderr first.
        crate::live::hold_if_interrupting();
        // Wait for the watcher to drain what the process wrote last (on a loaded
        // machine a fixed pause lost ssh's "Connection refused"), but not for long: a
        // descendant that outlives it (a daemonised job) may hold the pipe open.
        // Once per process: a daemonised descendant would otherwise cost every
        // call (a failure's report reads stderr more than once) its second.
        if !self
            .stderr_waited
            .swap(true, std::sync::atomic::Ordering::AcqRel)
        {
            let deadline = Instant::now() + Duration::from_secs(1);
            while !self
                .stderr_closed
                .load(std::sync::atomic::Ordering::Acquire)
                && Instant::now() < deadline
            {
                thread::sleep(Duration::from_millis(5));
            }
        }
        let mut text = String::from_utf8_lossy(&lock(&self.stderr)).into_owned();
        if let Some(p) = &self.prompt {
            text = text.replace(p.as_str(), "");
        }
        text.trim().to_string()
    }

    pub fn become_failure(&self) -> BecomeFailure {
        *lock(&self.become_failure)
    }

    /// Lets the session end on its own: its stdin closes (the agent reads EOF
    /// and exits, the session with it) and nothing waits for that. The
    /// process, or the ssh master's session, goes on for the moment the agent
    /// takes to exit, possibly after rsible returned.
    pub fn release(&mut self) {
        self.close_stdin();
        self.released = true;
    }

    /// Stop the session for good.
    pub fn kill(&mut self) {
        self.close_stdin();
        if self.released {
            return;
        }
        if self.wait_for_exit(Duration::from_millis(500)).is_some() {
            return;
        }
        match &mut self.runner {
            Runner::Process(child) => {
                // SAFETY: signalling our child's process group; no memory effects.
                unsafe {
                    libc::kill(-(child.id() as libc::pid_t), libc::SIGKILL);
                }
                let _ = child.kill();
                let _ = child.wait();
                crate::live::unregister(child.id());
            }
            Runner::Mux { watch, live_token } => {
                watch.close();
                crate::live::unregister_mux(*live_token);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stderr_is_waited_for_once_when_a_descendant_keeps_the_pipe_open() {
        // The shell exits at once; the `sleep` it leaves behind holds stderr.
        let script = "echo went away >&2; sleep 5 & exit 3".to_string();
        let mut proc = spawn("/bin/sh", &["-c".into(), script], None, None).expect("spawn sh");
        assert_eq!(proc.wait_for_exit(Duration::from_secs(5)), Some(3));
        let first = Instant::now();
        assert_eq!(proc.stderr_text(), "went away");
        assert!(
            first.elapsed() >= Duration::from_millis(900),
            "the first call waits for the pipe's end: {:?}",
            first.elapsed()
        );
        let second = Instant::now();
        assert_eq!(proc.stderr_text(), "went away");
        assert!(
            second.elapsed() < Duration::from_millis(500),
            "a second call reads what was collected: {:?}",
            second.elapsed()
        );
        proc.kill(); // the process group, the sleep with it
    }
}
