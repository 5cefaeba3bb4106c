//! `reboot` on several hosts at once: the hosts of a task reboot side by
//! side, up to `forks` at a time, as Ansible's workers do, instead of one
//! host's whole wait after the other's.
//!
//! 1. *issue*: each host's execution is walked once with the reboot action
//!    stopping after its shutdown command (reboot.rs `reboot_issue`); what
//!    the wait needs, or the result when the task ended there, is kept;
//! 2. *wait*: one loop over all waiting hosts, each with its own schedule
//!    (its `post_reboot_delay`, the plugin's backoff between tries, its
//!    `reboot_timeout` per wait): the host whose next try is due goes next;
//! 3. the normal per-host walk then finds each host's result where the
//!    action would have rebooted it, and reports it in host order.
//!
//! The tries themselves run one at a time on the controller (a try is one
//! short command); what overlaps is the hosts' downtime and waiting.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use rsible_playbook::Task;
use serde_json::{json, Map, Value as Json};

use super::reboot::{backoff, rebooted, rebooted_but, timed_out, Issued, BOOT_CHECK, TEST_CHECK};
use super::{short_action, Executor, PlayCtx};
use crate::frame::Frame;
use crate::output::default_callback::Sink;

type TaskResult = Map<String, Json>;

enum Entry {
    // Boxed: an issued reboot carries its connection targets (hundreds of bytes).
    Waiting { action: String, issued: Box<Issued> },
    Done(TaskResult),
}

/// The hosts of the current reboot task, between steps 1 and 3.
#[derive(Default)]
pub(super) struct RebootBatch {
    issuing: bool,
    hosts: HashMap<String, Entry>,
}

impl RebootBatch {
    /// True during step 1: the reboot action issues and records, no more.
    pub(super) fn issuing(&self) -> bool {
        self.issuing
    }

    /// Step 1's outcome for `host`: issued, or the task's result already.
    pub(super) fn record(&mut self, host: &str, action: &str, issued: Result<Issued, TaskResult>) {
        let entry = match issued {
            Ok(issued) => Entry::Waiting {
                action: action.to_string(),
                issued: Box::new(issued),
            },
            Err(result) => Entry::Done(result),
        };
        self.hosts.insert(host.to_string(), entry);
    }

    /// Step 3: the result the batch reached for `host`, if it has one.
    pub(super) fn take_result(&mut self, host: &str) -> Option<TaskResult> {
        match self.hosts.remove(host)? {
            Entry::Done(result) => Some(result),
            waiting @ Entry::Waiting { .. } => {
                self.hosts.insert(host.to_string(), waiting);
                None
            }
        }
    }

    pub(super) fn clear(&mut self) {
        self.issuing = false;
        self.hosts.clear();
    }
}

/// Which wait a host is in.
#[derive(Clone, Copy, PartialEq)]
enum Stage {
    /// Until the boot id changed.
    Boot,
    /// Until `test_command` succeeds.
    Test,
}

/// A waiting host's schedule: as `until_success` runs it, host by host.
struct Schedule {
    host: String,
    action: String,
    issued: Issued,
    stage: Stage,
    fails: u32,
    next_try: Instant,
    /// When the current wait times out.
    end: Instant,
}

/// A `reboot` task that can be run this way: no loop (its items would
/// reboot one host several times), no `until`, `run_once` or `throttle`.
fn qualifies(task: &Task, frame: &Frame) -> bool {
    let action = short_action(task.resolved_action.as_deref().unwrap_or(&task.action));
    action == "reboot"
        && task.loop_items.is_none()
        && ["until", "retries", "run_once", "throttle"]
            .iter()
            .all(|k| frame.keyword(task, k).is_none())
}

impl<S: Sink> Executor<'_, S> {
    /// Steps 1 and 2 for a `reboot` task on `hosts`, when it qualifies.
    pub(super) fn reboot_side_by_side(
        &mut self,
        ctx: &PlayCtx,
        task: &Task,
        frame: &Frame,
        hosts: &[String],
    ) {
        let forks = self.options.forks.max(1);
        if forks < 2 || hosts.len() < 2 || !qualifies(task, frame) {
            return;
        }
        // The arguments each walk templates are the same in step 3.
        self.prefetch.memo.start(hosts);
        for chunk in hosts.chunks(forks) {
            self.prefetch.reboots.issuing = true;
            for host in chunk {
                self.prefetch.memo.rewind(host);
                let scope = self.scope_for(ctx, host, frame, Some(task));
                let _ = self.run_on_host(ctx, task, frame, host, &scope);
            }
            self.prefetch.reboots.issuing = false;
            self.wait_for_reboots(chunk);
        }
        self.prefetch.memo.rewind_all();
    }

    /// Step 2 for the hosts of `chunk` that issued a reboot.
    fn wait_for_reboots(&mut self, chunk: &[String]) {
        let mut waiting: Vec<Schedule> = Vec::new();
        for host in chunk {
            let Some(Entry::Waiting { action, issued }) = self.prefetch.reboots.hosts.remove(host)
            else {
                continue;
            };
            let first = issued.start + Duration::from_secs(issued.post_reboot_delay);
            waiting.push(Schedule {
                host: host.clone(),
                action,
                end: first + Duration::from_secs(issued.timeout),
                issued: *issued,
                stage: Stage::Boot,
                fails: 0,
                next_try: first,
            });
        }
        while let Some(i) = (0..waiting.len()).min_by_key(|i| waiting[*i].next_try) {
            let now = Instant::now();
            if waiting[i].next_try > now {
                std::thread::sleep(waiting[i].next_try - now);
            }
            let w = &mut waiting[i];
            if Instant::now() >= w.end {
                let desc = if w.stage == Stage::Boot {
                    BOOT_CHECK
                } else {
                    TEST_CHECK
                };
                let result = rebooted_but(timed_out(desc, w.issued.timeout));
                let w = waiting.swap_remove(i);
                self.reboot_done(w, result);
                continue;
            }
            let tried = match w.stage {
                Stage::Boot => {
                    self.runner.forget(&w.issued.probe);
                    self.reboot_boot_changed(&w.action, &w.issued)
                }
                Stage::Test => {
                    self.runner.forget(&w.issued.target);
                    self.reboot_test_passes(&w.issued)
                }
            };
            let now = Instant::now();
            match (tried.is_ok(), w.stage) {
                (true, Stage::Boot) => {
                    w.stage = Stage::Test;
                    w.fails = 0;
                    w.next_try = now;
                    w.end = now + Duration::from_secs(w.issued.timeout);
                }
                (true, Stage::Test) => {
                    let w = waiting.swap_remove(i);
                    self.reboot_done(w, rebooted());
                }
                (false, _) => {
                    w.next_try = now + backoff(w.fails);
                    w.fails += 1;
                }
            }
        }
    }

    fn reboot_done(&mut self, w: Schedule, mut result: TaskResult) {
        result.insert("elapsed".into(), json!(w.issued.start.elapsed().as_secs()));
        self.prefetch
            .reboots
            .hosts
            .insert(w.host, Entry::Done(result));
    }
}
