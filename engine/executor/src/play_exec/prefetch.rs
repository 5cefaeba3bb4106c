//! Running one task's module calls on many hosts side by side (`forks`).
//!
//! The executor walks a task's hosts one at a time, which keeps its output
//! and state changes in host order. The module calls of a task (one per
//! host, or several: a loop's items, `template`'s slurp then copy in diff
//! mode) are made beforehand, round by round:
//! 1. *record*: each host's execution is walked with the runner replaced by a
//!    recorder: the calls made in earlier rounds are answered with their
//!    outcomes, and the first call beyond them is written down instead of
//!    made (later ones get a placeholder and are not kept);
//! 2. *run*: the calls written down run together, at most `forks` at a time;
//!    then back to 1, until no host asks for a new call;
//! 3. the normal per-host walk then finds each of its calls' outcomes ready
//!    where it would have called the runner, and goes on as before (results
//!    keywords, register, output).
//!
//! A host's k-th call is only made once its earlier calls have their real
//! outcomes, so a call never depends on a placeholder, and nothing runs
//! twice: while step 1 runs, the executor's runner is a guard that refuses
//! every call, and a host whose walk reaches the runner by another way (the
//! Python fallback) leaves the batch: its remaining calls run normally in
//! step 3, after the outcomes it already has.
//!
//! Calls of one host stay in their order; calls of different hosts
//! interleave, which is why a target reached on behalf of two hosts
//! (`delegate_to`) keeps only the first of them in the batch.

use std::cell::Cell;
use std::collections::{HashMap, HashSet, VecDeque};
use std::time::Duration;

use rsible_playbook::Task;
use serde_json::{Map, Value as Json};

use super::{short_action, Executor, PlayCtx};
use crate::frame::Frame;
use crate::output::default_callback::Sink;
use crate::target::{
    CallOutcome, CallSettings, PlannedCall, PythonCall, PythonOutput, TargetRunner, TargetSpec,
    Unreachable,
};

/// Actions run on the controller, or through calls that depend on each
/// other's results: never prefetched.
const NOT_PREFETCHED: &[&str] = &[
    "debug",
    "set_fact",
    "fail",
    "assert",
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

/// Actions the executor carries out through native modules of another name
/// (`script`: command, copy, file).
const EXECUTOR_ACTIONS: &[&str] = &["template", "copy", "script"];

/// Rounds of calls per task at most: a walk repeats the calls before its
/// round, so a long loop costs its length squared in (controller) walks;
/// past this many, the rest of a host's calls run one by one in step 3.
const MAX_ROUNDS: usize = 32;

/// The same for an `async` task, whose walks are short (a start, then one
/// `async_status` per poll, each walk answering all earlier polls again):
/// Kubespray's drains (poll 15, limits of a few minutes) fit well within;
/// a job polled every second past four minutes has its later polls made
/// host by host in step 3.
const MAX_ASYNC_ROUNDS: usize = 256;

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

    fn put_file(
        &mut self,
        _target: &TargetSpec,
        _data: &[u8],
        _path: &str,
        _mode: Option<u32>,
    ) -> Result<Result<u64, String>, Unreachable> {
        GUARD_TOUCHED.with(|t| t.set(true));
        Err(Unreachable("(prefetch: not run)".into()))
    }
}

/// One host's calls for the current task.
#[derive(Default)]
struct HostCalls {
    /// Calls made in earlier rounds, with their outcomes, in order; step 3
    /// takes them from the front.
    done: VecDeque<(PlannedCall, CallOutcome)>,
    /// How many of `done` the current recording walk has been answered.
    cursor: usize,
    /// The call the current recording walk asked for after all of `done`.
    next: Option<PlannedCall>,
    /// Out of the batch: no more calls are recorded for this host.
    left: bool,
    /// The walk asked to wait this long before its next call (an async
    /// job's poll interval, see `wait_before_call`).
    wait: Option<Duration>,
    /// The wait that goes with `next`.
    next_wait: Option<Duration>,
    /// Progress lines (`until` retries, async polls) are printed by the
    /// first walk that reaches them, recording or not (the `free`
    /// strategy: as they happen); else only by the real walk.
    live_lines: bool,
    /// How many progress lines were printed, and how many the current walk
    /// reached.
    lines_shown: usize,
    lines_walked: usize,
}

