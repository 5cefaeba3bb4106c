//! What a host's execution of the current task templated, kept across the
//! walks `prefetch.rs` repeats: the module arguments of each execution (a
//! loop item, or the task) and the loop's items. Each walk of the host gets
//! the same values in the same order, so a lookup in them (`pipe`, `file`,
//! `password`...) runs once per execution, as in Ansible, however many
//! rounds the calls took, and a value that differs between templatings
//! (`now()`, `random`) is the one the call was actually made with.

use std::collections::HashMap;

use indexmap::IndexMap;
use rsible_playbook::Task;
use rsible_templar::Value;
use serde_json::{Map, Value as Json};

use super::Executor;
use crate::output::default_callback::Sink;
use crate::vars::VarLayers;

type Args = Result<IndexMap<String, Value>, String>;
type Items = Result<Vec<Value>, Map<String, Json>>;

/// One host's templated values for the current task.
#[derive(Default)]
pub(super) struct HostMemo {
    /// Module arguments per execution, in the order the walks reach them.
    args: Vec<Args>,
    /// How many of `args` the current walk has used.
    cursor: usize,
    loop_items: Option<Items>,
}

/// The memos of the hosts in the current batch (none outside a batch).
#[derive(Default)]
pub(super) struct TemplatedOnce {
    hosts: HashMap<String, HostMemo>,
}

impl TemplatedOnce {
    /// A batch over `hosts` starts: each gets an empty memo.
    pub(super) fn start(&mut self, hosts: &[String]) {
        self.hosts = hosts
            .iter()
            .map(|h| (h.clone(), HostMemo::default()))
            .collect();
    }

    /// A new walk of `host` starts: it reads the memo from the beginning.
    pub(super) fn rewind(&mut self, host: &str) {
        if let Some(m) = self.hosts.get_mut(host) {
            m.cursor = 0;
        }
    }

    pub(super) fn rewind_all(&mut self) {
        for m in self.hosts.values_mut() {
            m.cursor = 0;
        }
    }

    /// The walk of `host` went another way than recorded: nothing kept can
    /// be matched to its executions any more.
    pub(super) fn forget(&mut self, host: &str) {
        self.hosts.remove(host);
    }

    pub(super) fn clear(&mut self) {
        self.hosts.clear();
    }

    pub(super) fn has(&self, host: &str) -> bool {
        self.hosts
            .get(host)
            .is_some_and(|m| !m.args.is_empty() || m.loop_items.is_some())
    }
}

impl<S: Sink> Executor<'_, S> {
    /// `template_args`, once per execution of the task on `host` while a
    /// batch runs (see the module's comment).
    pub(super) fn template_args_once(
        &mut self,
        task: &Task,
        host: &str,
        scope: &VarLayers,
    ) -> Args {
        if let Some(m) = self.prefetch.memo.hosts.get_mut(host) {
            if let Some(kept) = m.args.get(m.cursor) {
                m.cursor += 1;
                return kept.clone();
            }
        }
        let args = self.template_args(task, scope);
        if let Some(m) = self.prefetch.memo.hosts.get_mut(host) {
            m.args.push(args.clone());
            m.cursor = m.args.len();
        }
        args
    }

    /// `loop_items`, once per execution of the task on `host` while a batch runs.
    pub(super) fn loop_items_once(&mut self, task: &Task, host: &str, scope: &VarLayers) -> Items {
        if let Some(kept) = self
            .prefetch
            .memo
            .hosts
            .get(host)
            .and_then(|m| m.loop_items.clone())
        {
            return kept;
        }
        let items = self.loop_items(task, scope);
        if let Some(m) = self.prefetch.memo.hosts.get_mut(host) {
            m.loop_items = Some(items.clone());
        }
        items
    }
}
