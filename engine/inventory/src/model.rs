//! The inventory model: hosts and groups with Ansible's implicit rules
//! (`all`, `ungrouped`, group depth and priority, implicit localhost).
//!
//! Hosts and groups live in insertion-ordered maps, because Ansible's dicts keep
//! insertion order and many outputs (host order of `all`, `--graph`) follow it.

use indexmap::{IndexMap, IndexSet};
use rsible_yaml::{Node, Value};

use crate::group_names::SafeGroupNames;
use crate::options::InventoryOptions;

/// Variables as Ansible stores them on a host or group: name -> value, insertion ordered.
pub type Vars = IndexMap<String, Node>;

/// Names Ansible treats as "this machine" (C.LOCALHOST).
pub const LOCALHOST_NAMES: [&str; 3] = ["127.0.0.1", "localhost", "::1"];

#[derive(Clone, Debug, Default)]
pub struct Host {
    pub name: String,
    pub vars: Vars,
    /// Groups the host was added to directly (not their ancestors).
    pub direct_groups: Vec<String>,
}

#[derive(Clone, Debug)]
pub struct Group {
    pub name: String,
    pub vars: Vars,
    /// Hosts listed directly in this group, in the order they were added.
    pub hosts: Vec<String>,
    pub children: Vec<String>,
    pub parents: Vec<String>,
    /// `ansible_group_priority`, 1 unless set.
    pub priority: i64,
}

impl Group {
    fn new(name: &str) -> Self {
        Group {
            name: name.to_string(),
            vars: Vars::new(),
            hosts: Vec::new(),
            children: Vec::new(),
            parents: Vec::new(),
            priority: 1,
        }
    }
}

#[derive(Clone, Debug)]
pub struct InventoryError(pub String);

impl std::fmt::Display for InventoryError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for InventoryError {}

#[derive(Clone, Debug)]
pub struct Inventory {
    pub hosts: IndexMap<String, Host>,
    pub groups: IndexMap<String, Group>,
    /// The sources given (as after path normalisation), in order: the vars
    /// plugins look for group_vars/host_vars next to each of them.
    pub sources: Vec<String>,
    /// Warnings in the order Ansible prints them (deduplicated, as Display does).
    pub warnings: Vec<String>,
    pub options: InventoryOptions,
    /// The source currently being parsed: recorded as `inventory_file` on new hosts.
    pub(crate) current_source: Option<String>,
    pub(crate) group_names: SafeGroupNames,
}

impl Default for Inventory {
    fn default() -> Self {
        Inventory::new(InventoryOptions::default())
    }
}

impl Inventory {
    /// An empty inventory holding only `all` and `ungrouped` (child of `all`).
    pub fn new(options: InventoryOptions) -> Self {
        let mut inv = Inventory {
            hosts: IndexMap::new(),
            groups: IndexMap::new(),
            sources: Vec::new(),
            warnings: Vec::new(),
            group_names: SafeGroupNames::new(options.force_valid_group_names),
            options,
            current_source: None,
        };
        for name in ["all", "ungrouped"] {
            inv.groups.insert(name.to_string(), Group::new(name));
        }
        let _ = inv.add_child("all", "ungrouped");
        inv
    }

    /// Record a warning once (Ansible's Display drops repeats of the same text).
    pub fn warn(&mut self, message: impl Into<String>) {
        let message = message.into();
        if !self.warnings.contains(&message) {
            self.warnings.push(message);
        }
    }

    /// Add a group if new; returns the name actually used (after group-name sanitising).
    pub fn add_group(&mut self, name: &str) -> Result<String, InventoryError> {
        if name.is_empty() {
            return Err(InventoryError(format!(
                "Invalid empty/false group name provided: {name}"
            )));
        }
        if self.groups.contains_key(name) {
            return Ok(name.to_string());
        }
        let (safe, warning) = self.group_names.sanitize(name);
        if let Some(w) = warning {
            self.warn(w);
        }
        if !self.groups.contains_key(&safe) {
            self.groups.insert(safe.clone(), Group::new(&safe));
        }
        Ok(safe)
    }

