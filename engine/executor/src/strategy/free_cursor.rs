//! One host's place in a play batch under the `free` strategy: the linear
//! walk of `play_exec` (sections, roles, blocks with rescue/always, run-time
//! includes, handler flushes) turned inside out, so that the walk can stop
//! after any task and go on later, while other hosts take their own steps.
//!
//! The cursor hands out the next step; what a block does when its tasks
//! are done (rescue, always, statistics) is done here, as `run_block` does
//! for the hosts of a linear batch.

use std::collections::VecDeque;
use std::rc::Rc;

use rsible_playbook::{Block, Item, Play, Role, Task};

use super::super::{Executor, PlayCtx};
use crate::frame::Frame;
use crate::output::default_callback::Sink;

/// What the host does next.
pub(super) enum Step {
    /// The implicit fact gathering.
    Gather,
    /// A task (or an include) with its context.
    Task(Rc<Task>, Frame),
    /// The handler flush at the end of a section.
    Flush,
    /// Nothing left: the host is through the batch.
    Done,
}

/// The play's sections as the linear walk runs them.
enum PlanStep {
    Gather,
    Items(Section),
    Role(Rc<Role>),
    Flush,
}

#[derive(Clone, Copy)]
enum Section {
    PreTasks,
    Tasks,
    PostTasks,
}

#[derive(Clone, Copy, PartialEq)]
enum BlockPart {
    Body,
    Rescue,
    Always,
}

/// A list of items being walked.
enum Items {
    Play(Section),
    Role(Rc<Role>),
    Block(Rc<Block>, BlockPart),
    /// Tasks an `include_tasks` loaded for this host.
    Loaded(Rc<Vec<Item>>),
}

impl Items {
    fn get<'x>(&'x self, play: &'x Play) -> &'x [Item] {
        match self {
            Items::Play(Section::PreTasks) => &play.pre_tasks,
            Items::Play(Section::Tasks) => &play.tasks,
            Items::Play(Section::PostTasks) => &play.post_tasks,
            Items::Role(role) => &role.tasks,
            Items::Block(block, BlockPart::Body) => &block.block,
            Items::Block(block, BlockPart::Rescue) => &block.rescue,
            Items::Block(block, BlockPart::Always) => &block.always,
            Items::Loaded(items) => items,
        }
    }
}

/// What to do when a list is walked to its end.
enum Exit {
    Nothing,
    /// `end_of_role` (clears `meta: end_role`).
    EndRole,
    /// The end of a block's own tasks: rescue, then always.
    BlockBody,
    /// The end of a rescue: the failure counts as handled; then always.
    Rescued,
    /// The end of an always; `refail`: the host failed before it.
    Always {
        refail: bool,
    },
}

struct Level {
    items: Items,
    next: usize,
    frame: Frame,
    exit: Exit,
}

/// One host's position in the batch.
pub(super) struct HostCursor {
    plan: VecDeque<PlanStep>,
    stack: Vec<Level>,
    /// The play's frame (sections and roles start from it).
    base: Frame,
}

impl HostCursor {
    /// At the start of the batch, as `run_batch_sections` walks it.
    pub(super) fn new(play: &Play, base: &Frame) -> Self {
        let mut plan = VecDeque::new();
        plan.push_back(PlanStep::Gather);
        plan.push_back(PlanStep::Items(Section::PreTasks));
        plan.push_back(PlanStep::Flush);
        for role in &play.roles {
            plan.push_back(PlanStep::Role(role.clone()));
        }
        plan.push_back(PlanStep::Items(Section::Tasks));
        plan.push_back(PlanStep::Flush);
        plan.push_back(PlanStep::Items(Section::PostTasks));
        plan.push_back(PlanStep::Flush);
        HostCursor {
            plan,
            stack: Vec::new(),
            base: base.clone(),
        }
    }

    /// Tasks an include loaded for this host: walked next.
    pub(super) fn push_included_tasks(&mut self, items: Rc<Vec<Item>>, frame: Frame) {
        self.stack.push(Level {
            items: Items::Loaded(items),
            next: 0,
            frame,
            exit: Exit::Nothing,
        });
    }

