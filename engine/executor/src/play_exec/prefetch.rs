//! Running one task's module calls on many hosts side by side (`forks`).
//!
//! The executor walks a task's hosts one at a time, which keeps its output
//! and state changes in host order. For the common task — one module call per
//! host, no loop, no `until` — the calls are made in three steps:
//! 1. *record*: each host's execution is walked with the runner replaced by a
//!    recorder: templating, conditions and connection settings are worked out,
//!    and the one module call it would make is written down instead of made;
//! 2. *run*: the recorded calls run together, at most `forks` at a time;
//! 3. the normal per-host walk then finds each host's outcome ready where it
//!    would have called the runner, and goes on as before (results keywords,
//!    register, output).
//!
//! Step 1 never reaches a target, so nothing runs twice: while it runs the
//! executor's runner is a guard that refuses every call, and a host whose walk
//! asks for a second call (an action that needs several) or reaches the runner
//! by another way (the Python fallback) is dropped from the batch and runs
//! normally in step 3.

use std::cell::Cell;
use std::collections::HashMap;

use rsible_playbook::Task;
use serde_json::{Map, Value as Json};

use super::{short_action, Executor, PlayCtx};
use crate::frame::Frame;
use crate::output::default_callback::Sink;
use crate::target::{
    CallOutcome, CallSettings, PlannedCall, PythonCall, PythonOutput, TargetRunner, TargetSpec,
    Unreachable,
};

/// Actions run on the controller, or through several module calls: never prefetched.
const NOT_PREFETCHED: &[&str] = &[
    "debug",
    "set_fact",
    "fail",
    "assert",
    "template",
    "copy",
    "fetch",
    "include_vars",
    "add_host",
    "group_by",
    "pause",
    "set_stats",
    "meta",
    "wait_for_connection",
    "reboot",
];

thread_local! {
    /// Set when the guard runner was reached during the current host's walk.
    static GUARD_TOUCHED: Cell<bool> = const { Cell::new(false) };
}

/// The runner in place during step 1: nothing may reach a target then.
struct RecordingGuard;

impl TargetRunner for RecordingGuard {
    fn run_module(
        &mut self,
        _target: &TargetSpec,
        _module: &str,
        _args: &Json,
        _settings: &CallSettings,
    ) -> CallOutcome {
        GUARD_TOUCHED.with(|t| t.set(true));
        Err(Unreachable("(prefetch: not run)".into()))
    }

    fn run_python(
        &mut self,
        _target: &TargetSpec,
        _call: &PythonCall,
    ) -> Result<Result<PythonOutput, String>, Unreachable> {
        GUARD_TOUCHED.with(|t| t.set(true));
        Err(Unreachable("(prefetch: not run)".into()))
    }
}

/// Where the recorder stands for one host.
enum Recorded {
    Call(Box<PlannedCall>),
    /// The execution asked for more than one call: run it normally.
    Several,
}

#[derive(Default)]
pub(super) struct PrefetchState {
    /// `Some` while step 1 runs: what each host's execution asked for.
    recording: Option<HashMap<String, Recorded>>,
    /// Outcomes from step 2, taken by the host's execution in step 3.
    ready: HashMap<String, CallOutcome>,
}

/// What `module_call` should do with a call.
pub(super) enum Intercept {
    /// Step 1: do not call; return this placeholder.
    Recorded(Map<String, Json>),
    /// Step 3: the call already ran; this is its outcome.
    Ready(CallOutcome),
    /// Call the runner as usual.
    Call,
}

impl PrefetchState {
    /// Called by `module_call` before it reaches the runner.
    pub(super) fn intercept(&mut self, host: &str, call: PlannedCall) -> Intercept {
        if let Some(recording) = self.recording.as_mut() {
            match recording.get(host) {
                None => {
                    recording.insert(host.to_string(), Recorded::Call(Box::new(call)));
                }
                Some(_) => {
                    recording.insert(host.to_string(), Recorded::Several);
                }
            }
            let mut placeholder = Map::new();
            placeholder.insert("failed".into(), Json::Bool(true));
            placeholder.insert("msg".into(), Json::String("(prefetch placeholder)".into()));
            return Intercept::Recorded(placeholder);
        }
        match self.ready.remove(host) {
            Some(outcome) => Intercept::Ready(outcome),
            None => Intercept::Call,
        }
    }