#[derive(Default)]
pub(super) struct PrefetchState {
    /// True while step 1 walks a host.
    recording: bool,
    hosts: HashMap<String, HostCalls>,
    /// What each host's walks templated (`prefetch_memo.rs`).
    pub(super) memo: super::prefetch_memo::TemplatedOnce,
    /// A `reboot` task's hosts rebooting side by side (`reboot_batch.rs`).
    pub(super) reboots: super::reboot_batch::RebootBatch,
    /// Python-module runs are recorded like native calls (the `free`
    /// strategy's walks, `record_next_call`); else a walk reaching one
    /// leaves the batch.
    python_recordable: bool,
    /// The interpreter a recording walk discovered, by host: the walk goes
    /// on with it without writing the fact, which the real walk does.
    discovered: HashMap<String, String>,
}

/// What `module_call` should do with a call.
pub(super) enum Intercept {
    /// Step 1: do not call; return this placeholder.
    Recorded(Map<String, Json>),
    /// The call already ran; this is its outcome.
    Ready(CallOutcome),
    /// Call the runner as usual.
    Call,
}

/// Whether `call` is the call `made` stands for. Arguments are left out:
/// they may differ between walks only through a template that does not
/// give the same text twice (`random`, `now()`), and the outcome of the one
/// call actually made is then the one to use (it is never made twice).
fn same_call(made: &PlannedCall, call: &PlannedCall) -> bool {
    made.module == call.module && made.target == call.target && made.settings == call.settings
}

fn placeholder() -> Map<String, Json> {
    let mut placeholder = Map::new();
    placeholder.insert("failed".into(), Json::Bool(true));
    placeholder.insert("msg".into(), Json::String("(prefetch placeholder)".into()));
    placeholder
}

impl PrefetchState {
    /// Called by `module_call` before it reaches the runner.
    pub(super) fn intercept(&mut self, host: &str, call: PlannedCall) -> Intercept {
        let recording = self.recording;
        let Some(calls) = self.hosts.get_mut(host) else {
            return if recording {
                Intercept::Recorded(placeholder())
            } else {
                Intercept::Call
            };
        };
        if !recording {
            return match calls.done.pop_front() {
                Some((made, outcome)) if same_call(&made, &call) => Intercept::Ready(outcome),
                Some(_) => {
                    // The walk went another way than when recorded: what is
                    // left cannot be trusted; the rest runs as usual.
                    calls.done.clear();
                    self.memo.forget(host);
                    Intercept::Call
                }
                None => Intercept::Call,
            };
        }
        if calls.left || calls.next.is_some() {
            return Intercept::Recorded(placeholder());
        }
        let wait = calls.wait.take();
        match calls.done.get(calls.cursor) {
            Some((made, outcome)) if same_call(made, &call) => {
                calls.cursor += 1;
                Intercept::Ready(outcome.clone())
            }
            Some(_) => {
                calls.left = true;
                Intercept::Recorded(placeholder())
            }
            None => {
                calls.next = Some(call);
                calls.next_wait = wait;
                Intercept::Recorded(placeholder())
            }
        }
    }

    /// Whether the host being recorded has nothing more to give this round
    /// (its next call is written down, or it left the batch): a loop can
    /// stop walking its remaining items.
    pub(super) fn walk_can_stop(&self, host: &str) -> bool {
        self.recording
            && self
                .hosts
                .get(host)
                .is_some_and(|c| c.left || c.next.is_some())
    }

    /// Step 1 reached a path that must not run from a placeholder (a
    /// Python module: its interpreter discovery is remembered per host):
    /// `host` leaves the batch. Returns whether step 1 is running.
    pub(super) fn refuse_while_recording(&mut self, host: &str) -> bool {
        if !self.recording {
            return false;
        }
        if let Some(calls) = self.hosts.get_mut(host) {
            calls.left = true;
            calls.next = None;
        }
        true
    }

    /// The walk of `host` is about to wait `wait` before its next call (an
    /// async job's poll interval). Returns whether the caller must sleep:
    /// not while recording (the round sleeps once for all hosts before it
    /// runs the call) nor when that call's outcome is ready (it did).
    pub(super) fn wait_before_call(&mut self, host: &str, wait: Duration) -> bool {
        let Some(calls) = self.hosts.get_mut(host) else {
            return !self.recording;
        };
        if self.recording {
            if !calls.left && calls.next.is_none() {
                calls.wait = Some(wait);
            }
            return false;
        }
        calls.done.is_empty()
    }

