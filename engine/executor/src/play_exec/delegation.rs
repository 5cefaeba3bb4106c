//! `delegate_to` and the connection keywords: which host a task's action
//! reaches and with which settings. As Ansible's TaskExecutor does, the
//! delegate is templated per execution (per loop item), and its connection
//! settings come from the delegate's own variables (inventory, host_vars,
//! facts, ...) seen through the task (play, role, block and task vars), not
//! from the delegating host's.

use indexmap::IndexMap;
use rsible_playbook::Task;
use rsible_templar::{from_yaml, Value, VarSource};
use serde_json::{Map, Value as Json};

use super::{Executor, PlayCtx, OMIT};
use crate::frame::Frame;
use crate::output::default_callback::Sink;
use crate::target::TargetSpec;
use crate::vars::{precedence as level, VarLayers};

/// What one execution of a task needs to resolve its connection: the
/// delegate's variables and the connection keywords in force.
#[derive(Clone, Default)]
pub(super) struct ConnContext {
    /// `(delegate name, its variables)` when the task is delegated.
    delegate: Option<(String, VarLayers)>,
    /// The `connection`, `remote_user` and `port` keywords (task, block,
    /// role or play), templated; variables override them.
    connection_kw: Option<String>,
    remote_user_kw: Option<String>,
    port_kw: Option<String>,
}

impl ConnContext {
    /// For a module an action plugin runs on the controller (synchronize):
    /// as delegated to `localhost` with `vars`, the task's connection
    /// keywords left out, since the plugin opens a local connection of its own.
    pub(super) fn on_controller(vars: VarLayers) -> Self {
        ConnContext {
            delegate: Some(("localhost".to_string(), vars)),
            ..ConnContext::default()
        }
    }
}

/// Inventory levels a host gets from its groups: a delegate that is not in
/// the inventory belongs to no group, so it has none of them.
const GROUP_LEVELS: &[&str] = &[
    level::INVENTORY_ALL,
    level::INVENTORY_GROUPS,
    level::INVENTORY_GROUP_VARS_ALL,
    level::PLAYBOOK_GROUP_VARS_ALL,
    level::INVENTORY_GROUP_VARS,
    level::PLAYBOOK_GROUP_VARS,
    level::INVENTORY_HOST,
];

impl<'a, S: Sink> Executor<'a, S> {
    /// The delegate as the callback names it: templated when it can be,
    /// else as written (Ansible templates it with `fail_on_undefined=False`
    /// first and fails the task later).
    pub(super) fn delegate_label(
        &self,
        task: &Task,
        frame: &Frame,
        scope: &VarLayers,
    ) -> Option<String> {
        match self.resolve_delegate(task, frame, scope) {
            Ok(d) => d,
            Err(_) => task
                .delegate_to
                .as_ref()
                .or_else(|| frame.keyword(task, "delegate_to"))
                .map(|n| {
                    let raw = from_yaml(n);
                    raw.as_str()
                        .map(str::to_string)
                        .unwrap_or_else(|| raw.to_string())
                }),
        }
    }

    /// The task's `delegate_to` templated in `scope` (one loop item's, when
    /// looping); `omit` means no delegation. An undefined variable or an
    /// empty name fails the task, with Ansible's messages.
    pub(super) fn resolve_delegate(
        &self,
        task: &Task,
        frame: &Frame,
        scope: &VarLayers,
    ) -> Result<Option<String>, String> {
        // `delegate_to` is parsed with the action (local_action sets it too).
        let Some(node) = task
            .delegate_to
            .as_ref()
            .or_else(|| frame.keyword(task, "delegate_to"))
        else {
            return Ok(None);
        };
        let raw = from_yaml(node);
        let value = self
            .templar
            .template(&raw, scope)
            .map_err(|e| e.to_string())?;
        if value.is_none() || value.is_undefined() {
            return Ok(None);
        }
        let name = value
            .as_str()
            .map(str::to_string)
            .unwrap_or_else(|| value.to_string());
        if name == OMIT {
            return Ok(None);
        }
        if name.is_empty() {
            let written = raw
                .as_str()
                .map(str::to_string)
                .unwrap_or_else(|| raw.to_string());
            return Err(format!(
                "Empty hostname produced from delegate_to: \"{written}\""
            ));
        }
        Ok(Some(name))
    }

