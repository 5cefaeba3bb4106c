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
        if task.loop_items.is_none() {
            if let Some(skipped) = self.skipped_by_conditions(task, frame, scope) {
                return skipped;
            }
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
        }
        // With a loop, `when` is evaluated per item (it may use the item).
        // A loop that cannot be evaluated leaves the decision to `when`
        // alone: false skips the task, true reports the loop's error.
        let items = match self.loop_items_once(task, host, scope) {
            Ok(items) => items,
            Err(failed) => {
                return self
                    .skipped_by_conditions(task, frame, scope)
                    .unwrap_or(failed)
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
        let mut all_skipped = true;
        // One hidden item hides the whole task's result, as Ansible's loop does.
        let mut any_no_log = false;
        let total = items.len();
        for index in 0..total {
            // A recording walk (see `prefetch`) has what it came for.
            if self.prefetch.walk_can_stop(host) {
                break;
            }
            if index > 0 && !control.pause.is_zero() {
                std::thread::sleep(control.pause);
            }
            let mut item_scope = scope.clone();
            item_scope.push_map("loop variables", control.item_vars(&items, index));
            let skipped = self.skipped_by_conditions(task, frame, &item_scope);
            let (item_delegate, mut r) = match self.resolve_delegate(task, frame, &item_scope) {
                _ if skipped.is_some() => (None, skipped.unwrap_or_default()),
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
            if super::loop_abort::raised(&r) {
                return super::loop_abort::aborted_loop(&r, results);
            }
            control.annotate(&mut r, &items, index);
            if let Some(label) = &control.label {
                if let Ok(l) = self.templar.template(&from_yaml(label), &item_scope) {
                    r.insert("_ansible_item_label".into(), to_json(&l));
                }
            } else {
                // The default label is `{{ <loop_var> }}`: the item itself,
                // whatever the loop variable is called.
                let item = items.get(index).cloned().unwrap_or_default();
                r.insert("_ansible_item_label".into(), to_json(&item));
            }
            any_changed |= r.get("changed") == Some(&Json::Bool(true));
            any_failed |= r.get("failed") == Some(&Json::Bool(true));
            any_no_log |= r.get("_ansible_no_log") == Some(&Json::Bool(true));
            all_skipped &= r.get("skipped") == Some(&Json::Bool(true));
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
        } else if all_skipped {
            out.insert("msg".into(), Json::String("All items skipped".into()));
        } else {
            out.insert("msg".into(), Json::String("All items completed".into()));
        }
        out.insert("skipped".into(), Json::Bool(all_skipped));
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

impl<'a, S: Sink> Executor<'a, S> {
    /// The skipped (or failed) result when a condition does not hold, with
    /// the task's `no_log` applied.
    fn skipped_by_conditions(
        &self,
        task: &Task,
        frame: &Frame,
        scope: &VarLayers,
    ) -> Option<Map<String, Json>> {
        let mut result = self.check_conditions(task, frame, scope)?;
        let no_log = self.no_log_for(task, frame, scope);
        super::control::stamp_no_log(&mut result, no_log);
        Some(result)
    }

    /// The items of the task's loop (`loop:` templated, or `with_<lookup>`
    /// run), or the failed result when they cannot be computed. Shared by
    /// tasks and run-time includes.
    pub(super) fn loop_items(
        &self,
        task: &Task,
        scope: &VarLayers,
    ) -> Result<Vec<Value>, Map<String, Json>> {
        let Some(loop_node) = task.loop_items.as_ref() else {
            return Ok(Vec::new());
        };
        let failed = |msg: String| obj(json!({"failed": true, "msg": msg}));
        if let Some(with) = &task.loop_with {
            // every with_<lookup> runs the lookup of that name
            let subdir = lookup_subdir(&task.action);
            return self
                .templar
                .run_lookup(with, &from_yaml(loop_node), scope, subdir)
                .map_err(|e| failed(e.to_string()));
        }
        let items = self
            .templar
            .template(&from_yaml(loop_node), scope)
            .map_err(|e| failed(e.to_string()))?;
        match items.try_iter() {
            Ok(it) if items.as_str().is_none() => Ok(it.collect()),
            _ => Err(failed(format!("Invalid data passed to 'loop', it requires a list, got this instead: {items}. Hint: If you passed a list/dict of just one element, try adding wantlist=True to your lookup invocation or use q/query instead of lookup."))),
        }
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
