//! Throwaway sandboxes for differential tests of modules that change the system:
//! a command run in private mount and PID namespaces (`unshare --mount --pid
//! --fork --mount-proc`), after a setup script that mounts the sandbox over the
//! system's directories. Nothing mounted there is seen outside, and everything
//! ends with the namespace's PID 1.

use std::path::Path;
use std::process::Command;

/// Panics unless the test runs as root (namespaces and mounts need it); `why`
/// names the test and what it does.
pub fn require_root(why: &str) {
    let uid = Command::new("id").arg("-u").output().expect("run id");
    assert_eq!(
        String::from_utf8_lossy(&uid.stdout).trim(),
        "0",
        "{why} needs root"
    );
}

/// Panics with a clear message for each tool of `names` that is not on PATH.
pub fn require_tools(names: &[&str]) {
    for name in names {
        let found = Command::new("sh")
            .arg("-c")
            .arg(format!("command -v {name}"))
            .output()
            .is_ok_and(|o| o.status.success());
        assert!(
            found,
            "{name} is missing: scripts/setup-test-env.sh installs what this test needs"
        );
    }
}

/// A command that runs `setup` (a shell script; `set -e` applies to it) in fresh
/// private mount and PID namespaces, then the program and arguments the caller
/// appends (`"$@"`), and then `after` (a shell script that may read the program's
/// status as `$rc`), exiting with the program's status. `init` is the shell run as
/// the namespace's PID 1 (a copy of /bin/sh under another name when the test
/// wants its own `service_mgr` fact, else /bin/sh).
pub fn sandboxed(init: &Path, setup: &str, after: &str) -> Command {
    let script = format!("set -e\n{setup}\nset +e\n\"$@\"\nrc=$?\n{after}\nexit $rc\n");
    let mut cmd = Command::new("unshare");
    cmd.args([
        "--mount",
        "--pid",
        "--fork",
        "--mount-proc",
        "--propagation",
        "private",
        "--",
    ])
    .arg(init)
    .arg("-c")
    .arg(script)
    .arg(init.file_name().unwrap_or(init.as_os_str()));
    cmd
}
