//! Host pattern answers recorded from the reference:
//! `ANSIBLE_CONFIG=<empty> ansible -i tests/fixtures/patterns/hosts.ini '<pattern>' --list-hosts`
//! (ansible-core 2.18.19). The differential test re-checks them live when the reference is present.

use rsible_inventory::{load_inventory, Inventory, InventoryOptions, PatternMismatch};

fn fixture_inventory() -> Inventory {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/patterns/hosts.ini"
    );
    load_inventory(&[path.to_string()], InventoryOptions::default()).expect("fixture loads")
}

fn select(pattern: &str) -> Vec<String> {
    fixture_inventory()
        .select(pattern)
        .expect("pattern evaluates")
}

const ALL: [&str; 8] = [
    "web1.example.com",
    "web2.example.com",
    "d1",
    "cp1",
    "cp2",
    "cp3",
    "n1",
    "n2",
];

#[test]
fn all_follows_group_tree_order() {
    assert_eq!(select("all"), ALL);
    assert_eq!(select("*"), ALL);
}

#[test]
fn kubespray_pipe_first_is_a_union_of_three_words() {
    let mut inv = fixture_inventory();
    assert_eq!(
        inv.select("kube_control_plane | first").unwrap(),
        ["cp1", "cp2", "cp3"]
    );
    assert!(inv
        .warnings
        .contains(&"Could not match supplied host pattern, ignoring: |".to_string()));
    assert!(inv
        .warnings
        .contains(&"Could not match supplied host pattern, ignoring: first".to_string()));
}

#[test]
fn set_operations() {
    assert_eq!(select("kube_node:&etcd"), ["cp3"]);
    assert_eq!(select("k8s_cluster:!kube_node"), ["cp1", "cp2"]);
    assert_eq!(
        select("etcd,web"),
        ["cp1", "cp2", "cp3", "web1.example.com", "web2.example.com"]
    );
    assert_eq!(
        select("!etcd"),
        ["web1.example.com", "web2.example.com", "d1", "n1", "n2"]
    );
    assert_eq!(select("&etcd"), ["cp1", "cp2", "cp3"]);
    assert_eq!(select("kube_*:!cp3"), ["cp1", "cp2", "n1", "n2"]);
    // Exclusions apply after every union, wherever they are written.
    assert_eq!(select("!cp3:kube_node"), ["n1", "n2"]);
}

#[test]
fn globs_and_regexes() {
    assert_eq!(select("web*"), ["web1.example.com", "web2.example.com"]);
    assert_eq!(select("~cp[12]"), ["cp1", "cp2"]);
    assert_eq!(select("web1.example.com"), ["web1.example.com"]);
    assert_eq!(select("dash-group"), ["d1"]);
}

#[test]
fn subscripts() {
    assert_eq!(select("k8s_cluster[0]"), ["cp1"]);
    assert_eq!(select("k8s_cluster[-1]"), ["n2"]);
    assert_eq!(select("k8s_cluster[1:3]"), ["cp2", "cp3", "n1"]);
    assert_eq!(select("k8s_cluster[2:]"), ["cp3", "n1", "n2"]);
    assert_eq!(select("k8s_cluster[1:0]"), ["cp2"]);
    let mut inv = fixture_inventory();
    assert_eq!(inv.select("k8s_cluster[1-2]").unwrap(), ["cp2", "cp3"]);
    assert!(inv
        .warnings
        .iter()
        .any(|w| w.starts_with("Use [x:y] inclusive subscripts")));
    assert_eq!(
        fixture_inventory().select("k8s_cluster[10]").unwrap_err().0,
        "No hosts matched the subscripted pattern 'k8s_cluster[10]'"
    );
}

#[test]
fn no_match_and_implicit_localhost() {
    let mut inv = fixture_inventory();
    assert!(inv.select("nosuch").unwrap().is_empty());
    assert_eq!(
        inv.warnings.last().unwrap(),
        "Could not match supplied host pattern, ignoring: nosuch"
    );
    assert_eq!(inv.select("localhost").unwrap(), ["localhost"]);
    assert!(inv.is_implicit_localhost("localhost"));
    let strict = InventoryOptions {
        host_pattern_mismatch: PatternMismatch::Error,
        ..InventoryOptions::default()
    };
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/patterns/hosts.ini"
    );
    let mut inv = load_inventory(&[path.to_string()], strict).unwrap();
    assert!(inv.select("nosuch").is_err());
}

#[test]
fn limit_intersects_in_inventory_order() {
    // InventoryManager.subset('etcd:web1*') then get_hosts('all') / get_hosts('kube_node').
    let mut inv = fixture_inventory();
    let limit = Inventory::parse_limit("etcd:web1*").unwrap();
    assert_eq!(
        inv.select_limited(&["all".into()], Some(&limit)).unwrap(),
        ["web1.example.com", "cp1", "cp2", "cp3"]
    );
    assert_eq!(
        inv.select_limited(&["kube_node".into()], Some(&limit))
            .unwrap(),
        ["cp3"]
    );
}

#[test]
fn limit_file() {
    let dir = tempfile::Builder::new()
        .prefix("rsible-inv-limit-")
        .tempdir()
        .unwrap();
    let file = dir.path().join("retry");
    std::fs::write(&file, "n1\ncp2\n").unwrap();
    let limit = Inventory::parse_limit(&format!("@{}", file.display())).unwrap();
    let mut inv = fixture_inventory();
    assert_eq!(
        inv.select_limited(&["all".into()], Some(&limit)).unwrap(),
        ["cp2", "n1"]
    );
    assert!(Inventory::parse_limit("@/nonexistent/retry").is_err());
}

#[test]
fn group_vars_order_by_depth_priority_name() {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/ini_rules/hosts.ini"
    );
    let inv = load_inventory(&[path.to_string()], InventoryOptions::default()).unwrap();
    // Recorded from ansible.inventory.helpers.sort_groups: prio (depth 1, priority 10) sorts after prod (depth 1, priority 1).
    assert_eq!(
        inv.host_group_vars_order("web01"),
        ["all", "prod", "prio", "web"]
    );
    assert_eq!(
        inv.host_group_vars_order("web02"),
        ["all", "kube-node", "prod", "web"]
    );
    assert_eq!(inv.group_names("alpha"), ["ungrouped"]);
}
