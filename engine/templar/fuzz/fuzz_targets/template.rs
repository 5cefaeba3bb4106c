//! Any text, templated as a task argument, as a template file and as a
//! conditional, must give a value or an error: never a panic.
//! Run with `cargo +nightly fuzz run template` from engine/templar/.
#![no_main]

use libfuzzer_sys::fuzz_target;
use rsible_templar::{JinjaOptions, MapVars, Templar, Value};

/// Lookups reach outside the process (`pipe` runs a command, `password`
/// writes files): inputs that could name one are not run. `q` is the
/// short name of `query`.
fn may_call_a_lookup(text: &str) -> bool {
    text.contains("lookup")
        || text.contains("query")
        || text
            .split(|c: char| !(c.is_alphanumeric() || c == '_'))
            .any(|word| word == "q")
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if may_call_a_lookup(text) {
        return;
    }
    let vars = MapVars::from_json(&serde_json::json!({
        "name": "node1",
        "port": 6443,
        "flag": true,
        "nothing": null,
        "items": [1, "two", [3], {"four": 4}],
        "conf": {"a": {"b": [1, 2]}, "list": ["x", "y"], "ip": "10.0.0.1/24"},
        "indirect": "{{ name }}-{{ port }}",
        "loop1": "{{ loop2 }}",
        "loop2": "{{ loop1 }}",
    }));
    let templar = Templar::new();
    if let Err(e) = templar.template_str(text, &vars) {
        let _ = e.to_string();
    }
    let _ = templar.render_file(text, &vars, JinjaOptions::default());
    let _ = templar.evaluate_conditional(&Value::from(text), &vars);
});
