//! Controller-side actions that change the run's state rather than a target:
//! include_vars (host variables), add_host and group_by (the inventory),
//! pause (time), set_stats. Each runs where Ansible's action plugin runs.

use std::io::IsTerminal;
use std::path::Path;
use std::sync::Arc;

use indexmap::IndexMap;
use rsible_playbook::Task;
use rsible_templar::{to_json, Value};
use rsible_yaml::Node;
use serde_json::{json, Map, Value as Json};

use super::{obj, Executor, PlayCtx};
use crate::actions::include_vars::{include_vars, IncludeVarsPaths};
use crate::frame::Frame;
use crate::output::default_callback::Sink;

/// Actions whose plugin sets BYPASS_HOST_LOOP: the linear strategy runs them
/// once, for the first host of the batch.
pub(super) fn bypasses_host_loop(task: &Task) -> bool {
    let action = super::short_action(task.resolved_action.as_deref().unwrap_or(&task.action));
    matches!(action.as_str(), "add_host" | "pause")
}

impl<'a, S: Sink> Executor<'a, S> {
    /// Runs `action` when it is one of this file's; `None` for any other.
    pub(super) fn controller_action(
        &mut self,
        ctx: &PlayCtx,
        task: &Task,
        frame: &Frame,
        host: &str,
        action: &str,
        args: &IndexMap<String, Value>,
    ) -> Option<Map<String, Json>> {
        Some(match action {
            "include_vars" => self.include_vars_action(ctx, task, frame, host, args),
            "add_host" => self.add_host_action(args),
            "group_by" => self.group_by_action(host, args),
            "pause" => self.pause_action(task, args),
            "set_stats" => set_stats_action(args),
            _ => return None,
        })
    }

    fn include_vars_action(
        &mut self,
        ctx: &PlayCtx,
        task: &Task,
        frame: &Frame,
        host: &str,
        args: &IndexMap<String, Value>,
    ) -> Map<String, Json> {
        let task_dir = task
            .mark
            .source
            .as_deref()
            .and_then(|s| Path::new(s).parent())
            .map(Path::to_path_buf)
            .unwrap_or_else(|| ctx.play.basedir.clone());
        let role_path = frame.role.as_ref().map(|r| r.path.clone());
        let outcome = include_vars(
            args,
            &IncludeVarsPaths {
                role_path: role_path.as_deref(),
                task_dir: &task_dir,
                basedir: &ctx.play.basedir,
            },
        );
        if !outcome.vars.is_empty() {
            let st = self.state(host);
            let level = Arc::make_mut(&mut st.include_vars);
            for (k, v) in outcome.vars {
                level.insert(k, v);
            }
        }
        outcome.result
    }

    /// `add_host`: adds (or updates) a host in the in-memory inventory, in
    /// `all` and the given groups; `changed` when the inventory changed.
    fn add_host_action(&mut self, args: &IndexMap<String, Value>) -> Map<String, Json> {
        let fail = |msg: &str| obj(json!({"failed": true, "msg": msg}));
        let mut args = args.clone();
        if let Some(raw) = args.shift_remove("_raw_params") {
            if !raw.is_none() {
                return fail(&format!(
                    "Invalid raw parameters passed, requires a dictionary/mapping got a  {}",
                    python_type_name(&raw)
                ));
            }
        }
        let Some(new_name) = ["name", "hostname", "host"]
            .iter()
            .find_map(|k| args.get(*k))
            .map(value_text)
        else {
            return fail("name, host or hostname needs to be provided");
        };
        let (name, port) = match rsible_inventory::parse_address(&new_name, false) {
            Ok((name, port)) => (name, port),
            Err(_) => (new_name.clone(), None),
        };
        if let Some(port) = port {
            args.insert("ansible_ssh_port".into(), Value::from(port));
        }
        let groups_value = ["groupname", "groups", "group"]
            .iter()
            .find_map(|k| args.get(*k))
            .cloned();
        let mut groups: Vec<String> = Vec::new();
        if let Some(g) = groups_value.filter(Value::is_true) {
            let names: Vec<String> = match g.as_str() {
                Some(s) => s.split(',').map(str::to_string).collect(),
                None => match g.try_iter() {
                    Ok(it) => it.map(|v| value_text(&v)).collect(),
                    Err(_) => return fail("Groups must be specified as a list."),
                },
            };
            for n in names {
                let n = n.trim().to_string();
                if !groups.contains(&n) {
                    groups.push(n);
                }
            }
        }
        let mut host_vars: IndexMap<String, Value> = IndexMap::new();
        for (k, v) in &args {
            if !["name", "hostname", "groupname", "groups"].contains(&k.as_str()) {
                host_vars.insert(k.clone(), v.clone());
            }
        }
        let mut changed = false;
        if !self.inventory.hosts.contains_key(&name) {
            if let Err(e) = self.inventory.add_host(&name, Some("all"), None) {
                return fail(&e.0);
            }
            changed = true;
        }
        for (k, v) in &host_vars {
            let node = value_to_node(v);
            let same = self
                .inventory
                .hosts
                .get(&name)
                .and_then(|h| h.vars.get(k))
                .is_some_and(|old| old.value == node.value);
            if !same {
                let _ = self.inventory.set_variable(&name, k, node);
                changed = true;
            }
        }
        for g in &groups {
            let group = if self.inventory.groups.contains_key(g) {
                g.clone()
            } else {
                changed = true;
                match self.inventory.add_group(g) {
                    Ok(actual) => actual,
                    Err(e) => return fail(&e.0),
                }
            };
            if let Ok(true) = self.inventory.add_child(&group, &name) {
                changed = true;
            }
        }
        if changed {
            self.inventory.reconcile();
            self.inventory_changed();
        }
        self.record_inventory_op(super::refresh_inventory::InventoryOp::AddHost {
            name: name.clone(),
            groups: groups.clone(),
            vars: host_vars
                .iter()
                .map(|(k, v)| (k.clone(), value_to_node(v)))
                .collect(),
        });
        let mut shown_vars = Map::new();
        for (k, v) in &host_vars {
            shown_vars.insert(k.clone(), to_json(v));
        }
        obj(json!({
            "changed": changed,
            "add_host": {"host_name": name, "groups": groups, "host_vars": shown_vars},
        }))
    }

