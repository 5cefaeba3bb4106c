//! A shell script for playbook tasks that must wait for another host's task:
//! `sh await_line.sh LINE FILE` returns once FILE holds the exact line LINE,
//! or fails after a minute. Tests that order hosts' steps by such waits
//! (instead of a sleep long enough "on this machine") stay deterministic on a
//! loaded CI machine, and an engine that does not run the hosts side by side
//! fails them (the awaited line never comes while the waiter holds it up).

use std::fs;
use std::path::{Path, PathBuf};

/// Polls every 0.1 s, 600 times at most; exit 1 when the line never came.
const SCRIPT: &str = r#"#!/bin/sh
i=0
until grep -qx -- "$1" "$2" 2>/dev/null; do
  i=$((i+1))
  if [ "$i" -gt 600 ]; then
    echo "await_line: '$1' never appeared in $2" >&2
    exit 1
  fi
  sleep 0.1
done
"#;

/// Writes `await_line.sh` into `dir` and returns its path.
pub fn write_await_line_script(dir: &Path) -> PathBuf {
    let path = dir.join("await_line.sh");
    fs::write(&path, SCRIPT).unwrap_or_else(|e| panic!("write {}: {e}", path.display()));
    path
}
