//! Differential test: the native `setup` module against ansible-core 2.18's on
//! this machine.
//!
//! The reference runs `ansible -m setup localhost` (local connection, the
//! interpreter Ansible discovers on Linux: /usr/bin/python3); rsible runs
//! `rsible_modules::run_module("setup")` in this process. Every fact Kubespray
//! reads (../shared/kubespray-census/magic_vars.txt) must be equal, and so must
//! every other fact except those that change between two runs (clocks,
//! free memory, load, uptime), which are compared by shape, and the process
//! environment, which differs by what each launcher adds.
//!
//! Needs RSIBLE_REF_BIN; without it the test fails unless RSIBLE_SKIP_DIFFERENTIAL=1.

mod support;
use rsible_modules::{run_module, ModuleContext};
use serde_json::{json, Map, Value};
use std::process::Command;
use support::reference_bin;

/// Facts Kubespray reads (magic_vars.txt sections B and D): must be equal.
const KUBESPRAY_FACTS: &[&str] = &[
    "os_family",
    "distribution",
    "distribution_major_version",
    "distribution_version",
    "distribution_release",
    "pkg_mgr",
    "default_ipv4",
    "default_ipv6",
    "user_id",
    "memtotal_mb",
    "architecture",
    "kernel",
    "system",
    "hostname",
    "selinux",
    "all_ipv4_addresses",
    "all_ipv6_addresses",
    "service_mgr",
];

/// Facts that change between two gatherings: compared by shape (same keys, same types).
const VOLATILE: &[&str] = &[
    "date_time",
    "memfree_mb",
    "memory_mb",
    "uptime_seconds",
    "loadavg",
    "mounts",
    "env",
    "devices",
];

/// Runs every case's `setup` arguments as one task each in one
/// ansible-playbook run (json callback) and returns each task's facts.
fn reference_facts(bin: &str, cases: &[Value]) -> Vec<Map<String, Value>> {
    let dir = tempfile::tempdir().expect("tempdir");
    let tasks: Vec<Value> = cases.iter().map(|args| json!({"setup": args})).collect();
    let play = json!([{"hosts": "localhost", "gather_facts": false, "connection": "local",
        "vars": {"ansible_python_interpreter": "/usr/bin/python3"}, "tasks": tasks}]);
    let path = dir.path().join("play.yml");
    std::fs::write(&path, play.to_string()).expect("write playbook");
    let out = Command::new(format!("{bin}/ansible-playbook"))
        .arg(&path)
        .env("ANSIBLE_STDOUT_CALLBACK", "json")
        .env("ANSIBLE_LOCALHOST_WARNING", "false")
        .env("ANSIBLE_INVENTORY_UNPARSED_WARNING", "false")
        .output()
        .expect("run the reference ansible-playbook");
    let text = String::from_utf8_lossy(&out.stdout);
    let start = text
        .find('{')
        .unwrap_or_else(|| panic!("no JSON in: {text}"));
    let v: Value = serde_json::from_str(&text[start..]).expect("reference JSON");
    let tasks = v["plays"][0]["tasks"].as_array().cloned().expect("tasks");
    tasks
        .iter()
        .map(|t| {
            t["hosts"]["localhost"]["ansible_facts"]
                .as_object()
                .cloned()
                .unwrap_or_else(|| panic!("no facts in {t}"))
        })
        .collect()
}

fn our_facts(args: Value) -> Map<String, Value> {
    let Value::Object(args) = args else {
        panic!("args must be a mapping")
    };
    let r = run_module("setup", &args, &ModuleContext::default());
    assert_ne!(r["failed"], json!(true), "setup failed: {r}");
    r["ansible_facts"]
        .as_object()
        .cloned()
        .expect("ansible_facts")
}

/// Same keys (recursively for mappings) and same JSON types.
fn same_shape(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len()
                && x.iter()
                    .all(|(k, v)| y.get(k).is_some_and(|w| same_shape(v, w)))
        }
        (Value::Array(x), Value::Array(y)) => x
            .first()
            .zip(y.first())
            .is_none_or(|(p, q)| same_shape(p, q)),
        (Value::Number(_), Value::Number(_)) => true,
        _ => std::mem::discriminant(a) == std::mem::discriminant(b),
    }
}

