//! A passenger session through a running ssh ControlMaster, opened from this
//! process: what `ssh -S <socket> host command` does when a master is up, without
//! the `ssh` process (its start alone costs ~8-13 ms of CPU per connection, the
//! largest part of the controller's CPU when gathering facts on many hosts).
//!
//! The session's stdin, stdout and stderr are pipes made here; their far ends are
//! handed to the master with SCM_RIGHTS, so the master does the I/O and this
//! process reads and writes the near ends as it would an `ssh` child's pipes.
//! The control socket stays open for the session's life: the master reports the
//! remote exit status on it, and closing it makes the master end the session (the
//! remote side sees end of input), as when an `ssh` mux client exits.
//!
//! No crate: `openssh-mux-client` (crates.io) speaks this protocol but only
//! async, on tokio, which nothing else in rsible uses; the framing is a few
//! `uint32`s and strings (wire.rs). File descriptors go through the `sendfd`
//! crate rather than hand-built `cmsghdr`s.

use super::wire::{
    read_message, take_message, Fields, Message, MUX_C_ALIVE_CHECK, MUX_C_NEW_SESSION,
    MUX_MSG_HELLO, MUX_S_ALIVE, MUX_S_EXIT_MESSAGE, MUX_S_FAILURE, MUX_S_PERMISSION_DENIED,
    MUX_S_SESSION_OPENED, PROTOCOL_VERSION,
};
use sendfd::SendWithFd;
use std::fs::File;
use std::io::{self, Read};
use std::os::fd::{AsRawFd, FromRawFd};
use std::os::unix::net::UnixStream;
use std::path::Path;
use std::time::Duration;

/// What the `ssh` client would send for this host and command.
pub(crate) struct SessionRequest<'a> {
    pub command: &'a str,
    /// `$TERM` (or a `SetEnv TERM=`), empty when unset: sent as the client sends it.
    pub term: &'a str,
    /// 0xffffffff for none; the master uses it only for sessions with a tty.
    pub escape_char: u32,
    pub forward_x11: bool,
    pub forward_agent: bool,
    /// `NAME=value` strings (`SendEnv` matches from our environment, then `SetEnv`).
    pub env: &'a [Vec<u8>],
}

/// A session the master opened.
pub(crate) struct OpenedSession {
    pub control: UnixStream,
    pub session_id: u32,
    /// Write end of the session's stdin.
    pub stdin: File,
    /// Read ends of the session's stdout and stderr.
    pub stdout: File,
    pub stderr: File,
}

/// Why no session was opened. Nothing was started on the target, so the caller can
/// run `ssh` instead (which then reports whatever is wrong in ssh's words).
#[derive(Debug)]
pub(crate) struct NotOpened(pub String);

impl From<io::Error> for NotOpened {
    fn from(e: io::Error) -> NotOpened {
        NotOpened(e.to_string())
    }
}

impl From<String> for NotOpened {
    fn from(e: String) -> NotOpened {
        NotOpened(e)
    }
}

/// (read end, write end), both close-on-exec: a write end inherited by some other
/// child would keep the session's output open after the master closed its copy.
fn pipe() -> io::Result<(File, File)> {
    let mut fds = [0 as libc::c_int; 2];
    // SAFETY: pipe2 writes two descriptors into the array, which we own.
    if unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) } != 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: both descriptors were just created and belong to nothing else.
    Ok(unsafe { (File::from_raw_fd(fds[0]), File::from_raw_fd(fds[1])) })
}

fn reply(control: &mut UnixStream) -> Result<Vec<u8>, NotOpened> {
    read_message(control)?.ok_or_else(|| NotOpened("the master closed the control socket".into()))
}

