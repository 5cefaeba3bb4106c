//! Builds the variable scope of a (host, task) in Ansible's precedence order
//! (see `vars::precedence`). Levels that do not change during a play are
//! converted once and shared; only the task's own levels are built per call.

use std::collections::HashMap;
use std::sync::Arc;

use indexmap::IndexMap;
use rsible_inventory::{Inventory, VarsDirs};
use rsible_playbook::{Play, Role, Task};
use rsible_templar::{from_yaml, Value};
use rsible_yaml::Node;

use crate::frame::Frame;
use crate::host_state::HostState;
use crate::scope_memo;
use crate::vars::precedence as level;
use crate::vars::{Layer, VarLayers};

pub fn to_layer(vars: &IndexMap<String, Node>) -> Layer {
    Arc::new(
        vars.iter()
            .map(|(k, v)| (k.clone(), from_yaml(v)))
            .collect(),
    )
}

/// Inventory-level variables of every host, converted once per run.
#[derive(Default)]
pub struct InventoryLayers {
    hosts: HashMap<String, Vec<(&'static str, Layer)>>,
}

impl InventoryLayers {
    /// Ansible's order: `all` from inventory files, other groups from
    /// inventory files (parents first), group_vars/all beside the inventory
    /// then beside the playbook, group_vars/<group> beside the inventory then
    /// the playbook, then the host's own: inventory file, host_vars beside
    /// the inventory, host_vars beside the playbook.
    pub fn for_host(
        &mut self,
        inventory: &Inventory,
        inventory_dirs: &VarsDirs,
        playbook_dirs: &VarsDirs,
        host: &str,
    ) -> Vec<(&'static str, Layer)> {
        if let Some(cached) = self.hosts.get(host) {
            return cached.clone();
        }
        let mut layers = Vec::new();
        let groups: Vec<String> = inventory
            .host_group_vars_order(host)
            .into_iter()
            .filter(|g| g != "all")
            .collect();
        if let Some(all) = inventory.groups.get("all") {
            layers.push((level::INVENTORY_ALL, to_layer(&all.vars)));
        }
        let mut group_file_vars = IndexMap::new();
        for g in &groups {
            if let Some(group) = inventory.groups.get(g) {
                for (k, v) in &group.vars {
                    group_file_vars.insert(k.clone(), v.clone());
                }
            }
        }
        layers.push((level::INVENTORY_GROUPS, to_layer(&group_file_vars)));
        layers.push((
            level::INVENTORY_GROUP_VARS_ALL,
            to_layer(&inventory_dirs.group("all")),
        ));
        layers.push((
            level::PLAYBOOK_GROUP_VARS_ALL,
            to_layer(&playbook_dirs.group("all")),
        ));
        let mut inv_groups = IndexMap::new();
        let mut pb_groups = IndexMap::new();
        for g in &groups {
            inv_groups.extend(inventory_dirs.group(g));
            pb_groups.extend(playbook_dirs.group(g));
        }
        layers.push((level::INVENTORY_GROUP_VARS, to_layer(&inv_groups)));
        layers.push((level::PLAYBOOK_GROUP_VARS, to_layer(&pb_groups)));
        let host_vars = inventory
            .hosts
            .get(host)
            .map(|h| h.vars.clone())
            .unwrap_or_else(|| inventory.implicit_localhost_vars());
        layers.push((level::INVENTORY_HOST, to_layer(&host_vars)));
        layers.push((
            level::INVENTORY_HOST_VARS,
            to_layer(&inventory_dirs.host(host)),
        ));
        layers.push((
            level::PLAYBOOK_HOST_VARS,
            to_layer(&playbook_dirs.host(host)),
        ));
        self.hosts.insert(host.to_string(), layers.clone());
        layers
    }
}

/// Play-level layers, converted once per play.
pub struct PlayLayers {
    pub all_role_defaults: Layer,
    pub play_vars: Layer,
    pub all_role_vars: Layer,
    pub extra_vars: Layer,
}

impl PlayLayers {
    pub fn new(play: &Play, extra_vars: Layer) -> Self {
        let mut defaults = IndexMap::new();
        let mut role_vars = IndexMap::new();
        let imported = imported_roles(play);
        for role in play.roles.iter().chain(imported.iter()) {
            collect_role_defaults(role, &mut defaults);
            collect_role_vars(role, &mut role_vars);
        }
        PlayLayers {
            all_role_defaults: Arc::new(defaults),
            play_vars: to_layer(&play.vars),
            all_role_vars: Arc::new(role_vars),
            extra_vars,
        }
    }
}

/// Roles brought in by `import_role` anywhere in the play, in order: their
/// vars and defaults are the play's from the start, as Ansible's are.
pub fn imported_roles(play: &Play) -> Vec<std::rc::Rc<Role>> {
    fn walk(items: &[rsible_playbook::Item], out: &mut Vec<std::rc::Rc<Role>>) {
        for item in items {
            if let rsible_playbook::Item::Block(b) = item {
                if let Some(role) = &b.role {
                    out.push(role.clone());
                }
                walk(&b.block, out);
                walk(&b.rescue, out);
                walk(&b.always, out);
            }
        }
    }
    let mut out = Vec::new();
    walk(&play.pre_tasks, &mut out);
    for role in &play.roles {
        walk(&role.tasks, &mut out);
    }
    walk(&play.tasks, &mut out);
    walk(&play.post_tasks, &mut out);
    out
}

/// A role's defaults with its dependencies' first, as `get_default_vars` merges them.
pub fn collect_role_defaults(role: &Role, out: &mut IndexMap<String, Value>) {
    for dep in &role.dependencies {
        collect_role_defaults(dep, out);
    }
    for (k, v) in scope_memo::converted(&role.defaults).iter() {
        out.insert(k.clone(), v.clone());
    }
}

/// A role's vars (vars/main and the entry's `vars:`), dependencies first.
pub fn collect_role_vars(role: &Role, out: &mut IndexMap<String, Value>) {
    for dep in &role.dependencies {
        collect_role_vars(dep, out);
    }
    for (k, v) in scope_memo::converted(&role.role_vars).iter() {
        out.insert(k.clone(), v.clone());
    }
    for (k, v) in role.vars.iter() {
        out.insert(k.clone(), from_yaml(v));
    }
}

/// Everything a task on a host sees, lowest precedence first.
#[allow(clippy::too_many_arguments)]
pub fn task_scope(
    play: &PlayLayers,
    inventory_layers: Vec<(&'static str, Layer)>,
    state: &HostState,
    frame: &Frame,
    task: Option<&Task>,
    magic: Layer,
) -> VarLayers {
    let mut scope = VarLayers::new();
    scope.push(level::ROLE_DEFAULTS, play.all_role_defaults.clone());
    if let Some(role) = &frame.role {
        scope.push(level::ROLE_DEFAULTS, scope_memo::role_defaults_layer(role));
    }
    for (name, layer) in inventory_layers {
        scope.push(name, layer);
    }
    if !state.facts.is_empty() {
        scope.push(level::FACTS, scope_memo::fact_layer(&state.facts));
    }
    scope.push(level::PLAY_VARS, play.play_vars.clone());
    scope.push(level::ROLE_VARS, play.all_role_vars.clone());
    if let Some(role) = &frame.role {
        scope.push(level::ROLE_VARS, scope_memo::role_vars_layer(role));
    }
    for vars in &frame.block_vars {
        scope.push(level::BLOCK_VARS, to_layer(vars));
    }
    if let Some(task) = task {
        if let Some(Some(map)) = task.keywords.get("vars").map(|n| n.as_map()) {
            let vars: IndexMap<String, Value> = map
                .iter()
                .filter_map(|(k, v)| k.as_str().map(|k| (k.to_string(), from_yaml(v))))
                .collect();
            scope.push_map(level::TASK_VARS, vars);
        }
    }
    scope.push(level::INCLUDE_VARS, state.include_vars.clone());
    scope.push(level::SET_FACT, state.set_facts.clone());
    if let Some(role) = &frame.role {
        scope.push(level::ROLE_PARAMS, to_layer(&role.params));
    }
    scope.push(level::EXTRA_VARS, play.extra_vars.clone());
    scope.push(level::MAGIC, magic);
    scope
}

/// A host's facts as variables, as Ansible's `namespace_facts` and
/// `clean_facts` make them: `ansible_facts` holds every fact with its
/// `ansible_` prefix dropped (`ansible_local` keeps it), and each fact is also
/// a top-level variable under its own name (inject_facts_as_vars), except
/// those that would override connection settings.
pub fn fact_vars(facts: &IndexMap<String, Value>) -> IndexMap<String, Value> {
    // Sized up front: a gathering's hundred-odd facts grew both by doubling.
    let mut vars: IndexMap<String, Value> = IndexMap::with_capacity(facts.len() + 1);
    let mut namespaced: Vec<(String, Value)> = Vec::with_capacity(facts.len());
    for (k, v) in facts.iter() {
        if k.starts_with("_ansible_") {
            continue;
        }
        let short = match k.strip_prefix("ansible_") {
            Some(rest) if k != "ansible_local" => rest.to_string(),
            _ => k.clone(),
        };
        namespaced.push((short, v.clone()));
        if !is_restricted_fact(k) {
            vars.insert(k.clone(), v.clone());
        }
    }
    vars.insert("ansible_facts".into(), map_value(namespaced));
    vars
}

/// Facts `clean_facts` keeps out of the top-level variables: connection
/// variables, `ansible_<connection>_*`, `ansible_become_*`, interpreters.
fn is_restricted_fact(name: &str) -> bool {
    const CONNECTION_VARS: &[&str] = &[
        "ansible_connection",
        "ansible_host",
        "ansible_user",
        "ansible_shell_executable",
        "ansible_port",
        "ansible_pipelining",
        "ansible_password",
        "ansible_timeout",
        "ansible_shell_type",
        "ansible_module_compression",
        "ansible_private_key_file",
        "ansible_ssh_host",
        "ansible_ssh_port",
        "ansible_ssh_user",
        "ansible_ssh_pass",
        "ansible_ssh_private_key_file",
    ];
    if CONNECTION_VARS.contains(&name) || name.starts_with("ansible_become_") {
        return true;
    }
    let by_connection = ["ssh", "local", "paramiko_ssh", "psrp", "winrm"]
        .iter()
        .any(|c| {
            name.strip_prefix("ansible_")
                .and_then(|rest| rest.strip_prefix(c))
                .is_some_and(|rest| rest.starts_with('_'))
        });
    if by_connection && !name.ends_with("_bridge") && !name.ends_with("_gwbridge") {
        return true;
    }
    name.starts_with("ansible_") && name.ends_with("_interpreter")
}

/// A module result (JSON) as a template value: the templar's own conversion,
/// under the name the executor's callers use.
pub use rsible_templar::from_json as json_to_value;

/// A string-keyed map as a template value (a mapping, not a list of pairs).
pub fn map_value<I: IntoIterator<Item = (String, Value)>>(entries: I) -> Value {
    let map: IndexMap<Value, Value> = entries
        .into_iter()
        .map(|(k, v)| (Value::from(k), v))
        .collect();
    Value::from(map)
}

/// The roles a play names, and every role they depend on (directly or not),
/// for `ansible_play_role_names` and `ansible_dependent_role_names`.
pub fn play_role_names(play: &Play) -> (Vec<String>, Vec<String>) {
    fn deps(role: &Role, out: &mut Vec<String>) {
        for dep in &role.dependencies {
            if !out.contains(&dep.name) {
                out.push(dep.name.clone());
            }
            deps(dep, out);
        }
    }
    let named = play.roles.iter().map(|r| r.name.clone()).collect();
    let mut dependent = Vec::new();
    for role in &play.roles {
        deps(role, &mut dependent);
    }
    (named, dependent)
}
