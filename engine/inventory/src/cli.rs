//! ansible-inventory's outputs: `--list`, `--graph [group] [--vars]` and `--host H`,
//! byte for byte. Each function returns the text to print, trailing newline included.

use indexmap::IndexSet;
use rsible_yaml::{Mapping, Node, Value};

use crate::json_out::{to_json, JsonStyle};
use crate::model::{Inventory, Vars};
use crate::pattern::PatternError;
use crate::pyrepr::py_str;
use crate::vars_files::{combine_into, VarsDirs};

/// Variables Ansible strips from ansible-inventory output (C.INTERNAL_STATIC_VARS).
const INTERNAL_STATIC_VARS: &[&str] = &[
    "ansible_async_path",
    "ansible_collection_name",
    "ansible_config_file",
    "ansible_dependent_role_names",
    "ansible_diff_mode",
    "ansible_facts",
    "ansible_forks",
    "ansible_inventory_sources",
    "ansible_limit",
    "ansible_play_batch",
    "ansible_play_hosts",
    "ansible_play_hosts_all",
    "ansible_play_role_names",
    "ansible_playbook_python",
    "ansible_role_name",
    "ansible_role_names",
    "ansible_run_tags",
    "ansible_skip_tags",
    "ansible_verbosity",
    "ansible_version",
    "inventory_dir",
    "inventory_file",
    "inventory_hostname",
    "inventory_hostname_short",
    "groups",
    "group_names",
    "omit",
    "hostvars",
    "playbook_dir",
    "play_hosts",
    "role_name",
    "role_names",
    "role_path",
    "role_uuid",
];

/// The vars files ansible-inventory sees: inventory-adjacent, and "play"-adjacent
/// (`--playbook-dir`, or the current directory when it is not given).
#[derive(Clone, Copy, Debug)]
pub struct CliVars<'a> {
    pub inventory: &'a VarsDirs,
    pub play: &'a VarsDirs,
    /// Whether `--playbook-dir` was given (group vars in `--graph --vars` include it only then).
    pub playbook_dir_given: bool,
}

/// A host's variables as `VariableManager.get_vars(host=...)` merges them, without play
/// context: group vars (inventory, then files) in Ansible's precedence order, then host vars.
pub fn host_variables(inv: &Inventory, host: &str, vars: CliVars) -> Vars {
    let order = inv.host_group_vars_order(host);
    let groups: Vec<String> = order.into_iter().filter(|g| g != "all").collect();
    let mut out = Vars::new();
    // all_inventory, groups_inventory
    if let Some(all) = inv.groups.get("all") {
        combine_into(&mut out, &all.vars);
    }
    for g in &groups {
        if let Some(grp) = inv.groups.get(g) {
            combine_into(&mut out, &grp.vars);
        }
    }
    // all_plugins_inventory, all_plugins_play, groups_plugins_inventory, groups_plugins_play
    combine_into(&mut out, &vars.inventory.group("all"));
    combine_into(&mut out, &vars.play.group("all"));
    combine_into(&mut out, &vars.inventory.groups(&groups));
    combine_into(&mut out, &vars.play.groups(&groups));
    // host vars: inventory, inventory host_vars, play host_vars
    if let Some(h) = inv.hosts.get(host) {
        combine_into(&mut out, &h.vars);
    } else if inv.is_implicit_localhost(host) {
        combine_into(&mut out, &inv.implicit_localhost_vars());
    }
    combine_into(&mut out, &vars.inventory.host(host));
    combine_into(&mut out, &vars.play.host(host));
    remove_internal(out)
}

fn group_variables(inv: &Inventory, group: &str, vars: CliVars) -> Vars {
    let mut out = inv
        .groups
        .get(group)
        .map(|g| g.vars.clone())
        .unwrap_or_default();
    combine_into(&mut out, &vars.inventory.group(group));
    if vars.playbook_dir_given {
        combine_into(&mut out, &vars.play.group(group));
    }
    if let Some(g) = inv.groups.get(group) {
        if g.priority != 1 {
            out.insert(
                "ansible_group_priority".into(),
                Node::unplaced(Value::Int(g.priority)),
            );
        }
    }
    remove_internal(out)
}

fn remove_internal(mut vars: Vars) -> Vars {
    vars.retain(|k, _| !INTERNAL_STATIC_VARS.contains(&k.as_str()));
    vars
}

fn s(text: &str) -> Node {
    Node::unplaced(Value::Str(text.to_string()))
}

fn vars_node(vars: &Vars) -> Node {
    let mut m = Mapping::new();
    for (k, v) in vars {
        m.entries.push((s(k), v.clone()));
    }
    Node::unplaced(Value::Map(m))
}

fn dump(node: &Node) -> String {
    let mut text = to_json(node, JsonStyle::ansible_inventory());
    text.push('\n');
    text
}

