//! Any text must parse as a YAML inventory or fail with the plugin's error,
//! never a panic or a hang.
#![no_main]

use libfuzzer_sys::fuzz_target;
use rsible_inventory::{load_yaml_inventory_str, InventoryOptions};

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        if let Ok(mut inv) = load_yaml_inventory_str(text, "fuzz.yml", InventoryOptions::default())
        {
            let _ = inv.select("all");
            let hosts: Vec<String> = inv.hosts.keys().cloned().collect();
            for h in hosts {
                let _ = inv.host_group_vars_order(&h);
            }
        }
    }
});
