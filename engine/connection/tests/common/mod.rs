//! Shared setup for the connection integration tests.
#![allow(dead_code)]

use rsible_connection::ConnSpec;
use rsible_testsupport::TestSshd;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;
use std::time::Duration;

/// The agent binary: $RSIBLE_AGENT_BIN, or rsible-modules' example built on demand
/// into this test's own target directory.
pub fn agent_binary() -> PathBuf {
    static BIN: OnceLock<PathBuf> = OnceLock::new();
    BIN.get_or_init(|| {
        if let Ok(p) = std::env::var("RSIBLE_AGENT_BIN") {
            return PathBuf::from(p);
        }
        // target/<profile>/deps/<test> -> target/<profile>/examples/rsible-agent
        let exe = std::env::current_exe().expect("test exe path");
        let profile_dir = exe
            .parent()
            .and_then(Path::parent)
            .expect("target profile dir")
            .to_path_buf();
        let target_dir = profile_dir.parent().expect("target dir").to_path_buf();
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
        let status = Command::new(cargo)
            .args(["build", "-p", "rsible-modules", "--example", "rsible-agent"])
            .env("CARGO_TARGET_DIR", &target_dir)
            .status()
            .expect("run cargo to build the agent example");
        assert!(status.success(), "building the rsible-agent example failed");
        profile_dir.join("examples").join("rsible-agent")
    })
    .clone()
}

/// A spec reaching `sshd` with a private cache dir under `cache_root`.
pub fn spec_for(sshd: &TestSshd, cache_root: &Path) -> ConnSpec {
    let mut spec = ConnSpec::new("127.0.0.1", agent_binary());
    spec.port = Some(sshd.port);
    spec.user = Some(sshd.user.clone());
    spec.private_key_file = Some(sshd.client_key_path.clone());
    spec.host_key_checking = false;
    spec.ssh_common_args = Some("-o UserKnownHostsFile=/dev/null -o LogLevel=ERROR".into());
    spec.timeout = Duration::from_secs(10);
    spec.remote_cache_dir = Some(cache_root.join("cache").display().to_string());
    spec.control_path_dir = Some(cache_root.join("cp"));
    spec
}
