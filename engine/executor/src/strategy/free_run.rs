//! The `free` strategy's scheduler: every host of the batch has its own
//! cursor (`free_cursor.rs`) and takes its next task as soon as its previous
//! one is done, whatever the other hosts are doing.
//!
//! The controller stays single-threaded; what runs side by side are the
//! module calls. A task whose calls can be recorded ahead (`prefetch.rs`'s
//! `qualifies`: native and Python modules, `template`/`copy`, with loops,
//! `until`, `async`, `throttle`) is walked for its host with the runner
//! guarded, and the call it asks for is started in the background
//! (`TargetRunner::start_call`, after the wait the walk asked for: an
//! `until` delay, an async poll interval), at most `forks` at a time. When
//! a call's outcome arrives, the host's walk is recorded again with it: a
//! next call is started, or the task is run for real, its outcomes taken
//! from the record, and its result printed. The implicit fact gathering
//! and handlers (a host's flush is a series of steps, one per handler) go
//! the same way. Other tasks (controller actions, includes, `raw`,
//! `package`/`service`) run at once when the host reaches them; what an
//! include brings goes to the host's cursor.
//!
//! `throttle: N` as 2.18's free strategy: a host whose next task already
//! runs on N hosts waits, and so do the hosts after it in the pass.
//!
//! Hosts are visited in passes, in inventory order, one step each, as
//! 2.18's free strategy does: with `-f 1` or quick tasks the output is the
//! same as Ansible's.

use std::collections::HashMap;
use std::rc::Rc;

use rsible_playbook::{Item, Role, Task, TaskKind};

use super::super::gather::gather_task;
use super::super::notify::HandlerEntry;
use super::super::prefetch::{free_max_rounds, qualifies, ParkedCalls};
use super::super::{Executor, FatalError, PlayCtx};
use super::cursor::{HostCursor, Step};
use crate::frame::Frame;
use crate::output::default_callback::Sink;
use crate::target::{CallTicket, PlannedCall};

/// What the free strategy keeps in the executor during a batch.
#[derive(Default)]
pub(in crate::play_exec) struct FreeState {
    /// A batch is being run by this scheduler.
    active: bool,
    /// The include task being run for a host: what it includes is handed
    /// to the host's cursor instead of being run at once.
    defer_for: Option<usize>,
    deferred: Vec<Deferred>,
    /// Banner identities, one per task shared by the hosts that run it, as
    /// Ansible's callback prints a task's banner again only after another's.
    banner_ids: HashMap<BannerKey, u64>,
    /// What includes loaded in this batch, by include and file: hosts that
    /// include the same file share its tasks (and their banners). Kept for
    /// the batch, which also keeps the tasks' addresses unique.
    included: HashMap<(usize, String), Rc<Vec<Item>>>,
    included_roles: Vec<Rc<Role>>,
    next_ticket: CallTicket,
    /// Calls started in the background and not collected yet.
    in_flight: usize,
}

/// A task's address and place in its file.
type BannerKey = (usize, Option<std::sync::Arc<str>>, u32, u32);

enum Deferred {
    Tasks(Rc<Vec<Item>>, Frame),
    Role(Rc<Role>, Frame),
    /// `meta: flush_handlers`: the host's handlers are its next steps.
    Flush,
}

/// The batch's other hosts, beside the one being advanced.
struct Others<'r> {
    before: &'r [HostRun],
    after: &'r [HostRun],
}

/// One host going through the batch.
struct HostRun {
    name: String,
    cursor: HostCursor,
    /// The call its current task waits for.
    waiting: Option<Waiting>,
    /// The handler flush it is in, if any.
    flushing: Option<HandlerPass>,
    /// Its next task, held back by the task's `throttle`.
    throttled: Option<(Rc<Task>, Frame)>,
    done: bool,
}

/// One host's walk through the handler list at a flush, as `flush_handlers`.
struct HandlerPass {
    handlers: Vec<HandlerEntry>,
    next: usize,
    force: bool,
}

struct Waiting {
    ticket: CallTicket,
    call: PlannedCall,
    work: Work,
    parked: ParkedCalls,
}

