//! `raw`: a plain `ssh host command`, no agent (Ansible's raw module).

use crate::child::spawn;
use crate::spec::{ConnKind, ConnSpec};
use crate::ssh_command::ssh_argv;
use crate::ConnError;
use std::io::Read;
use std::time::Duration;

/// Output of a raw command.
#[derive(Debug, Clone, PartialEq)]
pub struct RawOutput {
    pub rc: i32,
    pub stdout: String,
    pub stderr: String,
}

/// Run `command` on the host through the login shell (ssh), or `/bin/sh -c` (local).
/// ssh's own failure (exit 255) is `Unreachable`; a failing command is an `Ok` with rc.
pub fn raw(spec: &ConnSpec, command: &str) -> Result<RawOutput, ConnError> {
    let (program, args) = match spec.connection {
        ConnKind::Ssh => (spec.ssh_executable.clone(), ssh_argv(spec, command)?),
        ConnKind::Local => (
            "/bin/sh".to_string(),
            vec!["-c".to_string(), command.to_string()],
        ),
    };
    let mut proc = spawn(&program, &args, None, None)?;
    proc.close_stdin();
    let mut out = Vec::new();
    // A ControlPersist master may keep our pipes open after the command ended; the
    // read ends when the command's session closes, which is what we want.
    let _ = proc.stdout.read_to_end(&mut out);
    let rc = proc.wait_for_exit(Duration::from_secs(3600)).unwrap_or(-1);
    let stderr = proc.stderr_text();
    if spec.connection == ConnKind::Ssh && rc == 255 {
        return Err(ConnError::Unreachable(format!(
            "Failed to connect to the host via ssh: {stderr}"
        )));
    }
    Ok(RawOutput {
        rc,
        stdout: String::from_utf8_lossy(&out).into_owned(),
        stderr,
    })
}
