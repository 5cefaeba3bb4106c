//! The agent bootstrapped over a real sshd on loopback, modules run through it.

mod common;

use common::{agent_binary, spec_for};
use rsible_connection::{raw, CallOptions, ConnError, Connection};
use rsible_testsupport::TestSshd;
use serde_json::{json, Map, Value};
use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::time::Duration;

fn args(v: Value) -> Map<String, Value> {
    v.as_object().cloned().expect("object")
}

#[test]
fn bootstrap_uploads_once_then_runs_the_cached_agent() {
    let sshd = TestSshd::start().expect("sshd");
    let tmp = tempfile::tempdir().unwrap();
    let spec = spec_for(&sshd, tmp.path());
    let mut h = Connection::open(&spec).unwrap_or_else(|e| panic!("{e} / {}", sshd.log()));
    assert!(h.uploaded_agent(), "first bootstrap must upload");
    let r = h
        .call("ping", &Map::new(), &CallOptions::default())
        .unwrap();
    assert_eq!(r["ping"], json!("pong"));
    h.close().unwrap();

    let cache = tmp.path().join("cache");
    assert_eq!(
        fs::metadata(&cache).unwrap().permissions().mode() & 0o777,
        0o700
    );
    let mut h = Connection::open(&spec).unwrap();
    assert!(!h.uploaded_agent(), "second bootstrap must use the cache");
    let r = h
        .call(
            "ping",
            &args(json!({"data": "again"})),
            &CallOptions::default(),
        )
        .unwrap();
    assert_eq!(r["ping"], json!("again"));
    h.close().unwrap();
}

#[test]
fn tampered_cache_entry_is_replaced_not_run() {
    let sshd = TestSshd::start().expect("sshd");
    let tmp = tempfile::tempdir().unwrap();
    let spec = spec_for(&sshd, tmp.path());
    Connection::open(&spec).unwrap().close().unwrap();
    let entry = fs::read_dir(tmp.path().join("cache"))
        .unwrap()
        .filter_map(|e| e.ok())
        .find(|e| e.file_name().to_string_lossy().starts_with("agent-"))
        .expect("cached agent")
        .path();
    let marker = tmp.path().join("evil-ran");
    fs::write(&entry, format!("#!/bin/sh\ntouch {}\n", marker.display())).unwrap();
    fs::set_permissions(&entry, fs::Permissions::from_mode(0o700)).unwrap();
    let mut h = Connection::open(&spec).unwrap();
    assert!(h.uploaded_agent(), "tampered entry must be re-uploaded");
    assert!(!marker.exists(), "tampered entry must not run");
    assert_eq!(fs::read(&entry).unwrap(), fs::read(agent_binary()).unwrap());
    let r = h
        .call("ping", &Map::new(), &CallOptions::default())
        .unwrap();
    assert_eq!(r["ping"], json!("pong"));
}

/// The builtins-only shortcut trusts an entry its owner changed with the mtime set
/// back; when that entry does not start an agent, the connection is retried once in
/// verify mode, which hashes the entry and replaces it.
#[test]
fn cached_entry_that_does_not_start_is_verified_and_replaced() {
    let sshd = TestSshd::start().expect("sshd");
    let tmp = tempfile::tempdir().unwrap();
    let spec = spec_for(&sshd, tmp.path());
    Connection::open(&spec).unwrap().close().unwrap();
    let entry = fs::read_dir(tmp.path().join("cache"))
        .unwrap()
        .filter_map(|e| e.ok())
        .find(|e| e.file_name().to_string_lossy().starts_with("agent-"))
        .expect("cached agent")
        .path();
    let before = fs::metadata(&entry).unwrap().modified().unwrap();
    fs::write(&entry, "#!/bin/sh\nexit 3\n").unwrap();
    fs::File::options()
        .write(true)
        .open(&entry)
        .and_then(|f| f.set_modified(before - Duration::from_secs(60)))
        .unwrap();
    let mut h = Connection::open(&spec).unwrap_or_else(|e| panic!("{e} / {}", sshd.log()));
    assert!(h.uploaded_agent(), "the verify retry must re-upload");
    assert_eq!(fs::read(&entry).unwrap(), fs::read(agent_binary()).unwrap());
    let r = h
        .call("ping", &Map::new(), &CallOptions::default())
        .unwrap();
    assert_eq!(r["ping"], json!("pong"));
}

