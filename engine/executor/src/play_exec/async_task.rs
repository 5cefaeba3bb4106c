//! The task keywords `async` and `poll`, and the `async_status` action, as
//! ansible-core 2.18's TaskExecutor and action plugins run them.
//!
//! With `async: N` the module call starts a background job on the target
//! (the agent's `async_job`: a detached process that writes
//! `<async_dir>/<jid>` as Ansible's `async_wrapper` does) and returns at once
//! with `ansible_job_id`. With `poll: 0` that start result is the task's
//! result. With `poll: P > 0` the controller sleeps P seconds, reads the job
//! through `async_status`, and goes on until the job finished or N seconds
//! of polling passed; a finished job's file is removed and its result is the
//! task's, an unfinished one fails with Ansible's timeout message.

use std::time::Duration;

use rsible_modules::protocol::AsyncJob;
use rsible_playbook::Task;
use rsible_templar::{from_yaml, to_json};
use serde_json::{json, Map, Value as Json};

use super::{obj, Executor};
use crate::output::async_lines::{async_failed_line, async_ok_line, async_poll_line};
use crate::output::default_callback::{python_repr, Sink};
use crate::vars::VarLayers;

/// Where job files go when neither `ansible_async_dir` nor the `async_dir`
/// setting says otherwise.
const DEFAULT_ASYNC_DIR: &str = "~/.ansible_async";

/// The `poll` default (ansible.cfg `poll_interval`).
const DEFAULT_POLL: i64 = 15;

/// Actions of ansible-core whose plugin refuses `async` ("This action (x)
/// does not support async."). The others run their module through the
/// normal action (or `command`, `package`, `service`, `uri`, `dnf`), which
/// supports it.
const NO_ASYNC_ACTIONS: &[&str] = &[
    "add_host",
    "assemble",
    "assert",
    "async_status",
    "copy",
    "debug",
    "fail",
    "fetch",
    "gather_facts",
    "group_by",
    "include_vars",
    "pause",
    "raw",
    "reboot",
    "script",
    "set_fact",
    "set_stats",
    "template",
    "unarchive",
    "validate_argument_spec",
    "wait_for_connection",
];

/// Where a loop item keeps its ASYNC lines until the item's result is
/// shown (rsible shows a loop's items after the loop; Ansible prints these
/// lines as they happen, just before each item's result).
const PENDING_LINES: &str = "_ansible_rsible_async_lines";

/// A task execution's `async`/`poll`, resolved.
pub(super) struct AsyncPlan {
    time_limit: u64,
    poll: u64,
    async_dir: String,
    /// The execution is a loop item: lines wait for its result.
    in_loop: bool,
    lines: Vec<String>,
}