    /// `group_by`: puts the host in the group named by `key` (created when
    /// new, under `parents`, `all` by default).
    fn group_by_action(&mut self, host: &str, args: &IndexMap<String, Value>) -> Map<String, Json> {
        for k in args.keys() {
            if !["key", "parents"].contains(&k.as_str()) {
                return obj(json!({
                    "failed": true,
                    "msg": format!("Invalid options for group_by: {k}"),
                }));
            }
        }
        let Some(key) = args.get("key") else {
            return obj(json!({
                "failed": true,
                "msg": "the 'key' param is required when using group_by",
            }));
        };
        let group_name = value_text(key).replace(' ', "-");
        let parents: Vec<String> = match args.get("parents") {
            None => vec!["all".into()],
            Some(p) => match p.as_str() {
                Some(s) => vec![s.to_string()],
                None => p
                    .try_iter()
                    .map(|it| it.map(|v| value_text(&v)).collect())
                    .unwrap_or_default(),
            },
        }
        .into_iter()
        .map(|p| p.replace(' ', "-"))
        .collect();
        let mut changed = false;
        let group = match self.inventory.add_group(&group_name) {
            Ok(g) => g,
            Err(e) => return obj(json!({"failed": true, "msg": e.0})),
        };
        for parent in &parents {
            let parent = if self.inventory.groups.contains_key(parent) {
                parent.clone()
            } else {
                changed = true;
                match self.inventory.add_group(parent) {
                    Ok(p) => p,
                    Err(e) => return obj(json!({"failed": true, "msg": e.0})),
                }
            };
            if let Ok(true) = self.inventory.add_child(&parent, &group) {
                changed = true;
            }
        }
        // A host already in the group through a child group is not added
        // (Ansible checks `group.get_hosts()`, which includes descendants).
        let already_member = self.inventory.group_hosts(&group).iter().any(|h| h == host);
        if self.inventory.hosts.contains_key(host) && !already_member {
            if let Ok(true) = self.inventory.add_child(&group, host) {
                changed = true;
            }
        }
        if changed {
            self.inventory.reconcile();
            self.inventory_changed();
        }
        self.record_inventory_op(super::refresh_inventory::InventoryOp::GroupBy {
            host: host.to_string(),
            group: group.clone(),
            parents: parents.clone(),
        });
        obj(json!({
            "changed": changed,
            "add_group": group_name,
            "parent_groups": parents,
        }))
    }

