//! The `ini` inventory plugin: `[group]`, `[group:vars]`, `[group:children]` sections,
//! host lines with inline `k=v` variables, host ranges and ports.

use std::sync::OnceLock;

use indexmap::IndexMap;
use regex::Regex;
use rsible_yaml::{Mark, Node, Value};

use crate::address::expand_hostpattern;
use crate::literal::literal_eval;
use crate::model::Inventory;
use crate::shlex::shlex_split;

/// The section header pattern for `line`. Python's `\w` is Unicode's, which
/// the regex crate takes ~0.8 ms to compile (a run's whole inventory parse costs
/// less); an ASCII line, nearly every line, gets the same pattern with `\w`
/// spelled in ASCII, which matches it identically.
fn section_re(line: &str) -> &'static Regex {
    static ASCII: OnceLock<Regex> = OnceLock::new();
    static UNICODE: OnceLock<Regex> = OnceLock::new();
    let (cell, word) = if line.is_ascii() {
        (&ASCII, "[0-9A-Za-z_]")
    } else {
        (&UNICODE, r"\w")
    };
    cell.get_or_init(|| {
        Regex::new(&format!(r"^\[([^:\]\s]+)(?::({word}+))?\]\s*(?:#.*)?$")).expect("static regex")
    })
}

fn groupname_re() -> &'static Regex {
    static R: OnceLock<Regex> = OnceLock::new();
    R.get_or_init(|| Regex::new(r"^([^:\]\s]+)\s*(?:#.*)?$").expect("static regex"))
}

#[derive(Clone, Copy, PartialEq)]
enum State {
    Hosts,
    Vars,
    Children,
}

/// A group referenced before it was declared, as the plugin's `pending_declarations`.
struct Pending {
    line: usize,
    state: State,
    parents: Vec<String>,
}

/// Decode an INI file as the plugin does: UTF-8, but undecodable comment lines become blank.
pub fn decode_lines(bytes: &[u8]) -> Result<Vec<String>, String> {
    if let Ok(text) = std::str::from_utf8(bytes) {
        return Ok(python_splitlines(text));
    }
    let mut lines = Vec::new();
    for raw in bytes.split(|b| *b == b'\n') {
        let raw = raw.strip_suffix(b"\r").unwrap_or(raw);
        if matches!(raw.first(), Some(b'#') | Some(b';')) {
            lines.push(String::new());
        } else {
            match std::str::from_utf8(raw) {
                Ok(s) => lines.push(s.to_string()),
                Err(e) => {
                    return Err(format!(
                    "'utf-8' codec can't decode byte 0x{:02x} in position {}: invalid start byte",
                    raw.get(e.valid_up_to()).copied().unwrap_or(0),
                    e.valid_up_to()
                ))
                }
            }
        }
    }
    Ok(lines)
}

/// Python's `str.splitlines()`, as owned lines (what [`parse_ini`] takes).
pub fn python_splitlines(text: &str) -> Vec<String> {
    rsible_pytext::splitlines(text)
        .into_iter()
        .map(str::to_string)
        .collect()
}

