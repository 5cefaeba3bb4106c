//! State the task-control keywords keep while a play runs, and the
//! settings they give a module call (`environment:`, `check_mode:`,
//! `diff:`), kept apart from the executor's own fields.

use std::collections::BTreeMap;

use rsible_playbook::Task;
use rsible_templar::{from_yaml, to_json};

use super::{Executor, PlayCtx};
use crate::frame::Frame;
use crate::output::default_callback::{python_str, Sink, TaskView};
use crate::target::CallSettings;
use crate::vars::VarLayers;

#[derive(Default)]
pub(super) struct ControlState {
    /// The banner view of the task being run on the current host, for
    /// lines printed while it runs (`FAILED - RETRYING`).
    pub current_view: Option<TaskView>,
    /// Settings of the module calls of the execution being run.
    pub call_settings: CallSettings,
}

impl<'a, S: Sink> Executor<'a, S> {
    /// Resolves the settings of this execution's module calls; an error is
    /// the task's failure message.
    pub(super) fn prepare_call_settings(
        &mut self,
        task: &Task,
        frame: &Frame,
        scope: &VarLayers,
    ) -> Result<(), String> {
        let check_mode = match frame.keyword(task, "check_mode") {
            Some(node) => self.keyword_truthy(node, scope)?,
            None => self.options.check_mode,
        };
        let diff = match frame.keyword(task, "diff") {
            Some(node) => self.keyword_truthy(node, scope)?,
            None => self.options.diff,
        };
        let env = self.task_environment(task, frame, scope)?;
        self.ctl.call_settings = CallSettings {
            check_mode,
            diff,
            env,
            async_job: None,
        };
        Ok(())
    }

    /// A boolean keyword's value, templated (`check_mode: "{{ x }}"`).
    pub(super) fn keyword_truthy(
        &self,
        node: &rsible_yaml::Node,
        scope: &VarLayers,
    ) -> Result<bool, String> {
        let v = self
            .templar
            .template(&from_yaml(node), scope)
            .map_err(|e| e.to_string())?;
        Ok(match v.as_str() {
            Some(s) => matches!(
                s.trim().to_ascii_lowercase().as_str(),
                "yes" | "on" | "1" | "true" | "t" | "y"
            ),
            None => v.is_true(),
        })
    }

    /// `environment:` of the play, roles, blocks and the task, outermost
    /// first, each templated and merged over the previous ones.
    fn task_environment(
        &self,
        task: &Task,
        frame: &Frame,
        scope: &VarLayers,
    ) -> Result<BTreeMap<String, String>, String> {
        let entries = frame
            .keywords
            .iter()
            .filter_map(|k| k.get("environment"))
            .chain(task.keywords.get("environment"));
        let mut env = BTreeMap::new();
        for node in entries {
            let empty = match &node.value {
                rsible_yaml::Value::Null => true,
                rsible_yaml::Value::Map(m) => m.is_empty(),
                rsible_yaml::Value::Seq(s) => s.is_empty(),
                rsible_yaml::Value::Str(s) => s.is_empty(),
                _ => false,
            };
            if empty {
                continue;
            }
            let value = self
                .templar
                .template(&from_yaml(node), scope)
                .map_err(|e| e.to_string())?;
            let json = to_json(&value);
            let serde_json::Value::Object(map) = json else {
                return Err(format!(
                    "environment must be a dictionary, received {} ({})",
                    python_str(&json),
                    python_type(&json)
                ));
            };
            for (k, v) in map {
                env.insert(k, python_str(&v));
            }
        }
        Ok(env)
    }
}

/// `type(x)` as Python prints it.
fn python_type(v: &serde_json::Value) -> &'static str {
    match v {
        serde_json::Value::Null => "<class 'NoneType'>",
        serde_json::Value::Bool(_) => "<class 'bool'>",
        serde_json::Value::Number(n) if n.is_f64() => "<class 'float'>",
        serde_json::Value::Number(_) => "<class 'int'>",
        serde_json::Value::String(_) => "<class 'ansible.parsing.yaml.objects.AnsibleUnicode'>",
        serde_json::Value::Array(_) => "<class 'list'>",
        serde_json::Value::Object(_) => "<class 'dict'>",
    }
}