    /// `pause`: waits `seconds`/`minutes`; a prompt reads a line when stdin
    /// is a terminal. Without one, a timed pause just sleeps and an untimed
    /// one does not wait (Ansible warns and carries on).
    fn pause_action(&mut self, task: &Task, args: &IndexMap<String, Value>) -> Map<String, Json> {
        let fail = |msg: String| obj(json!({"failed": true, "msg": msg}));
        for k in args.keys() {
            if !["echo", "minutes", "seconds", "prompt"].contains(&k.as_str()) {
                return fail(format!(
                    "Unsupported parameters for (pause) module: {k}. Supported parameters include: echo, minutes, prompt, seconds."
                ));
            }
        }
        if args.contains_key("minutes") && args.contains_key("seconds") {
            return fail("parameters are mutually exclusive: minutes|seconds".into());
        }
        let number = |k: &str| -> Result<Option<i64>, String> {
            match args.get(k) {
                None => Ok(None),
                Some(v) if v.is_none() => Ok(None),
                Some(v) => {
                    if let Ok(n) = i64::try_from(v.clone()) {
                        return Ok(Some(n));
                    }
                    if let Ok(f) = f64::try_from(v.clone()) {
                        return Ok(Some(f as i64));
                    }
                    let text = value_text(v);
                    text.trim().parse::<i64>().map(Some).map_err(|_| {
                        format!("argument '{k}' is of type <class 'str'> and we were unable to convert to int: invalid literal for int() with base 10: '{text}'")
                    })
                }
            }
        };
        let (seconds, unit) = match (number("minutes"), number("seconds")) {
            (Err(e), _) | (_, Err(e)) => return fail(e),
            (Ok(Some(m)), _) => (Some(m * 60), "minutes"),
            (_, Ok(Some(s))) => (Some(s), "seconds"),
            _ => (None, "minutes"),
        };
        let echo = args.get("echo").map(Value::is_true).unwrap_or(true);
        let prompt = args.get("prompt").filter(|v| !v.is_none()).map(value_text);
        let hidden = if echo { "" } else { " (output is hidden)" };
        let start_wall = now_text();
        let start = std::time::Instant::now();
        let mut user_input = String::new();
        match seconds {
            Some(s) => {
                let s = s.max(1);
                self.display(&format!("Pausing for {s} seconds{hidden}"));
                if prompt.is_some() {
                    self.display("(ctrl+C then 'C' = continue early, ctrl+C then 'A' = abort)\r");
                }
                std::thread::sleep(std::time::Duration::from_secs(s as u64));
            }
            None => {
                if std::io::stdin().is_terminal() {
                    let text = prompt
                        .clone()
                        .unwrap_or_else(|| "Press enter to continue, Ctrl+C to interrupt".into());
                    self.display(&format!(
                        "[{}]\n{text}{hidden}:",
                        task.display_name().trim()
                    ));
                    let mut line = String::new();
                    let _ = std::io::stdin().read_line(&mut line);
                    user_input = line.trim_end_matches(['\n', '\r']).to_string();
                } else {
                    let line = crate::output::display::warning(
                        "Not waiting for response to prompt as stdin is not interactive",
                        crate::output::display::DEFAULT_COLUMNS,
                    );
                    self.callback.sink.err(&line);
                }
            }
        }
        let elapsed = start.elapsed().as_secs_f64();
        let shown = if unit == "minutes" {
            (elapsed / 60.0 * 100.0).round() / 100.0
        } else {
            (elapsed * 100.0).round() / 100.0
        };
        obj(json!({
            "changed": false,
            "rc": 0,
            "stderr": "",
            "stdout": format!("Paused for {shown} {unit}"),
            "start": start_wall,
            "stop": now_text(),
            "delta": elapsed as i64,
            "echo": echo,
            "user_input": user_input,
        }))
    }

    /// The inventory changed (add_host, group_by): every cached view of it is stale.
    pub(super) fn inventory_changed(&mut self) {
        self.inventory_layers = Default::default();
        self.hostvars_cache.invalidate();
        self.groups_now = Some(self.groups_value());
    }
}

/// `set_stats`: custom stats are only shown by callbacks rsible does not
/// have; the result is what Ansible returns.
fn set_stats_action(args: &IndexMap<String, Value>) -> Map<String, Json> {
    let data = args
        .get("data")
        .map(to_json)
        .unwrap_or_else(|| Json::Object(Map::new()));
    if !data.is_object() {
        return obj(
            json!({"failed": true, "msg": "The 'data' option needs to be a dictionary/hash"}),
        );
    }
    let per_host = args.get("per_host").is_some_and(Value::is_true);
    let aggregate = args.get("aggregate").map(Value::is_true).unwrap_or(true);
    obj(json!({
        "changed": false,
        "ansible_stats": {"data": data, "per_host": per_host, "aggregate": aggregate},
    }))
}

fn value_text(v: &Value) -> String {
    v.as_str()
        .map(str::to_string)
        .unwrap_or_else(|| v.to_string())
}

fn python_type_name(v: &Value) -> &'static str {
    match v.kind() {
        minijinja::value::ValueKind::String => "<class 'str'>",
        minijinja::value::ValueKind::Seq => "<class 'list'>",
        minijinja::value::ValueKind::Number => "<class 'int'>",
        minijinja::value::ValueKind::Bool => "<class 'bool'>",
        _ => "<class 'object'>",
    }
}

/// A template value as an inventory variable node (added hosts keep their
/// variables in the inventory, as Ansible's add_host does).
fn value_to_node(v: &Value) -> Node {
    json_to_node(&to_json(v))
}

pub(super) fn json_to_node(j: &Json) -> Node {
    use rsible_yaml::Value as Y;
    let value = match j {
        Json::Null => Y::Null,
        Json::Bool(b) => Y::Bool(*b),
        Json::Number(n) => match n.as_i64() {
            Some(i) => Y::Int(i),
            None => Y::Float(n.as_f64().unwrap_or(0.0)),
        },
        Json::String(s) => Y::Str(s.clone()),
        Json::Array(items) => Y::Seq(items.iter().map(json_to_node).collect()),
        Json::Object(m) => {
            let mut map = rsible_yaml::Mapping::new();
            for (k, v) in m {
                map.insert(Node::unplaced(Y::Str(k.clone())), json_to_node(v));
            }
            Y::Map(map)
        }
    };
    Node::unplaced(value)
}

/// `str(datetime.now())`: local time, as pause's `start`/`stop` show it.
pub(super) fn now_text() -> String {
    rsible_modules::util::pytime::format_datetime(std::time::SystemTime::now())
}
