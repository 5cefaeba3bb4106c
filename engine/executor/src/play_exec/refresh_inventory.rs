//! `meta: refresh_inventory`: the inventory sources are read again, as
//! Ansible's `InventoryManager.refresh_inventory` does, and what `add_host`
//! and `group_by` added during the run is put back on top (Ansible replays
//! its cached dynamic hosts and groupings the same way). Hosts that appear
//! are visible to the plays that follow; the running play keeps its hosts.

use rsible_inventory::Inventory;
use rsible_yaml::Node;

use super::{Executor, FatalError};
use crate::output::default_callback::Sink;

/// Reads the inventory sources again (set up by the command that runs the
/// playbook, which knows the sources and settings).
pub type InventoryReload<'a> = Box<dyn FnMut() -> Result<Inventory, String> + 'a>;

/// One change `add_host` or `group_by` made, kept to be made again on a
/// refreshed inventory.
#[derive(Clone, Debug)]
pub(super) enum InventoryOp {
    AddHost {
        name: String,
        groups: Vec<String>,
        vars: Vec<(String, Node)>,
    },
    GroupBy {
        host: String,
        group: String,
        parents: Vec<String>,
    },
}

/// `group` as it exists, else created (under `all`, as Ansible's are).
fn ensure_group(inv: &mut Inventory, group: &str) -> Option<String> {
    if inv.groups.contains_key(group) {
        return Some(group.to_string());
    }
    inv.add_group(group).ok()
}

fn replay(inv: &mut Inventory, op: &InventoryOp) {
    match op {
        InventoryOp::AddHost { name, groups, vars } => {
            if !inv.hosts.contains_key(name) && inv.add_host(name, Some("all"), None).is_err() {
                return;
            }
            for (k, v) in vars {
                let _ = inv.set_variable(name, k, v.clone());
            }
            for g in groups {
                if let Some(g) = ensure_group(inv, g) {
                    let _ = inv.add_child(&g, name);
                }
            }
        }
        InventoryOp::GroupBy {
            host,
            group,
            parents,
        } => {
            let Some(group) = ensure_group(inv, group) else {
                return;
            };
            for p in parents {
                if let Some(p) = ensure_group(inv, p) {
                    let _ = inv.add_child(&p, &group);
                }
            }
            let member = inv.group_hosts(&group).iter().any(|h| h == host);
            if inv.hosts.contains_key(host) && !member {
                let _ = inv.add_child(&group, host);
            }
        }
    }
}

impl<'a, S: Sink> Executor<'a, S> {
    /// How to read the inventory sources again, for `meta: refresh_inventory`.
    pub fn with_inventory_reload(mut self, reload: InventoryReload<'a>) -> Self {
        self.inventory_reload = Some(reload);
        self
    }

    /// Remembers an `add_host`/`group_by` change for later refreshes.
    pub(super) fn record_inventory_op(&mut self, op: InventoryOp) {
        self.meta.inventory_ops.push(op);
    }

    pub(super) fn refresh_inventory(&mut self) -> Result<(), FatalError> {
        let Some(reload) = self.inventory_reload.as_mut() else {
            return Err(FatalError {
                message: "meta: refresh_inventory is not available in this kind of run".into(),
                exit_code: 1,
            });
        };
        let mut fresh = reload().map_err(|message| FatalError {
            message,
            exit_code: 1,
        })?;
        for op in &self.meta.inventory_ops {
            replay(&mut fresh, op);
        }
        fresh.reconcile();
        *self.inventory = fresh;
        self.inventory_changed();
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dynamic_hosts_and_groups_are_put_back() {
        let mut inv = Inventory::default();
        inv.add_host("h1", Some("all"), None).unwrap();
        let ops = [
            InventoryOp::AddHost {
                name: "new".into(),
                groups: vec!["extra".into()],
                vars: vec![(
                    "x".into(),
                    Node::unplaced(rsible_yaml::Value::Str("1".into())),
                )],
            },
            InventoryOp::GroupBy {
                host: "h1".into(),
                group: "by_os".into(),
                parents: vec!["all".into()],
            },
        ];
        for op in &ops {
            replay(&mut inv, op);
        }
        inv.reconcile();
        assert!(inv.hosts.contains_key("new"));
        assert_eq!(inv.group_hosts("extra"), ["new"]);
        assert_eq!(inv.group_hosts("by_os"), ["h1"]);
        assert!(inv.hosts["new"].vars.contains_key("x"));
    }
}