impl<S: Sink> Executor<'_, S> {
    /// Before the action runs: the task's `async` and `poll`, templated. With
    /// `async` > 0 the module calls of this execution start background jobs.
    /// `Err` is the task's result (a bad value, an action that refuses async).
    pub(super) fn begin_async(
        &mut self,
        task: &Task,
        action: &str,
        scope: &VarLayers,
    ) -> Result<Option<AsyncPlan>, Map<String, Json>> {
        self.ctl.call_settings.async_job = None;
        let failed = |msg: String| obj(json!({"failed": true, "msg": msg}));
        let async_node = task
            .keywords
            .get("async")
            .or_else(|| task.keywords.get("async_val"));
        let time_limit = match async_node {
            Some(node) => self
                .int_keyword(task, node, "async_val", scope)
                .map_err(failed)?,
            None => 0,
        };
        if time_limit <= 0 {
            return Ok(None);
        }
        let poll = match task.keywords.get("poll") {
            Some(node) => self
                .int_keyword(task, node, "poll", scope)
                .map_err(failed)?,
            None => self.options.poll_interval.unwrap_or(DEFAULT_POLL),
        };
        if NO_ASYNC_ACTIONS.contains(&action) {
            return Err(obj(json!({
                "failed": true,
                "changed": false,
                "msg": format!("This action ({}) does not support async.", task.action),
                // Ansible raises here; its callback shows the (empty) traceback.
                "exception": "NoneType: None\n",
            })));
        }
        let async_dir = self.async_dir(scope).map_err(failed)?;
        self.ctl.call_settings.async_job = Some(AsyncJob {
            time_limit: time_limit as u64,
            async_dir: async_dir.clone(),
        });
        Ok(Some(AsyncPlan {
            time_limit: time_limit as u64,
            poll: poll.max(0) as u64,
            async_dir,
            in_loop: task.loop_items.is_some(),
            lines: Vec::new(),
        }))
    }

    /// After the action started its job: the start result as it is
    /// (`poll: 0`), or the job's result once it finished (`poll` > 0).
    pub(super) fn finish_async(
        &mut self,
        mut plan: AsyncPlan,
        host: &str,
        scope: &VarLayers,
        delegate: Option<&str>,
        mut result: Map<String, Json>,
    ) -> Map<String, Json> {
        self.ctl.call_settings.async_job = None;
        if result.contains_key("unreachable") {
            return result;
        }
        // As Ansible's `_execute_module` marks every wrapped start.
        if result.contains_key("ansible_job_id") {
            result.insert("changed".into(), Json::Bool(true));
        }
        failed_as_bool(&mut result);
        let stop = result.get("skipped").is_some_and(py_truthy)
            || result.get("failed").is_some_and(py_truthy);
        if plan.poll == 0 || stop {
            return result;
        }
        let mut outcome = self.poll_job(&mut plan, host, scope, delegate, &result);
        let line = if outcome.get("failed").is_some_and(py_truthy) {
            async_failed_line(host, &outcome)
        } else {
            async_ok_line(host, &outcome)
        };
        self.async_line(&mut plan, host, line);
        failed_as_bool(&mut outcome);
        super::results::normalize_result(&mut outcome);
        if !plan.lines.is_empty() {
            outcome.insert(PENDING_LINES.into(), json!(plan.lines));
        }
        outcome
    }

    /// Runs `f` with module calls in the foreground: the calls an action
    /// makes for itself (interpreter discovery, the facts `package` needs)
    /// are not the task's module, which alone runs as the job.
    pub(super) fn without_async<T>(&mut self, f: impl FnOnce(&mut Self) -> T) -> T {
        let job = self.ctl.call_settings.async_job.take();
        let out = f(self);
        self.ctl.call_settings.async_job = job;
        out
    }

    /// Printed now, or kept for the loop item's result. A walk that only
    /// records calls (prefetch.rs) prints nothing, the real walk will;
    /// under `free` the first walk that gets here prints it.
    fn async_line(&mut self, plan: &mut AsyncPlan, host: &str, line: String) {
        if plan.in_loop {
            if !self.prefetch.is_recording() {
                plan.lines.push(line);
            }
        } else if self.prefetch.progress_line_due(host) {
            self.callback.async_line(&line);
        }
    }

    /// Before a loop item's result is shown: the ASYNC lines of its job.
    pub(super) fn show_item_async_lines(&mut self, item: &Map<String, Json>) {
        if let Some(Json::Array(lines)) = item.get(PENDING_LINES) {
            for line in lines.iter().filter_map(Json::as_str) {
                self.callback.async_line(line);
            }
        }
    }

    /// TaskExecutor's `_poll_async_result`.
    fn poll_job(
        &mut self,
        plan: &mut AsyncPlan,
        host: &str,
        scope: &VarLayers,
        delegate: Option<&str>,
        started: &Map<String, Json>,
    ) -> Map<String, Json> {
        let Some(jid) = started
            .get("ansible_job_id")
            .and_then(Json::as_str)
            .map(str::to_string)
        else {
            return obj(json!({"failed": true, "msg": "No job id was returned by the async task"}));
        };
        let mut time_left = plan.time_limit as i64;
        let mut status = Map::new();
        while time_left > 0 {
            let interval = Duration::from_secs(plan.poll);
            // With hosts side by side (prefetch.rs), one wait serves all.
            if self.prefetch.wait_before_call(host, interval) {
                std::thread::sleep(interval);
            }
            status = self.async_status_call(host, scope, delegate, &jid, "status", &plan.async_dir);
            if status.contains_key("unreachable") {
                // Ansible retries a poll that could not reach the host.
                time_left -= plan.poll as i64;
                if time_left <= 0 {
                    return status;
                }
                continue;
            }
            let finished = status.get("finished").is_some_and(|f| int_of(f) == 1);
            if finished || status.contains_key("failed") || status.contains_key("skipped") {
                break;
            }
            time_left -= plan.poll as i64;
            let line = async_poll_line(host, &status);
            self.async_line(plan, host, line);
        }
        if status.get("finished").map(int_of) != Some(1) {
            return obj(json!({
                "failed": true,
                "msg": format!("async task did not complete within the requested time - {}s", plan.time_limit),
                "async_result": status,
            }));
        }
        // A finished job's file is removed, as Ansible cleans up after polling.
        let _ = self.async_status_call(host, scope, delegate, &jid, "cleanup", &plan.async_dir);
        status
    }

    /// The `async_status` action: its arguments checked as the plugin does,
    /// the agent's module run with the job directory.
    pub(super) fn async_status_action(
        &mut self,
        host: &str,
        scope: &VarLayers,
        delegate: Option<&str>,
        args: &Map<String, Json>,
    ) -> Map<String, Json> {
        // The action plugin's argument spec check, in ArgumentSpecValidator's
        // order (unknown, required, choices), raised as AnsibleActionFail.
        let mut unknown: Vec<&str> = args
            .keys()
            .map(String::as_str)
            .filter(|k| *k != "jid" && *k != "mode")
            .collect();
        if !unknown.is_empty() {
            unknown.sort_unstable();
            return super::action_fail::action_fail(&format!(
                "Unsupported parameters for (ansible_collections.ansible.builtin.plugins.action.async_status) module: {}. Supported parameters include: jid, mode.",
                unknown.join(", ")
            ));
        }
        let jid = match args.get("jid") {
            Some(Json::String(s)) => s.clone(),
            Some(Json::Null) | None => {
                return super::action_fail::action_fail("missing required arguments: jid")
            }
            Some(other) => python_str_of(other),
        };
        let mode = match args.get("mode") {
            None | Some(Json::Null) => "status".to_string(),
            Some(v) => python_str_of(v),
        };
        if mode != "status" && mode != "cleanup" {
            return super::action_fail::action_fail(&format!(
                "value of mode must be one of: status, cleanup, got: {mode}"
            ));
        }
        let async_dir = match self.async_dir(scope) {
            Ok(d) => d,
            Err(msg) => return obj(json!({"failed": true, "msg": msg})),
        };
        self.async_status_call(host, scope, delegate, &jid, &mode, &async_dir)
    }

    /// One `async_status` run: the action plugin's initial result with the
    /// module's merged over it.
    fn async_status_call(
        &mut self,
        host: &str,
        scope: &VarLayers,
        delegate: Option<&str>,
        jid: &str,
        mode: &str,
        async_dir: &str,
    ) -> Map<String, Json> {
        let mut result = obj(json!({
            "started": 0,
            "finished": 0,
            "stdout": "",
            "stderr": "",
            "stdout_lines": [],
            "stderr_lines": [],
            "ansible_job_id": jid,
        }));
        if mode == "status" {
            result.insert("started".into(), json!(1));
        }
        let args = json!({"jid": jid, "mode": mode, "_async_dir": async_dir});
        let module = self.module_call(host, scope, delegate, "async_status", args);
        if module.contains_key("unreachable") {
            return module;
        }
        result.extend(module);
        result
    }

    /// `ansible_async_dir`, else the `async_dir` setting (ansible.cfg,
    /// `ANSIBLE_ASYNC_DIR`), else `~/.ansible_async`.
    fn async_dir(&self, scope: &VarLayers) -> Result<String, String> {
        if let Some(dir) = self.var_text(scope, "ansible_async_dir")? {
            return Ok(dir);
        }
        Ok(self
            .options
            .async_dir
            .clone()
            .filter(|d| !d.is_empty())
            .unwrap_or_else(|| DEFAULT_ASYNC_DIR.to_string()))
    }

    /// An int keyword (`async`, `poll`) templated and converted as Ansible's
    /// field validation does; its error names the field and the task.
    fn int_keyword(
        &self,
        task: &Task,
        node: &rsible_yaml::Node,
        field: &str,
        scope: &VarLayers,
    ) -> Result<i64, String> {
        let value = self
            .templar
            .template(&from_yaml(node), scope)
            .map_err(|e| e.to_string())?;
        let value = to_json(&value);
        let parsed = match &value {
            Json::Number(n) => n.as_i64().or_else(|| n.as_f64().map(|f| f as i64)),
            Json::Bool(b) => Some(i64::from(*b)),
            Json::String(s) => s.trim().parse::<i64>().ok(),
            _ => None,
        };
        parsed.ok_or_else(|| {
            let mut msg = format!(
                "the field '{field}' has an invalid value ({}), and could not be converted to int.. ",
                python_repr(&value)
            );
            rsible_yaml::append_position(&mut msg, &task.mark);
            msg
        })
    }
}

