//! `module_defaults` (play, role, block, task): the arguments an action gets
//! when the task does not give them, as Ansible's
//! `get_action_args_with_defaults`: the enclosing levels' dictionaries merged
//! outermost first (a later entry for the same action replaces the earlier
//! one), keys resolved to fully qualified action names, values templated,
//! then `group/<name>` defaults, then the action's own, then the task's
//! arguments over both; omitted values are dropped.

use indexmap::IndexMap;
use rsible_playbook::action_groups::{qualify_group, ActionGroups};
use rsible_playbook::Task;
use rsible_templar::{from_yaml, to_json, Value};
use rsible_yaml::Node;
use serde_json::{Map, Value as Json};

use super::{Executor, OMIT};
use crate::frame::Frame;
use crate::output::default_callback::Sink;
use crate::vars::VarLayers;

const NOT_A_DICT: &str = "The field 'module_defaults' is supposed to be a dictionary or list of dictionaries, the keys of which must be static action, module, or group names. Only the values may contain templates. For example: {'ping': \"{{ ping_defaults }}\"}";

/// The action groups read during the run (see `rsible_playbook::action_groups`).
#[derive(Default)]
pub(super) struct ModuleDefaultsState {
    groups: ActionGroups,
}

impl<S: Sink> Executor<'_, S> {
    /// The task's templated arguments with the defaults for `fqcn` under them.
    pub(super) fn with_module_defaults(
        &mut self,
        task: &Task,
        frame: &Frame,
        scope: &VarLayers,
        fqcn: &str,
        args: IndexMap<String, Value>,
    ) -> Result<IndexMap<String, Value>, String> {
        let entries: Vec<&Node> = frame
            .keywords
            .iter()
            .filter_map(|k| k.get("module_defaults"))
            .chain(task.keywords.get("module_defaults"))
            .collect();
        if entries.is_empty() {
            return Ok(args);
        }
        let merged = self.merged_defaults(&entries)?;
        if merged.is_empty() {
            return Ok(args);
        }
        // Every value is templated, as Ansible templates the merged dictionary.
        let mut templated: IndexMap<String, Value> = IndexMap::new();
        for (key, node) in merged {
            let value = self
                .templar
                .template(&from_yaml(&node), scope)
                .map_err(|e| e.to_string())?;
            templated.insert(key, value);
        }
        let mut out: IndexMap<String, Value> = IndexMap::new();
        let mut add = |value: &Value| {
            if let Ok(keys) = value.try_iter() {
                for key in keys {
                    if let (Some(name), Ok(v)) = (key.as_str(), value.get_item(&key)) {
                        out.insert(name.to_string(), v);
                    }
                }
            }
        };
        for (key, value) in &templated {
            let Some(group) = key.strip_prefix("group/") else {
                continue;
            };
            if self.group_actions(group)?.iter().any(|a| a == fqcn) && is_map(value) {
                add(value);
            }
        }
        if let Some(value) = templated.get(fqcn).filter(|v| is_map(v)) {
            add(value);
        }
        for (k, v) in args {
            out.insert(k, v);
        }
        out.retain(|_, v| v.as_str() != Some(OMIT));
        Ok(out)
    }

    /// The same for arguments already in JSON (`package`/`service` backends,
    /// fact gathering).
    pub(super) fn with_module_defaults_json(
        &mut self,
        task: &Task,
        frame: &Frame,
        scope: &VarLayers,
        fqcn: &str,
        args: Map<String, Json>,
    ) -> Result<Map<String, Json>, String> {
        let values: IndexMap<String, Value> = args
            .iter()
            .map(|(k, v)| (k.clone(), crate::scope::json_to_value(v)))
            .collect();
        let merged = self.with_module_defaults(task, frame, scope, fqcn, values)?;
        Ok(merged
            .iter()
            .map(|(k, v)| (k.clone(), to_json(v)))
            .collect())
    }

    /// The dictionaries of every level merged, keys made fully qualified.
    fn merged_defaults(&self, entries: &[&Node]) -> Result<IndexMap<String, Node>, String> {
        let mut merged: IndexMap<String, Node> = IndexMap::new();
        for node in entries {
            let dicts: Vec<&Node> = match &node.value {
                rsible_yaml::Value::Null => continue,
                rsible_yaml::Value::Seq(items) => items.iter().collect(),
                _ => vec![*node],
            };
            for dict in dicts {
                let Some(map) = dict.as_map() else {
                    return Err(NOT_A_DICT.into());
                };
                for (key, value) in map.iter() {
                    let Some(key) = key.as_str() else {
                        return Err(NOT_A_DICT.into());
                    };
                    for name in self.defaults_keys(key)? {
                        merged.insert(name, value.clone());
                    }
                }
            }
        }
        Ok(merged)
    }

    /// What a `module_defaults` key stands for: `group/<fq group>`, or the
    /// action it resolves to (a short or `ansible.legacy` name also gives its
    /// `ansible.builtin` twin, when there is one).
    fn defaults_keys(&self, key: &str) -> Result<Vec<String>, String> {
        if let Some(group) = key.strip_prefix("group/") {
            return Ok(vec![format!("group/{}", qualify_group(group))]);
        }
        let qualified = if key.split('.').count() < 3 {
            format!("ansible.legacy.{key}")
        } else {
            key.to_string()
        };
        let Some(registry) = self.loader.map(|l| l.modules) else {
            // No module search path: only ansible.builtin names are known.
            let short = qualified.rsplit('.').next().unwrap_or(&qualified);
            return Ok(vec![format!("ansible.builtin.{short}")]);
        };
        let mut out = Vec::new();
        match registry.resolve(&qualified) {
            Some(resolved) => out.push(resolved),
            None => {
                return Err(format!(
                    "Could not resolve action {qualified} in module_defaults"
                ))
            }
        }
        if let Some(short) = qualified.strip_prefix("ansible.legacy.") {
            if let Some(builtin) = registry.resolve(&format!("ansible.builtin.{short}")) {
                if !out.contains(&builtin) {
                    out.push(builtin);
                }
            }
        }
        Ok(out)
    }

    fn group_actions(&mut self, fq_group: &str) -> Result<Vec<String>, String> {
        let Some(registry) = self.loader.map(|l| l.modules) else {
            return Err(format!(
                "Error loading module_defaults: could not resolve the module_defaults group {fq_group}"
            ));
        };
        self.module_defaults.groups.actions(registry, fq_group)
    }
}

fn is_map(v: &Value) -> bool {
    matches!(v.kind(), minijinja::value::ValueKind::Map)
}