    /// True while step 1 walks a host: what the walk prints is not shown.
    pub(super) fn is_recording(&self) -> bool {
        self.recording
    }

    /// Whether the progress line (an `until` retry, an async poll) the walk
    /// of `host` reached is to be printed now (see `live_lines`).
    pub(super) fn progress_line_due(&mut self, host: &str) -> bool {
        let recording = self.recording;
        match self.hosts.get_mut(host) {
            Some(calls) if calls.live_lines => {
                // Past a placeholder the walk has no real outcome to tell of.
                if recording && (calls.left || calls.next.is_some()) {
                    return false;
                }
                let reached = calls.lines_walked;
                calls.lines_walked += 1;
                if reached < calls.lines_shown {
                    return false;
                }
                calls.lines_shown = reached + 1;
                true
            }
            _ => !recording,
        }
    }

    /// Whether a Python-module run is recorded as a call now (see
    /// `python_recordable`).
    pub(super) fn records_python(&self) -> bool {
        self.recording && self.python_recordable
    }

    /// The interpreter discovered for `host` earlier in this recording walk.
    pub(super) fn discovered_in_walk(&self, host: &str) -> Option<String> {
        if !self.recording {
            return None;
        }
        self.discovered.get(host).cloned()
    }

    /// Keeps what a recording walk discovered (see `discovered`).
    pub(super) fn remember_discovered(&mut self, host: &str, interpreter: &str) {
        self.discovered
            .insert(host.to_string(), interpreter.to_string());
    }

    /// Drops outcomes no execution took (a host that left the batch).
    pub(super) fn clear(&mut self) {
        self.recording = false;
        self.python_recordable = false;
        self.discovered.clear();
        self.hosts.clear();
        self.memo.clear();
        self.reboots.clear();
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
        self.reboot_side_by_side(ctx, task, frame, hosts);
        if forks < 2 || hosts.len() < 2 || !qualifies_in_rounds(task, frame) {
            return;
        }
        // An async job polled every few seconds takes a round per poll.
        let max_rounds = if is_async(task, frame) {
            MAX_ASYNC_ROUNDS
        } else {
            MAX_ROUNDS
        };
        self.prefetch_rounds(hosts, forks, max_rounds, |ex, host| {
            let scope = ex.scope_for(ctx, host, frame, Some(task));
            let _ = ex.run_on_host(ctx, task, frame, host, &scope);
        });
    }

    /// Steps 1 and 2 for a walk that makes one call per host (the implicit
    /// fact gathering): a single round. The recording walk a second round starts
    /// with would only find that no host has another call, at the price of a
    /// copy of every host's outcome (a gathering's: all its facts) and a walk.
    /// Should a host make a second call after all, it runs in step 3.
    pub(super) fn prefetch_one_call(
        &mut self,
        hosts: &[String],
        forks: usize,
        walk: impl FnMut(&mut Self, &str),
    ) {
        self.prefetch_rounds(hosts, forks, 1, walk)
    }

    fn prefetch_rounds(
        &mut self,
        hosts: &[String],
        forks: usize,
        max_rounds: usize,
        mut walk: impl FnMut(&mut Self, &str),
    ) {
        // Outcomes left by a task that stopped early must never reach this one.
        self.prefetch.clear();
        if forks < 2 || hosts.len() < 2 {
            return;
        }
        self.prefetch.hosts = hosts
            .iter()
            .map(|h| (h.clone(), HostCalls::default()))
            .collect();
        self.prefetch.memo.start(hosts);
        let mut targets_seen: HashMap<TargetSpec, String> = HashMap::new();
        for round in 0..max_rounds {
            self.record_round(hosts, &mut walk);
            let mut names = Vec::new();
            let mut calls = Vec::new();
            let mut wait = Duration::ZERO;
            for host in hosts {
                let Some(entry) = self.prefetch.hosts.get_mut(host) else {
                    continue;
                };
                let Some(call) = entry.next.take() else {
                    continue;
                };
                let call_wait = entry.next_wait.take().unwrap_or_default();
                // A target another host of the batch reaches: its calls
                // would interleave with that host's, not follow them.
                let owner = targets_seen
                    .entry(call.target.clone())
                    .or_insert_with(|| host.clone());
                if owner != host {
                    entry.left = true;
                    continue;
                }
                names.push(host.clone());
                calls.push(call);
                wait = wait.max(call_wait);
            }
            if calls.is_empty() || (round == 0 && calls.len() < 2) {
                break;
            }
            // The hosts' poll intervals run out together.
            std::thread::sleep(wait);
            let outcomes = self.runner.run_many(&calls, forks);
            for ((host, call), outcome) in names.into_iter().zip(calls).zip(outcomes) {
                if let Some(entry) = self.prefetch.hosts.get_mut(&host) {
                    entry.done.push_back((call, outcome));
                }
            }
        }
        self.prefetch.recording = false;
        let kept: HashSet<&String> = hosts.iter().collect();
        let memo = &self.prefetch.memo;
        self.prefetch.hosts.retain(|h, c| {
            c.next = None;
            kept.contains(h) && (!c.done.is_empty() || memo.has(h))
        });
        // The per-host walk that follows reads the memo from its start.
        self.prefetch.memo.rewind_all();
    }

