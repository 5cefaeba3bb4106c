//! A spawned ssh/agent process: stdin shared with the stderr watcher (which answers the
//! become prompt), stdout buffered for markers then frames, stderr collected.

use crate::ConnError;
use std::io::{BufReader, Read, Write};
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};
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

pub(crate) struct Spawned {
    pub child: Child,
    pub stdin: Arc<Mutex<Option<ChildStdin>>>,
    pub stdout: BufReader<ChildStdout>,
    pub stderr: Arc<Mutex<Vec<u8>>>,
    /// Set by the stderr watcher when it reached the end of the pipe: everything the
    /// process wrote there has been collected.
    stderr_closed: Arc<std::sync::atomic::AtomicBool>,
    pub become_failure: Arc<Mutex<BecomeFailure>>,
    pub prompt: Option<String>,
    /// `sudo` or `su` when the process was started through become: Ansible
    /// names the method in "Missing/Incorrect <method> password".
    pub become_name: &'static str,
    /// Set once the agent greeted: from then on stderr is the agent's, and
    /// a "Password:" in it is not a become prompt (su's prompt is that plain).
    pub agent_started: Arc<std::sync::atomic::AtomicBool>,
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
    let stdin = Arc::new(Mutex::new(child.stdin.take()));
    let stdout = child
        .stdout
        .take()
        .ok_or_else(|| ConnError::Local("child has no stdout".into()))?;
    let mut err_pipe = child
        .stderr
        .take()
        .ok_or_else(|| ConnError::Local("child has no stderr".into()))?;
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
        let pid = child.id();
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
                        // sudo would wait for another try forever: stop it.
                        // SAFETY: kill on our own child's pid has no memory effects.
                        unsafe {
                            libc::kill(-(pid as libc::pid_t), libc::SIGTERM);
                        }
                    }
                }
            }
        });
    }
    Ok(Spawned {
        child,
        stdin,
        stdout: BufReader::new(stdout),
        stderr,
        stderr_closed,
        become_failure,
        prompt,
        become_name: "sudo",
        agent_started,
    })
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

    /// Wait up to `limit` for the child to exit; returns its exit code if it did.
    pub fn wait_for_exit(&mut self, limit: Duration) -> Option<i32> {
        let deadline = Instant::now() + limit;
        loop {
            match self.child.try_wait() {
                Ok(Some(status)) => {
                    use std::os::unix::process::ExitStatusExt;
                    crate::live::unregister(self.child.id());
                    return Some(
                        status
                            .code()
                            .unwrap_or_else(|| 128 + status.signal().unwrap_or(0)),
                    );
                }
                Ok(None) if Instant::now() < deadline => thread::sleep(Duration::from_millis(20)),
                _ => return None,
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
        let deadline = Instant::now() + Duration::from_secs(1);
        while !self
            .stderr_closed
            .load(std::sync::atomic::Ordering::Acquire)
            && Instant::now() < deadline
        {
            thread::sleep(Duration::from_millis(5));
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

    /// Stop the child for good.
    pub fn kill(&mut self) {
        self.close_stdin();
        if self.wait_for_exit(Duration::from_millis(500)).is_none() {
            // SAFETY: signalling our child's process group; no memory effects.
            unsafe {
                libc::kill(-(self.child.id() as libc::pid_t), libc::SIGKILL);
            }
            let _ = self.child.kill();
            let _ = self.child.wait();
            crate::live::unregister(self.child.id());
        }
    }
}
