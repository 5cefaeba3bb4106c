//! Differential test: the reference `ansible-inventory` (ansible-core 2.18) and this crate
//! on the same fixtures must print byte-identical `--list`, `--graph`, `--graph --vars`
//! and `--host` output, and `ansible --list-hosts` must agree with `Inventory::select`.
//!
//! Needs `RSIBLE_REF_BIN` (the reference venv's bin dir, e.g. /tmp/ref/bin); without it
//! the test fails, unless `RSIBLE_SKIP_DIFFERENTIAL=1` is set.

use std::path::{Path, PathBuf};
use std::process::Command;

use rsible_inventory::cli::{graph, host, inventory_cli_list, CliVars};
use rsible_inventory::{
    load_inventory, load_vars_dirs, GroupNamePolicy, Inventory, InventoryOptions,
};

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures");

/// Which ansible.cfg both sides use.
#[derive(Clone, Copy)]
enum Cfg {
    /// Nothing set: Ansible's defaults.
    Defaults,
    /// Kubespray's inventory-related ansible.cfg settings.
    Kubespray,
}

impl Cfg {
    fn text(self) -> &'static str {
        match self {
            Cfg::Defaults => "[defaults]\n",
            Cfg::Kubespray => "[defaults]\nforce_valid_group_names = ignore\ninventory_ignore_extensions = ~, .orig, .bak, .ini, .cfg, .retry, .pyc, .pyo, .creds, .gpg\n[inventory]\nignore_patterns = artifacts, credentials\n",
        }
    }
    fn options(self) -> InventoryOptions {
        let mut o = InventoryOptions::default();
        if let Cfg::Kubespray = self {
            o.force_valid_group_names = GroupNamePolicy::Ignore;
            o.ignore_extensions = [
                "~", ".orig", ".bak", ".ini", ".cfg", ".retry", ".pyc", ".pyo", ".creds", ".gpg",
            ]
            .iter()
            .map(|s| s.to_string())
            .collect();
            o.ignore_patterns = vec!["artifacts".into(), "credentials".into()];
        }
        o
    }
}

fn reference_bin() -> Option<PathBuf> {
    match std::env::var_os("RSIBLE_REF_BIN") {
        Some(dir) => Some(PathBuf::from(dir)),
        None if std::env::var("RSIBLE_SKIP_DIFFERENTIAL").as_deref() == Ok("1") => None,
        None => panic!(
            "this differential test needs the reference Ansible: set RSIBLE_REF_BIN to its bin dir \
             (e.g. /tmp/ref/bin), or RSIBLE_SKIP_DIFFERENTIAL=1 to skip it"
        ),
    }
}

/// A scratch working directory (ansible-inventory also reads group_vars/ from the cwd) and cfg
/// files; removed when the test ends.
fn workdir() -> tempfile::TempDir {
    let dir = tempfile::Builder::new()
        .prefix("rsible-inv-diff-")
        .tempdir()
        .expect("scratch dir");
    for (name, cfg) in [
        ("defaults.cfg", Cfg::Defaults),
        ("kubespray.cfg", Cfg::Kubespray),
    ] {
        std::fs::write(dir.path().join(name), cfg.text()).expect("cfg file");
    }
    dir
}

fn cfg_path(work: &Path, cfg: Cfg) -> PathBuf {
    work.join(match cfg {
        Cfg::Defaults => "defaults.cfg",
        Cfg::Kubespray => "kubespray.cfg",
    })
}

fn run_reference(bin: &Path, tool: &str, work: &Path, cfg: Cfg, args: &[String]) -> (bool, String) {
    let out = Command::new(bin.join(tool))
        .args(args)
        .current_dir(work)
        .env("ANSIBLE_CONFIG", cfg_path(work, cfg))
        .env("ANSIBLE_NOCOLOR", "1")
        .env("ANSIBLE_INVENTORY_UNPARSED_WARNING", "True")
        .output()
        .expect("reference runs");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
    )
}