/// What a host's calls are made for.
enum Work {
    Task(Rc<Task>, Frame),
    /// The implicit fact gathering (its task, the play's frame).
    Gather(Rc<Task>, Frame),
    /// A handler; `refail`: the host had failed (--force-handlers).
    Handler(Rc<Task>, Frame, bool),
}

impl<'a, S: Sink> Executor<'a, S> {
    /// Runs one batch with a cursor per host (see the module's comment).
    pub(super) fn run_batch_per_host(
        &mut self,
        ctx: &PlayCtx,
        base: &Frame,
        batch: &[String],
    ) -> Result<(), FatalError> {
        self.free = FreeState {
            active: true,
            ..FreeState::default()
        };
        let mut runs: Vec<HostRun> = batch
            .iter()
            .map(|h| HostRun {
                name: h.clone(),
                cursor: HostCursor::new(ctx.play, base),
                waiting: None,
                flushing: None,
                throttled: None,
                done: false,
            })
            .collect();
        let outcome = self.free_schedule(ctx, base, &mut runs);
        // A fatal error leaves calls running: their outcomes are not used.
        while self.free.in_flight > 0 && self.runner.wait_call(true).is_some() {
            self.free.in_flight -= 1;
        }
        self.free = FreeState::default();
        outcome
    }

    fn free_schedule(
        &mut self,
        ctx: &PlayCtx,
        base: &Frame,
        runs: &mut [HostRun],
    ) -> Result<(), FatalError> {
        let forks = self.options.forks.max(1);
        loop {
            let mut held_back = false;
            for i in 0..runs.len() {
                if runs[i].done || runs[i].waiting.is_some() {
                    continue;
                }
                // Every fork busy: the host waits for one to be free.
                while self.free.in_flight >= forks {
                    self.free_collect(ctx, runs, true)?;
                }
                if runs[i].waiting.is_some() {
                    continue;
                }
                match runs[i].throttled.take() {
                    Some((task, frame)) => {
                        self.free_start_throttled(ctx, runs, i, task, frame)?;
                    }
                    None => {
                        let (before, rest) = runs.split_at_mut(i);
                        let (run, after) = rest.split_first_mut().expect("i < len");
                        let others = Others { before, after };
                        self.free_advance(ctx, base, run, &others)?;
                    }
                }
                // Throttled: this pass ends here, as in 2.18.
                if runs[i].throttled.is_some() {
                    held_back = true;
                    break;
                }
            }
            if runs.iter().all(|r| r.done) {
                return Ok(());
            }
            // A host held back by `throttle` waits for a call of its task
            // to finish (one is running: that is what holds it back).
            let idle = runs
                .iter()
                .any(|r| !r.done && r.waiting.is_none() && r.throttled.is_none());
            self.free_collect(ctx, runs, held_back || !idle)?;
        }
    }

    /// Takes the outcomes of finished calls (waiting for one when `block`)
    /// and lets their hosts go on with their task.
    fn free_collect(
        &mut self,
        ctx: &PlayCtx,
        runs: &mut [HostRun],
        block: bool,
    ) -> Result<(), FatalError> {
        let mut block = block;
        loop {
            let Some((ticket, outcome)) = self.runner.wait_call(block) else {
                if block {
                    return Err(FatalError {
                        message: "the free strategy waited for a module call that was never \
                                  started (internal error)"
                            .into(),
                        exit_code: 1,
                    });
                }
                return Ok(());
            };
            self.free.in_flight = self.free.in_flight.saturating_sub(1);
            let owner = runs
                .iter_mut()
                .find(|r| r.waiting.as_ref().is_some_and(|w| w.ticket == ticket));
            if let Some(run) = owner {
                if let Some(mut waiting) = run.waiting.take() {
                    waiting.parked.push(waiting.call, outcome);
                    self.free_go_on(ctx, run, waiting.work, waiting.parked)?;
                }
            }
            block = false;
        }
    }