/// `ansible-inventory --list [--limit L]`.
pub fn inventory_cli_list(
    inv: &mut Inventory,
    vars: CliVars,
    limit: Option<&[String]>,
) -> Result<String, PatternError> {
    let hosts = inv.select_limited(&["all".to_string()], limit)?;
    let available: IndexSet<&str> = hosts.iter().map(String::as_str).collect();
    let mut results = Mapping::new();
    let mut seen: IndexSet<String> = IndexSet::new();
    format_group(inv, "all", &available, &mut seen, &mut results);
    let mut hostvars = Mapping::new();
    for h in &hosts {
        let hv = host_variables(inv, h, vars);
        if !hv.is_empty() {
            hostvars.entries.push((s(h), vars_node(&hv)));
        }
    }
    let mut meta = Mapping::new();
    meta.entries
        .push((s("hostvars"), Node::unplaced(Value::Map(hostvars))));
    results
        .entries
        .push((s("_meta"), Node::unplaced(Value::Map(meta))));
    Ok(dump(&Node::unplaced(Value::Map(results))))
}

fn format_group(
    inv: &Inventory,
    name: &str,
    available: &IndexSet<&str>,
    seen: &mut IndexSet<String>,
    results: &mut Mapping,
) {
    let Some(group) = inv.groups.get(name) else {
        return;
    };
    let mut entry = Mapping::new();
    if name != "all" {
        let hosts: Vec<Node> = group
            .hosts
            .iter()
            .filter(|h| available.contains(h.as_str()))
            .map(|h| s(h))
            .collect();
        if !hosts.is_empty() {
            entry
                .entries
                .push((s("hosts"), Node::unplaced(Value::Seq(hosts))));
        }
    }
    let children: Vec<Node> = group.children.iter().map(|c| s(c)).collect();
    // The group's own entry goes in before its children's (a dict keeps first insertion).
    let slot = results.entries.len();
    results.entries.push((s(name), Node::unplaced(Value::Null)));
    for child in &group.children {
        if !seen.contains(child) {
            format_group(inv, child, available, seen, results);
            seen.insert(child.clone());
        }
    }
    if !children.is_empty() {
        entry
            .entries
            .push((s("children"), Node::unplaced(Value::Seq(children))));
    }
    if entry.is_empty() {
        results.entries.remove(slot);
    } else {
        results.entries[slot].1 = Node::unplaced(Value::Map(entry));
    }
}

/// `ansible-inventory --graph [group] [--vars]`.
pub fn graph(
    inv: &Inventory,
    group: Option<&str>,
    show_vars: bool,
    vars: CliVars,
) -> Result<String, String> {
    let start = group.unwrap_or("all");
    if !inv.groups.contains_key(start) {
        return Err("Pattern must be valid group name when using --graph".to_string());
    }
    let mut lines = Vec::new();
    graph_group(inv, start, 0, show_vars, vars, &mut lines, 0);
    Ok(lines.join("\n") + "\n")
}

fn graph_name(name: &str, depth: usize) -> String {
    if depth == 0 {
        name.to_string()
    } else {
        format!("{}--{}", "  |".repeat(depth), name)
    }
}

fn show_vars(vars: &Vars, depth: usize, lines: &mut Vec<String>) {
    let mut sorted: Vec<(&String, &Node)> = vars.iter().collect();
    sorted.sort_by(|a, b| a.0.cmp(b.0));
    for (k, v) in sorted {
        lines.push(graph_name(&format!("{{{k} = {}}}", py_str(v)), depth));
    }
}

fn graph_group(
    inv: &Inventory,
    name: &str,
    depth: usize,
    with_vars: bool,
    vars: CliVars,
    lines: &mut Vec<String>,
    guard: usize,
) {
    let Some(group) = inv.groups.get(name) else {
        return;
    };
    if guard > inv.groups.len() {
        return;
    }
    lines.push(graph_name(&format!("@{name}:"), depth));
    for kid in &group.children {
        graph_group(inv, kid, depth + 1, with_vars, vars, lines, guard + 1);
    }
    if name != "all" {
        for h in &group.hosts {
            lines.push(graph_name(h, depth + 1));
            if with_vars {
                show_vars(&host_variables(inv, h, vars), depth + 2, lines);
            }
        }
    }
    if with_vars {
        show_vars(&group_variables(inv, name, vars), depth + 1, lines);
    }
}

/// `ansible-inventory --host H`.
pub fn host(inv: &mut Inventory, pattern: &str, vars: CliVars) -> Result<String, String> {
    let hosts = inv.select(pattern).map_err(|e| e.0)?;
    if hosts.len() != 1 {
        return Err("You must pass a single valid host to --host parameter".to_string());
    }
    let hv = host_variables(inv, &hosts[0], vars);
    Ok(dump(&vars_node(&hv)))
}
