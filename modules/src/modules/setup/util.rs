//! Small readers the collectors share: file contents as Ansible's
//! `get_file_content` returns them, commands, and `get_bin_path`.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// The file's text, stripped of surrounding whitespace; None when it cannot be read.
pub fn file_content(path: impl AsRef<Path>) -> Option<String> {
    let bytes = std::fs::read(path).ok()?;
    Some(String::from_utf8_lossy(&bytes).trim().to_string())
}

/// The file's lines (Python `splitlines` of the stripped content); empty when unreadable.
pub fn file_lines(path: impl AsRef<Path>) -> Vec<String> {
    file_content(path)
        .map(|c| c.lines().map(str::to_string).collect())
        .unwrap_or_default()
}

/// An executable found on PATH or in the sbin directories Ansible adds.
pub fn bin_path(name: &str) -> Option<PathBuf> {
    let path = std::env::var("PATH").unwrap_or_default();
    let extra = ["/sbin", "/usr/sbin", "/usr/local/sbin"];
    let found = path
        .split(':')
        .filter(|d| !d.is_empty())
        .chain(extra)
        .map(|d| Path::new(d).join(name))
        .find(|p| is_executable(p));
    found
}

fn is_executable(p: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(p)
        .map(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
        .unwrap_or(false)
}

/// Runs a program in the C locale; (rc, stdout, stderr), rc -1 when it could not start.
pub fn run(program: &Path, args: &[&str]) -> (i32, String, String) {
    let out = Command::new(program)
        .args(args)
        .env("LANG", "C")
        .env("LC_ALL", "C")
        .env("LC_MESSAGES", "C")
        .stdin(Stdio::null())
        .output();
    match out {
        Ok(o) => (
            o.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&o.stdout).into_owned(),
            String::from_utf8_lossy(&o.stderr).into_owned(),
        ),
        Err(e) => (-1, String::new(), e.to_string()),
    }
}

/// A compiled regex, compiled once per process: collectors match the same
/// patterns against every line of /proc/cpuinfo and the like, and compiling
/// costs far more than matching. None for an invalid pattern.
pub fn regex(pattern: &str) -> Option<regex::Regex> {
    use std::cell::RefCell;
    use std::collections::HashMap;
    thread_local! {
        static COMPILED: RefCell<HashMap<String, Option<regex::Regex>>> = RefCell::new(HashMap::new());
    }
    COMPILED.with(|c| {
        c.borrow_mut()
            .entry(pattern.to_string())
            .or_insert_with(|| regex::Regex::new(pattern).ok())
            .clone()
    })
}
