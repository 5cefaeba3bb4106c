//! What happens to a result: changed_when/failed_when, the callback, register, stats, notify.

use std::borrow::Cow;
use std::sync::Arc;

use indexmap::IndexMap;
use rsible_playbook::Task;
use rsible_templar::{from_yaml, Value};
use serde_json::{Map, Value as Json};

use super::Executor;
use crate::frame::Frame;
use crate::output::default_callback::{ResultView, Sink, TaskView};
use crate::vars::VarLayers;

impl<'a, S: Sink> Executor<'a, S> {
    /// `changed_when`, `failed_when` and `ignore_errors` need the result as
    /// the registered variable; they are applied before the result is shown.
    pub(super) fn apply_result_keywords(
        &self,
        task: &Task,
        frame: &Frame,
        scope: &VarLayers,
        result: &mut Map<String, Json>,
    ) {
        if result.contains_key("unreachable") || result.get("skipped") == Some(&Json::Bool(true)) {
            return;
        }
        let rscope = self.scope_with_registered(task, scope, result);
        // A condition that cannot be evaluated fails the task; its error is
        // kept under `<name>_when_result` and failed_when is not evaluated.
        if let Some(node) = frame.keyword(task, "changed_when") {
            match self.eval_conditions(node, &rscope) {
                Ok(b) => {
                    result.insert("changed".into(), Json::Bool(b));
                }
                Err(e) => {
                    result.insert("failed".into(), Json::Bool(true));
                    result.insert("changed_when_result".into(), Json::String(e));
                    return;
                }
            }
        }
        if let Some(node) = frame.keyword(task, "failed_when") {
            match self.eval_conditions(node, &rscope) {
                Ok(b) => {
                    result.insert("failed_when_result".into(), Json::Bool(b));
                    result.insert("failed".into(), Json::Bool(b));
                }
                Err(e) => {
                    result.insert("failed".into(), Json::Bool(true));
                    result.insert("failed_when_result".into(), Json::String(e));
                }
            }
        }
    }

    /// The task's scope with its result bound to its `register` name, as
    /// changed_when, failed_when and until see it.
    pub(super) fn scope_with_registered(
        &self,
        task: &Task,
        scope: &VarLayers,
        result: &Map<String, Json>,
    ) -> VarLayers {
        let mut rscope = scope.clone();
        if let Some(name) = task.keywords.get("register").and_then(|n| n.as_str()) {
            let mut top: IndexMap<String, Value> = IndexMap::new();
            top.insert(
                name.to_string(),
                rsible_templar::from_json_unsafe(&Json::Object(result.clone())),
            );
            rscope.push_map("registered result", top);
        }
        rscope
    }

    /// A list of conditions is true when all are (`failed_when: [a, b]`).
    pub(super) fn eval_conditions(
        &self,
        node: &rsible_yaml::Node,
        scope: &VarLayers,
    ) -> Result<bool, String> {
        let conds: Vec<Value> = match &node.value {
            rsible_yaml::Value::Seq(items) => items.iter().map(from_yaml).collect(),
            _ => vec![from_yaml(node)],
        };
        let nodes: Vec<&rsible_yaml::Node> = match &node.value {
            rsible_yaml::Value::Seq(items) => items.iter().collect(),
            _ => vec![node],
        };
        for (c, n) in conds.iter().zip(nodes) {
            match self.templar.evaluate_conditional(c, scope) {
                Ok(true) => {}
                Ok(false) => return Ok(false),
                Err(e) => return Err(conditional_error(n, &e.to_string())),
            }
        }
        Ok(true)
    }

