//! Differential test for `wait_for` against ansible-core 2.18: ports that are open
//! (with and without a banner to search), closed ports, files present, absent and
//! searched, argument errors, drained and plain sleeps. Each case runs as a task in
//! one reference `ansible-playbook` run (json callback) while the same cases run
//! through `rsible_modules::run_module`; the two runs overlap to keep the test short.
//! Compared: every result key but `invocation`; `elapsed` within one second.
//!
//! Needs RSIBLE_REF_BIN; without it the test fails unless RSIBLE_SKIP_DIFFERENTIAL=1.

mod support;
use rsible_modules::{run_module, ModuleContext};
use serde_json::{json, Map, Value};
use std::io::Write;
use std::net::TcpListener;
use std::path::Path;
use support::reference::{playbook_command, write_localhost_play};
use support::result_view::{remove_keys, with_placeholder, CONTROLLER_KEYS};
use support::steps::substituted;
use support::{assert_no_differences, reference_bin};

/// A listener that accepts forever; with a banner, every client is sent it.
fn serve(banner: Option<&'static [u8]>) -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind a loopback port");
    let port = listener.local_addr().expect("local address").port();
    std::thread::spawn(move || {
        for mut conn in listener.incoming().flatten() {
            if let Some(b) = banner {
                let _ = conn.write_all(b);
            }
        }
    });
    port
}

/// A port nothing listens on (bound, then released).
fn closed_port() -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").expect("bind a loopback port");
    l.local_addr().expect("local address").port()
}

/// The cases: module arguments (`@D@` is the case directory) and check mode.
fn cases(open: u16, banner: u16, closed: u16) -> Vec<(Value, bool)> {
    let f = "@D@/f.conf";
    vec![
        (json!({"port": open, "timeout": 2}), false),
        (
            json!({"port": banner, "search_regex": "SSH-2\\.0", "timeout": 2}),
            false,
        ),
        (json!({"port": closed, "timeout": 1}), false),
        (
            json!({"port": closed, "timeout": 1, "msg": "kube-apiserver did not come up"}),
            false,
        ),
        (
            json!({"port": banner, "search_regex": "never", "timeout": 1}),
            false,
        ),
        (
            json!({"port": closed, "state": "stopped", "timeout": 1}),
            false,
        ),
        (
            json!({"port": open, "state": "stopped", "timeout": 1}),
            false,
        ),
        (json!({"path": f}), false),
        (
            json!({"path": f, "search_regex": "^(?P<key>\\w+)=(\\d+)$", "timeout": 1}),
            false,
        ),
        (
            json!({"path": f, "search_regex": "enabled", "timeout": 1}),
            false,
        ),
        (json!({"path": "@D@/missing", "timeout": 1}), false),
        (
            json!({"path": "@D@/missing", "search_regex": "x", "timeout": 1}),
            false,
        ),
        (json!({"path": "@D@/missing", "state": "absent"}), false),
        (json!({"path": f, "state": "absent", "timeout": 1}), false),
        (json!({"path": "@D@/f.conf/inner"}), false),
        (json!({"port": open, "path": f}), false),
        (json!({"path": f, "state": "stopped"}), false),
        (json!({"path": f, "state": "drained"}), false),
        (json!({"port": open, "exclude_hosts": ["10.0.0.1"]}), false),
        (
            json!({"port": open, "state": "drained", "active_connection_states": ["BOGUS"]}),
            false,
        ),
        (
            json!({"port": closed, "state": "drained", "timeout": 2}),
            false,
        ),
        (json!({"timeout": 1}), false),
        (json!({"port": "abc"}), false),
        (json!({"port": open, "state": "sideways"}), false),
        (json!({"port": open, "bogus": 1}), false),
        (json!({"port": open}), true),
    ]
}

fn args_for(dir: &Path, args: &Value) -> Map<String, Value> {
    substituted(args, &[("@D@", &dir.display().to_string())])
}

fn prepare(dir: &Path) {
    std::fs::write(dir.join("f.conf"), "# config\nport=6443\nname=kube\n").expect("write");
}

/// What is compared: paths as `@D@`, no invocation or controller-added keys; the
/// elapsed seconds are returned apart.
fn view(result: &Value, dir: &Path) -> (Value, Option<i64>) {
    let mut v = with_placeholder(result, dir, "@D@");
    remove_keys(&mut v, &["invocation"]);
    remove_keys(&mut v, &CONTROLLER_KEYS);
    let elapsed = v.remove("elapsed").and_then(|e| e.as_i64());
    (Value::Object(v), elapsed)
}

#[test]
fn wait_for_matches_the_reference() {
    let Some(bin) = reference_bin() else { return };
    let (open, banner, closed) = (
        serve(None),
        serve(Some(b"SSH-2.0-OpenSSH_9.2\r\n")),
        closed_port(),
    );
    let cases = cases(open, banner, closed);
    let ref_dir = tempfile::tempdir().expect("tempdir");
    let our_dir = tempfile::tempdir().expect("tempdir");
    prepare(ref_dir.path());
    prepare(our_dir.path());

    let tasks: Vec<Value> = cases
        .iter()
        .enumerate()
        .map(|(i, (args, check))| {
            json!({"name": format!("case {i}"), "wait_for": args_for(ref_dir.path(), args),
                   "ignore_errors": true, "check_mode": check})
        })
        .collect();
    let playbook = write_localhost_play(ref_dir.path(), tasks);
    let reference = playbook_command(&bin, &playbook, &[])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("run reference ansible-playbook");

    // Our side runs while the reference does.
    let ours: Vec<Value> = cases
        .iter()
        .map(|(args, check)| {
            let ctx = ModuleContext {
                check_mode: *check,
                ..Default::default()
            };
            run_module("wait_for", &args_for(our_dir.path(), args), &ctx)
        })
        .collect();

    let out = reference.wait_with_output().expect("reference finished");
    let results = support::localhost_results(&out, cases.len());

    let mut mismatches = Vec::new();
    for (i, ((want, got), (args, _))) in results.iter().zip(&ours).zip(&cases).enumerate() {
        let (want, want_elapsed) = view(want, ref_dir.path());
        let (got, got_elapsed) = view(got, our_dir.path());
        let elapsed_close = match (want_elapsed, got_elapsed) {
            (Some(a), Some(b)) => (a - b).abs() <= 1,
            (a, b) => a == b,
        };
        if want != got || !elapsed_close {
            mismatches.push(format!(
                "case {i} ({args}):\n  reference: {want} elapsed {want_elapsed:?}\n  rsible:    {got} elapsed {got_elapsed:?}"
            ));
        }
    }
    assert_no_differences(&mismatches);
}