/// What we print for `ansible-inventory -i <source> <action...>`.
fn run_ours(work: &Path, cfg: Cfg, source: &str, action: &[&str]) -> (bool, String) {
    let mut inv = match load_inventory(&[source.to_string()], cfg.options()) {
        Ok(inv) => inv,
        Err(_) => return (false, String::new()),
    };
    let inv_dirs = load_vars_dirs(&inv, &inv.inventory_vars_dirs()).expect("vars dirs");
    let play_dirs = load_vars_dirs(&inv, &[work.to_path_buf()]).expect("play dirs");
    let vars = CliVars {
        inventory: &inv_dirs,
        play: &play_dirs,
        playbook_dir_given: false,
    };
    let result = match action {
        ["--list"] => inventory_cli_list(&mut inv, vars, None).map_err(|e| e.0),
        ["--list", "--limit", l] => {
            let limit = Inventory::parse_limit(l).expect("limit");
            inventory_cli_list(&mut inv, vars, Some(&limit)).map_err(|e| e.0)
        }
        ["--graph"] => graph(&inv, None, false, vars),
        ["--graph", "--vars"] => graph(&inv, None, true, vars),
        ["--graph", g] => graph(&inv, Some(g), false, vars),
        ["--host", h] => host(&mut inv, h, vars),
        other => panic!("unsupported action {other:?}"),
    };
    match result {
        Ok(text) => (true, text),
        Err(_) => (false, String::new()),
    }
}

struct Case {
    cfg: Cfg,
    source: String,
    actions: Vec<Vec<&'static str>>,
}

fn cases() -> Vec<Case> {
    let f = |p: &str| format!("{FIXTURES}/{p}");
    let common = || vec![vec!["--list"], vec!["--graph"], vec!["--graph", "--vars"]];
    let with = |mut base: Vec<Vec<&'static str>>, extra: &[&[&'static str]]| {
        base.extend(extra.iter().map(|a| a.to_vec()));
        base
    };
    let mut cases = vec![
        Case {
            cfg: Cfg::Defaults,
            source: f("ini_rules/hosts.ini"),
            actions: with(
                common(),
                &[
                    &["--host", "alpha"],
                    &["--host", "web01"],
                    &["--host", "web02"],
                    &["--host", "beta"],
                    &["--host", "localhost"],
                    &["--host", "late1"],
                    &["--graph", "prod"],
                    &["--list", "--limit", "web:!web02"],
                ],
            ),
        },
        Case {
            cfg: Cfg::Defaults,
            source: f("yaml_inv/hosts.yml"),
            actions: with(
                common(),
                &[
                    &["--host", "web1"],
                    &["--host", "r2"],
                    &["--host", "api.example.com"],
                ],
            ),
        },
        Case {
            cfg: Cfg::Defaults,
            source: f("dir_inv"),
            actions: with(common(), &[&["--host", "app1"], &["--host", "o1"]]),
        },
        Case {
            cfg: Cfg::Kubespray,
            source: f("dir_inv"),
            actions: common(),
        },
        Case {
            cfg: Cfg::Defaults,
            source: f("patterns/hosts.ini"),
            actions: with(common(), &[&["--list", "--limit", "kube_node:&etcd"]]),
        },
        Case {
            cfg: Cfg::Defaults,
            source: "alpha,beta:2222,10.0.0.1,".to_string(),
            actions: with(common(), &[&["--host", "beta"]]),
        },
        Case {
            cfg: Cfg::Defaults,
            source: f("does-not-exist"),
            actions: vec![vec!["--list"], vec!["--graph"]],
        },
    ];
    // The bundled example: Kubespray's inventory shape (etcd:children,
    // k8s_cluster:children, group_vars/all and group_vars/k8s_cluster).
    cases.push(Case {
        cfg: Cfg::Kubespray,
        source: format!(
            "{}/../../inventory/sandbox/inventory.ini",
            env!("CARGO_MANIFEST_DIR")
        ),
        actions: with(common(), &[&["--host", "kube1"], &["--host", "kube3"]]),
    });
    cases
}

/// Inventories of a Kubespray checkout (not part of this repository).
const KUBESPRAY_CHECKOUT_INVENTORIES: [&str; 2] = [
    "/tmp/scratch/ks-inv/inventory.ini",
    "/tmp/scratch/kubespray/inventory/sample/inventory.ini",
];

