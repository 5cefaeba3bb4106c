//! Payloads of real modules from the reference installation (ansible-core
//! 2.18 and the ansible 11 collections) run with a plain Python that has no
//! Ansible on its path: the payload must be self-contained.

use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Stdio};

use rsible_pymodule::module_args::{document, ModuleRunSettings};
use rsible_pymodule::payload::build;
use rsible_pymodule::result::{parse, RawRun};
use rsible_pymodule::SearchRoots;
use serde_json::{json, Map, Value};

/// The reference venv's site-packages, or None when differential tests are
/// knowingly skipped.
fn reference_site_packages() -> Option<PathBuf> {
    let python = match std::env::var_os("RSIBLE_REF_PYTHON") {
        Some(p) => PathBuf::from(p),
        None if std::env::var_os("RSIBLE_SKIP_DIFFERENTIAL").is_some() => return None,
        None => panic!(
            "RSIBLE_REF_PYTHON is not set (scripts/test.sh sets it); set RSIBLE_SKIP_DIFFERENTIAL=1 to skip knowingly"
        ),
    };
    let out = Command::new(&python)
        .args([
            "-c",
            "import ansible, os; print(os.path.dirname(os.path.dirname(ansible.__file__)))",
        ])
        .output()
        .expect("reference python runs");
    Some(PathBuf::from(String::from_utf8_lossy(&out.stdout).trim()))
}

/// Runs a payload with the system Python in isolated mode (no site-packages,
/// so nothing of Ansible but what the payload carries).
fn run_payload(bytes: &[u8], args: Map<String, Value>, module_name: &str) -> Map<String, Value> {
    let dir = tempfile::tempdir().unwrap();
    let zip = dir.path().join("payload.zip");
    std::fs::write(&zip, bytes).unwrap();
    let settings = ModuleRunSettings {
        module_name: module_name.into(),
        ansible_version: "2.18.0".into(),
        remote_tmp: "~/.ansible/tmp".into(),
        ..Default::default()
    };
    let mut child = Command::new("python3")
        .arg("-I")
        .arg(&zip)
        .env("RSIBLE_MODULE_TMPDIR", dir.path())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("python3 runs");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(document(&args, &settings).as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    parse(
        &RawRun {
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
            rc: out.status.code().unwrap_or(-1),
        },
        "python3",
    )
}

fn args(v: Value) -> Map<String, Value> {
    v.as_object().cloned().unwrap_or_default()
}

#[test]
fn ini_file_from_community_general_runs_self_contained() {
    let Some(site) = reference_site_packages() else {
        return;
    };
    let roots = SearchRoots {
        ansible_core_parent: Some(site.clone()),
        collection_roots: vec![site.clone()],
    };
    let module = site.join("ansible_collections/community/general/plugins/modules/ini_file.py");
    let payload = build("community.general.ini_file", &module, &roots).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let ini = dir.path().join("x.ini");
    let r = run_payload(
        &payload.bytes,
        args(json!({"path": ini, "section": "s", "option": "k", "value": "v"})),
        "community.general.ini_file",
    );
    assert_eq!(r.get("changed"), Some(&json!(true)), "{r:?}");
    assert!(std::fs::read_to_string(&ini)
        .unwrap()
        .ends_with("[s]\nk = v\n"));
}

#[test]
fn builtin_getent_runs_self_contained() {
    let Some(site) = reference_site_packages() else {
        return;
    };
    let roots = SearchRoots {
        ansible_core_parent: Some(site.clone()),
        collection_roots: vec![],
    };
    let payload = build(
        "ansible.builtin.getent",
        &site.join("ansible/modules/getent.py"),
        &roots,
    )
    .unwrap();
    let r = run_payload(
        &payload.bytes,
        args(json!({"database": "passwd", "key": "root"})),
        "getent",
    );
    assert_eq!(r["ansible_facts"]["getent_passwd"]["root"][0], "x", "{r:?}");
    let bad = run_payload(
        &payload.bytes,
        args(json!({"database": "passwd", "key": "no-such-user-xyz"})),
        "getent",
    );
    assert_eq!(bad["failed"], true);
    assert_eq!(
        bad["msg"],
        "One or more supplied key could not be found in the database."
    );
}
