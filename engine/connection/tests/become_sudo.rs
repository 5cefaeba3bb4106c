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
    let exists = Command::new("id")
        .arg(TEST_USER)
        .output()
        .is_ok_and(|o| o.status.success());
    if !exists {
        let out = Command::new("useradd")
            .args(["-m", "-s", "/bin/sh", TEST_USER])
            .output()
            .expect("prerequisite missing: useradd");
        // A parallel test may have created it meanwhile.
        let created_elsewhere = Command::new("id")
            .arg(TEST_USER)
            .status()
            .is_ok_and(|s| s.success());
        assert!(
            out.status.success() || created_elsewhere,
            "prerequisite missing: cannot create user {TEST_USER}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
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