/// Runs every case's actions under both; returns the mismatches.
fn compare(bin: &Path, cases: Vec<Case>) -> Vec<String> {
    let work = workdir();
    let mut failures = Vec::new();
    for case in cases {
        for action in &case.actions {
            let mut args = vec!["-i".to_string(), case.source.clone()];
            args.extend(action.iter().map(|s| s.to_string()));
            let (ref_ok, expected) =
                run_reference(bin, "ansible-inventory", work.path(), case.cfg, &args);
            let (our_ok, actual) = run_ours(work.path(), case.cfg, &case.source, action);
            // Both failing is agreement (Ansible then prints its usage text, we an error).
            if ref_ok != our_ok || (ref_ok && expected != actual) {
                failures.push(format!(
                    "ansible-inventory {}: reference ok={ref_ok}, ours ok={our_ok}\n--- reference\n{expected}\n--- ours\n{actual}",
                    args.join(" ")
                ));
            }
        }
    }
    failures
}

#[test]
fn ansible_inventory_output_is_identical() {
    let Some(bin) = reference_bin() else { return };
    let failures = compare(&bin, cases());
    assert!(
        failures.is_empty(),
        "{} mismatches:\n{}",
        failures.len(),
        failures.join("\n\n")
    );
}

#[test]
#[ignore = "needs a Kubespray checkout at /tmp/scratch/kubespray and the 3-node inventory at /tmp/scratch/ks-inv; run with --ignored"]
fn kubespray_checkout_inventories_are_identical() {
    let Some(bin) = reference_bin() else { return };
    let cases = KUBESPRAY_CHECKOUT_INVENTORIES
        .iter()
        .map(|path| {
            assert!(Path::new(path).exists(), "missing {path}");
            Case {
                cfg: Cfg::Kubespray,
                source: path.to_string(),
                actions: vec![
                    vec!["--list"],
                    vec!["--graph"],
                    vec!["--graph", "--vars"],
                    vec!["--host", "kube1"],
                ],
            }
        })
        .collect();
    let failures = compare(&bin, cases);
    assert!(
        failures.is_empty(),
        "{} mismatches:\n{}",
        failures.len(),
        failures.join("\n\n")
    );
}

/// Hosts listed by `ansible -i <inv> <pattern> --list-hosts [--limit L]`.
fn reference_hosts(
    bin: &Path,
    work: &Path,
    source: &str,
    pattern: &str,
    limit: Option<&str>,
) -> Vec<String> {
    let mut args = vec![
        "-i".to_string(),
        source.to_string(),
        pattern.to_string(),
        "--list-hosts".to_string(),
    ];
    if let Some(l) = limit {
        args.extend(["--limit".to_string(), l.to_string()]);
    }
    let (_, out) = run_reference(bin, "ansible", work, Cfg::Defaults, &args);
    out.lines()
        .filter(|l| l.starts_with("    "))
        .map(|l| l.trim().to_string())
        .collect()
}

#[test]
fn host_patterns_match_reference() {
    let Some(bin) = reference_bin() else { return };
    let work = workdir();
    let source = format!("{FIXTURES}/patterns/hosts.ini");
    let patterns = [
        "all",
        "*",
        "kube_control_plane | first",
        "kube_node:&etcd",
        "k8s_cluster:!kube_node",
        "etcd,web",
        "web*",
        "~cp[12]",
        "k8s_cluster[0]",
        "k8s_cluster[-1]",
        "k8s_cluster[1:3]",
        "k8s_cluster[2:]",
        "nosuch",
        "localhost",
        "!etcd",
        "&etcd",
        "kube_*:!cp3",
        "!cp3:kube_node",
        "web1.example.com",
        "dash-group",
        "*.example.com",
        "ungrouped",
        "cp[1:2]",
        "etcd:kube_node[0]",
    ];
    let mut failures = Vec::new();
    for limit in [None, Some("kube_node"), Some("!cp1")] {
        for p in patterns {
            let expected = reference_hosts(&bin, work.path(), &source, p, limit);
            let mut inv =
                load_inventory(std::slice::from_ref(&source), InventoryOptions::default()).unwrap();
            let limit_patterns = limit.map(|l| Inventory::parse_limit(l).unwrap());
            let actual = inv
                .list_hosts(p, limit_patterns.as_deref())
                .unwrap_or_default();
            if expected != actual {
                failures.push(format!(
                    "{p} (limit {limit:?}): reference {expected:?}, ours {actual:?}"
                ));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