    /// One step of `run`'s walk: a task started or run, a handler flush,
    /// the fact gathering, or the end of the batch for it.
    fn free_advance(
        &mut self,
        ctx: &PlayCtx,
        base: &Frame,
        run: &mut HostRun,
        others: &Others,
    ) -> Result<(), FatalError> {
        if let Some(entry) = self.free_next_handler(run) {
            return self.free_start_handler(ctx, run, entry);
        }
        loop {
            match self.free_next_step(ctx, &mut run.cursor, &run.name) {
                Step::Done => {
                    run.done = true;
                    return Ok(());
                }
                Step::Gather => return self.free_start_gather(ctx, base, run),
                Step::Flush => {
                    run.flushing = Some(self.free_handler_pass(ctx));
                    // The flush takes a step even when nothing was notified.
                    return match self.free_next_handler(run) {
                        Some(entry) => self.free_start_handler(ctx, run, entry),
                        None => Ok(()),
                    };
                }
                Step::Task(task, frame) => {
                    // Tasks the host does not run are no step (no output).
                    if !self.is_active(&run.name) || !self.tags_allow(&frame, &task) {
                        continue;
                    }
                    if self.free_throttle_reached(ctx, run, &task, &frame, others) {
                        run.throttled = Some((task, frame));
                        return Ok(());
                    }
                    return self.free_start_task(ctx, run, task, frame);
                }
            }
        }
    }

    /// A host held back by `throttle` tries its task again.
    fn free_start_throttled(
        &mut self,
        ctx: &PlayCtx,
        runs: &mut [HostRun],
        i: usize,
        task: Rc<Task>,
        frame: Frame,
    ) -> Result<(), FatalError> {
        let (before, rest) = runs.split_at_mut(i);
        let (run, after) = rest.split_first_mut().expect("i < len");
        let others = Others { before, after };
        if self.free_throttle_reached(ctx, run, &task, &frame, &others) {
            run.throttled = Some((task, frame));
            return Ok(());
        }
        self.free_start_task(ctx, run, task, frame)
    }

    /// Whether `task`'s `throttle` (templated for `run`'s host) is reached:
    /// as many other hosts have a call of it running.
    fn free_throttle_reached(
        &mut self,
        ctx: &PlayCtx,
        run: &HostRun,
        task: &Rc<Task>,
        frame: &Frame,
        others: &Others,
    ) -> bool {
        let Some(node) = frame.keyword(task, "throttle") else {
            return false;
        };
        let scope = self.scope_for(ctx, &run.name, frame, Some(task));
        let limit = self
            .templar
            .template(&rsible_templar::from_yaml(node), &scope)
            .ok()
            .and_then(|v| {
                v.as_str()
                    .map(|s| s.trim().parse::<i64>().ok())
                    .unwrap_or_else(|| i64::try_from(v).ok())
            })
            .unwrap_or(0);
        if limit <= 0 {
            return false;
        }
        let running = others
            .before
            .iter()
            .chain(others.after.iter())
            .filter(|r| {
                matches!(&r.waiting, Some(Waiting { work: Work::Task(t, _), .. })
                    if Rc::ptr_eq(t, task))
            })
            .count();
        running as i64 >= limit
    }

    fn free_start_task(
        &mut self,
        ctx: &PlayCtx,
        run: &mut HostRun,
        task: Rc<Task>,
        frame: Frame,
    ) -> Result<(), FatalError> {
        // `--step` asks first, `--start-at-task` may skip: the task's walk
        // cannot be recorded before them.
        let in_background = !self.options.step
            && self.options.start_at_task.is_none()
            && task.kind == TaskKind::Module
            && qualifies(&task, &frame);
        if in_background {
            self.free_go_on(ctx, run, Work::Task(task, frame), ParkedCalls::default())
        } else {
            self.free_finish_task(ctx, run, task, frame, None)
        }
    }

    /// The next handler of the host's flush it was notified of; None at
    /// the end of the flush (or outside one).
    fn free_next_handler(&self, run: &mut HostRun) -> Option<HandlerEntry> {
        let pass = run.flushing.as_mut()?;
        let start = pass.next.min(pass.handlers.len());
        let next = pass.handlers[start..]
            .iter()
            .position(|e| self.handler_notified(e, &run.name, pass.force));
        match next {
            Some(offset) => {
                pass.next = start + offset + 1;
                Some(pass.handlers[start + offset].clone())
            }
            None => {
                run.flushing = None;
                None
            }
        }
    }

