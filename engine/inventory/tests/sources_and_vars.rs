//! Source handling and group_vars/host_vars loading.

use rsible_inventory::{load_inventory, load_vars_dirs, InventoryOptions};
use rsible_yaml::Value;

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures");

#[test]
fn missing_source_warns_like_ansible() {
    let inv = load_inventory(
        &["/nonexistent/inv".to_string()],
        InventoryOptions::default(),
    )
    .unwrap();
    // Texts as ansible-inventory 2.18 prints them after "[WARNING]: ".
    assert_eq!(
        inv.warnings,
        [
            "Unable to parse /nonexistent/inv as an inventory source",
            "No inventory was parsed, only implicit localhost is available"
        ]
    );
    assert!(inv.hosts.is_empty());
}

#[test]
fn host_list_source() {
    let inv = load_inventory(&["a, b:2222,".to_string()], InventoryOptions::default()).unwrap();
    assert_eq!(inv.hosts.keys().collect::<Vec<_>>(), ["a", "b"]);
    assert_eq!(inv.hosts["b"].vars["ansible_port"].value, Value::Int(2222));
    assert_eq!(inv.groups["ungrouped"].hosts, ["a", "b"]);
}

#[test]
fn directory_skips_ignored_names_and_recurses() {
    let inv = load_inventory(
        &[format!("{FIXTURES}/dir_inv")],
        InventoryOptions::default(),
    )
    .unwrap();
    let hosts: Vec<&String> = inv.hosts.keys().collect();
    // Entries in name order: 10-hosts, 20-more.yml, artifacts/, sub/ (subdirectories recurse).
    assert_eq!(hosts, ["app1", "app2", "app3", "o1", "art1", "s1"]);
    assert!(
        !inv.groups.contains_key("skipped"),
        ".ini is an ignored extension by default"
    );
}

#[test]
fn vars_files_first_matching_name_wins_and_dirs_merge_sorted() {
    let inv = load_inventory(
        &[format!("{FIXTURES}/ini_rules/hosts.ini")],
        InventoryOptions::default(),
    )
    .unwrap();
    let dirs = load_vars_dirs(&inv, &inv.inventory_vars_dirs()).unwrap();
    // host_vars/web02 (no extension) is found before web02.yml, which is then not read.
    assert_eq!(
        dirs.host("web02")["hv_yml"].value,
        Value::Str("wins".into())
    );
    // group_vars/web/ files merge in name order; hidden and .txt files are skipped.
    let web = dirs.group("web");
    assert_eq!(web["web_file"].value, Value::Int(2));
    assert!(!web.contains_key("ignored"));
}

#[test]
fn vault_encrypted_vars_file_is_opened_with_the_installed_secrets() {
    let tmp = tempfile::Builder::new()
        .prefix("rsible-inv-vault-")
        .tempdir()
        .unwrap();
    let dir = tmp.path();
    std::fs::create_dir_all(dir.join("group_vars")).unwrap();
    std::fs::write(dir.join("hosts"), "h1\n").unwrap();
    let secret = rsible_vault::Secret::new(b"pw".to_vec());
    let vault = rsible_vault::encrypt(b"db_password: hunter2\n", &secret, Some("prod")).unwrap();
    std::fs::write(dir.join("group_vars/all.yml"), vault).unwrap();
    let inv = load_inventory(
        &[dir.join("hosts").display().to_string()],
        InventoryOptions::default(),
    )
    .unwrap();
    // no secrets given: Ansible's error
    let err = load_vars_dirs(&inv, &[dir.to_path_buf()]).unwrap_err();
    assert_eq!(err.0, "Attempting to decrypt but no vault secrets found");
    // with the secret installed the file is read as plain YAML
    let mut secrets = rsible_vault::Secrets::new();
    secrets.push("prod", secret);
    rsible_vault::install(secrets);
    let dirs = load_vars_dirs(&inv, &[dir.to_path_buf()]).unwrap();
    let text = format!("{dirs:?}");
    assert!(text.contains("hunter2"), "{text}");
}