    /// Records and prints one host's result; `applies_to` are the hosts the
    /// result counts for (all of them under run_once).
    #[allow(clippy::too_many_arguments)]
    pub(super) fn report(
        &mut self,
        task: &Task,
        frame: &Frame,
        host: &str,
        view: &TaskView,
        mut result: Map<String, Json>,
        scope: &VarLayers,
        applies_to: &[String],
    ) {
        // Ansible's `normal` action marks setup results so that -v does not
        // show the facts.
        let action = super::short_action(task.resolved_action.as_deref().unwrap_or(&task.action));
        if action == "setup" && !result.contains_key("unreachable") {
            result.insert("_ansible_verbose_override".into(), Json::Bool(true));
        }
        let ignore_errors = frame
            .keyword(task, "ignore_errors")
            .map(|n| {
                let v = from_yaml(n);
                self.templar
                    .evaluate_conditional(&v, scope)
                    .unwrap_or(false)
            })
            .unwrap_or(false);
        // An unknown handler stops the run before the result is shown.
        let notifications = self.result_notifications(task, frame, scope, &result);
        if !self.check_notifications(&notifications) {
            return;
        }
        if self.options.verbosity >= 2 {
            // Ansible's strategy says so at -vv before the result is shown.
            let mut said: Vec<&String> = Vec::new();
            for n in &notifications {
                if !said.contains(&n) {
                    said.push(n);
                    let line = format!("Notification for handler {n} has been saved.");
                    self.callback.sink.out(&line);
                }
            }
        }
        // a loop that ended at a raised error shows the items before it
        let shown_items = result
            .get("results")
            .or_else(|| result.get(super::loop_abort::ITEMS_BEFORE));
        if let Some(Json::Array(items)) = shown_items {
            for item in items_in_callback_order(task, items) {
                if let Json::Object(m) = item {
                    self.show_item_async_lines(m);
                    let shown = clean_copy(m);
                    let rv = ResultView {
                        host,
                        task: view,
                        result: &shown,
                    };
                    if m.get("failed") == Some(&Json::Bool(true)) {
                        self.callback.runner_item_on_failed(&rv);
                    } else if m.get("skipped") == Some(&Json::Bool(true)) {
                        self.callback.runner_item_on_skipped(&rv);
                    } else {
                        if self.ctl.call_settings.diff {
                            self.callback.on_file_diff(&rv);
                        }
                        self.callback.runner_item_on_ok(&rv);
                    }
                }
            }
        }
        let mut result = result;
        result.remove(super::loop_abort::ITEMS_BEFORE);
        super::async_task::strip_item_async_lines(&mut result);
        let unreachable = result.get("unreachable") == Some(&Json::Bool(true));
        let failed = result.get("failed") == Some(&Json::Bool(true));
        let skipped = result.get("skipped") == Some(&Json::Bool(true));
        let changed = result.get("changed") == Some(&Json::Bool(true));
        // ignore_unreachable: shown with `...ignoring`, counted ok and
        // ignored, and the host carries on.
        let ignore_unreachable = unreachable
            && frame
                .keyword(task, "ignore_unreachable")
                .is_some_and(|n| self.keyword_truthy(n, scope).unwrap_or(false));
        with_clean_view(&mut result, |shown| {
            let rv = ResultView {
                host,
                task: view,
                result: shown,
            };
            if unreachable {
                self.callback.runner_on_unreachable(&rv, ignore_unreachable);
            } else if failed {
                self.callback.runner_on_failed(&rv, ignore_errors);
            } else if skipped {
                self.callback.runner_on_skipped(&rv);
            } else {
                if self.ctl.call_settings.diff {
                    self.callback.on_file_diff(&rv);
                }
                self.callback.runner_on_ok(&rv);
            }
        });
        // register: the result as the task's variable, on every host it applies to
        if let Some(name) = task.keywords.get("register").and_then(|n| n.as_str()) {
            let mut registered = result.clone();
            // Ansible's strategy strips every internal key (`_ansible_no_log`
            // too) from what it registers.
            registered.retain(|k, _| !k.starts_with("_ansible_"));
            // Loop items lose theirs too (Ansible's strip_internal_keys is recursive).
            strip_item_internal_keys(&mut registered);
            // Ansible's strategy drops `invocation` from registered results.
            registered.remove("invocation");
            let value = rsible_templar::from_json_unsafe(&Json::Object(registered));
            for h in applies_to {
                let st = self.state(h);
                Arc::make_mut(&mut st.set_facts).insert(name.to_string(), value.clone());
            }
        }
        self.absorb_result_facts(task, frame, host, view.delegate_to.as_deref(), &result);
        if !failed && !unreachable {
            let delegate = view.delegate_to.as_deref();
            self.spread_run_once_facts(task, frame, host, delegate, &result, applies_to);
        }
        // Counters and failure belong to the host that ran the task, even
        // under run_once (whose result is registered for every host).
        {
            let h = host;
            let s = self.stats.host(h);
            if ignore_unreachable {
                s.ok += 1;
                s.ignored += 1;
            } else if unreachable {
                s.unreachable += 1;
            } else if failed && !ignore_errors {
                s.failures += 1;
            } else if failed {
                s.ignored += 1;
                s.ok += 1;
                if changed {
                    s.changed += 1;
                }
            } else if skipped {
                s.skipped += 1;
            } else {
                s.ok += 1;
                if changed {
                    s.changed += 1;
                }
            }
            let st = self.state(h);
            if unreachable && !ignore_unreachable {
                st.unreachable = true;
            } else if failed && !ignore_errors {
                st.failed = true;
            }
        }
        self.notify_hosts(applies_to, &notifications);
    }
}

