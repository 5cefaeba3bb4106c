//! The ok result of an `include_tasks`/`include_role` for one host, as
//! Ansible's callbacks receive it (the json callback shows it): `include`
//! (the file as templated, include_tasks only) and `include_args` (the
//! other arguments); a loop gives one such entry per item under `results`.

use rsible_playbook::{Task, TaskKind};
use serde_json::{Map, Value as Json};

use super::Executor;
use crate::output::default_callback::Sink;
use crate::vars::VarLayers;
use rsible_templar::{from_yaml, to_json};

impl<S: Sink> Executor<'_, S> {
    /// `{"include": ..., "include_args": {...}}` for `task` in `scope`.
    pub(super) fn include_entry(&self, task: &Task, scope: &VarLayers) -> Map<String, Json> {
        let mut entry = Map::new();
        let is_tasks = task.kind == TaskKind::IncludeTasks;
        let mut args = Map::new();
        for (key, node) in &task.args {
            let value = self
                .templar
                .template(&from_yaml(node), scope)
                .map(|v| to_json(&v))
                .unwrap_or_else(|_| to_json(&from_yaml(node)));
            if is_tasks && (key == "_raw_params" || key == "file") {
                entry.insert("include".into(), value);
            } else {
                args.insert(key.clone(), value);
            }
        }
        entry.insert("include_args".into(), Json::Object(args));
        entry
    }
}

/// The host's result: its entry, or the loop's summary of its items.
pub(super) fn include_result(
    entry: Option<Map<String, Json>>,
    items: Vec<Map<String, Json>>,
) -> Map<String, Json> {
    let mut result = Map::new();
    result.insert("changed".into(), Json::Bool(false));
    match entry {
        Some(entry) => result.extend(entry),
        None => {
            result.insert("msg".into(), Json::String("All items completed".into()));
            result.insert(
                "results".into(),
                Json::Array(items.into_iter().map(Json::Object).collect()),
            );
        }
    }
    result
}
