//! The `hostvars` mapping: every inventory host's variables as another host's
//! task sees them.
//!
//! Ansible builds it without a play: inventory and its vars files, facts,
//! set_fact/register/include_vars results, extra vars and a few magic
//! variables. Play vars, vars_files, role defaults and role vars are not in
//! it, so `hostvars[h].some_role_default is defined` is false (Kubespray's
//! etcd openssl.conf template depends on exactly that).

use std::sync::Arc;

use indexmap::IndexMap;
use rsible_templar::Value;

use super::{Executor, PlayCtx, OMIT};
use crate::frame::Frame;
use crate::magic::ansible_version;
use crate::output::default_callback::Sink;
use crate::scope::{task_scope, PlayLayers};
use crate::vars::VarLayers;

impl<S: Sink> Executor<'_, S> {
    /// One host's entry of `hostvars` (kept and rebuilt by `hostvars_cache.rs`).
    pub(super) fn hostvars_entry(&mut self, ctx: &PlayCtx, name: &str) -> Arc<VarLayers> {
        let no_play = PlayLayers {
            all_role_defaults: Arc::default(),
            play_vars: Arc::default(),
            all_role_vars: Arc::default(),
            extra_vars: ctx.layers.extra_vars.clone(),
        };
        let inv = self.inventory_layers.for_host(
            self.inventory,
            &self.inventory_dirs,
            &self.playbook_dirs,
            name,
        );
        let state = self.states.get(name).cloned().unwrap_or_default();
        let mut magic = self.hostvars_magic(ctx, name);
        if state.facts.is_empty() {
            // Ansible's entry always has `ansible_facts`; with facts it
            // comes from the facts layer.
            Arc::make_mut(&mut magic).insert(
                "ansible_facts".into(),
                crate::scope::map_value(IndexMap::new()),
            );
        }
        Arc::new(task_scope(
            &no_play,
            inv,
            &state,
            &Frame::default(),
            None,
            magic,
        ))
    }

    /// The magic variables Ansible puts in each host's `hostvars` entry.
    fn hostvars_magic(&self, ctx: &PlayCtx, name: &str) -> Arc<IndexMap<String, Value>> {
        let mut magic: IndexMap<String, Value> = IndexMap::new();
        magic.insert("inventory_hostname".into(), Value::from(name));
        let short = name.split('.').next().unwrap_or(name);
        magic.insert("inventory_hostname_short".into(), Value::from(short));
        magic.insert(
            "group_names".into(),
            Value::from_iter(
                self.inventory
                    .group_names(name)
                    .into_iter()
                    .map(Value::from),
            ),
        );
        magic.insert(
            "groups".into(),
            self.groups_now
                .clone()
                .unwrap_or_else(|| ctx.groups.clone()),
        );
        magic.insert(
            "playbook_dir".into(),
            Value::from(ctx.play.basedir.display().to_string()),
        );
        magic.insert("omit".into(), Value::from(OMIT));
        magic.insert(
            "ansible_check_mode".into(),
            Value::from(self.options.check_mode),
        );
        magic.insert("ansible_diff_mode".into(), Value::from(self.options.diff));
        magic.insert("ansible_version".into(), ansible_version());
        if let Some(python) = &self.options.playbook_python {
            magic.insert(
                "ansible_playbook_python".into(),
                Value::from(python.as_str()),
            );
        }
        for (key, value) in &self.options.option_vars {
            magic.insert(key.clone(), value.clone());
        }
        Arc::new(magic)
    }
}
