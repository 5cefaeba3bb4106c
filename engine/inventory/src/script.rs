//! The `script` inventory plugin: run an executable with `--list` and read its JSON.

use std::collections::BTreeSet;
use std::process::Command;

use rsible_yaml::{Mapping, Node, Value};

use crate::model::Inventory;

/// Whether the script plugin would take this file: readable, and executable or with a `#!`.
pub fn wants(path: &std::path::Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    let Ok(meta) = std::fs::metadata(path) else {
        return false;
    };
    if !meta.is_file() {
        return false;
    }
    let executable = meta.permissions().mode() & 0o111 != 0;
    let shebang = std::fs::read(path)
        .map(|b| b.starts_with(b"#!"))
        .unwrap_or(false);
    executable || shebang
}

pub fn parse_script(inv: &mut Inventory, path: &str) -> Result<(), String> {
    let output = Command::new(path)
        .arg("--list")
        .output()
        .map_err(|e| format!("problem running {path} --list ({e})"))?;
    let mut err = String::from_utf8_lossy(&output.stderr).into_owned();
    if !err.is_empty() && !err.ends_with('\n') {
        err.push('\n');
    }
    if !output.status.success() {
        return Err(format!(
            "Inventory script ({path}) had an execution error: {err} "
        ));
    }
    let text = String::from_utf8(output.stdout).map_err(|e| {
        format!("Inventory {path} contained characters that cannot be interpreted as UTF-8: {e}")
    })?;
    let data: serde_json::Value = serde_json::from_str(&text).map_err(|e| {
        format!("failed to parse executable inventory script results from {path}: {e}\n{err}")
    })?;
    let serde_json::Value::Object(groups) = data else {
        return Err(format!(
            "failed to parse executable inventory script results from {path}: needs to be a json dict\n{err}"
        ));
    };
    let mut hosts = BTreeSet::new();
    let mut meta_hostvars = None;
    for (group, gdata) in &groups {
        if group == "_meta" {
            if let Some(hv) = gdata.get("hostvars") {
                meta_hostvars = Some(hv.clone());
            }
        } else {
            parse_group(inv, group, gdata, &mut hosts)?;
        }
    }
    for host in hosts {
        let vars = match &meta_hostvars {
            Some(serde_json::Value::Object(m)) => m.get(&host).cloned().unwrap_or_default(),
            Some(_) => return Err(format!("Improperly formatted host information for {host}")),
            None => host_vars_from_script(path, &host)?,
        };
        match json_to_node(&vars).value {
            Value::Map(m) => {
                for (k, v) in m.entries {
                    inv.set_variable(&host, &crate::pyrepr::py_str(&k), v)
                        .map_err(|e| e.0)?;
                }
            }
            Value::Null => {}
            _ => {
                return Err(format!(
                    "Invalid data from file, expected dictionary and got:\n\n{vars}"
                ))
            }
        }
    }
    Ok(())
}

fn host_vars_from_script(path: &str, host: &str) -> Result<serde_json::Value, String> {
    let out = Command::new(path)
        .args(["--host", host])
        .output()
        .map_err(|e| format!("problem running {path} --host {host} ({e})"))?;
    if !out.status.success() {
        return Err(format!(
            "Inventory script ({path}) had an execution error: {}",
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    let text = String::from_utf8_lossy(&out.stdout);
    if text.trim().is_empty() {
        return Ok(serde_json::Value::Object(Default::default()));
    }
    serde_json::from_str(&text).map_err(|_| {
        format!("could not parse post variable response: {path} --host {host}, {text}")
    })
}

fn parse_group(
    inv: &mut Inventory,
    name: &str,
    data: &serde_json::Value,
    hosts: &mut BTreeSet<String>,
) -> Result<(), String> {
    let group = inv.add_group(name).map_err(|e| e.0)?;
    let data = match data {
        serde_json::Value::Object(m)
            if ["hosts", "vars", "children"]
                .iter()
                .any(|k| m.contains_key(*k)) =>
        {
            data.clone()
        }
        serde_json::Value::Object(_) => serde_json::json!({"hosts": [group.clone()], "vars": data}),
        other => serde_json::json!({ "hosts": other }),
    };
    if let Some(list) = data.get("hosts") {
        let Some(list) = list.as_array() else {
            return Err(format!(
                "You defined a group '{group}' with bad data for the host list:\n {data}"
            ));
        };
        for h in list {
            let Some(h) = h.as_str() else {
                return Err(format!(
                    "Invalid host name supplied, expected a string but got {h}"
                ));
            };
            hosts.insert(h.to_string());
            inv.add_host(h, Some(&group), None).map_err(|e| e.0)?;
        }
    }
    if let Some(vars) = data.get("vars") {
        let Some(vars) = vars.as_object() else {
            return Err(format!(
                "You defined a group '{group}' with bad data for variables:\n {data}"
            ));
        };
        for (k, v) in vars {
            inv.set_variable(&group, k, json_to_node(v))
                .map_err(|e| e.0)?;
        }
    }
    if let Some(children) = data.get("children").and_then(|c| c.as_array()) {
        for c in children.iter().filter_map(|c| c.as_str()) {
            let child = inv.add_group(c).map_err(|e| e.0)?;
            inv.add_child(&group, &child).map_err(|e| e.0)?;
        }
    }
    Ok(())
}

/// JSON value to a position-less node.
pub fn json_to_node(v: &serde_json::Value) -> Node {
    let value = match v {
        serde_json::Value::Null => Value::Null,
        serde_json::Value::Bool(b) => Value::Bool(*b),
        serde_json::Value::Number(n) => match n.as_i64() {
            Some(i) => Value::Int(i),
            None if n.is_u64() => Value::BigInt(n.to_string()),
            None => Value::Float(n.as_f64().unwrap_or(f64::NAN)),
        },
        serde_json::Value::String(s) => Value::Str(s.clone()),
        serde_json::Value::Array(a) => Value::Seq(a.iter().map(json_to_node).collect()),
        serde_json::Value::Object(o) => {
            let mut m = Mapping::new();
            for (k, v) in o {
                m.insert(Node::unplaced(Value::Str(k.clone())), json_to_node(v));
            }
            Value::Map(m)
        }
    };
    Node::unplaced(value)
}
