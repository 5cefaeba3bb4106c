//! become via sudo over ssh: the agent runs as another user.

mod common;

use common::spec_for;
use rsible_connection::{BecomeSpec, CallOptions, Connection};
use rsible_testsupport::TestSshd;
use serde_json::{json, Map, Value};
use std::process::Command;

const TEST_USER: &str = "rsibletest";

/// Create the test user if it does not exist; fail (never skip) when we cannot.
fn ensure_test_user() -> u32 {
    assert!(
        Command::new("sudo").arg("-V").output().is_ok(),
        "prerequisite missing: sudo is not installed"
    );
    rsible_testsupport::ensure_local_user(TEST_USER);
    let out = Command::new("id").args(["-u", TEST_USER]).output().unwrap();
    String::from_utf8_lossy(&out.stdout)
        .trim()
        .parse()
        .expect("uid")
}

#[test]
fn become_sudo_runs_the_agent_as_another_user() {
    let uid = ensure_test_user();
    let sshd = TestSshd::start().expect("sshd");
    let tmp = tempfile::tempdir().unwrap();
    let mut spec = spec_for(&sshd, tmp.path());
    // The become user's own cache ($HOME/.cache/rsible), since it cannot enter ours.
    spec.remote_cache_dir = None;
    spec.become_ = Some(BecomeSpec {
        user: TEST_USER.into(),
        ..Default::default()
    });
    let mut h = Connection::open(&spec).unwrap_or_else(|e| panic!("{e:?}"));
    assert_eq!(h.agent_euid(), uid);
    let args: Map<String, Value> = json!({"_raw_params": "id -un"})
        .as_object()
        .cloned()
        .unwrap();
    let r = h.call("command", &args, &CallOptions::default()).unwrap();
    assert_eq!(r["stdout"], json!(TEST_USER), "{r}");
    h.close().unwrap();
}
