//! The fuzz targets' properties, run over a deterministic set of mutated inputs so that
//! plain `cargo test` checks them too: INI text and host patterns never panic.

use rsible_inventory::{
    load_ini_str, load_yaml_inventory_str, split_host_pattern, Inventory, InventoryOptions,
};

/// A tiny xorshift generator: reproducible without a dependency.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[(self.next() % items.len() as u64) as usize]
    }
}

const INI_PIECES: &[&str] = &[
    "[g]",
    "[g:vars]",
    "[g:children]",
    "[x:bogus]",
    "[ sp ]",
    "\n",
    "\n",
    "h1",
    "h[1:3]",
    "h[a:c]",
    "h[01:3]",
    "h[1:]",
    "[::1]",
    "h:22",
    "h:",
    "---",
    " a=1",
    " b='x",
    " c=\"q\"",
    " d=[1,{'k':(2,)}]",
    " #c",
    " ;c",
    "x=y",
    "\\",
    "'",
    "é",
    "[",
    "]",
    ":",
    "=",
    "\r",
    "\t",
    "0x",
    "1e",
    "u'x'",
    "None",
    "set()",
    "[h[1:2]:children]",
];

const PATTERN_PIECES: &[&str] = &[
    "all",
    "*",
    "g",
    "h",
    ":",
    ",",
    "&",
    "!",
    "~",
    "[",
    "]",
    "0",
    "-1",
    "1:",
    "[0]",
    "[1:2]",
    "[-9]",
    "~(",
    "?",
    " ",
    "|",
    "localhost",
    "web*",
    "[!a]",
    "\\",
    "ungrouped",
    "k",
    "[1-2]",
];

#[test]
fn ini_parser_never_panics() {
    let mut rng = Rng(0x9e3779b97f4a7c15);
    for _ in 0..3000 {
        let n = (rng.next() % 20) as usize;
        let text: String = (0..n).map(|_| rng.pick(INI_PIECES)).collect();
        if let Ok(mut inv) = load_ini_str(&text, "fuzz.ini", InventoryOptions::default()) {
            let _ = inv.select("all");
            let hosts: Vec<String> = inv.hosts.keys().cloned().collect();
            for h in hosts {
                let _ = inv.host_group_vars_order(&h);
            }
        }
    }
}

/// Pieces of YAML inventories: the keys the yaml plugin reads, wrong types
/// where it expects mappings, ranges, anchors and flow collections.
const YAML_PIECES: &[&str] = &[
    "all:\n",
    "  hosts:\n",
    "  children:\n",
    "  vars:\n",
    "    g:\n",
    "    web[1:3]:\n",
    "    h[a:c]:\n",
    "    h[1:]:\n",
    "      x: 1\n",
    "      ansible_port: 22\n",
    "    - a\n",
    "  hosts: [a, b]\n",
    "  hosts: null\n",
    "  vars: 3\n",
    "  children: {g: {hosts: {a: }}}\n",
    "&a ",
    "*a",
    "<<: *a\n",
    "{",
    "}",
    "[",
    "]",
    ": ",
    "- ",
    "'",
    "\"",
    "\t",
    "---\n",
    "plugin: x\n",
    "ungrouped:\n",
    "é",
];

#[test]
fn yaml_inventory_never_panics() {
    let mut rng = Rng(0x853c49e6748fea9b);
    for _ in 0..600 {
        let n = (rng.next() % 16) as usize;
        let text: String = (0..n).map(|_| rng.pick(YAML_PIECES)).collect();
        if let Ok(mut inv) = load_yaml_inventory_str(&text, "fuzz.yml", InventoryOptions::default())
        {
            let _ = inv.select("all");
            let hosts: Vec<String> = inv.hosts.keys().cloned().collect();
            for h in hosts {
                let _ = inv.host_group_vars_order(&h);
            }
        }
    }
}

#[test]
fn yaml_inventory_entry_point_parses_and_rejects() {
    let inv = load_yaml_inventory_str(
        "all:\n  children:\n    web:\n      hosts:\n        w[1:2]:\n          p: 1\n",
        "t.yml",
        InventoryOptions::default(),
    )
    .expect("a valid YAML inventory parses");
    assert!(inv.hosts.contains_key("w1") && inv.hosts.contains_key("w2"));
    assert!(load_yaml_inventory_str("- a\n", "t.yml", InventoryOptions::default()).is_err());
}

#[test]
fn host_patterns_never_panic() {
    let inventory = "a1\n[g]\nweb[1:3]\n[h:children]\ng\n[k]\nweb2 x=1\n";
    let mut rng = Rng(0x2545f4914f6cdd1d);
    for _ in 0..400 {
        let n = (rng.next() % 8) as usize;
        let pattern: String = (0..n).map(|_| rng.pick(PATTERN_PIECES)).collect();
        let _ = split_host_pattern(&pattern);
        let mut inv = load_ini_str(inventory, "fuzz.ini", InventoryOptions::default()).unwrap();
        let _ = inv.select(&pattern);
        if let Ok(limit) = Inventory::parse_limit(&pattern) {
            let _ = inv.select_limited(&["all".to_string()], Some(&limit));
        }
    }
}
