//! Any text must load or fail with an error; never panic, hang or exhaust memory.
//! Run with `cargo +nightly fuzz run load` from engine/yaml/.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        if let Err(err) = rsible_yaml::load_str(text, Some("fuzz.yml")) {
            // Rendering the report must not panic either.
            let _ = err.to_string();
        }
        let _ = rsible_yaml::load_one(text, None);
    }
});