    /// Prepares the connection settings of one execution: called before the
    /// action runs, read by `connection_target` for every module call it makes.
    pub(super) fn prepare_connection(
        &mut self,
        ctx: &PlayCtx,
        task: &Task,
        frame: &Frame,
        host: &str,
        scope: &VarLayers,
        delegate: Option<&str>,
    ) {
        let keyword = |name: &str| -> Option<String> {
            let node = frame.keyword(task, name)?;
            self.template_node_str(node, scope)
                .ok()
                .filter(|s| !s.is_empty())
        };
        let mut conn = ConnContext {
            delegate: None,
            connection_kw: keyword("connection"),
            remote_user_kw: keyword("remote_user"),
            port_kw: keyword("port"),
        };
        if let Some(d) = delegate {
            conn.delegate = Some((d.to_string(), self.delegate_vars(ctx, task, frame, host, d)));
        }
        self.conn_ctx = conn;
    }

    /// Everything Ansible's `get_vars(host=delegate, task=task)` gives the
    /// delegate, with `inventory_hostname` still the delegating host's.
    fn delegate_vars(
        &mut self,
        ctx: &PlayCtx,
        task: &Task,
        frame: &Frame,
        host: &str,
        delegate: &str,
    ) -> VarLayers {
        let known = self.inventory.hosts.contains_key(delegate)
            || self.inventory.is_implicit_localhost(delegate);
        let mut vars = self.scope_for(ctx, delegate, frame, Some(task));
        if !known {
            vars.retain_levels(|name| !GROUP_LEVELS.contains(&name));
        }
        let mut own: IndexMap<String, Value> = IndexMap::new();
        own.insert("inventory_hostname".into(), Value::from(host));
        vars.push_map("delegating host", own);
        vars
    }

    /// The connection settings of a module call on `host` (or its delegate):
    /// variables first (`ansible_connection`, `ansible_host`, ...), then the
    /// connection keywords, then the defaults.
    pub(super) fn connection_target(
        &self,
        host: &str,
        scope: &VarLayers,
        delegate: Option<&str>,
    ) -> TargetSpec {
        let conn = &self.conn_ctx;
        let cvars = match (&conn.delegate, delegate) {
            (Some((name, vars)), Some(d)) if name == d => vars,
            _ => scope,
        };
        let get = |name: &str| -> Option<String> { self.connection_var(cvars, name) };
        let name = delegate.unwrap_or(host).to_string();
        let connection = get("ansible_connection")
            .or_else(|| conn.connection_kw.clone())
            .or_else(|| self.options.connection.clone())
            .map(|c| match c.as_str() {
                "smart" | "ansible.builtin.ssh" => "ssh".to_string(),
                "ansible.builtin.local" => "local".to_string(),
                _ => c,
            })
            .unwrap_or_else(|| "ssh".into());
        TargetSpec {
            connection,
            address: get("ansible_host")
                .or_else(|| get("ansible_ssh_host"))
                .unwrap_or_else(|| name.clone()),
            host: name,
            port: get("ansible_port")
                .or_else(|| get("ansible_ssh_port"))
                .or_else(|| conn.port_kw.clone())
                .and_then(|p| p.trim().parse().ok()),
            user: get("ansible_user")
                .or_else(|| get("ansible_ssh_user"))
                .or_else(|| conn.remote_user_kw.clone()),
            private_key_file: get("ansible_ssh_private_key_file")
                .or_else(|| get("ansible_private_key_file")),
            ssh_common_args: get("ansible_ssh_common_args"),
            ssh_extra_args: get("ansible_ssh_extra_args"),
            become_user: self.current_become.as_ref().map(|(_, user)| user.clone()),
            become_method: self
                .current_become
                .as_ref()
                .map(|(method, _)| method.clone()),
            become_password: self
                .current_become
                .as_ref()
                .and_then(|(method, _)| super::become_secrets::password(method, &get)),
            become_flags: self.current_become.as_ref().and_then(|(method, _)| {
                self.current_become_flags
                    .clone()
                    .or_else(|| super::become_secrets::flags(method, &get))
            }),
            timeout: get("ansible_ssh_timeout").and_then(|t| t.trim().parse().ok()),
            retries: get("ansible_ssh_retries").and_then(|r| r.trim().parse().ok()),
            python_interpreter: get("ansible_python_interpreter")
                .filter(|p| !rsible_pymodule::interpreter::is_discovery_mode(p)),
        }
    }

