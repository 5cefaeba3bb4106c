//! Host keys and the agent cache over real SSH.
//!
//! - host_key_checking is on by default: a host whose key is not known is
//!   UNREACHABLE with ssh's "Host key verification failed.", as under the
//!   reference `ansible`; ANSIBLE_HOST_KEY_CHECKING=False or ansible.cfg turn
//!   it off.
//! - The agent cache directory on the target is 0700, and a tampered cache
//!   entry is replaced by a fresh upload, never run.
//!
//! The tamper test rewrites the shared cache entry of this build's agent in
//! place, so no other test in this binary may run the agent meanwhile (CI
//! once saw the host key test exec the entry mid-rewrite: exit 126). Each
//! test holds `AGENT_CACHE` for its whole run.

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use rsible_testsupport::TestSshd;

/// Held by each test for its whole run: the agent cache entry is shared.
static AGENT_CACHE: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn hold_agent_cache() -> std::sync::MutexGuard<'static, ()> {
    // A test that failed while holding it poisons it; the next still runs.
    AGENT_CACHE.lock().unwrap_or_else(|p| p.into_inner())
}

fn reference() -> Option<PathBuf> {
    rsible_testsupport::reference_bin_dir().map(|dir| dir.join("ansible"))
}

/// Runs an ad hoc `ping` of `node` in a new session (ssh cannot ask on a
/// terminal); returns (stdout, exit code).
fn ping(program: &Path, dir: &Path, env: &[(&str, &str)]) -> (String, Option<i32>) {
    // Every run starts with no known host: a run without checking records the key.
    fs::write(dir.join("known_hosts"), "").unwrap();
    let out = Command::new("setsid")
        .arg("-w")
        .arg(program)
        .args(["-f", "1", "-i", "inventory.ini", "node", "-m", "ping", "-o"])
        .current_dir(dir)
        .env("ANSIBLE_NOCOLOR", "1")
        .env_remove("ANSIBLE_HOST_KEY_CHECKING")
        // No shared master connection: one that a run without checking left
        // open would let the next run skip the host key check.
        .env(
            "ANSIBLE_SSH_ARGS",
            "-o ControlMaster=no -o ControlPath=none",
        )
        .envs(env.iter().copied())
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", program.display()));
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        out.status.code(),
    )
}

fn bed(sshd: &TestSshd, python: &Path) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    // An empty known_hosts of the bed's own: the machine's is never consulted.
    let known = dir.path().join("known_hosts");
    fs::write(&known, "").unwrap();
    fs::write(
        dir.path().join("inventory.ini"),
        format!(
            "node ansible_host=127.0.0.1 ansible_port={} ansible_user={} \
             ansible_ssh_private_key_file={} ansible_python_interpreter={} \
             ansible_ssh_common_args='-o UserKnownHostsFile={}'\n",
            sshd.port,
            sshd.user,
            sshd.client_key_path.display(),
            python.display(),
            known.display()
        ),
    )
    .unwrap();
    dir
}

#[test]
fn host_keys_are_checked_by_default() {
    let _cache = hold_agent_cache();
    let ansible = reference();
    let rsible = PathBuf::from(env!("CARGO_BIN_EXE_rsible"));
    let sshd = TestSshd::start().expect("a loopback sshd must start");
    let python = ansible
        .as_ref()
        .map(|a| a.with_file_name("python"))
        .unwrap_or_else(|| PathBuf::from("/usr/bin/python3"));
    let dir = bed(&sshd, &python);
    // No ansible.cfg: the default applies.
    let unknown = ping(&rsible, dir.path(), &[]);
    assert_eq!(unknown.1, Some(4), "{unknown:?}");
    assert!(
        unknown
            .0
            .starts_with("node | UNREACHABLE!: Failed to connect to the host via ssh: ")
            && unknown.0.contains("Host key verification failed."),
        "{unknown:?}"
    );
    let off_by_env = ping(
        &rsible,
        dir.path(),
        &[("ANSIBLE_HOST_KEY_CHECKING", "False")],
    );
    assert_eq!(
        off_by_env,
        (
            "node | SUCCESS => {\"changed\": false,\"ping\": \"pong\"}\n".into(),
            Some(0)
        )
    );
    if let Some(ansible) = &ansible {
        assert_eq!(ping(ansible, dir.path(), &[]), unknown);
    }
    // Turning it off with ansible.cfg.
    fs::write(
        dir.path().join("ansible.cfg"),
        "[defaults]\nhost_key_checking = False\n",
    )
    .unwrap();
    let off_by_cfg = ping(&rsible, dir.path(), &[]);
    assert_eq!(off_by_cfg, off_by_env);
    if let Some(ansible) = &ansible {
        assert_eq!(ping(ansible, dir.path(), &[]), off_by_cfg);
    }
}

fn sha256(path: &Path) -> String {
    let out = Command::new("sha256sum")
        .arg(path)
        .output()
        .expect("sha256sum");
    String::from_utf8_lossy(&out.stdout)
        .split_whitespace()
        .next()
        .unwrap_or_default()
        .to_string()
}

#[test]
fn agent_cache_is_private_and_tampering_is_undone() {
    let _cache = hold_agent_cache();
    let rsible = PathBuf::from(env!("CARGO_BIN_EXE_rsible"));
    let sshd = TestSshd::start().expect("a loopback sshd must start");
    let dir = bed(&sshd, Path::new("/usr/bin/python3"));
    let env = [("ANSIBLE_HOST_KEY_CHECKING", "False")];
    let first = ping(&rsible, dir.path(), &env);
    assert_eq!(first.1, Some(0), "{first:?}");
    // The login user is the one running the tests; its cache is $HOME/.cache/rsible.
    let home = std::env::var("HOME").expect("HOME");
    let cache = Path::new(&home).join(".cache/rsible");
    let mode = fs::metadata(&cache)
        .expect("agent cache")
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o700, "cache directory mode {mode:o}");
    // What rsible ships to the hosts: the agent binary beside it.
    let hash = sha256(Path::new(env!("CARGO_BIN_EXE_rsible-agent")));
    let entry = cache.join(format!("agent-{hash}"));
    assert_eq!(sha256(&entry), hash, "the cached agent is this build's");

    // Replace the cached agent with a script that leaves a mark if it runs.
    let mark = dir.path().join("tampered-agent-ran");
    let saved = fs::read(&entry).unwrap();
    fs::write(
        &entry,
        format!("#!/bin/sh\ntouch {}\nexit 1\n", mark.display()),
    )
    .unwrap();
    fs::set_permissions(&entry, fs::Permissions::from_mode(0o700)).unwrap();
    let second = ping(&rsible, dir.path(), &env);
    let restored = sha256(&entry);
    if restored != hash {
        // Leave the cache as it was for later runs, then fail.
        fs::write(&entry, saved).unwrap();
    }
    assert!(!mark.exists(), "the tampered agent was run");
    assert_eq!(second, first, "the run after tampering differs");
    assert_eq!(restored, hash, "the tampered entry was not replaced");
}