#[test]
fn modules_run_through_the_agent() {
    let sshd = TestSshd::start().expect("sshd");
    let tmp = tempfile::tempdir().unwrap();
    let spec = spec_for(&sshd, tmp.path());
    let work = tmp.path().join("work");
    let mut h = Connection::open(&spec).unwrap();
    let o = CallOptions::default();

    let r = h
        .call("command", &args(json!({"_raw_params": "echo hello"})), &o)
        .unwrap();
    assert_eq!(
        (r["rc"].clone(), r["stdout"].clone()),
        (json!(0), json!("hello"))
    );

    let env = CallOptions {
        env: [("GREETING".to_string(), "hi there".to_string())].into(),
        ..Default::default()
    };
    let r = h
        .call(
            "ansible.builtin.shell",
            &args(json!({"cmd": "echo \"$GREETING\"; exit 4"})),
            &env,
        )
        .unwrap();
    assert_eq!(r["failed"], json!(true));
    assert_eq!(r["rc"], json!(4));
    assert_eq!(r["stdout"], json!("hi there"));
    assert_eq!(r["msg"], json!("non-zero return code"));

    let r = h
        .call(
            "file",
            &args(json!({"path": work, "state": "directory", "mode": "0750"})),
            &o,
        )
        .unwrap();
    assert_eq!(r["changed"], json!(true), "{r}");
    assert_eq!(
        fs::metadata(&work).unwrap().permissions().mode() & 0o777,
        0o750
    );

    let dest = work.join("conf");
    let r = h
        .call(
            "copy",
            &args(json!({"content": "a=1\n", "dest": dest, "mode": "0600"})),
            &o,
        )
        .unwrap();
    assert_eq!(r["changed"], json!(true), "{r}");
    assert_eq!(fs::read_to_string(&dest).unwrap(), "a=1\n");
    let r = h
        .call(
            "copy",
            &args(json!({"content": "a=1\n", "dest": dest, "mode": "0600"})),
            &o,
        )
        .unwrap();
    assert_eq!(r["changed"], json!(false));

    let r = h.call("stat", &args(json!({"path": dest})), &o).unwrap();
    assert_eq!(r["stat"]["mode"], json!("0600"));
    // sha1 of "a=1\n", as `sha1sum` prints it.
    assert_eq!(
        r["stat"]["checksum"],
        json!("9dc9cfd3b38b77561ec22b49a723432e26181003")
    );
    assert_eq!(r["stat"]["size"], json!(4));

    let r = h
        .call(
            // No native twin (the executor sends such modules through Python).
            "community.general.no_such_module",
            &args(json!({"name": "x"})),
            &o,
        )
        .unwrap();
    assert_eq!(r["failed"], json!(true));
    assert!(r["msg"]
        .as_str()
        .unwrap()
        .contains("not implemented natively"));

    // File transfer both ways, binary-safe.
    let blob: Vec<u8> = (0..700_000u32).map(|i| (i * 7 % 256) as u8).collect();
    let remote = work.join("blob.bin");
    assert_eq!(
        h.put_bytes(&blob, remote.to_str().unwrap(), Some(0o640))
            .unwrap(),
        blob.len() as u64
    );
    assert_eq!(fs::read(&remote).unwrap(), blob);
    assert_eq!(h.get_file(remote.to_str().unwrap()).unwrap(), blob);
    let e = h.get_file("/nonexistent/rsible").unwrap_err();
    assert!(matches!(e, ConnError::Protocol(_)), "{e:?}");
    // The handle still works after a refused request.
    let r = h.call("ping", &Map::new(), &o).unwrap();
    assert_eq!(r["ping"], json!("pong"));
    h.close().unwrap();
}

#[test]
fn killed_agent_mid_call_is_unreachable() {
    let sshd = TestSshd::start().expect("sshd");
    let tmp = tempfile::tempdir().unwrap();
    let spec = spec_for(&sshd, tmp.path());
    let mut h = Connection::open(&spec).unwrap();
    let pid = h.agent_pid() as i32;
    assert!(pid > 0);
    let killer = std::thread::spawn(move || {
        // Mid-call: once the agent runs the command (not after a fixed nap,
        // which a loaded machine may spend before the call even started).
        let deadline = std::time::Instant::now() + Duration::from_secs(30);
        while std::time::Instant::now() < deadline
            && !rsible_testsupport::descendants(pid as u32)
                .iter()
                .any(|p| p.cmdline == "sleep 20")
        {
            std::thread::sleep(Duration::from_millis(20));
        }
        // SAFETY: signalling a pid we were told about; no memory effects.
        unsafe { libc::kill(pid, libc::SIGKILL) };
    });
    let e = h
        .call(
            "command",
            &args(json!({"_raw_params": "sleep 20"})),
            &CallOptions::default(),
        )
        .unwrap_err();
    killer.join().unwrap();
    assert!(e.is_unreachable(), "{e:?}");
    assert!(
        e.to_string()
            .starts_with("Failed to connect to the host via ssh: "),
        "{e}"
    );
    // Later calls fail the same way instead of hanging.
    let e2 = h
        .call("ping", &Map::new(), &CallOptions::default())
        .unwrap_err();
    assert!(e2.is_unreachable());
}

#[test]
fn wrong_port_is_unreachable_with_sshs_message() {
    let sshd = TestSshd::start().expect("sshd");
    let tmp = tempfile::tempdir().unwrap();
    let mut spec = spec_for(&sshd, tmp.path());
    // A port nobody listens on: bind and release.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    spec.port = Some(port);
    let e = Connection::open(&spec).err().expect("must fail");
    assert!(e.is_unreachable(), "{e:?}");
    let msg = e.to_string();
    assert!(
        msg.starts_with("Failed to connect to the host via ssh: "),
        "{msg}"
    );
    assert!(msg.contains("Connection refused"), "{msg}");
    let e = raw(&spec, "true").unwrap_err();
    assert!(e.is_unreachable());
}

#[test]
fn raw_runs_without_the_agent() {
    let sshd = TestSshd::start().expect("sshd");
    let tmp = tempfile::tempdir().unwrap();
    let spec = spec_for(&sshd, tmp.path());
    let out = raw(&spec, "echo raw-out; echo raw-err >&2; exit 3").unwrap();
    assert_eq!(out.rc, 3);
    assert_eq!(out.stdout, "raw-out\n");
    assert!(out.stderr.contains("raw-err"), "{}", out.stderr);
    assert!(
        !tmp.path().join("cache").exists(),
        "raw must not bootstrap the agent"
    );
}