    /// A connection variable templated in the scope it comes from; unset,
    /// null or failing to template counts as not set.
    fn connection_var(&self, vars: &VarLayers, name: &str) -> Option<String> {
        let raw = vars.get(name)?;
        let v = self.templar.template(&raw, vars).ok()?;
        if v.is_none() || v.is_undefined() {
            return None;
        }
        Some(
            v.as_str()
                .map(str::to_string)
                .unwrap_or_else(|| v.to_string()),
        )
    }

    /// `_ansible_delegated_vars` of a delegated result: the delegate and the
    /// connection variables it defines (the callback shows `ansible_host`).
    pub(super) fn delegated_vars_entry(&self, delegate: &str) -> Json {
        let mut out = Map::new();
        out.insert(
            "ansible_delegated_host".into(),
            Json::String(delegate.to_string()),
        );
        if let Some((name, vars)) = &self.conn_ctx.delegate {
            if name == delegate {
                for key in [
                    "ansible_host",
                    "ansible_port",
                    "ansible_user",
                    "ansible_connection",
                ] {
                    // As Ansible's: the address defaults to the delegate's
                    // name, an unset port or user is null.
                    let value = match self.connection_var(vars, key) {
                        Some(v) => Json::String(v),
                        None if key == "ansible_host" => Json::String(delegate.to_string()),
                        None if key == "ansible_connection" => continue,
                        None => Json::Null,
                    };
                    out.insert(key.into(), value);
                }
            }
        }
        Json::Object(out)
    }
}

impl<'a, S: Sink> Executor<'a, S> {
    /// Whose variables a `set_fact` sets: the delegate's with
    /// `delegate_facts: true`, else the host's.
    pub(super) fn set_fact_owner(
        &self,
        task: &Task,
        frame: &Frame,
        host: &str,
        delegate: Option<&str>,
    ) -> String {
        let delegate_facts = frame
            .keyword(task, "delegate_facts")
            .map(|n| self.node_truthy(n))
            .unwrap_or(false);
        match delegate {
            Some(d) if delegate_facts => d.to_string(),
            _ => host.to_string(),
        }
    }

    /// Under `run_once`, Ansible applies a `set_fact` (not delegated with
    /// `delegate_facts`) to every host of the batch, as it does the
    /// registered result.
    pub(super) fn spread_run_once_facts(
        &mut self,
        task: &Task,
        frame: &Frame,
        host: &str,
        delegate: Option<&str>,
        result: &Map<String, Json>,
        applies_to: &[String],
    ) {
        let action = super::short_action(task.resolved_action.as_deref().unwrap_or(&task.action));
        if action != "set_fact" || applies_to.len() < 2 {
            return;
        }
        if self.set_fact_owner(task, frame, host, delegate) != host {
            return;
        }
        let Some(Json::Object(facts)) = result.get("ansible_facts") else {
            return;
        };
        let values: Vec<(String, Value)> = facts
            .iter()
            .map(|(k, v)| (k.clone(), crate::scope::json_to_value(v)))
            .collect();
        for h in applies_to.iter().filter(|h| h.as_str() != host) {
            let st = self.state(h);
            let own = std::sync::Arc::make_mut(&mut st.set_facts);
            for (k, v) in &values {
                own.insert(k.clone(), v.clone());
            }
        }
    }
}
