//! `until` / `retries` / `delay`: an action run again until its condition
//! holds, as TaskExecutor's attempt loop does (per loop item, like the rest
//! of one execution).

use std::time::Duration;

use rsible_playbook::Task;
use rsible_templar::{from_yaml, Value};
use serde_json::{json, Map, Value as Json};

use super::{obj, Executor, PlayCtx};
use crate::frame::Frame;
use crate::output::default_callback::{ResultView, Sink};
use crate::vars::VarLayers;

/// How often and how far apart a task's action runs.
struct RetryPolicy {
    /// Runs in all: the first plus `retries` (3 by default with `until`).
    total: u64,
    delay: Duration,
}

impl<'a, S: Sink> Executor<'a, S> {
    /// One execution of the task's action with its result keywords applied
    /// (changed_when, failed_when), repeated while `until` says so.
    pub(super) fn run_once_on_host(
        &mut self,
        ctx: &PlayCtx,
        task: &Task,
        frame: &Frame,
        host: &str,
        scope: &VarLayers,
        delegate: Option<&str>,
    ) -> Map<String, Json> {
        let no_log = self.no_log_for(task, frame, scope);
        let mut result = self.run_with_retries(ctx, task, frame, host, scope, delegate);
        super::control::stamp_no_log(&mut result, no_log);
        result
    }

    fn run_with_retries(
        &mut self,
        ctx: &PlayCtx,
        task: &Task,
        frame: &Frame,
        host: &str,
        scope: &VarLayers,
        delegate: Option<&str>,
    ) -> Map<String, Json> {
        let no_log = self.no_log_for(task, frame, scope);
        let policy = match self.retry_policy(task, scope) {
            Ok(p) => p,
            Err(msg) => return obj(json!({"failed": true, "msg": msg})),
        };
        let mut attempt: u64 = 1;
        loop {
            let mut result = self.execute_action(ctx, task, frame, host, scope, delegate);
            if result.contains_key("unreachable") || super::loop_abort::raised(&result) {
                return result;
            }
            if policy.total > 1 {
                result.insert("attempts".into(), json!(attempt));
            }
            self.apply_result_keywords(task, frame, scope, &mut result);
            if policy.total <= 1 {
                return result;
            }
            let done = match task.keywords.get("until") {
                Some(node) => {
                    let rscope = self.scope_with_registered(task, scope, &result);
                    match self.eval_conditions(node, &rscope) {
                        Ok(b) => b,
                        Err(e) => {
                            result.insert("failed".into(), Json::Bool(true));
                            result.insert("msg".into(), Json::String(e));
                            return result;
                        }
                    }
                }
                None => result.get("failed") != Some(&Json::Bool(true)),
            };
            if done {
                return result;
            }
            if attempt >= policy.total {
                // Out of attempts: Ansible reports one less than it ran.
                result.insert("attempts".into(), json!(policy.total - 1));
                result.insert("failed".into(), Json::Bool(true));
                return result;
            }
            result.insert("_ansible_retry".into(), Json::Bool(true));
            result.insert("retries".into(), json!(policy.total));
            super::control::stamp_no_log(&mut result, no_log);
            // Printed once, by the first walk that gets here (prefetch.rs):
            // under `free`, as the retry happens.
            let view = self.ctl.current_view.clone();
            if let Some(view) = view.filter(|_| self.prefetch.progress_line_due(host)) {
                let shown = super::results::clean_copy(&result);
                self.callback.runner_retry(&ResultView {
                    host,
                    task: &view,
                    result: &shown,
                });
            }
            // Recorded walks leave the wait to the call's start (the free
            // strategy's hosts wait side by side).
            if self.prefetch.wait_before_call(host, policy.delay) {
                std::thread::sleep(policy.delay);
            }
            attempt += 1;
        }
    }

    /// `retries` (templated, negative counts as 0) and `delay` (5 seconds by
    /// default, negative counts as 1). Without `until` or `retries` the
    /// action runs once.
    fn retry_policy(&self, task: &Task, scope: &VarLayers) -> Result<RetryPolicy, String> {
        let number = |name: &str| -> Result<Option<f64>, String> {
            let Some(node) = task.keywords.get(name) else {
                return Ok(None);
            };
            let v = self
                .templar
                .template(&from_yaml(node), scope)
                .map_err(|e| e.to_string())?;
            value_as_number(&v).map(Some).ok_or_else(|| {
                format!("the field '{name}' has an invalid value ({v}), and could not be converted to an int. The error was: invalid literal for int() with base 10: '{v}'")
            })
        };
        let retries = number("retries")?;
        let until = task.keywords.contains_key("until");
        let total = match retries {
            Some(n) => 1 + n.max(0.0) as u64,
            None if until => 4,
            None => 1,
        };
        let delay = number("delay")?.unwrap_or(5.0);
        let delay = if delay < 0.0 { 1.0 } else { delay };
        Ok(RetryPolicy {
            total,
            delay: Duration::from_secs_f64(delay),
        })
    }
}

fn value_as_number(v: &Value) -> Option<f64> {
    if let Some(s) = v.as_str() {
        return s.trim().parse::<f64>().ok();
    }
    if let Ok(i) = i64::try_from(v.clone()) {
        return Some(i as f64);
    }
    f64::try_from(v.clone()).ok()
}