    /// Step 1 reached a path that must not run from a placeholder (a
    /// Python module: its interpreter discovery is remembered per host):
    /// `host` runs normally in step 3. Returns whether step 1 is running.
    pub(super) fn refuse_while_recording(&mut self, host: &str) -> bool {
        match self.recording.as_mut() {
            Some(recording) => {
                recording.insert(host.to_string(), Recorded::Several);
                true
            }
            None => false,
        }
    }

    /// Drops outcomes no execution took (a host that left the batch).
    pub(super) fn clear(&mut self) {
        self.ready.clear();
    }
}

impl<'a, S: Sink> Executor<'a, S> {
    /// Steps 1 and 2 for `task` on `hosts`, when the task qualifies.
    pub(super) fn prefetch_task(
        &mut self,
        ctx: &PlayCtx,
        task: &Task,
        frame: &Frame,
        hosts: &[String],
    ) {
        self.prefetch.clear();
        let forks = self.options.forks.max(1);
        if forks < 2 || hosts.len() < 2 || !qualifies(task, frame) {
            return;
        }
        self.prefetch_calls(hosts, forks, |ex, host| {
            let scope = ex.scope_for(ctx, host, frame, Some(task));
            if ex.check_conditions(task, frame, &scope).is_some() {
                return;
            }
            let Ok(delegate) = ex.resolve_delegate(task, frame, &scope) else {
                return;
            };
            let _ = ex.execute_action(ctx, task, frame, host, &scope, delegate.as_deref());
        });
    }

    /// Step 1 with `walk` (one host's execution up to its module call), then
    /// step 2. Used for tasks and for the implicit fact gathering.
    pub(super) fn prefetch_calls(
        &mut self,
        hosts: &[String],
        forks: usize,
        mut walk: impl FnMut(&mut Self, &str),
    ) {
        // Outcomes left by a task that stopped early must never reach this one.
        self.prefetch.clear();
        if forks < 2 || hosts.len() < 2 {
            return;
        }
        self.prefetch.recording = Some(HashMap::new());
        // A zero-sized guard: leaking it allocates nothing.
        let real = std::mem::replace(&mut self.runner, Box::leak(Box::new(RecordingGuard)));
        for host in hosts {
            GUARD_TOUCHED.with(|t| t.set(false));
            walk(self, host);
            if GUARD_TOUCHED.with(|t| t.get()) {
                if let Some(rec) = self.prefetch.recording.as_mut() {
                    rec.insert(host.clone(), Recorded::Several);
                }
            }
        }
        self.runner = real;
        let recorded = self.prefetch.recording.take().unwrap_or_default();
        let (names, calls): (Vec<String>, Vec<PlannedCall>) = hosts
            .iter()
            .filter_map(|h| match recorded.get(h) {
                Some(Recorded::Call(c)) => Some((h.clone(), (**c).clone())),
                _ => None,
            })
            .unzip();
        if calls.len() < 2 {
            return;
        }
        let outcomes = self.runner.run_many(&calls, forks);
        self.prefetch.ready = names.into_iter().zip(outcomes).collect();
    }
}

/// A task whose execution is exactly one module call per host.
fn qualifies(task: &Task, frame: &Frame) -> bool {
    if task.loop_items.is_some() || task.kind != rsible_playbook::TaskKind::Module {
        return false;
    }
    // `async` tasks poll between calls (async_task.rs).
    for keyword in [
        "until",
        "retries",
        "run_once",
        "throttle",
        "async",
        "async_val",
    ] {
        if frame.keyword(task, keyword).is_some() {
            return false;
        }
    }
    let resolved = task.resolved_action.as_deref().unwrap_or(&task.action);
    // Only native modules: a Python module's interpreter discovery and
    // payload are per-host state that step 1 must not settle from a
    // placeholder; `package`/`service` pick their module from facts.
    if !rsible_modules::modules::is_native(resolved)
        || super::python_fallback::is_library_override(resolved)
    {
        return false;
    }
    let action = short_action(resolved);
    !NOT_PREFETCHED.contains(&action.as_str()) && action != "package" && action != "service"
}