    /// Sanitise a group name as `to_safe_group_name` does (used by the INI parser on section names).
    pub fn safe_group_name(&mut self, name: &str) -> String {
        let (safe, warning) = self.group_names.sanitize(name);
        if let Some(w) = warning {
            self.warn(w);
        }
        safe
    }

    /// Add a host (first definition wins for `inventory_file`), optionally into a group.
    pub fn add_host(
        &mut self,
        name: &str,
        group: Option<&str>,
        port: Option<i64>,
    ) -> Result<(), InventoryError> {
        if name.is_empty() {
            return Err(InventoryError(
                "Invalid empty host name provided: ".to_string(),
            ));
        }
        if let Some(g) = group {
            if !self.groups.contains_key(g) {
                return Err(InventoryError(format!(
                    "Could not find group {g} in inventory"
                )));
            }
        }
        if !self.hosts.contains_key(name) {
            let mut host = Host {
                name: name.to_string(),
                ..Host::default()
            };
            if let Some(p) = port {
                host.vars
                    .insert("ansible_port".into(), Node::unplaced(Value::Int(p)));
            }
            let (file, dir) = match &self.current_source {
                Some(src) => (
                    Value::Str(src.clone()),
                    Value::Str(crate::paths::basedir(src)),
                ),
                None => (Value::Null, Value::Null),
            };
            host.vars
                .insert("inventory_file".into(), Node::unplaced(file));
            host.vars
                .insert("inventory_dir".into(), Node::unplaced(dir));
            if LOCALHOST_NAMES.contains(&name) {
                if let Some(first) = self
                    .hosts
                    .keys()
                    .find(|h| LOCALHOST_NAMES.contains(&h.as_str()))
                    .cloned()
                {
                    self.warn(format!(
                        "A duplicate localhost-like entry was found ({name}). First found localhost was {first}"
                    ));
                }
            }
            self.hosts.insert(name.to_string(), host);
        } else if let Some(p) = port {
            // Ansible ignores the port of a host it already knows (Host() is not re-created).
            let _ = p;
        }
        if let Some(g) = group {
            self.add_host_to_group(g, name);
        }
        Ok(())
    }

    fn add_host_to_group(&mut self, group: &str, host: &str) -> bool {
        let Some(g) = self.groups.get_mut(group) else {
            return false;
        };
        if g.hosts.iter().any(|h| h == host) {
            return false;
        }
        g.hosts.push(host.to_string());
        if let Some(h) = self.hosts.get_mut(host) {
            if !h.direct_groups.iter().any(|x| x == group) {
                h.direct_groups.push(group.to_string());
            }
        }
        true
    }

    fn remove_host_from_group(&mut self, group: &str, host: &str) {
        if let Some(g) = self.groups.get_mut(group) {
            g.hosts.retain(|h| h != host);
        }
        if let Some(h) = self.hosts.get_mut(host) {
            h.direct_groups.retain(|g| g != group);
        }
    }

    /// Add a host or group `child` to `group`, as InventoryData.add_child.
    pub fn add_child(&mut self, group: &str, child: &str) -> Result<bool, InventoryError> {
        if !self.groups.contains_key(group) {
            return Err(InventoryError(format!("{group} is not a known group")));
        }
        if self.groups.contains_key(child) {
            self.add_child_group(group, child)
        } else if self.hosts.contains_key(child) {
            Ok(self.add_host_to_group(group, child))
        } else {
            Err(InventoryError(format!(
                "{child} is not a known host nor group"
            )))
        }
    }

