//! INI plugin error messages, recorded from the reference: ansible-core 2.18's
//! `ansible.plugins.inventory.ini.InventoryModule._parse('t.ini', text.splitlines())`.

use rsible_inventory::{load_ini_str, InventoryOptions};

fn error_of(text: &str) -> String {
    match load_ini_str(text, "t.ini", InventoryOptions::default()) {
        Ok(_) => panic!("{text:?} parsed, expected an error"),
        Err(e) => e,
    }
}

#[test]
fn messages_match_reference() {
    let cases = [
        ("[g]\nh1\nh2 foo\n", "t.ini:3: Expected key=value host variable assignment, got: foo"),
        ("[g:bogus]\n", "t.ini:1: Section [g:bogus] has unknown type: bogus"),
        ("[a b]\n", "t.ini:1: Invalid section entry: '[a b]'. Please make sure that there are no spaces in the section entry, and that there are no other invalid characters"),
        ("[g:vars]\nx=1\n", "t.ini:1: Section [g:vars] not valid for undefined group: g"),
        ("[p:children]\nc\n", "t.ini:2: Section [p:children] includes undefined group: c"),
        ("[g]\nh 'x\n", "t.ini:2: Error parsing host definition 'h 'x': No closing quotation"),
        ("[g]\nh:\n", "Invalid host pattern 'h:' supplied, ending in ':' is not allowed, this character is reserved to provide a port."),
        ("---\n", "Invalid host pattern '---' supplied, '---' is normally a sign this is a YAML file."),
        ("[g]\n[::1]\n", "t.ini:2: Invalid section entry: '[::1]'. Please make sure that there are no spaces in the section entry, and that there are no other invalid characters"),
        ("[g]\nh[01:100]\n", "host range must specify equal-length begin and end formats"),
        ("[g:vars]\nnovalue\n", "t.ini:2: Expected key=value, got: novalue"),
        ("[g:children]\na b\n", "t.ini:2: Expected group name, got: a b"),
        ("[g]\nh[1:3:0]\n", "range() arg 3 must not be zero"),
    ];
    for (text, expected) in cases {
        assert_eq!(error_of(text), expected, "input {text:?}");
    }
}

#[test]
fn children_declared_later_and_vars_before_hosts() {
    let inv = load_ini_str(
        "[p:children]\nc\n[c:vars]\nv=1\n[c]\nh1\n",
        "t.ini",
        InventoryOptions::default(),
    )
    .unwrap();
    assert_eq!(inv.groups["p"].children, ["c"]);
    assert_eq!(inv.groups["c"].hosts, ["h1"]);
    assert_eq!(inv.groups["all"].children, ["ungrouped", "p"]);
}

#[test]
fn host_in_a_group_leaves_ungrouped() {
    let inv = load_ini_str("h1\nh2\n[g]\nh1\n", "t.ini", InventoryOptions::default()).unwrap();
    assert_eq!(inv.groups["ungrouped"].hosts, ["h2"]);
    assert_eq!(inv.group_names("h1"), ["g"]);
}