impl<'a, S: Sink> Executor<'a, S> {
    /// After a task ran on `ran` (the hosts active when it started):
    /// `any_errors_fatal` (or a failed `run_once`) fails every host of the
    /// batch, and `max_fail_percentage` ends the play when too many failed,
    /// as the linear strategy checks after each task.
    pub(super) fn enforce_failure_limits(
        &mut self,
        ctx: &PlayCtx,
        task: &Task,
        frame: &Frame,
        ran: &[String],
        run_once: bool,
    ) {
        // The free strategy only warns about these (see strategy/free.rs).
        if self.play_is_free(ctx.play) {
            return;
        }
        let Some(first) = ran.first() else {
            return;
        };
        let failed_now: Vec<&String> = ran
            .iter()
            .filter(|h| {
                self.states
                    .get(*h)
                    .is_some_and(|s| s.failed || s.unreachable)
            })
            .collect();
        let scope = self.scope_for(ctx, first, frame, Some(task));
        let flag = |name: &str| {
            frame
                .keyword(task, name)
                .map(|n| self.keyword_truthy(n, &scope).unwrap_or(false))
                .unwrap_or(false)
        };
        let fatal = (flag("any_errors_fatal") || run_once) && !flag("ignore_errors");
        if fatal && !failed_now.is_empty() {
            for h in ran {
                if self.is_active(h) {
                    self.state(h).failed = true;
                }
            }
        }
        let Some(limit) = ctx.play.keywords.get("max_fail_percentage") else {
            return;
        };

        let limit = self
            .templar
            .template(&from_yaml(limit), &scope)
            .ok()
            .and_then(|v| {
                v.as_str()
                    .and_then(|s| s.trim().parse::<f64>().ok())
                    .or_else(|| f64::try_from(v.clone()).ok())
            });
        let Some(limit) = limit else {
            return;
        };
        let batch: Vec<String> = ctx
            .batch
            .try_iter()
            .map(|it| it.filter_map(|v| v.as_str().map(str::to_string)).collect())
            .unwrap_or_default();
        if batch.is_empty() {
            return;
        }
        let failed = batch
            .iter()
            .filter(|h| self.states.get(*h).is_some_and(|s| s.failed))
            .count();
        if failed as f64 / batch.len() as f64 > limit / 100.0 {
            for h in &batch {
                if self.is_active(h) {
                    self.state(h).failed = true;
                }
            }
            // Once for the limit, once more as every host has now failed.
            self.callback.no_hosts_remaining();
            self.callback.no_hosts_remaining();
        }
    }
}

/// The text that replaces a result hidden by `no_log`.
pub(super) const CENSORED: &str =
    "the output has been hidden due to the fact that 'no_log: true' was specified for this result";

impl<'a, S: Sink> Executor<'a, S> {
    /// `no_log` of the task or an enclosing block, role or play, templated;
    /// a value that cannot be templated hides the result (the safe side).
    pub(super) fn no_log_for(&self, task: &Task, frame: &Frame, scope: &VarLayers) -> bool {
        frame
            .keyword(task, "no_log")
            .map(|n| self.keyword_truthy(n, scope).unwrap_or(true))
            .unwrap_or(false)
    }
}

/// Marks a result as hidden when `no_log` holds (a module may have marked it already).
pub(super) fn stamp_no_log(result: &mut serde_json::Map<String, serde_json::Value>, no_log: bool) {
    let already = result.get("_ansible_no_log") == Some(&serde_json::Value::Bool(true));
    // Ansible's unreachable result is built before the flag is added; it is
    // still censored when the task has no_log.
    if !(no_log || already) && result.get("unreachable") == Some(&serde_json::Value::Bool(true)) {
        result.remove("_ansible_no_log");
        return;
    }
    result.insert(
        "_ansible_no_log".into(),
        serde_json::Value::Bool(no_log || already),
    );
}