/// Lists whose order Ansible does not keep from one run to the next.
fn normalise(name: &str, v: &Value) -> Value {
    match (name, v) {
        (
            "ansible_virtualization_tech_guest"
            | "ansible_virtualization_tech_host"
            | "ansible_interfaces",
            Value::Array(items),
        ) => {
            let mut items = items.clone();
            items.sort_by_key(|i| i.to_string());
            Value::Array(items)
        }
        _ => v.clone(),
    }
}

#[test]
fn setup_matches_ansible_on_this_machine() {
    let Some(bin) = reference_bin() else { return };
    let reference = reference_facts(&bin, &[json!({})]).remove(0);
    let ours = our_facts(json!({}));
    let mut problems = Vec::new();
    for name in KUBESPRAY_FACTS {
        let key = format!("ansible_{name}");
        if reference.get(&key) != ours.get(&key) {
            problems.push(format!(
                "Kubespray fact {key}: ansible {:?} rsible {:?}",
                reference.get(&key),
                ours.get(&key)
            ));
        }
    }
    for (key, want) in &reference {
        let short = key.trim_start_matches("ansible_");
        let Some(got) = ours.get(key) else {
            problems.push(format!("missing in rsible: {key}"));
            continue;
        };
        if VOLATILE.contains(&short) {
            if short == "env" {
                continue;
            }
            if !same_shape(want, got) {
                problems.push(format!("shape of {key}: ansible {want} rsible {got}"));
            }
        } else if normalise(key, want) != normalise(key, got) {
            problems.push(format!("{key}: ansible {want} rsible {got}"));
        }
    }
    for key in ours.keys() {
        if !reference.contains_key(key) {
            problems.push(format!("only in rsible: {key}"));
        }
    }
    // The environment: what Kubespray reads (HOME, PATH) must agree.
    for var in ["HOME", "PATH"] {
        let want = &reference["ansible_env"][var];
        let got = &ours["ansible_env"][var];
        if want != got {
            problems.push(format!("ansible_env.{var}: ansible {want} rsible {got}"));
        }
    }
    assert!(
        problems.is_empty(),
        "{} differences:\n{}",
        problems.len(),
        problems.join("\n")
    );
}

#[test]
fn subsets_and_filters_match_ansible() {
    let Some(bin) = reference_bin() else { return };
    let cases: &[(&str, Value)] = &[
        ("gather_subset=!all", json!({"gather_subset": ["!all"]})),
        (
            "gather_subset=!all,!min,network",
            json!({"gather_subset": "!all,!min,network"}),
        ),
        (
            "gather_subset=!all,!min,hardware",
            json!({"gather_subset": "!all,!min,hardware"}),
        ),
        (
            "gather_subset=distribution,pkg_mgr",
            json!({"gather_subset": ["distribution", "pkg_mgr"]}),
        ),
        ("gather_subset=!min", json!({"gather_subset": "!min"})),
        ("gather_subset=selinux", json!({"gather_subset": "selinux"})),
        (
            "gather_subset=!all filter=ansible_distribution_*version",
            json!({"gather_subset": "!all", "filter": "ansible_distribution_*version"}),
        ),
        (
            "gather_subset=!all,!min,hardware filter=ansible_*total_mb",
            json!({"gather_subset": "!all,!min,hardware", "filter": "ansible_*total_mb"}),
        ),
        (
            "filter=ansible_default_ip*",
            json!({"filter": "ansible_default_ip*"}),
        ),
        (
            "filter=ansible_*_ipv[46]*",
            json!({"filter": "ansible_*_ipv[46]*"}),
        ),
    ];
    let args: Vec<Value> = cases.iter().map(|(_, a)| a.clone()).collect();
    let reference = reference_facts(&bin, &args);
    let mut problems = Vec::new();
    for ((ref_args, our_args), want) in cases.iter().zip(reference) {
        let got = our_facts(our_args.clone());
        let mut want_keys: Vec<&String> = want.keys().collect();
        let mut got_keys: Vec<&String> = got.keys().collect();
        want_keys.sort();
        got_keys.sort();
        if want_keys != got_keys {
            problems.push(format!(
                "{ref_args}: fact names differ\n  ansible {want_keys:?}\n  rsible  {got_keys:?}"
            ));
            continue;
        }
        for (k, v) in &want {
            let short = k.trim_start_matches("ansible_");
            if VOLATILE.contains(&short) || k == "gather_subset" {
                continue;
            }
            if normalise(k, v) != normalise(k, &got[k]) {
                problems.push(format!("{ref_args}: {k}: ansible {v} rsible {}", got[k]));
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}