    /// A role (an `include_role`'s, or one of the play's): its dependencies,
    /// then its tasks, each followed by the end of the role, as `run_role`.
    pub(super) fn push_role(&mut self, role: &Rc<Role>, parent: &Frame) {
        let frame = parent.entering_role(role);
        let mut own = frame.clone();
        own.role = Some(role.clone());
        // A stack: what runs first is pushed last.
        self.stack.push(Level {
            items: Items::Role(role.clone()),
            next: 0,
            frame: own,
            exit: Exit::EndRole,
        });
        for dep in role.dependencies.iter().rev() {
            self.push_role(dep, &frame);
        }
    }

    fn push_block(&mut self, block: &Rc<Block>, frame: Frame, part: BlockPart, exit: Exit) {
        self.stack.push(Level {
            items: Items::Block(block.clone(), part),
            next: 0,
            frame,
            exit,
        });
    }
}

impl<'a, S: Sink> Executor<'a, S> {
    /// Moves `host`'s cursor to its next step, doing on the way what the
    /// linear walk does between tasks (entering blocks, rescue and always,
    /// the end of a role).
    pub(super) fn free_next_step(
        &mut self,
        ctx: &PlayCtx,
        cursor: &mut HostCursor,
        host: &str,
    ) -> Step {
        loop {
            if let Some(level) = cursor.stack.last_mut() {
                let next = level.items.get(ctx.play).get(level.next).cloned();
                if let Some(item) = next {
                    level.next += 1;
                    match item {
                        Item::Task(task) => return Step::Task(task, level.frame.clone()),
                        Item::Block(block) => {
                            // A host that is out (failed, ended) does not enter a block.
                            if self.is_active(host) {
                                let frame = level.frame.for_block(&block);
                                cursor.push_block(&block, frame, BlockPart::Body, Exit::BlockBody);
                            }
                        }
                    }
                    continue;
                }
                if let Some(done) = cursor.stack.pop() {
                    self.free_leave(cursor, done, host);
                }
                continue;
            }
            match cursor.plan.pop_front() {
                None => return Step::Done,
                Some(PlanStep::Gather) => return Step::Gather,
                Some(PlanStep::Flush) => return Step::Flush,
                Some(PlanStep::Items(section)) => cursor.stack.push(Level {
                    items: Items::Play(section),
                    next: 0,
                    frame: cursor.base.clone(),
                    exit: Exit::Nothing,
                }),
                Some(PlanStep::Role(role)) => {
                    let base = cursor.base.clone();
                    cursor.push_role(&role, &base);
                }
            }
        }
    }

    /// What the end of a list means for the host (see `run_block`).
    fn free_leave(&mut self, cursor: &mut HostCursor, done: Level, host: &str) {
        let block = match &done.items {
            Items::Block(block, _) => Some(block.clone()),
            _ => None,
        };
        match (done.exit, block) {
            (Exit::Nothing, _) => {}
            (Exit::EndRole, _) => self.end_of_role(&[host.to_string()]),
            (Exit::BlockBody, Some(block)) => {
                let failed = self.failed_reachable(host);
                if failed && !block.rescue.is_empty() {
                    self.state(host).failed = false;
                    cursor.push_block(&block, done.frame, BlockPart::Rescue, Exit::Rescued);
                } else {
                    self.free_enter_always(cursor, &block, done.frame, host);
                }
            }
            (Exit::Rescued, Some(block)) => {
                if self.is_active(host) {
                    let stats = self.stats.host(host);
                    stats.rescued += 1;
                    // The failure was handled: it no longer counts as one.
                    stats.failures = stats.failures.saturating_sub(1);
                }
                self.free_enter_always(cursor, &block, done.frame, host);
            }
            (Exit::Always { refail }, _) => {
                if refail {
                    self.state(host).failed = true;
                }
            }
            // Block exits are only given to block levels.
            (Exit::BlockBody | Exit::Rescued, None) => {}
        }
    }

    fn free_enter_always(
        &mut self,
        cursor: &mut HostCursor,
        block: &Rc<Block>,
        frame: Frame,
        host: &str,
    ) {
        if block.always.is_empty() {
            return;
        }
        // The always section runs for a failed host too; it stays failed.
        let refail = self.failed_reachable(host);
        if refail {
            self.state(host).failed = false;
        }
        cursor.push_block(block, frame, BlockPart::Always, Exit::Always { refail });
    }

    fn failed_reachable(&self, host: &str) -> bool {
        self.states
            .get(host)
            .is_some_and(|s| s.failed && !s.unreachable)
    }
}
