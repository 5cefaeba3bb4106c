//! Which apt tools the native apt module starts, observed through stand-ins for
//! dpkg-query, apt-cache, apt-get, apt-mark and apt-config that log their
//! arguments. apt-cache and apt-mark open apt's binary cache, which they first
//! rebuild when it is older than the package lists (seconds on a freshly
//! provisioned host), so the module leaves them out when their answer cannot
//! change the outcome: state=present for packages dpkg has installed asks no
//! candidate, and apt-mark is skipped when apt marks none of them automatic.
//! Every other case must still ask them, as Ansible's module does.
//!
//! One test function: the stand-ins are found through PATH, which is the
//! process's and must not change under a parallel test.

use rsible_modules::{run_module, ModuleContext};
use serde_json::{json, Value};
use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

/// dpkg's database of the stand-in: name, status, version.
const DPKG_DB: &str = "alpha\tinstalled\t0.9\nbeta\tinstalled\t2.0\nold\tconfig-files\t1.0\n";

fn write_tool(dir: &Path, name: &str, body: &str) {
    let path = dir.join(name);
    let log = dir.join("calls.log");
    let script = format!(
        "#!/bin/sh\necho \"{name} $*\" >> '{}'\n{body}\n",
        log.display()
    );
    fs::write(&path, script).unwrap();
    fs::set_permissions(&path, fs::Permissions::from_mode(0o755)).unwrap();
}

fn install_tools(dir: &Path) {
    fs::write(dir.join("dpkg.db"), DPKG_DB).unwrap();
    let db = dir.join("dpkg.db");
    write_tool(
        dir,
        "dpkg-query",
        &format!(
            "shift 3\nfor n in \"$@\"; do /usr/bin/awk -F'\\t' -v n=\"$n\" '$1 == n' '{}'; done",
            db.display()
        ),
    );
    // Every package has candidate 1.0 (a version alpha does not have).
    write_tool(
        dir,
        "apt-cache",
        "[ \"$1\" = policy ] || exit 0\nshift\nfor n in \"$@\"; do\n  printf '%s:\\n  Installed: (none)\\n  Candidate: 1.0\\n' \"$n\"\ndone",
    );
    write_tool(dir, "apt-get", "echo 'Reading state information...'");
    write_tool(dir, "apt-mark", "exit 0");
    write_tool(
        dir,
        "apt-config",
        &format!(
            "echo \"STATES='{}'\"",
            dir.join("extended_states").display()
        ),
    );
    write_tool(dir, "dpkg", "exit 0");
}

/// Runs apt with `args`, returns its result and the tool calls it made.
fn apt(dir: &Path, args: Value, check_mode: bool) -> (Value, Vec<String>) {
    let log = dir.join("calls.log");
    let _ = fs::remove_file(&log);
    let ctx = ModuleContext {
        check_mode,
        ..Default::default()
    };
    let result = run_module("apt", args.as_object().unwrap(), &ctx);
    let calls = fs::read_to_string(&log)
        .unwrap_or_default()
        .lines()
        .map(str::to_string)
        .collect();
    (result, calls)
}

fn called(calls: &[String], tool: &str) -> bool {
    calls.iter().any(|c| c.starts_with(&format!("{tool} ")))
}

#[test]
fn apt_starts_apt_cache_and_apt_mark_only_when_their_answer_matters() {
    let dir = tempfile::tempdir().unwrap();
    let dir = dir.path();
    install_tools(dir);
    std::env::set_var("PATH", dir);
    let states = dir.join("extended_states");
    fs::write(
        &states,
        "Package: gamma\nArchitecture: amd64\nAuto-Installed: 1\n\n\
         Package: alpha\nArchitecture: amd64\nAuto-Installed: 0\n",
    )
    .unwrap();

    // Installed, not automatic: dpkg-query and apt-config only; ok.
    let present = json!({"name": ["alpha", "beta"], "state": "present"});
    let (r, calls) = apt(dir, present.clone(), false);
    assert_eq!(r["changed"], json!(false), "{r}");
    assert!(r.get("failed").is_none(), "{r}");
    assert!(called(&calls, "dpkg-query"), "{calls:?}");
    assert!(called(&calls, "apt-config"), "{calls:?}");
    assert!(!called(&calls, "apt-cache"), "{calls:?}");
    assert!(!called(&calls, "apt-mark"), "{calls:?}");
    assert!(!called(&calls, "apt-get"), "{calls:?}");

    // No extended_states at all: nothing is automatic either.
    fs::remove_file(&states).unwrap();
    let (_, calls) = apt(dir, present.clone(), false);
    assert!(!called(&calls, "apt-mark"), "{calls:?}");

    // beta marked automatic: apt-mark manual makes it manual, as Ansible's module does.
    fs::write(
        &states,
        "Package: beta\nArchitecture: amd64\nAuto-Installed: 1\n",
    )
    .unwrap();
    let (r, calls) = apt(dir, present.clone(), false);
    assert_eq!(r["changed"], json!(false), "{r}");
    assert!(
        calls.contains(&"apt-mark manual alpha beta".to_string()),
        "{calls:?}"
    );
    assert!(!called(&calls, "apt-cache"), "{calls:?}");

    // An architecture-qualified name is left to apt-mark.
    let (_, calls) = apt(dir, json!({"name": "alpha:amd64"}), false);
    assert!(called(&calls, "apt-mark"), "{calls:?}");

    // Check mode never marks, and asks apt-config nothing.
    let (_, calls) = apt(dir, present, true);
    assert!(
        !called(&calls, "apt-config") && !called(&calls, "apt-mark"),
        "{calls:?}"
    );

    // A package that is not installed needs its candidate: installed and marked.
    let (r, calls) = apt(dir, json!({"name": ["alpha", "gamma"]}), false);
    assert_eq!(r["changed"], json!(true), "{r}");
    assert!(
        calls.contains(&"apt-cache policy alpha gamma".to_string()),
        "{calls:?}"
    );
    assert!(
        calls
            .iter()
            .any(|c| c.starts_with("apt-get -y") && c.ends_with("install gamma=1.0")),
        "{calls:?}"
    );
    assert!(
        calls.contains(&"apt-mark manual alpha gamma".to_string()),
        "{calls:?}"
    );

    // state=latest and version specs compare with the candidate.
    let (r, calls) = apt(dir, json!({"name": "alpha", "state": "latest"}), false);
    assert_eq!(r["changed"], json!(true), "{r}");
    assert!(called(&calls, "apt-cache"), "{calls:?}");
    let (_, calls) = apt(dir, json!({"name": "beta>=1.5"}), false);
    assert!(called(&calls, "apt-cache"), "{calls:?}");

    // Removing an installed package needs no candidate; a removed one with files does.
    let (r, calls) = apt(dir, json!({"name": "alpha", "state": "absent"}), false);
    assert_eq!(r["changed"], json!(true), "{r}");
    assert!(!called(&calls, "apt-cache"), "{calls:?}");
    let (_, calls) = apt(
        dir,
        json!({"name": "old", "state": "absent", "purge": true}),
        false,
    );
    assert!(called(&calls, "apt-cache"), "{calls:?}");
}
