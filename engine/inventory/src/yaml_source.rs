//! The `yaml` inventory plugin: `all:`/group keys with `hosts`, `vars` and `children`.

use rsible_yaml::{Mapping, Node, Value};

use crate::address::expand_hostpattern;
use crate::model::Inventory;
use crate::pyrepr::py_str;
use crate::pytype::class_repr;

/// Populate `inv` from a loaded YAML inventory document (`None` for an empty file).
pub fn parse_yaml_inventory(inv: &mut Inventory, data: Option<&Node>) -> Result<(), String> {
    let data = match data {
        Some(d) if !is_falsy(d) => d,
        _ => return Err("Parsed empty YAML file".to_string()),
    };
    let Some(map) = data.as_map() else {
        return Err(format!(
            "YAML inventory has invalid structure, it should be a dictionary, got: {}",
            class_repr(data)
        ));
    };
    if map.get("plugin").is_some_and(|p| !is_falsy(p)) {
        return Err("Plugin configuration YAML file, not YAML inventory".to_string());
    }
    for (name, group_data) in map.iter() {
        parse_group(inv, name, group_data)?;
    }
    Ok(())
}

/// Python truthiness, for Ansible's `if not data` / `value or {}` checks.
pub fn is_falsy(node: &Node) -> bool {
    match &node.value {
        Value::Null => true,
        Value::Bool(b) => !b,
        Value::Int(i) => *i == 0,
        Value::Float(f) => *f == 0.0,
        Value::Str(s) | Value::Unsafe(s) => s.is_empty(),
        Value::Seq(s) => s.is_empty(),
        Value::Map(m) => m.is_empty(),
        Value::BigInt(_) | Value::Vault(_) => false,
    }
}

fn parse_group(inv: &mut Inventory, name_node: &Node, data: &Node) -> Result<String, String> {
    let display_name = py_str(name_node);
    if !matches!(data.value, Value::Map(_) | Value::Null) {
        inv.warn(format!(
            "Skipping '{display_name}' as this is not a valid group definition"
        ));
        return Ok(display_name);
    }
    let Some(name) = name_node.as_str() else {
        return Err(format!(
            "Unable to add group {display_name}: Invalid group name supplied, expected a string but got {} for {display_name}",
            class_repr(name_node).replace("ansible.parsing.yaml.objects.", "")
        ));
    };
    let group = inv
        .add_group(name)
        .map_err(|e| format!("Unable to add group {name}: {e}"))?;
    let Some(sections) = data.as_map() else {
        return Ok(group);
    };
    // Strings are shorthand for a one-entry mapping; other non-mappings are errors.
    let mut normalised = Mapping::new();
    for (key, value) in sections.iter() {
        let mut value = value.clone();
        if let Some(k) = key.as_str() {
            if ["vars", "children", "hosts"].contains(&k) {
                if let Some(s) = value.as_str() {
                    let mut m = Mapping::new();
                    m.insert(
                        Node::new(Value::Str(s.to_string()), value.mark.clone()),
                        Node::unplaced(Value::Null),
                    );
                    value = Node::new(Value::Map(m), value.mark.clone());
                }
                if !matches!(value.value, Value::Map(_) | Value::Null) {
                    return Err(format!(
                        "Invalid \"{k}\" entry for \"{group}\" group, requires a dictionary, found \"{}\" instead.",
                        class_repr(&value)
                    ));
                }
            }
        }
        normalised.entries.push((key.clone(), value));
    }
    for (key, value) in normalised.iter() {
        let key_text = py_str(key);
        let Some(entries) = value.as_map() else {
            if !value.is_null() {
                inv.warn(format!(
                    "Skipping key ({key_text}) in group ({group}) as it is not a mapping, it is a {}",
                    class_repr(value)
                ));
            }
            continue;
        };
        match key.as_str() {
            Some("vars") => {
                for (var, v) in entries.iter() {
                    inv.set_variable(&group, &py_str(var), v.clone())
                        .map_err(|e| e.0)?;
                }
            }
            Some("children") => {
                for (sub, sub_data) in entries.iter() {
                    let child = parse_group(inv, sub, sub_data)?;
                    inv.add_child(&group, &child).map_err(|e| e.0)?;
                }
            }
            Some("hosts") => {
                for (pattern, host_data) in entries.iter() {
                    let Some(pattern_text) = pattern.as_str() else {
                        return Err(format!(
                            "Host pattern {} must be a string. Enclose integers/floats in quotation marks.",
                            py_str(pattern)
                        ));
                    };
                    let (hosts, port) = expand_hostpattern(pattern_text)?;
                    let empty = Mapping::new();
                    let vars = if is_falsy(host_data) {
                        &empty
                    } else {
                        host_data.as_map().ok_or_else(|| {
                            format!(
                                "Invalid data from file, expected dictionary and got:\n\n{}",
                                py_str(host_data)
                            )
                        })?
                    };
                    for host in hosts {
                        inv.add_host(&host, Some(&group), port).map_err(|e| e.0)?;
                        for (var, v) in vars.iter() {
                            inv.set_variable(&host, &py_str(var), v.clone())
                                .map_err(|e| e.0)?;
                        }
                    }
                }
            }
            _ => inv.warn(format!(
                "Skipping unexpected key ({key_text}) in group ({group}), only \"vars\", \"children\" and \"hosts\" are valid"
            )),
        }
    }
    Ok(group)
}
