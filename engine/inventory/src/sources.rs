//! Reading inventory sources (`-i`) as InventoryManager.parse_sources does: directories
//! are walked in name order, and each file is offered to the enabled plugins in turn
//! (host_list, script, auto, yaml, ini, toml) until one parses it.

use std::path::Path;

use regex::Regex;

use crate::ini::{decode_lines, parse_ini};
use crate::model::{Inventory, InventoryError};
use crate::options::InventoryOptions;
use crate::paths::{splitext_ext, unfrack};
use crate::yaml_input::load_yaml_text;
use crate::yaml_source::parse_yaml_inventory;

/// Build an inventory from `-i` sources, in order. Warnings land in `Inventory::warnings`.
pub fn load_inventory(
    sources: &[String],
    options: InventoryOptions,
) -> Result<Inventory, InventoryError> {
    let mut inv = Inventory::new(options);
    let ignored = ignored_regex(&inv.options)?;
    let mut parsed_any = false;
    for source in sources {
        if source.is_empty() {
            continue;
        }
        let source = if source.contains(',') {
            source.clone()
        } else {
            unfrack(source)
        };
        inv.sources.push(source.clone());
        if parse_source(&mut inv, &source, &ignored)? {
            parsed_any = true;
        }
    }
    if parsed_any {
        inv.reconcile();
    } else if inv.options.unparsed_is_failed {
        return Err(InventoryError(
            "No inventory was parsed, please check your configuration and options.".into(),
        ));
    } else {
        inv.warn("No inventory was parsed, only implicit localhost is available");
    }
    Ok(inv)
}

/// Parse INI inventory text (as if read from `source`) into a fresh, reconciled inventory.
/// The error is the ini plugin's message. Used by tests and the fuzzer.
pub fn load_ini_str(
    text: &str,
    source: &str,
    options: InventoryOptions,
) -> Result<Inventory, String> {
    let mut inv = Inventory::new(options);
    inv.current_source = Some(source.to_string());
    let lines = crate::ini::python_splitlines(text);
    parse_ini(&mut inv, source, &lines)?;
    inv.reconcile();
    Ok(inv)
}

/// Parse YAML inventory text (as if read from `source`) into a fresh, reconciled inventory.
/// The error is the yaml plugin's message. Used by tests and the fuzzer.
pub fn load_yaml_inventory_str(
    text: &str,
    source: &str,
    options: InventoryOptions,
) -> Result<Inventory, String> {
    let mut inv = Inventory::new(options);
    inv.current_source = Some(source.to_string());
    let doc = load_yaml_text(text, source)?;
    parse_yaml_inventory(&mut inv, doc.as_ref())?;
    inv.reconcile();
    Ok(inv)
}

/// Names skipped inside an inventory directory (hidden files, vars dirs, ignored patterns/extensions).
fn ignored_regex(options: &InventoryOptions) -> Result<Regex, InventoryError> {
    let mut parts: Vec<String> = vec![
        r"^\.".into(),
        "^host_vars$".into(),
        "^group_vars$".into(),
        "^vars_plugins$".into(),
    ];
    parts.extend(options.ignore_patterns.iter().cloned());
    parts.extend(
        options
            .ignore_extensions
            .iter()
            .map(|e| format!("{}$", regex::escape(e))),
    );
    Regex::new(&parts.join("|"))
        .map_err(|e| InventoryError(format!("Invalid inventory ignore pattern: {e}")))
}

