//! `meta` tasks as ansible-core 2.18's linear strategy runs them: each
//! call prints the task banner; `noop`, `reset_connection`, `end_host`,
//! `end_role` and `flush_handlers` run once per host, the others once for
//! the batch with the first host's condition. A false condition prints a
//! `skipping:` line; meta results count in no statistics.

use std::rc::Rc;

use rsible_playbook::Task;
use rsible_templar::VarSource;
use serde_json::{Map, Value as Json};

use super::{Executor, FatalError, PlayCtx};
use crate::frame::Frame;
use crate::output::default_callback::{ResultView, Sink, TaskView};

/// What meta tasks leave for the rest of the play.
#[derive(Default)]
pub(super) struct MetaState {
    /// `meta: end_play` ran: later batches of the play do not run.
    pub play_ended: bool,
    /// Under the free strategy, the one banner identity of the meta task
    /// being run, shared by its hosts (Ansible sends no task start for it).
    pub free_view: Option<TaskView>,
    /// What `add_host`/`group_by` changed, for `refresh_inventory` to redo.
    pub inventory_ops: Vec<super::refresh_inventory::InventoryOp>,
}

impl<S: Sink> Executor<'_, S> {
    pub(super) fn run_meta(
        &mut self,
        ctx: &PlayCtx,
        task: &Rc<Task>,
        frame: &Frame,
        hosts: &[String],
    ) -> Result<(), FatalError> {
        let what = task
            .args
            .get("_raw_params")
            .and_then(|n| n.as_str())
            .unwrap_or("")
            .to_string();
        let has_when = !task.when.is_empty();
        self.meta.free_view = self
            .callback
            .lazy_banners
            .then(|| self.task_view(task, "TASK", None));
        let outcome = self.run_meta_action(ctx, task, frame, hosts, &what, has_when);
        self.meta.free_view = None;
        outcome
    }

    fn run_meta_action(
        &mut self,
        ctx: &PlayCtx,
        task: &Rc<Task>,
        frame: &Frame,
        hosts: &[String],
        what: &str,
        has_when: bool,
    ) -> Result<(), FatalError> {
        match what {
            "flush_handlers" => self.meta_flush_handlers(ctx, task, frame, hosts),
            "noop" | "reset_connection" => {
                for h in hosts {
                    self.meta_banner(task);
                    if has_when {
                        self.meta_warning(&format!(
                            "{what} task does not support when conditional"
                        ));
                    }
                    if what == "reset_connection" {
                        self.reset_connection(ctx, task, frame, h)?;
                        self.meta_vv("reset connection");
                    } else {
                        self.meta_vv("noop");
                    }
                }
                Ok(())
            }
            "end_host" | "end_role" => {
                for h in hosts {
                    let view = self.meta_banner(task);
                    if !self.meta_condition(ctx, task, frame, h, what, &view) {
                        continue;
                    }
                    if what == "end_host" {
                        self.state(h).ended = true;
                        self.meta_vv(&format!("ending play for {h}"));
                    } else {
                        if frame.role.is_none() {
                            return Err(self.task_error(
                                task,
                                "meta: end_role can only be used inside a role".into(),
                            ));
                        }
                        // No META line: Ansible's check looks at the task
                        // the role ends on (role_complete), which is implicit.
                        self.state(h).role_ended = true;
                    }
                }
                Ok(())
            }
            "end_play" | "end_batch" | "clear_facts" | "clear_host_errors" => {
                let Some(first) = hosts.first() else {
                    return Ok(());
                };
                let view = self.meta_banner(task);
                if !self.meta_condition(ctx, task, frame, first, what, &view) {
                    return Ok(());
                }
                let play_hosts = play_host_names(ctx);
                let header = match what {
                    "clear_facts" => "facts cleared",
                    "clear_host_errors" => "cleared host errors",
                    "end_play" => "ending play",
                    _ => "ending batch",
                };
                match what {
                    "clear_facts" => self.clear_facts(&play_hosts),
                    "clear_host_errors" => self.clear_host_errors(&play_hosts),
                    _ => {
                        if what == "end_play" {
                            self.meta.play_ended = true;
                        }
                        for h in ctx_batch(ctx) {
                            let st = self.state(&h);
                            if !st.unreachable {
                                st.ended = true;
                            }
                        }
                    }
                }
                self.meta_vv(header);
                Ok(())
            }
            // Once for the batch, whatever its condition (Ansible warns).
            "refresh_inventory" => {
                self.meta_banner(task);
                if has_when {
                    self.meta_warning("refresh_inventory task does not support when conditional");
                }
                self.refresh_inventory()?;
                self.meta_vv("inventory successfully refreshed");
                Ok(())
            }
            other => Err(self.task_error(task, format!("invalid meta action requested: {other}"))),
        }
    }

    /// A role's tasks are over: `meta: end_role` no longer holds its hosts.
    pub(super) fn end_of_role(&mut self, hosts: &[String]) {
        for h in hosts {
            if self.states.get(h).is_some_and(|s| s.role_ended) {
                self.state(h).role_ended = false;
            }
        }
    }

    fn meta_banner(&mut self, task: &Task) -> TaskView {
        if let Some(view) = &self.meta.free_view {
            return view.clone();
        }
        let view = self.task_view(task, "TASK", None);
        self.callback.task_start(&view);
        view
    }

    /// `META: <what happened>`, which Ansible prints at -vv for meta tasks
    /// written in the play (not its implicit ones).
    pub(super) fn meta_vv(&mut self, header: &str) {
        if self.options.verbosity >= 2 {
            self.callback.sink.out(&format!("META: {header}"));
        }
    }

    fn meta_warning(&mut self, msg: &str) {
        let text = crate::output::display::warning(msg, self.callback.options.columns);
        self.callback.sink.err(&text);
    }

    /// The task's conditions on `host`; false prints Ansible's skip line.
    fn meta_condition(
        &mut self,
        ctx: &PlayCtx,
        task: &Rc<Task>,
        frame: &Frame,
        host: &str,
        what: &str,
        view: &TaskView,
    ) -> bool {
        let scope = self.scope_for(ctx, host, frame, Some(task));
        let Some(skipped) = self.check_conditions(task, frame, &scope) else {
            return true;
        };
        if skipped.get("failed") == Some(&Json::Bool(true)) {
            // Ansible raises the conditional's error out of the strategy.
            return false;
        }
        let role = frame
            .role
            .as_ref()
            .map(|r| r.name.clone())
            .unwrap_or_default();
        let reason = match what {
            "end_host" => format!(", continuing execution for {host}"),
            "end_role" => format!("continuing role {role} for {host}"),
            "end_play" => ", continuing play".into(),
            "end_batch" => ", continuing current batch".into(),
            "clear_facts" => format!(", not clearing facts and fact cache for {host}"),
            "clear_host_errors" => format!(", not clearing host error state for {host}"),
            _ => String::new(),
        };
        let skip_reason = format!("{what} conditional evaluated to False{reason}");
        self.meta_vv(&skip_reason);
        // Ansible's end_host keeps a message of its own when skipped.
        let msg = match what {
            "end_host" => {
                format!("end_host conditional evaluated to false, continuing execution for {host}")
            }
            _ => what.to_string(),
        };
        let mut shown = Map::new();
        shown.insert("msg".into(), Json::String(msg));
        // `skipped` is the event's, not shown in the result.
        shown.insert("skip_reason".into(), Json::String(skip_reason));
        self.callback.runner_on_skipped(&ResultView {
            host,
            task: view,
            result: &shown,
        });
        false
    }

    /// `meta: clear_host_errors`: failed and unreachable hosts of the play no
    /// longer count as such; an unreachable one takes part again, a failed
    /// one has finished this play (Ansible's iterator left it) but runs the
    /// next plays.
    fn clear_host_errors(&mut self, hosts: &[String]) {
        for h in hosts {
            let st = self.state(h);
            if st.failed {
                st.failed = false;
                st.ended = true;
            }
            st.unreachable = false;
        }
    }

    /// `meta: reset_connection`: the local connection has nothing to reset
    /// (Ansible warns); other connections are not reset by rsible yet.
    fn reset_connection(
        &mut self,
        ctx: &PlayCtx,
        task: &Rc<Task>,
        frame: &Frame,
        host: &str,
    ) -> Result<(), FatalError> {
        let scope = self.scope_for(ctx, host, frame, Some(task));
        let connection = scope
            .get("ansible_connection")
            .and_then(|raw| self.templar.template(&raw, &scope).ok())
            .and_then(|v| v.as_str().map(str::to_string))
            .unwrap_or_else(|| {
                if host == "localhost" {
                    "local".into()
                } else {
                    "ssh".into()
                }
            });
        if connection == "local" {
            self.meta_warning("Reset is not implemented for this connection");
            return Ok(());
        }
        Err(self.task_error(
            task,
            format!(
                "rsible does not support 'meta: reset_connection' on {connection} connections yet"
            ),
        ))
    }
}

fn play_host_names(ctx: &PlayCtx) -> Vec<String> {
    ctx.play_hosts
        .try_iter()
        .map(|it| it.filter_map(|h| h.as_str().map(str::to_string)).collect())
        .unwrap_or_default()
}

fn ctx_batch(ctx: &PlayCtx) -> Vec<String> {
    ctx.batch
        .try_iter()
        .map(|it| it.filter_map(|h| h.as_str().map(str::to_string)).collect())
        .unwrap_or_default()
}
