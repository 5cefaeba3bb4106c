//! How the connection pool runs a `raw` command: through the connection,
//! without the agent, as Ansible's `_low_level_execute_command` does.

use rsible_connection::{raw_with, ConnKind, ConnSpec, RawOptions};

use crate::target::{RawCall, RawOutcome};

/// Runs `command` on the host `spec` reaches: ssh with a terminal (`-tt`,
/// as Ansible's ssh plugin runs commands without input), or `/bin/sh -c`
/// in the playbook's directory for the local connection. become wraps the
/// command unless the become user is the remote user (Ansible's rule
/// without `become_allow_same_user`).
pub(crate) fn run(spec: &ConnSpec, command: &str, call: &RawCall) -> RawOutcome {
    let mut spec = spec.clone();
    let remote_user = match spec.connection {
        ConnKind::Local => local_user(),
        ConnKind::Ssh => spec.user.clone(),
    };
    if let (Some(become_), Some(remote)) = (&spec.become_, &remote_user) {
        let target = if become_.user.is_empty() {
            "root"
        } else {
            become_.user.as_str()
        };
        if target == remote {
            spec.become_ = None;
        }
    }
    let opts = RawOptions {
        tty: spec.connection == ConnKind::Ssh,
        executable: call.executable.clone(),
        cwd: match spec.connection {
            ConnKind::Local => call.cwd.clone(),
            ConnKind::Ssh => None,
        },
    };
    match raw_with(&spec, command, &opts) {
        Ok(out) => RawOutcome::Done {
            rc: out.rc,
            stdout: out.stdout,
            stderr: out.stderr,
        },
        Err(e) if e.is_unreachable() => RawOutcome::Unreachable(e.to_string()),
        Err(e) => RawOutcome::Failed(e.to_string()),
    }
}

/// The user running rsible (Ansible's local connection: `getpass.getuser()`).
fn local_user() -> Option<String> {
    for var in ["LOGNAME", "USER", "LNAME", "USERNAME"] {
        if let Ok(v) = std::env::var(var) {
            if !v.is_empty() {
                return Some(v);
            }
        }
    }
    // No libc here: the owner of /proc/self is our uid; /etc/passwd names it.
    use std::os::unix::fs::MetadataExt;
    let uid = std::fs::metadata("/proc/self").ok()?.uid().to_string();
    let passwd = std::fs::read_to_string("/etc/passwd").ok()?;
    passwd.lines().find_map(|line| {
        let mut fields = line.split(':');
        let name = fields.next()?;
        (fields.nth(1)? == uid).then(|| name.to_string())
    })
}