    /// A handler the host was notified of, in the background when it can be.
    fn free_start_handler(
        &mut self,
        ctx: &PlayCtx,
        run: &mut HostRun,
        entry: HandlerEntry,
    ) -> Result<(), FatalError> {
        let refail = self.claim_notification(&entry, &run.name);
        let work = Work::Handler(entry.task.clone(), entry.frame.clone(), refail);
        let in_background = !self.options.step
            && entry.task.kind == TaskKind::Module
            && qualifies(&entry.task, &entry.frame);
        if in_background {
            self.free_go_on(ctx, run, work, ParkedCalls::default())
        } else {
            self.free_finish_handler(ctx, run, work, None)
        }
    }

    /// Runs a handler for `run`'s host as `flush_handlers` does.
    fn free_finish_handler(
        &mut self,
        ctx: &PlayCtx,
        run: &mut HostRun,
        work: Work,
        parked: Option<ParkedCalls>,
    ) -> Result<(), FatalError> {
        let Work::Handler(task, frame, refail) = work else {
            return Ok(());
        };
        if let Some(parked) = parked {
            self.install_parked(&run.name, parked);
        }
        let outcome = self.run_handler(ctx, &task, &frame, std::slice::from_ref(&run.name));
        self.prefetch.clear();
        if refail {
            self.state(&run.name).failed = true;
        }
        outcome
    }

    /// The implicit fact gathering, its `setup` call in the background.
    fn free_start_gather(
        &mut self,
        ctx: &PlayCtx,
        base: &Frame,
        run: &mut HostRun,
    ) -> Result<(), FatalError> {
        let host = std::slice::from_ref(&run.name);
        let in_background = !self.options.step
            && self.options.start_at_task.is_none()
            && !self.hosts_to_gather(ctx, host).is_empty();
        if !in_background {
            return self.gather_facts(ctx, base, host);
        }
        let task = Rc::new(gather_task(ctx));
        self.free_go_on(
            ctx,
            run,
            Work::Gather(task, base.clone()),
            ParkedCalls::default(),
        )
    }

    /// Records `run`'s task with the outcomes it has: starts the next call
    /// it asks for, or runs it for real when it asks for none.
    fn free_go_on(
        &mut self,
        ctx: &PlayCtx,
        run: &mut HostRun,
        work: Work,
        mut parked: ParkedCalls,
    ) -> Result<(), FatalError> {
        let max_rounds = match &work {
            Work::Task(task, frame) | Work::Handler(task, frame, _) => free_max_rounds(task, frame),
            Work::Gather(task, frame) => free_max_rounds(task, frame),
        };
        loop {
            let next =
                self.record_next_call(&run.name, &mut parked, max_rounds, |ex, host| match &work {
                    Work::Task(task, frame) => {
                        let scope = ex.scope_for(ctx, host, frame, Some(task));
                        ex.free_progress_view(task, frame, &scope, "TASK");
                        let _ = ex.run_on_host(ctx, task, frame, host, &scope);
                    }
                    Work::Gather(task, frame) => {
                        let scope = ex.scope_for(ctx, host, frame, Some(task));
                        let _ = ex.gather_call(ctx, task, frame, host, &scope);
                    }
                    Work::Handler(task, frame, _) => {
                        let scope = ex.scope_for(ctx, host, frame, Some(task));
                        ex.free_progress_view(task, frame, &scope, "RUNNING HANDLER");
                        let _ = ex.run_on_host(ctx, task, frame, host, &scope);
                    }
                });
            let Some((call, wait)) = next else {
                return match work {
                    Work::Task(task, frame) => {
                        self.free_finish_task(ctx, run, task, frame, Some(parked))
                    }
                    handler @ Work::Handler(..) => {
                        self.free_finish_handler(ctx, run, handler, Some(parked))
                    }
                    Work::Gather(_, frame) => {
                        self.install_parked(&run.name, parked);
                        let outcome =
                            self.gather_facts(ctx, &frame, std::slice::from_ref(&run.name));
                        self.prefetch.clear();
                        outcome
                    }
                };
            };
            self.free.next_ticket += 1;
            let ticket = self.free.next_ticket;
            match self.runner.start_call(ticket, &call, wait) {
                Some(outcome) => parked.push(call, outcome),
                None => {
                    self.free.in_flight += 1;
                    run.waiting = Some(Waiting {
                        ticket,
                        call,
                        work,
                        parked,
                    });
                    return Ok(());
                }
            }
        }
    }

