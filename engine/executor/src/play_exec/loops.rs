//! One task on one host: conditions, then the loop or a single run.

use rsible_playbook::Task;
use rsible_templar::{from_yaml, to_json, Value};
use serde_json::{json, Map, Value as Json};

use super::{obj, Executor, PlayCtx};
use crate::frame::Frame;
use crate::output::default_callback::Sink;
use crate::vars::VarLayers;

impl<'a, S: Sink> Executor<'a, S> {
    /// The conditions of enclosing blocks and roles, then the task's own:
    /// `None` when all hold, else the skipped (or failed) result.
    pub(super) fn check_conditions(
        &self,
        task: &Task,
        frame: &Frame,
        scope: &VarLayers,
    ) -> Option<Map<String, Json>> {
        // Conditions of enclosing blocks and roles, then the task's own.
        for cond in frame.when.iter().chain(task.when.iter()) {
            match self.templar.evaluate_conditional(&from_yaml(cond), scope) {
                Ok(true) => {}
                Ok(false) => {
                    return Some(obj(json!({
                        "changed": false,
                        "skipped": true,
                        "skip_reason": "Conditional result was False",
                        "false_condition": cond.as_str().map(str::to_string).unwrap_or_else(|| from_yaml(cond).to_string()),
                    })));
                }
                Err(e) => {
                    return Some(obj(json!({
                        "failed": true,
                        "msg": super::results::conditional_error(cond, &e.to_string()),
                    })));
                }
            }
        }
        None
    }

    /// Runs one task on one host: conditions, loop, action, and the task's
    /// result keywords. Returns the result as Ansible's callbacks see it.
    /// The delegate is templated here, per loop item.
    pub(super) fn run_on_host(
        &mut self,
        ctx: &PlayCtx,
        task: &Task,
        frame: &Frame,
        host: &str,
        scope: &VarLayers,
    ) -> Map<String, Json> {
        if let Some(mut result) = self.check_conditions(task, frame, scope) {
            let no_log = self.no_log_for(task, frame, scope);
            super::control::stamp_no_log(&mut result, no_log);
            return result;
        }
        let loop_node = task.loop_items.as_ref();
        let Some(loop_node) = loop_node else {
            let delegate = match self.resolve_delegate(task, frame, scope) {
                Ok(d) => d,
                Err(msg) => return obj(json!({"failed": true, "msg": msg})),
            };
            let delegate = delegate.as_deref();
            let mut r = self.run_once_on_host(ctx, task, frame, host, scope, delegate);
            if let Some(d) = delegate {
                r.insert(
                    "_ansible_delegated_vars".into(),
                    self.delegated_vars_entry(d),
                );
            }
            return r;
        };
        let items: Vec<Value> = if let Some(with) = &task.loop_with {
            // every with_<lookup> runs the lookup of that name
            let subdir = lookup_subdir(&task.action);
            match self
                .templar
                .run_lookup(with, &from_yaml(loop_node), scope, subdir)
            {
                Ok(v) => v,
                Err(e) => return obj(json!({"failed": true, "msg": e.to_string()})),
            }
        } else {
            let items = match self.templar.template(&from_yaml(loop_node), scope) {
                Ok(v) => v,
                Err(e) => return obj(json!({"failed": true, "msg": e.to_string()})),
            };
            match items.try_iter() {
                Ok(it) if items.as_str().is_none() => it.collect(),
                _ => {
                    return obj(json!({
                        "failed": true,
                        "msg": format!("Invalid data passed to 'loop', it requires a list, got this instead: {items}. Hint: If you passed a list/dict of just one element, try adding wantlist=True to your lookup invocation or use q/query instead of lookup."),
                    }))
                }
            }
        };
        if items.is_empty() {
            return obj(json!({
                "changed": false,
                "skipped": true,
                "skipped_reason": "No items in the list",
                "results": [],
            }));
        }
        let control = super::loop_control::LoopControl::read(
            &self.templar,
            frame.keyword(task, "loop_control"),
            scope,
        );
        let mut results = Vec::new();
        let mut any_changed = false;
        let mut any_failed = false;
        // One hidden item hides the whole task's result, as Ansible's loop does.
        let mut any_no_log = false;
        let total = items.len();
        for index in 0..total {
            if index > 0 && !control.pause.is_zero() {
                std::thread::sleep(control.pause);
            }
            let mut item_scope = scope.clone();
            item_scope.push_map("loop variables", control.item_vars(&items, index));
            let (item_delegate, mut r) = match self.resolve_delegate(task, frame, &item_scope) {
                Ok(d) => {
                    let r =
                        self.run_once_on_host(ctx, task, frame, host, &item_scope, d.as_deref());
                    (d, r)
                }
                Err(msg) => (None, obj(json!({"failed": true, "msg": msg}))),
            };
            if let Some(d) = &item_delegate {
                r.insert(
                    "_ansible_delegated_vars".into(),
                    self.delegated_vars_entry(d),
                );
            }
            control.annotate(&mut r, &items, index);
            if let Some(label) = &control.label {
                if let Ok(l) = self.templar.template(&from_yaml(label), &item_scope) {
                    r.insert("_ansible_item_label".into(), to_json(&l));
                }
            }
            any_changed |= r.get("changed") == Some(&Json::Bool(true));
            any_failed |= r.get("failed") == Some(&Json::Bool(true));
            any_no_log |= r.get("_ansible_no_log") == Some(&Json::Bool(true));
            results.push(r);
        }
        let mut out = Map::new();
        out.insert("changed".into(), Json::Bool(any_changed));
        if any_failed {
            out.insert("failed".into(), Json::Bool(true));
            out.insert(
                "msg".into(),
                Json::String("One or more items failed".into()),
            );
        } else {
            out.insert("msg".into(), Json::String("All items completed".into()));
        }
        out.insert("skipped".into(), Json::Bool(false));
        if any_no_log {
            out.insert("_ansible_no_log".into(), Json::Bool(true));
        }
        out.insert(
            "results".into(),
            Json::Array(results.into_iter().map(Json::Object).collect()),
        );
        out
    }
}

/// Where a `with_<lookup>` loop's lookup searches files: Ansible picks the
/// first of `template`, `var`, `file` found in the action's name.
fn lookup_subdir(action: &str) -> &'static str {
    if action.contains("template") {
        "templates"
    } else if action.contains("var") {
        "vars"
    } else {
        "files"
    }
}