/// Asks the master behind `socket` for a session running `req.command`.
/// `timeout` bounds each wait for the master's answers.
pub(crate) fn open_session(
    socket: &Path,
    req: &SessionRequest,
    timeout: Duration,
) -> Result<OpenedSession, NotOpened> {
    let mut control =
        UnixStream::connect(socket).map_err(|e| NotOpened(format!("{}: {e}", socket.display())))?;
    control.set_read_timeout(Some(timeout))?;
    control.set_write_timeout(Some(timeout))?;

    Message::new(MUX_MSG_HELLO)
        .u32(PROTOCOL_VERSION)
        .send(&mut control)?;
    let hello = reply(&mut control)?;
    let mut f = Fields::new(&hello);
    if f.u32()? != MUX_MSG_HELLO {
        return Err(NotOpened("the master did not say hello".into()));
    }
    let version = f.u32()?;
    if version != PROTOCOL_VERSION {
        return Err(NotOpened(format!("mux protocol version {version}")));
    }

    // As the ssh client does first: the master's pid, and proof that it answers.
    Message::new(MUX_C_ALIVE_CHECK).u32(0).send(&mut control)?;
    let alive = reply(&mut control)?;
    let mut f = Fields::new(&alive);
    let (kind, rid) = (f.u32()?, f.u32()?);
    if kind != MUX_S_ALIVE || rid != 0 {
        return Err(NotOpened(format!("alive check answered with {kind:#x}")));
    }
    // The master's pid follows; the ssh client only logs it.

    let (stdin_far, stdin) = pipe()?;
    let (stdout, stdout_far) = pipe()?;
    let (stderr, stderr_far) = pipe()?;
    let mut m = Message::new(MUX_C_NEW_SESSION);
    m.u32(1)
        .string(b"")
        .flag(false) // no tty
        .flag(req.forward_x11)
        .flag(req.forward_agent)
        .flag(false) // not a subsystem
        .u32(req.escape_char)
        .string(req.term.as_bytes())
        .string(req.command.as_bytes());
    for var in req.env {
        m.string(var);
    }
    m.send(&mut control)?;
    // One descriptor per message with one byte of data: the master receives
    // them one by one, in this order.
    for far in [&stdin_far, &stdout_far, &stderr_far] {
        if control.send_with_fd(&[0], &[far.as_raw_fd()])? != 1 {
            return Err(NotOpened("short write passing a descriptor".into()));
        }
    }
    // The master holds its copies now; ours would keep the pipes from ending.
    drop((stdin_far, stdout_far, stderr_far));

    let answer = reply(&mut control)?;
    let mut f = Fields::new(&answer);
    let (kind, rid) = (f.u32()?, f.u32()?);
    if rid != 1 {
        return Err(NotOpened(format!("reply to request {rid}, not 1")));
    }
    let session_id = match kind {
        MUX_S_SESSION_OPENED => f.u32()?,
        MUX_S_PERMISSION_DENIED | MUX_S_FAILURE => {
            return Err(NotOpened(format!(
                "the master refused the session: {}",
                f.string().unwrap_or_default()
            )))
        }
        other => return Err(NotOpened(format!("unexpected reply {other:#x}"))),
    };
    control.set_read_timeout(None)?;
    control.set_write_timeout(None)?;
    Ok(OpenedSession {
        control,
        session_id,
        stdin,
        stdout,
        stderr,
    })
}

/// Follows the control socket of an open session without blocking: the exit status
/// arrives there, and the master closes it once the session is over.
pub(crate) struct ExitWatch {
    control: UnixStream,
    session_id: u32,
    pending: Vec<u8>,
    exit: Option<u32>,
    closed: bool,
}

impl ExitWatch {
    pub fn new(control: UnixStream, session_id: u32) -> io::Result<ExitWatch> {
        control.set_nonblocking(true)?;
        Ok(ExitWatch {
            control,
            session_id,
            pending: Vec::new(),
            exit: None,
            closed: false,
        })
    }

    /// A second handle on the control socket, for stopping the session from
    /// another thread (an interrupt, a become prompt answered wrong).
    pub fn stopper(&self) -> io::Result<UnixStream> {
        self.control.try_clone()
    }

    /// The session's exit code once the master closed the control socket: the
    /// remote status, or 255 when the master went without sending one (killed,
    /// connection lost, remote killed by a signal) — what `ssh` exits with then.
    pub fn poll(&mut self) -> Option<i32> {
        let mut buf = [0u8; 512];
        while !self.closed {
            match self.control.read(&mut buf) {
                Ok(0) => self.closed = true,
                Ok(n) => self.pending.extend_from_slice(&buf[..n]),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                Err(_) => self.closed = true,
            }
        }
        loop {
            match take_message(&mut self.pending) {
                Ok(Some(body)) => self.note(&body),
                Ok(None) => break,
                Err(_) => {
                    self.pending.clear();
                    self.closed = true;
                    break;
                }
            }
        }
        self.closed
            .then(|| self.exit.map_or(255, |code| code as i32))
    }

    fn note(&mut self, body: &[u8]) {
        let mut f = Fields::new(body);
        if let (Ok(MUX_S_EXIT_MESSAGE), Ok(sid), Ok(code)) = (f.u32(), f.u32(), f.u32()) {
            if sid == self.session_id {
                self.exit = Some(code);
            }
        }
        // MUX_S_TTY_ALLOC_FAIL (we ask for no tty) or anything else: nothing to do.
    }

    /// Ends the session from our side: the master stops reading its input and
    /// sends end of input to the remote command, as when an `ssh` client exits.
    pub fn close(&mut self) {
        let _ = self.control.shutdown(std::net::Shutdown::Both);
        self.closed = true;
    }
}
