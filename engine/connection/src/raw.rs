//! `raw`: a plain `ssh host command`, no agent (Ansible's raw module).

use crate::become_cmd;
use crate::spec::{ConnKind, ConnSpec};
use crate::ssh_command::{shell_quote, ssh_argv};
use crate::ConnError;
use std::io::Read;
use std::path::PathBuf;

/// Output of a raw command.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct RawOutput {
    pub rc: i32,
    pub stdout: String,
    pub stderr: String,
}

/// How the `raw` action runs its command, as Ansible's
/// `_low_level_execute_command` does.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RawOptions {
    /// ssh `-tt`: a terminal on the target (Ansible's ssh plugin asks for one
    /// for every command without input data), so the command's stderr joins
    /// its stdout and lines end in `\r\n`.
    pub tty: bool,
    /// `executable`: the command runs as `<executable> -c '<command>'`.
    pub executable: Option<String>,
    /// Working directory of a local command (Ansible: the playbook's directory).
    pub cwd: Option<PathBuf>,
}

/// Run `command` on the host through the login shell (ssh), or `/bin/sh -c` (local).
/// ssh's own failure (exit 255) is `Unreachable`; a failing command is an `Ok` with rc.
pub fn raw(spec: &ConnSpec, command: &str) -> Result<RawOutput, ConnError> {
    raw_with(spec, command, &RawOptions::default())
}

/// [`raw`] with Ansible's options: `become` (from the spec) wraps the command
/// first, then `executable`; ssh gets `-tt` when asked.
pub fn raw_with(spec: &ConnSpec, command: &str, opts: &RawOptions) -> Result<RawOutput, ConnError> {
    let mut command = command.to_string();
    if let Some(become_) = &spec.become_ {
        if become_.password.is_some() {
            return Err(ConnError::Local(
                "rsible does not support raw with a become password yet".into(),
            ));
        }
        command = become_cmd::wrap(become_, &command).0;
    }
    if let Some(exe) = opts.executable.as_deref().filter(|e| !e.is_empty()) {
        command = format!("{exe} -c {}", shell_quote(&command));
    }
    let (program, args) = match spec.connection {
        ConnKind::Ssh => {
            let mut args = ssh_argv(spec, &command)?;
            if opts.tty {
                // ssh_argv ends with the destination and the command.
                let at = args.len().saturating_sub(2);
                args.insert(at, "-tt".into());
            }
            (spec.ssh_executable.clone(), args)
        }
        ConnKind::Local => ("/bin/sh".to_string(), vec!["-c".to_string(), command]),
    };
    let tty = opts.tty && spec.connection == ConnKind::Ssh;
    let (rc, stdout, stderr) = run_captured(&program, &args, opts.cwd.as_deref(), tty)?;
    if spec.connection == ConnKind::Ssh && rc == 255 {
        return Err(ConnError::Unreachable(format!(
            "Failed to connect to the host via ssh: {}",
            stderr.trim_end()
        )));
    }
    Ok(RawOutput { rc, stdout, stderr })
}

/// Runs `program` in its own process group (so an interrupt stops it, see
/// `live`) without input, and returns its exit code, stdout and stderr
/// exactly as written (raw's result keeps every byte, trailing `\r\n` too).
fn run_captured(
    program: &str,
    args: &[String],
    cwd: Option<&std::path::Path>,
    tty_stdin: bool,
) -> Result<(i32, String, String), ConnError> {
    use std::os::unix::process::{CommandExt, ExitStatusExt};
    use std::process::{Command, Stdio};
    // Ansible gives ssh a terminal as its input when it asks for `-tt`: ssh
    // passes that terminal's modes on, and the remote one then writes
    // `\r\n` line ends (with no local terminal, a multiplexed session gets
    // none). The controller's end stays open until the command has ended.
    let (stdin, _terminal) = if tty_stdin {
        let (controller_end, target_end) = open_pty()?;
        (Stdio::from(target_end), Some(controller_end))
    } else {
        (Stdio::null(), None)
    };
    let mut cmd = Command::new(program);
    cmd.args(args)
        .process_group(0)
        .stdin(stdin)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    if let Some(dir) = cwd {
        cmd.current_dir(dir);
    }
    let mut child = cmd
        .spawn()
        .map_err(|e| ConnError::Local(format!("cannot run {program}: {e}")))?;
    crate::live::register(child.id());
    let mut err_pipe = child.stderr.take();
    let err_reader = std::thread::spawn(move || {
        let mut buf = Vec::new();
        if let Some(p) = err_pipe.as_mut() {
            let _ = p.read_to_end(&mut buf);
        }
        buf
    });
    let mut out = Vec::new();
    if let Some(mut p) = child.stdout.take() {
        // A ControlPersist master may keep our pipes open after the command
        // ended; the read ends when the command's session closes.
        let _ = p.read_to_end(&mut out);
    }
    let status = child.wait();
    crate::live::unregister(child.id());
    let err = err_reader.join().unwrap_or_default();
    let rc = match status {
        Ok(s) => s.code().unwrap_or_else(|| 128 + s.signal().unwrap_or(0)),
        Err(_) => -1,
    };
    Ok((
        rc,
        String::from_utf8_lossy(&out).into_owned(),
        String::from_utf8_lossy(&err).into_owned(),
    ))
}

/// A new pseudo-terminal: (controller end, target end).
fn open_pty() -> Result<(std::os::fd::OwnedFd, std::os::fd::OwnedFd), ConnError> {
    use std::os::fd::FromRawFd;
    let mut controller: libc::c_int = -1;
    let mut target: libc::c_int = -1;
    // SAFETY: openpty writes two descriptors into the provided integers and
    // reads no other memory (null name, termios and window size).
    let rc = unsafe {
        libc::openpty(
            &mut controller,
            &mut target,
            std::ptr::null_mut(),
            std::ptr::null(),
            std::ptr::null(),
        )
    };
    if rc != 0 {
        return Err(ConnError::Local(format!(
            "cannot open a pseudo-terminal: {}",
            std::io::Error::last_os_error()
        )));
    }
    // SAFETY: both descriptors were just opened by openpty and are owned by nobody else.
    Ok(unsafe {
        (
            std::os::fd::OwnedFd::from_raw_fd(controller),
            std::os::fd::OwnedFd::from_raw_fd(target),
        )
    })
}
