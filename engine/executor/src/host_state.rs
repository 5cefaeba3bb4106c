//! What the executor remembers about each host during a run.

use std::sync::Arc;

use indexmap::{IndexMap, IndexSet};
use rsible_templar::Value;

#[derive(Clone, Debug, Default)]
pub struct HostState {
    /// Gathered facts (`ansible_facts`), also injected as `ansible_*` vars.
    pub facts: Arc<IndexMap<String, Value>>,
    /// set_fact and register results: one precedence level.
    pub set_facts: Arc<IndexMap<String, Value>>,
    /// include_vars results: the level below set_fact.
    pub include_vars: Arc<IndexMap<String, Value>>,
    /// A task failed on this host (and was not rescued or ignored): it runs nothing more.
    pub failed: bool,
    pub unreachable: bool,
    /// `meta: end_host` or end of play for this host.
    pub ended: bool,
    /// `meta: end_role`: the rest of the current role is skipped.
    pub role_ended: bool,
    /// Handlers notified and not yet run, by `notify::handler_key`.
    pub notified_handlers: IndexSet<usize>,
}

impl HostState {
    /// The host takes part in the next task.
    pub fn is_active(&self) -> bool {
        !self.failed && !self.unreachable && !self.ended && !self.role_ended
    }
}
