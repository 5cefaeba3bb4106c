//! `hostvars`, kept between tasks and rebuilt one host at a time.
//!
//! `hostvars` covers every inventory host, and each host's entry is a whole
//! variable scope: rebuilding all of it whenever one host's state changed
//! (a `register`, a `set_fact`) made a task over N hosts cost N² scope
//! builds. A change to one host's state now rebuilds that host's entry
//! only; a change to the inventory (add_host, group_by) or a new play
//! rebuilds them all.

use std::collections::HashSet;
use std::sync::Arc;

use indexmap::IndexMap;
use rsible_playbook::Play;
use rsible_templar::Value;

use super::{Executor, PlayCtx};
use crate::magic::HostVars;
use crate::output::default_callback::Sink;
use crate::vars::VarLayers;

/// The name `hostvars` gives the implicit localhost (when the inventory has
/// no host of that name); `groups.all` still leaves it out.
const IMPLICIT_LOCALHOST: &str = "localhost";

#[derive(Default)]
pub(super) struct HostvarsCache {
    /// The play the entries were built for; `None`: nothing is built.
    play: Option<*const Play>,
    hosts: IndexMap<String, Arc<VarLayers>>,
    /// The `hostvars` value over `hosts`, when none changed since.
    value: Option<Value>,
    /// Hosts whose state changed since their entry was built.
    changed: HashSet<String>,
}

impl HostvarsCache {
    /// `host`'s state may have changed: its entry is rebuilt on next use.
    pub(super) fn host_changed(&mut self, host: &str) {
        if self.play.is_some() && !self.changed.contains(host) {
            self.changed.insert(host.to_string());
            self.value = None;
        }
    }

    /// The inventory changed: every entry is rebuilt on next use.
    pub(super) fn invalidate(&mut self) {
        *self = HostvarsCache::default();
    }
}

impl<'a, S: Sink> Executor<'a, S> {
    /// `hostvars` for the current play (see the module's comment).
    pub(super) fn hostvars_value(&mut self, ctx: &PlayCtx) -> Value {
        let play: *const Play = ctx.play;
        if self.hostvars_cache.play != Some(play) {
            self.hostvars_cache.invalidate();
            let mut names: Vec<String> = self.inventory.hosts.keys().cloned().collect();
            // Ansible's HostVars finds the implicit localhost and, as
            // ansible-playbook always has it made by then, lists it last.
            if self.inventory.is_implicit_localhost(IMPLICIT_LOCALHOST) {
                names.push(IMPLICIT_LOCALHOST.to_string());
            }
            let mut hosts = IndexMap::with_capacity(names.len());
            for name in names {
                let entry = self.hostvars_entry(ctx, &name);
                hosts.insert(name, entry);
            }
            self.hostvars_cache.hosts = hosts;
            self.hostvars_cache.play = Some(play);
        } else if !self.hostvars_cache.changed.is_empty() {
            let changed = std::mem::take(&mut self.hostvars_cache.changed);
            for name in changed {
                if self.hostvars_cache.hosts.contains_key(&name) {
                    let entry = self.hostvars_entry(ctx, &name);
                    self.hostvars_cache.hosts.insert(name, entry);
                }
            }
        }
        if let Some(value) = &self.hostvars_cache.value {
            return value.clone();
        }
        let value = Value::from_object(HostVars {
            templar: self.templar.clone(),
            hosts: self.hostvars_cache.hosts.clone(),
        });
        self.hostvars_cache.value = Some(value.clone());
        value
    }
}