/// Loop items in the order Ansible's callbacks see them: in item order,
/// except for the inventory actions (add_host, group_by), whose ok and
/// changed items the strategy reports only after the loop ended, behind the
/// skipped and failed ones.
fn items_in_callback_order<'r>(task: &Task, items: &'r [Json]) -> Vec<&'r Json> {
    let action = super::short_action(task.resolved_action.as_deref().unwrap_or(&task.action));
    if !matches!(action.as_str(), "add_host" | "group_by") {
        return items.iter().collect();
    }
    let reported_at_once = |i: &&Json| {
        i.get("failed") == Some(&Json::Bool(true)) || i.get("skipped") == Some(&Json::Bool(true))
    };
    let (mut order, later): (Vec<&Json>, Vec<&Json>) = items.iter().partition(reported_at_once);
    order.extend(later);
    order
}

/// Marks a result an action plugin raised (AnsibleActionSkip/Fail): Ansible's
/// TaskExecutor returns those as they are, without the defaults below.
pub(super) const RAISED_BY_ACTION: &str = "_rsible_raised_by_action";

/// TaskExecutor's defaults for an executed action: `failed` from a non-zero
/// `rc` when the module did not say, `changed` false when absent.
pub(super) fn normalize_result(result: &mut Map<String, Json>) {
    if result.remove(RAISED_BY_ACTION).is_some() {
        return;
    }
    if result.contains_key("unreachable") {
        return;
    }
    if !result.contains_key("failed") {
        let rc_failed = match result.get("rc") {
            Some(Json::Number(n)) => n.as_i64() != Some(0),
            Some(Json::String(s)) => s != "0",
            _ => false,
        };
        result.insert("failed".into(), Json::Bool(rc_failed));
    }
    if !result.contains_key("changed") {
        result.insert("changed".into(), Json::Bool(false));
    }
}

fn strip_item_internal_keys(result: &mut Map<String, Json>) {
    if let Some(Json::Array(items)) = result.get_mut("results") {
        for item in items.iter_mut() {
            if let Json::Object(m) = item {
                m.retain(|k, _| !k.starts_with("_ansible_"));
            }
        }
    }
}

/// What the callbacks see: TaskResult.clean_copy() drops `failed` and `skipped`.
/// A result hidden by `no_log` keeps only `censored` and the counters.
/// A result with neither key is shown as it is, not copied: a gathering's is
/// all of the host's facts.
pub(super) fn clean_copy(result: &Map<String, Json>) -> Cow<'_, Map<String, Json>> {
    let hidden = result.get("_ansible_no_log") == Some(&Json::Bool(true));
    if !hidden && !result.contains_key("failed") && !result.contains_key("skipped") {
        return Cow::Borrowed(result);
    }
    Cow::Owned(cleaned_copy(result))
}

/// `show` gets the result as clean_copy gives it, without a copy of the
/// result (a gathering's holds all the host's facts): `failed` and `skipped`
/// are taken out for the call and put back where they were.
fn with_clean_view<R>(
    result: &mut Map<String, Json>,
    show: impl FnOnce(&Map<String, Json>) -> R,
) -> R {
    if result.get("_ansible_no_log") == Some(&Json::Bool(true)) {
        return show(&cleaned_copy(result));
    }
    let mut taken = Vec::new();
    for key in ["failed", "skipped"] {
        if let Some(index) = result.keys().position(|k| k == key) {
            if let Some(value) = result.shift_remove(key) {
                taken.push((index, key, value));
            }
        }
    }
    let shown = show(result);
    // Back in ascending order of their places, each lands where it was.
    taken.sort_by_key(|(index, _, _)| *index);
    for (index, key, value) in taken {
        result.shift_insert(index, key.to_string(), value);
    }
    shown
}

fn cleaned_copy(result: &Map<String, Json>) -> Map<String, Json> {
    if result.get("_ansible_no_log") == Some(&Json::Bool(true)) {
        let mut x = Map::new();
        x.insert(
            "censored".into(),
            Json::String(super::control::CENSORED.into()),
        );
        for keep in ["attempts", "changed", "retries"] {
            if let Some(v) = result.get(keep) {
                x.insert(keep.into(), v.clone());
            }
        }
        if let Some(Json::Object(d)) = result.get("_ansible_delegated_vars") {
            let kept: Map<String, Json> = d
                .iter()
                .filter(|(k, _)| {
                    [
                        "ansible_host",
                        "ansible_port",
                        "ansible_user",
                        "ansible_connection",
                    ]
                    .contains(&k.as_str())
                })
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect();
            x.insert("_ansible_delegated_vars".into(), Json::Object(kept));
        }
        return x;
    }
    let mut copy = result.clone();
    copy.remove("failed");
    copy.remove("skipped");
    copy
}

/// Ansible's message for a condition that could not be evaluated, with the
/// position of the condition in its file.
pub(super) fn conditional_error(node: &rsible_yaml::Node, error: &str) -> String {
    let text = node
        .as_str()
        .map(str::to_string)
        .unwrap_or_else(|| from_yaml(node).to_string());
    let mut msg = format!("The conditional check '{text}' failed. The error was: {error}");
    rsible_yaml::append_position(&mut msg, &node.mark);
    msg
}