/// The kept lines are no part of the registered result.
pub(super) fn strip_item_async_lines(result: &mut Map<String, Json>) {
    if let Some(Json::Array(items)) = result.get_mut("results") {
        for item in items.iter_mut() {
            if let Json::Object(m) = item {
                m.remove(PENDING_LINES);
            }
        }
    }
}

/// `async_wrapper` writes `"failed": 1` when a module gave no result; Ansible
/// treats any true value as a failure, rsible's reporting a boolean.
fn failed_as_bool(result: &mut Map<String, Json>) {
    if let Some(failed) = result.get_mut("failed") {
        if !failed.is_boolean() && py_truthy(failed) {
            *failed = Json::Bool(true);
        }
    }
}

/// Python's truth of a result value (`"failed": 1` is a failure).
fn py_truthy(v: &Json) -> bool {
    match v {
        Json::Null => false,
        Json::Bool(b) => *b,
        Json::Number(n) => n.as_f64().is_some_and(|f| f != 0.0),
        Json::String(s) => !s.is_empty(),
        Json::Array(a) => !a.is_empty(),
        Json::Object(o) => !o.is_empty(),
    }
}

/// `int(x)` of a status field (Ansible compares `int(finished) == 1`).
fn int_of(v: &Json) -> i64 {
    match v {
        Json::Number(n) => n.as_i64().unwrap_or(0),
        Json::Bool(b) => i64::from(*b),
        Json::String(s) => s.trim().parse().unwrap_or(0),
        _ => 0,
    }
}

fn python_str_of(v: &Json) -> String {
    crate::output::default_callback::python_str(v)
}