    fn add_child_group(&mut self, parent: &str, child: &str) -> Result<bool, InventoryError> {
        if parent == child {
            return Err(InventoryError("can't add group to itself".to_string()));
        }
        if self.groups[parent].children.iter().any(|c| c == child) {
            return Ok(false);
        }
        if self.ancestors(parent).contains(child) {
            return Err(InventoryError(format!(
                "Adding group '{child}' as child to '{parent}' creates a recursive dependency loop."
            )));
        }
        if let Some(p) = self.groups.get_mut(parent) {
            p.children.push(child.to_string());
        }
        if let Some(c) = self.groups.get_mut(child) {
            if !c.parents.iter().any(|p| p == parent) {
                c.parents.push(parent.to_string());
            }
        }
        Ok(true)
    }

    /// Set a variable on a group or host (group first, as Ansible looks it up).
    pub fn set_variable(
        &mut self,
        entity: &str,
        name: &str,
        value: Node,
    ) -> Result<(), InventoryError> {
        if let Some(g) = self.groups.get_mut(entity) {
            if name == "ansible_group_priority" {
                g.priority = priority_of(&value).ok_or_else(|| {
                    InventoryError(format!(
                        "invalid literal for int() with base 10: '{}'",
                        crate::pyrepr::py_str(&value)
                    ))
                })?;
            } else {
                g.vars.insert(name.to_string(), value);
            }
            Ok(())
        } else if let Some(h) = self.hosts.get_mut(entity) {
            h.vars.insert(name.to_string(), value);
            Ok(())
        } else {
            Err(InventoryError(format!(
                "Could not identify group or host named {entity}"
            )))
        }
    }

    /// All groups above `group` (not itself).
    pub fn ancestors(&self, group: &str) -> IndexSet<String> {
        let mut seen = IndexSet::new();
        let mut todo: Vec<&str> = vec![group];
        while let Some(g) = todo.pop() {
            if let Some(grp) = self.groups.get(g) {
                for p in &grp.parents {
                    if seen.insert(p.clone()) {
                        todo.push(p);
                    }
                }
            }
        }
        seen
    }

    /// Group depth as Ansible computes it: the longest chain of parents up to a root.
    pub fn depth(&self, group: &str) -> usize {
        fn walk(inv: &Inventory, g: &str, guard: usize) -> usize {
            if guard > inv.groups.len() {
                return 0;
            }
            inv.groups
                .get(g)
                .map(|grp| {
                    grp.parents
                        .iter()
                        .map(|p| walk(inv, p, guard + 1) + 1)
                        .max()
                        .unwrap_or(0)
                })
                .unwrap_or(0)
        }
        walk(self, group, 0)
    }

    /// Every group a host belongs to, directly or through a parent (what `host.get_groups()` holds).
    pub fn host_groups(&self, host: &str) -> IndexSet<String> {
        let mut out = IndexSet::new();
        if let Some(h) = self.hosts.get(host) {
            for g in &h.direct_groups {
                for a in self.ancestors(g) {
                    out.insert(a);
                }
                out.insert(g.clone());
            }
        }
        out
    }

    /// `group_names`: the host's groups except `all`, sorted.
    pub fn group_names(&self, host: &str) -> Vec<String> {
        let mut names: Vec<String> = self
            .host_groups(host)
            .into_iter()
            .filter(|g| g != "all")
            .collect();
        names.sort();
        names
    }

    /// The order in which group vars are merged for a host, lowest precedence first:
    /// `all`, then the host's other groups sorted by (depth, priority, name).
    pub fn host_group_vars_order(&self, host: &str) -> Vec<String> {
        let mut groups: Vec<(usize, i64, String)> = self
            .host_groups(host)
            .into_iter()
            .filter(|g| g != "all")
            .map(|g| {
                let priority = self.groups.get(&g).map(|x| x.priority).unwrap_or(1);
                (self.depth(&g), priority, g)
            })
            .collect();
        groups.sort();
        let mut order = vec!["all".to_string()];
        order.extend(groups.into_iter().map(|(_, _, g)| g));
        order
    }

