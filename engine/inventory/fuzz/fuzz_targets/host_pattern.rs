//! Any host pattern (and --limit) over a small inventory must evaluate or fail cleanly.
#![no_main]

use libfuzzer_sys::fuzz_target;
use rsible_inventory::{load_ini_str, split_host_pattern, Inventory, InventoryOptions};

const INVENTORY: &str = "a1\n[g]\nweb[1:3]\n[h:children]\ng\n[k]\nweb2 x=1\n";

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let _ = split_host_pattern(text);
    let Ok(mut inv) = load_ini_str(INVENTORY, "fuzz.ini", InventoryOptions::default()) else {
        return;
    };
    let _ = inv.select(text);
    if !text.contains('@') {
        if let Ok(limit) = Inventory::parse_limit(text) {
            let _ = inv.select_limited(&["all".to_string()], Some(&limit));
        }
    }
});
