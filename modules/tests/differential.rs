//! Differential test: the same module calls through rsible's native modules and through
//! the reference Ansible (`ansible localhost -m X`), results compared key by key.
//!
//! Needs RSIBLE_REF_BIN (the reference's bin directory, or its `ansible` /
//! `ansible-playbook` executable). Fails when unset unless RSIBLE_SKIP_DIFFERENTIAL=1.

use rsible_modules::{run_module, ModuleContext};
use serde_json::{json, Map, Value};
use std::collections::BTreeSet;
use std::path::PathBuf;
use std::process::Command;

fn ansible_bin() -> Option<PathBuf> {
    let Ok(raw) = std::env::var("RSIBLE_REF_BIN") else {
        assert!(
            std::env::var("RSIBLE_SKIP_DIFFERENTIAL").as_deref() == Ok("1"),
            "RSIBLE_REF_BIN is not set (point it at the reference ansible's bin dir, e.g. /tmp/ref/bin), \
             or set RSIBLE_SKIP_DIFFERENTIAL=1 to skip the differential test"
        );
        return None;
    };
    let p = PathBuf::from(raw);
    Some(if p.is_dir() {
        p.join("ansible")
    } else if p
        .file_name()
        .is_some_and(|n| n.to_string_lossy().starts_with("ansible-"))
    {
        p.with_file_name("ansible")
    } else {
        p
    })
}

/// Run a module through the reference and return the host's result.
fn reference(ansible: &PathBuf, module: &str, args: &Value) -> Map<String, Value> {
    let out = Command::new(ansible)
        .args(["localhost", "-m", module, "-a"])
        .arg(args.to_string())
        .env("ANSIBLE_STDOUT_CALLBACK", "json")
        .env("ANSIBLE_LOAD_CALLBACK_PLUGINS", "1")
        .env("ANSIBLE_LOCALHOST_WARNING", "0")
        .output()
        .expect("run the reference ansible");
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "reference output is not JSON ({e}): {} {}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    });
    let mut r = doc["plays"][0]["tasks"][0]["hosts"]["localhost"]
        .as_object()
        .cloned()
        .expect("host result");
    // Added by the controller/callback, not by the module.
    for k in ["_ansible_no_log", "action", "warnings", "deprecations"] {
        r.remove(k);
    }
    r
}

fn ours(module: &str, args: &Value) -> Map<String, Value> {
    let v = run_module(module, args.as_object().unwrap(), &ModuleContext::default());
    v.as_object().cloned().unwrap()
}

fn keys(m: &Map<String, Value>, ignore: &[&str]) -> BTreeSet<String> {
    m.keys()
        .filter(|k| !ignore.contains(&k.as_str()))
        .cloned()
        .collect()
}

fn assert_same(
    what: &str,
    ours: &Map<String, Value>,
    theirs: &Map<String, Value>,
    compare: &[&str],
    ignore_keys: &[&str],
) {
    assert_eq!(
        keys(ours, ignore_keys),
        keys(theirs, ignore_keys),
        "{what}: key sets differ\nours: {ours:?}\nref:  {theirs:?}"
    );
    for k in compare {
        // Float timestamps can differ in their last bit between two stat()s
        // printed through different JSON stacks: equal within a microsecond.
        if let (Some(Value::Number(a)), Some(Value::Number(b))) = (ours.get(*k), theirs.get(*k)) {
            if let (Some(a), Some(b)) = (a.as_f64(), b.as_f64()) {
                if a.fract() != 0.0 || b.fract() != 0.0 {
                    assert!((a - b).abs() < 1e-6, "{what}: '{k}' differs: {a} vs {b}");
                    continue;
                }
            }
        }
        assert_eq!(
            ours.get(*k),
            theirs.get(*k),
            "{what}: '{k}' differs\nours: {ours:?}\nref:  {theirs:?}"
        );
    }
}

#[test]
fn native_modules_match_the_reference() {
    let Some(ansible) = ansible_bin() else { return };
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();

    // command
    let args = json!({"_raw_params": "echo 'a b'", "chdir": d});
    let (o, t) = (
        ours("command", &args),
        reference(&ansible, "command", &args),
    );
    assert_same(
        "command",
        &o,
        &t,
        &[
            "rc",
            "stdout",
            "stdout_lines",
            "stderr",
            "cmd",
            "changed",
            "msg",
        ],
        &[],
    );
    assert_eq!(o["invocation"], t["invocation"], "command invocation");
    let args = json!({"_raw_params": "false"});
    let (o, t) = (
        ours("command", &args),
        reference(&ansible, "command", &args),
    );
    assert_same("command rc=1", &o, &t, &["rc", "failed", "msg", "cmd"], &[]);

    // file: directory (one run each on separate paths, same starting state)
    let (p1, p2) = (d.join("o"), d.join("t"));
    let o = ours(
        "file",
        &json!({"path": p1, "state": "directory", "mode": "0750"}),
    );
    let t = reference(
        &ansible,
        "file",
        &json!({"path": p2, "state": "directory", "mode": "0750"}),
    );
    assert_same(
        "file directory",
        &o,
        &t,
        &["changed", "mode", "state", "owner", "group", "uid", "gid"],
        &[],
    );
    assert_eq!(o["diff"]["after"]["mode"], t["diff"]["after"]["mode"]);
    let mut oi = o["invocation"]["module_args"].as_object().cloned().unwrap();
    let mut ti = t["invocation"]["module_args"].as_object().cloned().unwrap();
    oi.remove("path");
    ti.remove("path");
    assert_eq!(oi, ti, "file invocation");

    // file: touch then state=file
    let o = ours("file", &json!({"path": p1.join("f"), "state": "touch"}));
    let t = reference(
        &ansible,
        "file",
        &json!({"path": p2.join("f"), "state": "touch"}),
    );
    assert_same(
        "file touch",
        &o,
        &t,
        &["changed", "mode", "state", "size"],
        &[],
    );

    // copy content
    let o = ours(
        "copy",
        &json!({"content": "hello\n", "dest": p1.join("c"), "mode": "0640"}),
    );
    let t = reference(
        &ansible,
        "copy",
        &json!({"content": "hello\n", "dest": p2.join("c"), "mode": "0640"}),
    );
    // The reference's `src` is its uploaded temp file and `diff` comes from its action
    // plugin; rsible writes content agent-side (see COMPATIBILITY notes).
    assert_same(
        "copy content",
        &o,
        &t,
        &["changed", "checksum", "md5sum", "mode", "size", "state"],
        &["src", "diff"],
    );

    // stat of the same file
    let args = json!({"path": p1.join("c")});
    let (o, t) = (ours("stat", &args), reference(&ansible, "stat", &args));
    let (os, ts) = (
        o["stat"].as_object().unwrap(),
        t["stat"].as_object().unwrap(),
    );
    assert_same(
        "stat",
        os,
        ts,
        &[
            "mode",
            "size",
            "checksum",
            "isreg",
            "pw_name",
            "gr_name",
            "inode",
            "mtime",
            "mimetype",
            "charset",
            "attributes",
            "readable",
            "executable",
        ],
        &[],
    );
    assert_eq!(o["invocation"], t["invocation"], "stat invocation");
}
