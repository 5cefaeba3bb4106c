//! The sudo password is fed on stdin after the random prompt, never on a command line.
//! Uses a stand-in `sudo` first in PATH (this test binary holds only these tests, so
//! changing PATH does not leak into other tests) and the local connection.

mod common;

use common::agent_binary;
use rsible_connection::{BecomeSpec, CallOptions, ConnError, ConnKind, ConnSpec, Connection};
use serde_json::json;
use std::fs;
use std::os::unix::fs::PermissionsExt;

const FAKE_SUDO: &str = r#"#!/bin/sh
prompt=""
while [ $# -gt 0 ]; do
  case "$1" in
    -p) prompt=$2; shift 2;;
    -u) shift 2;;
    -*) shift;;
    *) break;;
  esac
done
# Record the command line so the test can check the password is not on it.
echo "$0 $*" >> "$(dirname "$0")/argv.log"
tries=0
while [ $tries -lt 2 ]; do
  printf '%s' "$prompt" >&2
  IFS= read -r pw || exit 1
  if [ "$pw" = "letmein" ]; then exec "$@"; fi
  echo "Sorry, try again." >&2
  tries=$((tries+1))
done
echo "sudo: 2 incorrect password attempts" >&2
exit 1
"#;

/// A directory holding the stand-in `sudo`, put first in this process's PATH; it is
/// removed when the returned TempDir drops, at the end of the (only) test using it.
fn fake_sudo_dir() -> tempfile::TempDir {
    let dir = tempfile::Builder::new()
        .prefix("rsible-fake-sudo-")
        .tempdir()
        .unwrap();
    let sudo = dir.path().join("sudo");
    fs::write(&sudo, FAKE_SUDO).unwrap();
    fs::set_permissions(&sudo, fs::Permissions::from_mode(0o755)).unwrap();
    let path = std::env::var("PATH").unwrap_or_default();
    std::env::set_var("PATH", format!("{}:{path}", dir.path().display()));
    dir
}

fn spec(password: &str, cache: &std::path::Path) -> ConnSpec {
    let mut spec = ConnSpec::new("localhost", agent_binary());
    spec.connection = ConnKind::Local;
    spec.remote_cache_dir = Some(cache.display().to_string());
    spec.become_ = Some(BecomeSpec {
        password: Some(rsible_connection::Secret(password.into())),
        ..Default::default()
    });
    spec
}

#[test]
fn password_is_fed_after_the_prompt() {
    let dir = fake_sudo_dir();
    let tmp = tempfile::tempdir().unwrap();
    let mut h = Connection::open(&spec("letmein", tmp.path())).unwrap_or_else(|e| panic!("{e:?}"));
    let r = h
        .call("ping", &Default::default(), &CallOptions::default())
        .unwrap();
    assert_eq!(r["ping"], json!("pong"));
    h.close().unwrap();
    let log = fs::read_to_string(dir.path().join("argv.log")).unwrap();
    assert!(
        !log.contains("letmein"),
        "password leaked onto a command line: {log}"
    );

    let e = Connection::open(&spec("wrong", tmp.path()))
        .err()
        .expect("must fail");
    assert_eq!(e, ConnError::Become("Incorrect sudo password".into()));
}