fn parse_source(
    inv: &mut Inventory,
    source: &str,
    ignored: &Regex,
) -> Result<bool, InventoryError> {
    let path = Path::new(source);
    let mut parsed = false;
    if path.is_dir() {
        let mut names: Vec<String> = match std::fs::read_dir(path) {
            Ok(rd) => rd
                .filter_map(|e| e.ok())
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect(),
            Err(_) => Vec::new(),
        };
        names.sort();
        for name in names {
            if ignored.is_match(&name) {
                continue;
            }
            let full = format!("{}/{}", source.trim_end_matches('/'), name);
            if parse_source(inv, &full, ignored)? && !parsed {
                parsed = true;
            }
        }
    } else {
        inv.current_source = Some(source.to_string());
        let mut failures: Vec<(String, String)> = Vec::new();
        let plugins = inv.options.enabled_plugins.clone();
        for plugin in plugins {
            let plugin = plugin.trim_start_matches("ansible.builtin.").to_string();
            if !plugin_wants(inv, &plugin, source) {
                continue;
            }
            match run_plugin(inv, &plugin, source) {
                Ok(()) => {
                    parsed = true;
                    break;
                }
                Err(msg) => failures.push((plugin, msg)),
            }
        }
        if !parsed && (source != "/etc/ansible/hosts" || path.exists()) {
            for (plugin, msg) in failures {
                inv.warn(format!(
                    "\n* Failed to parse {source} with {plugin} plugin: {msg}"
                ));
            }
            if inv.options.any_unparsed_is_failed {
                return Err(InventoryError(format!(
                    "Completely failed to parse inventory source {source}"
                )));
            }
            inv.warn(format!("Unable to parse {source} as an inventory source"));
        }
        inv.current_source = None;
    }
    Ok(parsed)
}

fn readable_file(path: &str) -> bool {
    std::fs::File::open(path).is_ok()
}

/// Each plugin's `verify_file`.
fn plugin_wants(inv: &Inventory, plugin: &str, source: &str) -> bool {
    let exists = Path::new(source).exists();
    match plugin {
        "host_list" => !exists && source.contains(','),
        "script" => exists && crate::script::wants(Path::new(source)),
        "auto" => {
            (source.ends_with(".yml") || source.ends_with(".yaml"))
                && exists
                && readable_file(source)
        }
        "yaml" => {
            let ext = splitext_ext(source);
            exists
                && readable_file(source)
                && (ext.is_empty() || inv.options.yaml_extensions.iter().any(|e| e == ext))
        }
        "ini" => exists && readable_file(source),
        "toml" => exists && splitext_ext(source) == ".toml",
        _ => false,
    }
}

fn run_plugin(inv: &mut Inventory, plugin: &str, source: &str) -> Result<(), String> {
    match plugin {
        "host_list" => {
            parse_host_list(inv, source);
            Ok(())
        }
        "script" => crate::script::parse_script(inv, source),
        "auto" => {
            let text = read_source_text(source)?;
            let doc = load_yaml_text(&text, source)?;
            match doc.as_ref().and_then(|d| d.as_map()).and_then(|m| m.get("plugin")) {
                Some(name) if !crate::yaml_source::is_falsy(name) => Err(format!(
                    "inventory config '{source}' specifies unknown plugin '{}'",
                    crate::pyrepr::py_str(name)
                )),
                _ => Err(format!(
                    "no root 'plugin' key found, '{source}' is not a valid YAML inventory plugin config file"
                )),
            }
        }
        "yaml" => {
            let text = read_source_text(source)?;
            let doc = load_yaml_text(&text, source)?;
            parse_yaml_inventory(inv, doc.as_ref())
        }
        "ini" => {
            // vault-encrypted inventories are opened with the run's secrets
            let bytes = rsible_vault::read_file(Path::new(source)).map_err(|e| e.to_string())?;
            let lines = decode_lines(&bytes)?;
            parse_ini(inv, source, &lines)
        }
        "toml" => Err("TOML inventory is not supported by rsible yet".to_string()),
        other => Err(format!("unknown inventory plugin {other}")),
    }
}

/// The `host_list` plugin: `-i 'a,b:2222,'`.
fn parse_host_list(inv: &mut Inventory, list: &str) {
    for item in list.split(',') {
        let item = item.trim();
        if item.is_empty() {
            continue;
        }
        let (host, port) =
            crate::address::parse_address(item, false).unwrap_or_else(|_| (item.to_string(), None));
        if !inv.hosts.contains_key(&host) {
            let _ = inv.add_host(&host, Some("ungrouped"), port);
        }
    }
}

/// An inventory file's text, decrypted when it is a vault.
fn read_source_text(source: &str) -> Result<String, String> {
    let bytes = rsible_vault::read_file(Path::new(source)).map_err(|e| e.to_string())?;
    String::from_utf8(bytes).map_err(|_| "stream did not contain valid UTF-8".to_string())
}
