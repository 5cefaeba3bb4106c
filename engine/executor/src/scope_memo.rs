//! Layers `task_scope` would otherwise rebuild for every task on every host,
//! remembered by the identity of the data they are made from.
//!
//! * A host's facts layer (`fact_vars`: every fact twice, plus
//!   `ansible_facts`) is rebuilt only when the host's facts change. Facts
//!   live in an `Arc` that is replaced (or copied on write by
//!   `Arc::make_mut`, since the memo holds a second reference) whenever they
//!   change, so the same `Arc` always means the same facts.
//! * A role's own defaults and vars (its dependencies' first) are converted
//!   once per loaded role: a loaded `Role` is never changed afterwards.
//! * A role's defaults/vars files are converted from YAML once per run: the
//!   loader shares one parsed copy between every play that uses the role
//!   (Kubespray's plays all pull in kubespray_defaults).
//!
//! The layers hold the same values a fresh build would (values are shared,
//! not copied, either way), so a template that changes a container in place
//! sees what it would have seen without the memo.

use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;
use std::sync::Arc;

use indexmap::IndexMap;
use rsible_playbook::Role;
use rsible_templar::{from_yaml, Value};
use rsible_yaml::Node;

use crate::scope::{collect_role_defaults, collect_role_vars, fact_vars};
use crate::vars::Layer;

/// Above this many entries, entries whose source nobody else holds any more
/// (facts replaced since, roles of finished plays) are dropped.
const PRUNE_ABOVE: usize = 64;

type Facts = Arc<IndexMap<String, Value>>;

struct RoleLayers {
    defaults: Layer,
    vars: Layer,
}

type RoleFile = Rc<IndexMap<String, Node>>;
/// A role (held so that its address is not reused while memoised) and its layers.
type RoleEntry = (Rc<Role>, Rc<RoleLayers>);

thread_local! {
    static CONVERTED: RefCell<HashMap<usize, (RoleFile, Layer)>> = RefCell::default();
    static FACT_LAYERS: RefCell<HashMap<usize, (Facts, Layer)>> = RefCell::default();
    static ROLE_LAYERS: RefCell<HashMap<usize, RoleEntry>> = RefCell::default();
}

/// `fact_vars(facts)`, built once per version of a host's facts.
pub fn fact_layer(facts: &Facts) -> Layer {
    let key = Arc::as_ptr(facts) as usize;
    FACT_LAYERS.with(|memo| {
        let mut memo = memo.borrow_mut();
        if let Some((held, layer)) = memo.get(&key) {
            if Arc::ptr_eq(held, facts) {
                return layer.clone();
            }
        }
        if memo.len() >= PRUNE_ABOVE {
            memo.retain(|_, (held, _)| Arc::strong_count(held) > 1);
        }
        let layer: Layer = Arc::new(fact_vars(facts));
        memo.insert(key, (facts.clone(), layer.clone()));
        layer
    })
}

/// A role's defaults or vars file (as the loader shares it) as values.
pub fn converted(file: &RoleFile) -> Layer {
    let key = Rc::as_ptr(file) as usize;
    CONVERTED.with(|memo| {
        let mut memo = memo.borrow_mut();
        if let Some((held, layer)) = memo.get(&key) {
            if Rc::ptr_eq(held, file) {
                return layer.clone();
            }
        }
        if memo.len() >= PRUNE_ABOVE {
            memo.retain(|_, (held, _)| Rc::strong_count(held) > 1);
        }
        let layer: Layer = Arc::new(
            file.iter()
                .map(|(k, v)| (k.clone(), from_yaml(v)))
                .collect(),
        );
        memo.insert(key, (file.clone(), layer.clone()));
        layer
    })
}

/// The role's own defaults level (its dependencies' first).
pub fn role_defaults_layer(role: &Rc<Role>) -> Layer {
    role_layers(role).defaults.clone()
}

/// The role's own vars level (its dependencies' first).
pub fn role_vars_layer(role: &Rc<Role>) -> Layer {
    role_layers(role).vars.clone()
}

fn role_layers(role: &Rc<Role>) -> Rc<RoleLayers> {
    let key = Rc::as_ptr(role) as usize;
    ROLE_LAYERS.with(|memo| {
        let mut memo = memo.borrow_mut();
        if let Some((held, layers)) = memo.get(&key) {
            if Rc::ptr_eq(held, role) {
                return layers.clone();
            }
        }
        if memo.len() >= PRUNE_ABOVE {
            memo.retain(|_, (held, _)| Rc::strong_count(held) > 1);
        }
        let mut defaults = IndexMap::new();
        collect_role_defaults(role, &mut defaults);
        let mut vars = IndexMap::new();
        collect_role_vars(role, &mut vars);
        let layers = Rc::new(RoleLayers {
            defaults: Arc::new(defaults),
            vars: Arc::new(vars),
        });
        memo.insert(key, (role.clone(), layers.clone()));
        layers
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn facts(pairs: &[(&str, i64)]) -> Facts {
        Arc::new(
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), Value::from(*v)))
                .collect(),
        )
    }

    #[test]
    fn the_same_facts_give_the_same_layer() {
        let f = facts(&[("ansible_a", 1)]);
        let first = fact_layer(&f);
        let second = fact_layer(&f.clone());
        assert!(Arc::ptr_eq(&first, &second));
        assert_eq!(first.get("ansible_a"), Some(&Value::from(1)));
        assert!(first.contains_key("ansible_facts"));
    }

    #[test]
    fn changed_facts_give_a_new_layer() {
        let mut f = facts(&[("ansible_a", 1)]);
        let before = fact_layer(&f);
        // what the executor does when a task sets facts: copy on write
        Arc::make_mut(&mut f).insert("ansible_a".into(), Value::from(2));
        let after = fact_layer(&f);
        assert_eq!(before.get("ansible_a"), Some(&Value::from(1)));
        assert_eq!(after.get("ansible_a"), Some(&Value::from(2)));
        // and facts replaced outright
        let g = facts(&[("ansible_a", 3)]);
        assert_eq!(fact_layer(&g).get("ansible_a"), Some(&Value::from(3)));
    }

    fn role_file(text: &str) -> RoleFile {
        let node = rsible_yaml::load_one(text, None).expect("yaml");
        let map = node
            .as_map()
            .expect("a mapping")
            .iter()
            .map(|(k, v)| (k.as_str().expect("key").to_string(), v.clone()))
            .collect();
        Rc::new(map)
    }

    #[test]
    fn a_shared_file_is_converted_once_and_an_other_file_on_its_own() {
        let file = role_file("a: 1\nb: '{{ a }}'\n");
        let first = converted(&file);
        assert!(Arc::ptr_eq(&first, &converted(&file.clone())));
        assert_eq!(first.get("a"), Some(&Value::from(1)));
        assert_eq!(first.get("b"), Some(&Value::from("{{ a }}")));
        let other = role_file("a: 2\n");
        assert_eq!(converted(&other).get("a"), Some(&Value::from(2)));
    }

    #[test]
    fn stale_entries_are_pruned() {
        for i in 0..(PRUNE_ABOVE as i64 * 3) {
            let f = facts(&[("ansible_n", i)]);
            assert_eq!(fact_layer(&f).get("ansible_n"), Some(&Value::from(i)));
        }
        let kept = FACT_LAYERS.with(|m| m.borrow().len());
        assert!(kept <= PRUNE_ABOVE + 1, "{kept} entries kept");
    }
}
