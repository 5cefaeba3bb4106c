//! Handlers (notify, listen, flush) and `meta` tasks.

use std::rc::Rc;

use rsible_playbook::{Item, Role, Task};

use super::notify::HandlerEntry;
use super::{Executor, FatalError, PlayCtx};
use crate::frame::Frame;
use crate::output::default_callback::Sink;

impl<'a, S: Sink> Executor<'a, S> {
    /// Runs the notified handlers once each, in the order they are defined,
    /// on the hosts that notified them. A handler notified while handlers
    /// run is reached in this pass if it comes later, else at the next
    /// flush (Ansible walks the handler list once per flush).
    /// `--force-handlers` runs them on hosts that failed too.
    pub(super) fn flush_handlers(
        &mut self,
        ctx: &PlayCtx,
        hosts: &[String],
    ) -> Result<(), FatalError> {
        let (handlers, force) = self.begin_flush(ctx);
        for entry in &handlers {
            let notified: Vec<String> = hosts
                .iter()
                .filter(|h| self.handler_notified(entry, h, force))
                .cloned()
                .collect();
            if notified.is_empty() {
                continue;
            }
            let mut revived = Vec::new();
            for h in &notified {
                if self.claim_notification(entry, h) {
                    revived.push(h.clone());
                }
            }
            let r = self.run_handler(ctx, &entry.task, &entry.frame, &notified);
            for h in &revived {
                self.state(h).failed = true;
            }
            r?;
        }
        Ok(())
    }

    /// The play's handlers in the order a flush walks them (rebuilt: an
    /// include_role may have replaced a handler's frame), and whether
    /// failed hosts run them (`--force-handlers`).
    pub(super) fn begin_flush(&mut self, ctx: &PlayCtx) -> (Vec<HandlerEntry>, bool) {
        self.notify.built_for = None;
        self.refresh_play_handlers(ctx);
        let force = self.options.force_handlers
            || ctx
                .play
                .keywords
                .get("force_handlers")
                .is_some_and(|n| self.node_truthy(n));
        (self.notify.handlers.clone(), force)
    }

    /// Whether `host` runs `entry` in this flush.
    pub(super) fn handler_notified(&self, entry: &HandlerEntry, host: &str, force: bool) -> bool {
        self.states.get(host).is_some_and(|s| {
            let eligible = s.is_active() || (force && s.failed && !s.unreachable && !s.ended);
            eligible && s.notified_handlers.contains(&entry.key)
        })
    }

    /// Takes `host`'s notification of `entry`; true when the host had
    /// failed: it runs the handler (--force-handlers) and must be failed
    /// again after it.
    pub(super) fn claim_notification(&mut self, entry: &HandlerEntry, host: &str) -> bool {
        let st = self.state(host);
        st.notified_handlers.shift_remove(&entry.key);
        std::mem::replace(&mut st.failed, false)
    }

    /// `meta: flush_handlers` as a task: Ansible prints its banner once per
    /// host, skips the hosts whose `when` is false, then flushes.
    pub(super) fn meta_flush_handlers(
        &mut self,
        ctx: &PlayCtx,
        task: &Rc<Task>,
        frame: &Frame,
        hosts: &[String],
    ) -> Result<(), FatalError> {
        let mut flushing = Vec::new();
        for h in hosts {
            let view = self.task_view(task, "TASK", None);
            self.callback.task_start(&view);
            let scope = self.scope_for(ctx, h, frame, Some(task));
            match self.check_conditions(task, frame, &scope) {
                None => {
                    self.meta_vv(&format!("triggered running handlers for {h}"));
                    flushing.push(h.clone());
                }
                Some(mut skipped) => {
                    // Ansible's skip_reason says "continuing execution", its
                    // -vv line "not running handlers".
                    self.meta_vv(&format!(
                        "flush_handlers conditional evaluated to False, not running handlers for {h}"
                    ));
                    skipped.insert(
                        "skip_reason".into(),
                        serde_json::Value::String(format!(
                            "flush_handlers conditional evaluated to False, continuing execution for {h}"
                        )),
                    );
                    let shown = super::results::clean_copy(&skipped);
                    self.callback
                        .runner_on_skipped(&crate::output::default_callback::ResultView {
                            host: h,
                            task: &view,
                            result: &shown,
                        });
                }
            }
        }
        if self.free_defers(task) {
            // The free strategy's cursor runs the handlers, one step each.
            if !flushing.is_empty() {
                self.free_defer_flush();
            }
            return Ok(());
        }
        self.flush_handlers(ctx, &flushing)
    }

    pub(super) fn run_handler(
        &mut self,
        ctx: &PlayCtx,
        handler: &Rc<Task>,
        frame: &Frame,
        hosts: &[String],
    ) -> Result<(), FatalError> {
        // Handlers are not filtered by tags once notified.
        let mut f = frame.clone();
        f.tags.clear();
        let saved = (
            std::mem::take(&mut self.options.tags),
            std::mem::take(&mut self.options.skip_tags),
        );
        let r = self.run_task_as(ctx, handler, &f, hosts, "RUNNING HANDLER");
        self.options.tags = saved.0;
        self.options.skip_tags = saved.1;
        r
    }
}

pub(super) fn collect_role_handlers(
    role: &Rc<Role>,
    parent: &Frame,
    out: &mut Vec<(Rc<Task>, Frame)>,
) {
    for dep in &role.dependencies {
        collect_role_handlers(dep, parent, out);
    }
    let mut frame = parent.clone();
    frame.role = Some(role.clone());
    collect_handlers(&role.handlers, &frame, out);
}

pub(super) fn collect_handlers(items: &[Item], frame: &Frame, out: &mut Vec<(Rc<Task>, Frame)>) {
    for item in items {
        match item {
            Item::Task(t) => {
                if !out.iter().any(|(o, _)| Rc::ptr_eq(o, t)) {
                    out.push((t.clone(), frame.clone()));
                }
            }
            Item::Block(b) => {
                collect_handlers(&b.block, frame, out);
                collect_handlers(&b.rescue, frame, out);
                collect_handlers(&b.always, frame, out);
            }
        }
    }
}
