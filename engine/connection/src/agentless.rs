//! Running work on a host that cannot run the agent: one session per
//! command, as Ansible runs a module with pipelining. The command (wrapped
//! in become) first echoes a marker; only once the marker arrives — become
//! has succeeded, a sudo password has been answered — does the controller
//! send the command's input on stdin and close it. The input therefore never
//! reaches sudo as a password attempt, and the password never reaches a
//! command line.

use std::io::{BufRead, Read};

use crate::become_cmd;
use crate::child::{spawn, BecomeFailure};
use crate::handle::dead_connection_error;
use crate::raw::RawOutput;
use crate::spec::{BecomeMethod, ConnKind, ConnSpec};
use crate::ssh_command::{shell_quote, ssh_argv};
use crate::ConnError;

/// Runs the shell `command` on the target (as the become user, when the spec
/// has one), feeds it `input` on stdin, and returns its exit status and output.
/// ssh's own failure (exit 255) is `Unreachable`; become failures are `Become`.
pub fn run_piped(spec: &ConnSpec, command: &str, input: &[u8]) -> Result<RawOutput, ConnError> {
    let marker = ready_marker();
    let script = format!("echo {marker}; {command}");
    let password = spec
        .become_
        .as_ref()
        .and_then(|b| b.password.as_ref().map(|p| p.expose().to_string()));
    let (remote, prompt) = match &spec.become_ {
        Some(b) => become_cmd::wrap(b, &script),
        None => (format!("/bin/sh -c {}", shell_quote(&script)), None),
    };
    let (program, args) = match spec.connection {
        ConnKind::Ssh => (spec.ssh_executable.clone(), ssh_argv(spec, &remote)?),
        ConnKind::Local => ("/bin/sh".to_string(), vec!["-c".to_string(), remote]),
    };
    let mut proc = spawn(&program, &args, prompt, password)?;
    if spec
        .become_
        .as_ref()
        .is_some_and(|b| b.method == BecomeMethod::Su)
    {
        proc.become_name = "su";
    }
    if !wait_for_marker(&mut proc.stdout, &marker) {
        let code = proc.wait_for_exit(std::time::Duration::from_secs(2));
        let err = dead_connection_error(&proc, spec.connection, code);
        proc.kill();
        return Err(match err {
            ConnError::Unreachable(_)
                if !(spec.connection == ConnKind::Ssh && code == Some(255)) =>
            {
                ConnError::Local(format!(
                    "the command did not start on the target (exit status {}): {}",
                    code.map(|c| c.to_string())
                        .unwrap_or_else(|| "unknown".into()),
                    proc.stderr_text()
                ))
            }
            other => other,
        });
    }
    // From here stderr is the command's: a "Password:" in it is no prompt.
    proc.agent_started
        .store(true, std::sync::atomic::Ordering::Relaxed);
    // A command that exits without reading its input closes the pipe: its
    // exit status and output say what happened, not the write error.
    let _ = proc.write_all(input);
    proc.close_stdin();
    let mut out = Vec::new();
    let _ = proc.stdout.read_to_end(&mut out);
    let rc = proc.wait_until_exit();
    let stderr = proc.stderr_text();
    if spec.connection == ConnKind::Ssh && rc == 255 {
        return Err(ConnError::Unreachable(format!(
            "Failed to connect to the host via ssh: {stderr}"
        )));
    }
    if proc.become_failure() != BecomeFailure::None {
        return Err(dead_connection_error(&proc, spec.connection, Some(rc)));
    }
    Ok(RawOutput {
        rc,
        stdout: String::from_utf8_lossy(&out).into_owned(),
        stderr,
    })
}

/// Reads stdout lines (a login banner may come first) up to the marker.
fn wait_for_marker(stdout: &mut impl BufRead, marker: &str) -> bool {
    let mut line = Vec::new();
    loop {
        line.clear();
        match stdout.read_until(b'\n', &mut line) {
            Ok(0) | Err(_) => return false,
            Ok(_) => {
                if String::from_utf8_lossy(&line).trim_end() == marker {
                    return true;
                }
            }
        }
    }
}

/// A marker no command prints by chance.
fn ready_marker() -> String {
    let prompt = become_cmd::random_prompt();
    let key: String = prompt.chars().filter(|c| c.is_ascii_hexdigit()).collect();
    format!("RSIBLE-READY-{key}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn input_reaches_the_command_after_the_marker() {
        let mut spec = ConnSpec::new("localhost", "/nonexistent");
        spec.connection = ConnKind::Local;
        let out = run_piped(&spec, "echo before; tr a-z A-Z; exit 3", b"hello\n").unwrap();
        assert_eq!(out.rc, 3);
        assert_eq!(out.stdout, "before\nHELLO\n");
    }

    #[test]
    fn marker_is_random_and_plain() {
        let a = ready_marker();
        assert!(a.starts_with("RSIBLE-READY-") && a.len() > 20, "{a}");
        assert_ne!(a, ready_marker());
    }
}