    /// Step 1: every host still in the batch walked once, the runner guarded.
    fn record_round(&mut self, hosts: &[String], walk: &mut impl FnMut(&mut Self, &str)) {
        self.prefetch.recording = true;
        // A zero-sized guard: leaking it allocates nothing.
        let real = std::mem::replace(&mut self.runner, Box::leak(Box::new(RecordingGuard)));
        for host in hosts {
            match self.prefetch.hosts.get_mut(host) {
                Some(entry) if !entry.left => {
                    entry.cursor = 0;
                    entry.lines_walked = 0;
                    entry.next = None;
                }
                _ => continue,
            }
            self.prefetch.memo.rewind(host);
            GUARD_TOUCHED.with(|t| t.set(false));
            walk(self, host);
            if GUARD_TOUCHED.with(|t| t.get()) {
                if let Some(entry) = self.prefetch.hosts.get_mut(host) {
                    entry.left = true;
                    entry.next = None;
                }
            }
        }
        self.runner = real;
        self.prefetch.recording = false;
    }
}

/// One host's calls for its current task under the `free` strategy, kept
/// aside while other hosts run theirs (see `strategy/free_calls.rs`).
#[derive(Default)]
pub(super) struct ParkedCalls(HostCalls);

impl ParkedCalls {
    /// The outcome of the call the last recording asked for.
    pub(super) fn push(&mut self, call: PlannedCall, outcome: CallOutcome) {
        self.0.done.push_back((call, outcome));
    }
}

impl<'a, S: Sink> Executor<'a, S> {
    /// Step 1 for one host: walks it once with the outcomes in `parked` and
    /// returns the next call it asks for, with the wait it asked for before
    /// it; None when it needs no further call (or left the batch: its
    /// remaining calls are made by the walk), or after `max_rounds` calls.
    /// Python-module runs are recorded as calls here.
    pub(super) fn record_next_call(
        &mut self,
        host: &str,
        parked: &mut ParkedCalls,
        max_rounds: usize,
        mut walk: impl FnMut(&mut Self, &str),
    ) -> Option<(PlannedCall, Duration)> {
        if parked.0.done.len() >= max_rounds {
            return None;
        }
        self.prefetch.clear();
        let mut calls = std::mem::take(&mut parked.0);
        calls.live_lines = true;
        self.prefetch.hosts.insert(host.to_string(), calls);
        self.prefetch.python_recordable = true;
        self.record_round(&[host.to_string()], &mut walk);
        let mut calls = self.prefetch.hosts.remove(host).unwrap_or_default();
        self.prefetch.clear();
        let next = calls.next.take().filter(|_| !calls.left);
        let wait = calls.next_wait.take().unwrap_or_default();
        calls.cursor = 0;
        parked.0 = calls;
        next.map(|call| (call, wait))
    }

    /// Step 3 for one host: its outcomes in place for the walk that follows.
    pub(super) fn install_parked(&mut self, host: &str, mut parked: ParkedCalls) {
        self.prefetch.clear();
        if !parked.0.done.is_empty() || parked.0.lines_shown > 0 {
            parked.0.lines_walked = 0;
            self.prefetch.hosts.insert(host.to_string(), parked.0);
        }
    }
}