    /// The task a recording walk runs, for the progress lines it prints
    /// (`until` retries, async polls: as they happen).
    fn free_progress_view(
        &mut self,
        task: &Task,
        frame: &Frame,
        scope: &crate::vars::VarLayers,
        prefix: &'static str,
    ) {
        let delegate = self.delegate_label(task, frame, scope);
        let mut view = self.task_view(task, prefix, delegate);
        view.name = self.templated_task_name(task, scope);
        self.ctl.current_view = Some(view);
    }

    /// Runs `task` for `run`'s host as the linear walk runs it for one host
    /// (its calls' outcomes ready in `parked`); what it includes goes to
    /// the host's cursor.
    fn free_finish_task(
        &mut self,
        ctx: &PlayCtx,
        run: &mut HostRun,
        task: Rc<Task>,
        frame: Frame,
        parked: Option<ParkedCalls>,
    ) -> Result<(), FatalError> {
        if let Some(parked) = parked {
            self.install_parked(&run.name, parked);
        }
        self.free.defer_for = Some(Rc::as_ptr(&task) as usize);
        let outcome = self.run_task(ctx, &task, &frame, std::slice::from_ref(&run.name));
        self.free.defer_for = None;
        self.prefetch.clear();
        let deferred = std::mem::take(&mut self.free.deferred);
        outcome?;
        for entry in deferred.into_iter().rev() {
            match entry {
                Deferred::Tasks(items, inner) => run.cursor.push_included_tasks(items, inner),
                Deferred::Role(role, inner) => run.cursor.push_role(&role, &inner),
                Deferred::Flush => run.flushing = Some(self.free_handler_pass(ctx)),
            }
        }
        Ok(())
    }

    /// Whether what `task` includes goes to the host's cursor (hook of the
    /// include actions).
    pub(in crate::play_exec) fn free_defers(&self, task: &Rc<Task>) -> bool {
        self.free.defer_for == Some(Rc::as_ptr(task) as usize)
    }

    /// An `include_tasks` file for the host's cursor; `key` names the file
    /// and loop item (hosts including the same share one copy).
    pub(in crate::play_exec) fn free_defer_tasks(
        &mut self,
        task: &Rc<Task>,
        key: String,
        items: Vec<Item>,
        inner: Frame,
    ) {
        let items = self
            .free
            .included
            .entry((Rc::as_ptr(task) as usize, key))
            .or_insert_with(|| Rc::new(items))
            .clone();
        self.free.deferred.push(Deferred::Tasks(items, inner));
    }

    /// A `meta: flush_handlers` the host's cursor carries out.
    pub(in crate::play_exec) fn free_defer_flush(&mut self) {
        self.free.deferred.push(Deferred::Flush);
    }

    fn free_handler_pass(&mut self, ctx: &PlayCtx) -> HandlerPass {
        let (handlers, force) = self.begin_flush(ctx);
        HandlerPass {
            handlers,
            next: 0,
            force,
        }
    }

    /// An `include_role`'s role for the host's cursor.
    pub(in crate::play_exec) fn free_defer_role(&mut self, role: Rc<Role>, inner: Frame) {
        self.free.included_roles.push(role.clone());
        self.free.deferred.push(Deferred::Role(role, inner));
    }

    /// The banner identity of `task` under this scheduler (hook of
    /// `task_view`); None outside it.
    pub(in crate::play_exec) fn free_banner_id(&mut self, task: &Task) -> Option<u64> {
        if !self.free.active {
            return None;
        }
        // The implicit fact gathering is made afresh for each host.
        let address = if task.action == "gather_facts" && task.resolved_action.is_some() {
            0
        } else {
            task as *const Task as usize
        };
        let key = (
            address,
            task.mark.source.clone(),
            task.mark.line,
            task.mark.column,
        );
        if let Some(id) = self.free.banner_ids.get(&key) {
            return Some(*id);
        }
        self.next_task_id += 1;
        self.free.banner_ids.insert(key, self.next_task_id);
        Some(self.next_task_id)
    }
}