    /// Hosts of a group and all its descendants, in the order Ansible's
    /// `Group.get_hosts()` yields them (the group, then its children breadth first).
    pub fn group_hosts(&self, group: &str) -> Vec<String> {
        let mut hosts: IndexSet<String> = IndexSet::new();
        for g in self.descendants_ordered(group) {
            if let Some(grp) = self.groups.get(&g) {
                for h in &grp.hosts {
                    hosts.insert(h.clone());
                }
            }
        }
        hosts.into_iter().collect()
    }

    /// The group then its descendants level by level, each level in group creation order
    /// (Python walks a set of groups there; creation order is what it yields in practice).
    fn descendants_ordered(&self, group: &str) -> Vec<String> {
        let Some(start) = self.groups.get(group) else {
            return Vec::new();
        };
        let mut ordered = vec![group.to_string()];
        ordered.extend(start.children.iter().cloned());
        let mut seen: IndexSet<String> = start.children.iter().cloned().collect();
        let mut level: Vec<String> = start.children.clone();
        while !level.is_empty() {
            level.sort_by_key(|g| self.groups.get_index_of(g));
            level.dedup();
            let mut next = Vec::new();
            for g in &level {
                if let Some(grp) = self.groups.get(g) {
                    for c in &grp.children {
                        if !seen.contains(c) {
                            ordered.push(c.clone());
                            next.push(c.clone());
                        }
                    }
                }
            }
            for g in &next {
                seen.insert(g.clone());
            }
            level = next;
        }
        let mut unique = IndexSet::new();
        for g in ordered {
            unique.insert(g);
        }
        unique.into_iter().collect()
    }

    /// Apply Ansible's post-parse rules (InventoryData.reconcile_inventory): groups
    /// without a parent go under `all`, hosts with no group go to `ungrouped`, and a
    /// host that is in `ungrouped` and in another group leaves `ungrouped`.
    pub fn reconcile(&mut self) {
        self.current_source = None;
        let orphans: Vec<String> = self
            .groups
            .values()
            .filter(|g| g.name != "all" && g.parents.is_empty())
            .map(|g| g.name.clone())
            .collect();
        for g in orphans {
            let _ = self.add_child_group("all", &g);
        }
        let names: Vec<String> = self.hosts.keys().cloned().collect();
        for host in names {
            let groups = self.host_groups(&host);
            if groups.contains("ungrouped") {
                if groups.iter().any(|g| g != "all" && g != "ungrouped") {
                    self.remove_host_from_group("ungrouped", &host);
                }
            } else if groups.is_empty() || (groups.len() == 1 && groups.contains("all")) {
                self.add_host_to_group("ungrouped", &host);
            }
        }
        let clashes: Vec<String> = self
            .groups
            .keys()
            .filter(|g| self.hosts.contains_key(*g))
            .cloned()
            .collect();
        for c in clashes {
            self.warn(format!("Found both group and host with same name: {c}"));
        }
    }

    /// Whether `name` would resolve to Ansible's implicit localhost (not in inventory).
    pub fn is_implicit_localhost(&self, name: &str) -> bool {
        !self.hosts.contains_key(name) && LOCALHOST_NAMES.contains(&name)
    }

    /// The variables Ansible gives the implicit localhost (on top of `all`'s vars).
    pub fn implicit_localhost_vars(&self) -> Vars {
        let mut vars = self
            .groups
            .get("all")
            .map(|g| g.vars.clone())
            .unwrap_or_default();
        vars.insert(
            "ansible_python_interpreter".into(),
            Node::unplaced(Value::Str(self.options.localhost_python.clone())),
        );
        vars.insert(
            "ansible_connection".into(),
            Node::unplaced(Value::Str("local".into())),
        );
        vars
    }
}

/// `int(value)` as Group.set_priority does it.
fn priority_of(value: &Node) -> Option<i64> {
    match &value.value {
        Value::Int(i) => Some(*i),
        Value::Bool(b) => Some(*b as i64),
        Value::Float(f) if f.is_finite() => Some(f.trunc() as i64),
        Value::Str(s) | Value::Unsafe(s) => s.trim().parse().ok(),
        _ => None,
    }
}
