//! A local account for become tests (sudo/su to another user).

use std::process::Command;

/// Makes sure the local user `name` exists (home directory, /bin/sh), creating it with
/// `useradd` when missing; a test running beside this one may create it meanwhile.
/// Panics naming the prerequisite when it cannot be had.
pub fn ensure_local_user(name: &str) {
    let exists = |name: &str| {
        Command::new("id")
            .arg(name)
            .output()
            .is_ok_and(|o| o.status.success())
    };
    if exists(name) {
        return;
    }
    let out = Command::new("useradd")
        .args(["-m", "-s", "/bin/sh", name])
        .output()
        .expect("prerequisite missing: useradd");
    assert!(
        out.status.success() || exists(name),
        "prerequisite missing: cannot create user {name}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}
