//! The `free` strategy (play keyword `strategy: free`, ansible.cfg `strategy`).
//!
//! Each host is given its next task without waiting for the others to
//! finish theirs: a cursor per host (`free_cursor.rs`), driven by the
//! scheduler of `free_run.rs`. As in ansible-core 2.18's free
//! strategy, `run_once`, `any_errors_fatal` and `max_fail_percentage` are not
//! supported and only warn (a `run_once` task runs on every host, one host's
//! failure never fails the others); actions that bypass the host loop
//! (`add_host`, `pause`) stop the run.
//!
//! Compiled as a child of `play_exec` (see its `mod free_strategy`), for the
//! executor's private walk.

#[path = "free_cursor.rs"]
mod cursor;
#[path = "free_run.rs"]
mod run;

pub(super) use run::FreeState;

use std::cell::RefCell;
use std::collections::HashSet;

use rsible_playbook::{Play, Task};

use super::{controller_actions, Executor, FatalError, PlayCtx};
use crate::frame::Frame;
use crate::output::default_callback::Sink;
use crate::output::display::{warning, DEFAULT_COLUMNS};

thread_local! {
    /// The warnings already printed.
    static WARNED: RefCell<HashSet<String>> = RefCell::new(HashSet::new());
}

/// `free` by either spelling.
fn names_free(name: &str) -> bool {
    let name = name.trim();
    name == "free" || name == "ansible.builtin.free"
}

impl<'a, S: Sink> Executor<'a, S> {
    /// Whether `play` runs with the free strategy: its `strategy` keyword,
    /// else the ansible.cfg setting.
    pub(super) fn play_is_free(&self, play: &Play) -> bool {
        match play.keywords.get("strategy").and_then(|n| n.as_str()) {
            Some(name) => names_free(name),
            None => names_free(&self.options.strategy),
        }
    }

    /// Runs one batch under the free strategy.
    pub(super) fn run_batch_free(
        &mut self,
        ctx: &PlayCtx,
        base: &Frame,
        batch: &[String],
    ) -> Result<(), FatalError> {
        if ctx.play.keywords.contains_key("max_fail_percentage") {
            self.free_warning(
                "Using max_fail_percentage with the free strategy is not supported, as tasks are \
                 executed independently on each host",
            );
        }
        self.callback.lazy_banners = true;
        let outcome = self.run_batch_per_host(ctx, base, batch);
        self.callback.lazy_banners = false;
        outcome
    }

    /// Checks made as the free strategy hands a task to a host: warnings
    /// for keywords it does not honour, an error for host-loop bypassing
    /// actions.
    pub(super) fn free_task_checks(
        &mut self,
        ctx: &PlayCtx,
        task: &Task,
        frame: &Frame,
        host: &str,
    ) -> Result<(), FatalError> {
        if !self.play_is_free(ctx.play) {
            return Ok(());
        }
        if controller_actions::bypasses_host_loop(task) {
            return Err(self.task_error(
                task,
                format!(
                    "The '{}' module bypasses the host loop, which is currently not supported in \
                     the free strategy and would instead execute for every host in the inventory \
                     list.",
                    task.action
                ),
            ));
        }
        let scope = self.scope_for(ctx, host, frame, Some(task));
        let flag = |ex: &Self, name: &str| {
            frame
                .keyword(task, name)
                .is_some_and(|n| ex.keyword_truthy(n, &scope).unwrap_or(false))
        };
        if flag(self, "run_once") {
            self.free_warning(
                "Using run_once with the free strategy is not currently supported. This task \
                 will still be executed for every host in the inventory list.",
            );
        }
        let is_meta = task.action == "meta" || task.action.ends_with(".meta");
        if !is_meta && flag(self, "any_errors_fatal") {
            self.free_warning(
                "Using any_errors_fatal with the free strategy is not supported, as tasks are \
                 executed independently on each host",
            );
        }
        Ok(())
    }

    /// Printed once per run, as Ansible's display deduplicates warnings.
    fn free_warning(&mut self, msg: &str) {
        let first = WARNED.with(|w| w.borrow_mut().insert(msg.to_string()));
        if first {
            let line = warning(msg, DEFAULT_COLUMNS);
            self.callback.sink.err(&line);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::names_free;

    #[test]
    fn free_by_either_spelling() {
        assert!(names_free("free") && names_free(" ansible.builtin.free"));
        assert!(!names_free("linear") && !names_free("host_pinned") && !names_free(""));
    }
}