/// Parse INI inventory text from `path` into `inv`. The error is the plugin's message
/// (`<path>:<line>: ...`).
pub fn parse_ini(inv: &mut Inventory, path: &str, lines: &[String]) -> Result<(), String> {
    let mut pending: IndexMap<String, Pending> = IndexMap::new();
    let mut group = "ungrouped".to_string();
    let mut state = State::Hosts;
    let source: std::sync::Arc<str> = path.into();
    let err = |lineno: usize, msg: String| format!("{path}:{lineno}: {msg}");

    for (index, raw) in lines.iter().enumerate() {
        let lineno = index + 1;
        let line = raw.trim();
        if line.is_empty() || line.starts_with('#') || line.starts_with(';') {
            continue;
        }
        if let Some(c) = section_re(line).captures(line) {
            let raw_name = c[1].to_string();
            let tag = c.get(2).map(|m| m.as_str().to_string());
            group = inv.safe_group_name(&raw_name);
            state = match tag.as_deref() {
                None | Some("hosts") => State::Hosts,
                Some("vars") => State::Vars,
                Some("children") => State::Children,
                Some(other) => {
                    return Err(err(
                        lineno,
                        format!("Section [{raw_name}:{other}] has unknown type: {other}"),
                    ))
                }
            };
            if !inv.groups.contains_key(&group) {
                if state == State::Vars && !pending.contains_key(&group) {
                    pending.insert(
                        group.clone(),
                        Pending {
                            line: lineno,
                            state,
                            parents: Vec::new(),
                        },
                    );
                }
                inv.add_group(&group).map_err(|e| err(lineno, e.0))?;
            }
            if state != State::Vars {
                if let Some(p) = pending.get(&group) {
                    match p.state {
                        State::Children => add_pending_children(inv, &group, &mut pending)
                            .map_err(|e| err(lineno, e))?,
                        State::Vars => {
                            pending.shift_remove(&group);
                        }
                        State::Hosts => {}
                    }
                }
            }
            continue;
        } else if line.starts_with('[') && line.ends_with(']') {
            return Err(err(
                lineno,
                format!(
                    "Invalid section entry: '{line}'. Please make sure that there are no spaces in the section entry, and that there are no other invalid characters"
                ),
            ));
        }

        match state {
            State::Hosts => {
                let tokens = shlex_split(line).map_err(|e| {
                    err(
                        lineno,
                        format!("Error parsing host definition '{line}': {e}"),
                    )
                })?;
                let Some(first) = tokens.first() else {
                    // Python indexes tokens[0] of an empty list (a line that is only a quoted comment).
                    return Err("list index out of range".to_string());
                };
                let (hosts, port) = expand_ini_hostpattern(first)?;
                let mut vars: IndexMap<String, Value> = IndexMap::new();
                for t in &tokens[1..] {
                    let Some((k, v)) = t.split_once('=') else {
                        return Err(err(
                            lineno,
                            format!("Expected key=value host variable assignment, got: {t}"),
                        ));
                    };
                    vars.insert(k.to_string(), parse_value(v));
                }
                for host in hosts {
                    inv.add_host(&host, Some(&group), port)
                        .map_err(|e| err(lineno, e.0))?;
                    for (k, v) in &vars {
                        let node =
                            Node::new(v.clone(), Mark::new(Some(source.clone()), lineno as u32, 1));
                        inv.set_variable(&host, k, node)
                            .map_err(|e| err(lineno, e.0))?;
                    }
                }
            }
            State::Vars => {
                let Some((k, v)) = line.split_once('=') else {
                    return Err(err(lineno, format!("Expected key=value, got: {line}")));
                };
                let node = Node::new(
                    parse_value(v.trim()),
                    Mark::new(Some(source.clone()), lineno as u32, 1),
                );
                inv.set_variable(&group, k.trim(), node)
                    .map_err(|e| err(lineno, e.0))?;
            }
            State::Children => {
                let Some(c) = groupname_re().captures(line) else {
                    return Err(err(lineno, format!("Expected group name, got: {line}")));
                };
                let child = c[1].to_string();
                if !inv.groups.contains_key(&child) {
                    match pending.get_mut(&child) {
                        Some(p) => p.parents.push(group.clone()),
                        None => {
                            pending.insert(
                                child,
                                Pending {
                                    line: lineno,
                                    state: State::Children,
                                    parents: vec![group.clone()],
                                },
                            );
                        }
                    }
                } else {
                    inv.add_child(&group, &child)
                        .map_err(|e| err(lineno, e.0))?;
                }
            }
        }
    }

    if let Some((name, decl)) = pending.iter().next() {
        return Err(match decl.state {
            State::Vars => format!(
                "{path}:{}: Section [{name}:vars] not valid for undefined group: {name}",
                decl.line
            ),
            _ => format!(
                "{path}:{}: Section [{}:children] includes undefined group: {name}",
                decl.line,
                decl.parents.last().map(String::as_str).unwrap_or("")
            ),
        });
    }
    Ok(())
}

fn add_pending_children(
    inv: &mut Inventory,
    group: &str,
    pending: &mut IndexMap<String, Pending>,
) -> Result<(), String> {
    let parents = pending
        .get(group)
        .map(|p| p.parents.clone())
        .unwrap_or_default();
    for parent in parents {
        inv.add_child(&parent, group).map_err(|e| e.0)?;
        let parent_pending = pending
            .get(&parent)
            .is_some_and(|p| p.state == State::Children);
        if parent_pending {
            add_pending_children(inv, &parent, pending)?;
        }
    }
    pending.shift_remove(group);
    Ok(())
}

/// The INI plugin's extra checks on top of the generic host pattern expansion.
fn expand_ini_hostpattern(pattern: &str) -> Result<(Vec<String>, Option<i64>), String> {
    let (hosts, port) = expand_hostpattern(pattern)?;
    if pattern.trim().ends_with(':') && port.is_none() {
        return Err(format!(
            "Invalid host pattern '{pattern}' supplied, ending in ':' is not allowed, this character is reserved to provide a port."
        ));
    }
    if hosts.iter().any(|h| h.trim() == "---") {
        return Err(format!(
            "Invalid host pattern '{pattern}' supplied, '---' is normally a sign this is a YAML file."
        ));
    }
    Ok((hosts, port))
}

/// `_parse_value`: a Python literal if it is one, else the text itself.
pub fn parse_value(v: &str) -> Value {
    literal_eval(v).unwrap_or_else(|| Value::Str(v.to_string()))
}