/// A task whose calls the `free` strategy can record ahead, one call at a
/// time (`strategy/free_run.rs`): a module of the agent, `template`/`copy`,
/// or a Python module (the fallback), with or without a loop, `until`,
/// `async` or `throttle` (the scheduler honours it); not a loop over a
/// command's output (items computed once need the memo), nor the actions
/// the executor carries out itself (controller actions, `raw`, `reboot`,
/// `package`/`service`, which pick their module from facts).
pub(super) fn qualifies(task: &Task, frame: &Frame) -> bool {
    if task.kind != rsible_playbook::TaskKind::Module
        || frame.keyword(task, "run_once").is_some()
        || matches!(task.loop_with.as_deref(), Some("lines" | "pipe"))
        || (task.loop_items.is_some() && !loop_qualifies(task, frame))
    {
        return false;
    }
    let resolved = task.resolved_action.as_deref().unwrap_or(&task.action);
    let action = short_action(resolved);
    if super::python_fallback::is_library_override(resolved)
        || EXECUTOR_ACTIONS.contains(&action.as_str())
    {
        return true;
    }
    !NOT_PREFETCHED.contains(&action.as_str()) && !FREE_FOREGROUND.contains(&action.as_str())
}

/// Actions the executor carries out itself beside `NOT_PREFETCHED`: run
/// when the host reaches them under `free`.
const FREE_FOREGROUND: &[&str] = &[
    "package",
    "service",
    "raw",
    "async_status",
    "gather_facts",
    "include_tasks",
    "include_role",
    "import_tasks",
    "import_role",
];

/// How many calls the `free` strategy records for one task at most: each
/// walk answers all earlier calls again, so a long loop costs its length
/// squared in walks; `until` retries and async polls are short walks.
pub(super) fn free_max_rounds(task: &Task, frame: &Frame) -> usize {
    let repeats = ["until", "retries"]
        .iter()
        .any(|k| frame.keyword(task, k).is_some());
    if repeats || is_async(task, frame) {
        MAX_ASYNC_ROUNDS
    } else {
        MAX_ROUNDS
    }
}

fn is_async(task: &Task, frame: &Frame) -> bool {
    ["async", "async_val"]
        .iter()
        .any(|k| frame.keyword(task, k).is_some())
}

/// A task whose calls can be made ahead, round by round (see the module's
/// comment): a module of the agent, or `template`/`copy`, with or without a
/// loop.
fn qualifies_in_rounds(task: &Task, frame: &Frame) -> bool {
    if task.kind != rsible_playbook::TaskKind::Module {
        return false;
    }
    // `until` reports each retry as it happens; `run_once`/`throttle`
    // change which hosts run at once. An `async` task's polls are calls
    // like others, the wait before each made once per round for all hosts
    // (`wait_before_call`).
    for keyword in ["until", "retries", "run_once", "throttle"] {
        if frame.keyword(task, keyword).is_some() {
            return false;
        }
    }
    if task.loop_items.is_some() && !loop_qualifies(task, frame) {
        return false;
    }
    let resolved = task.resolved_action.as_deref().unwrap_or(&task.action);
    let action = short_action(resolved);
    if super::python_fallback::is_library_override(resolved) {
        return false;
    }
    if EXECUTOR_ACTIONS.contains(&action.as_str()) {
        return true;
    }
    // Only native modules: a Python module's interpreter discovery and
    // payload are per-host state that step 1 must not settle from a
    // placeholder; `package`/`service` pick their module from facts.
    rsible_modules::modules::is_native(resolved)
        && !NOT_PREFETCHED.contains(&action.as_str())
        && action != "package"
        && action != "service"
}

/// A loop whose walk can be repeated: no `pause` between items (a walk
/// would sleep) and no per-item `delegate_to` (one host's calls could reach
/// another host's target out of order). Its items are computed once per
/// host however many walks (`prefetch_memo.rs`), so `with_lines` and
/// `with_pipe` run their command once, as in Ansible.
fn loop_qualifies(task: &Task, frame: &Frame) -> bool {
    if frame.keyword(task, "delegate_to").is_some() {
        return false;
    }
    frame
        .keyword(task, "loop_control")
        .and_then(|n| n.as_map())
        .is_none_or(|m| m.get("pause").is_none())
}
