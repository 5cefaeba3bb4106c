//! A variable scope as a stack of layers, lowest precedence first.
//!
//! Ansible computes one flat dict per (host, task) by updating it level after
//! level (role defaults, group vars, host vars, facts, play vars, ...). We keep
//! the levels as shared layers instead and look a name up from the top: the
//! same answer under `hash_behaviour=replace` (a higher level replaces the
//! whole value), without copying thousands of variables for every task.

use std::sync::Arc;

use indexmap::IndexMap;
use rsible_templar::{Value, VarSource};

/// One level of variables, shared between all the scopes that include it.
pub type Layer = Arc<IndexMap<String, Value>>;

#[derive(Clone, Default)]
pub struct VarLayers {
    /// (what this level is, its variables), lowest precedence first.
    layers: Vec<(&'static str, Layer)>,
}

impl VarLayers {
    pub fn new() -> Self {
        VarLayers::default()
    }

    /// Adds a level above every level already present.
    pub fn push(&mut self, level: &'static str, layer: Layer) {
        if !layer.is_empty() {
            self.layers.push((level, layer));
        }
    }

    /// Adds a level built from owned values.
    pub fn push_map(&mut self, level: &'static str, vars: IndexMap<String, Value>) {
        self.push(level, Arc::new(vars));
    }

    /// Adds a level right above the last level that `below` accepts (at the
    /// bottom when none does): for levels computed after the scope is built,
    /// such as the play's vars_files, which depend on the levels under them.
    pub fn insert_above(
        &mut self,
        level: &'static str,
        layer: Layer,
        below: impl Fn(&str) -> bool,
    ) {
        if layer.is_empty() {
            return;
        }
        let at = self
            .layers
            .iter()
            .rposition(|(name, _)| below(name))
            .map_or(0, |i| i + 1);
        self.layers.insert(at, (level, layer));
    }

    /// Keeps only the levels whose name `keep` accepts (a delegate that is
    /// not in the inventory has no group levels).
    pub fn retain_levels(&mut self, keep: impl Fn(&str) -> bool) {
        self.layers.retain(|(level, _)| keep(level));
    }

    /// The name of the level a variable comes from, for debugging precedence.
    pub fn origin(&self, name: &str) -> Option<&'static str> {
        self.layers
            .iter()
            .rev()
            .find(|(_, l)| l.contains_key(name))
            .map(|(level, _)| *level)
    }

    /// Every variable with its winning value, in first-definition order, as
    /// the flat dict Ansible would have built.
    pub fn flatten(&self) -> IndexMap<String, Value> {
        let mut out = IndexMap::new();
        for (_, layer) in &self.layers {
            for (k, v) in layer.iter() {
                out.insert(k.clone(), v.clone());
            }
        }
        out
    }
}

impl VarSource for VarLayers {
    fn get(&self, name: &str) -> Option<Value> {
        self.layers
            .iter()
            .rev()
            .find_map(|(_, layer)| layer.get(name).cloned())
    }

    fn names(&self) -> Vec<String> {
        let mut seen = indexmap::IndexSet::new();
        for (_, layer) in &self.layers {
            for k in layer.keys() {
                seen.insert(k.clone());
            }
        }
        seen.into_iter().collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn layer(pairs: &[(&str, i64)]) -> IndexMap<String, Value> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), Value::from(*v)))
            .collect()
    }

    #[test]
    fn higher_levels_replace_lower_ones() {
        let mut scope = VarLayers::new();
        scope.push_map("role defaults", layer(&[("a", 1), ("b", 1)]));
        scope.push_map("play vars", layer(&[("b", 2)]));
        scope.push_map("extra vars", layer(&[("c", 3)]));
        assert_eq!(scope.get("a"), Some(Value::from(1)));
        assert_eq!(scope.get("b"), Some(Value::from(2)));
        assert_eq!(scope.origin("b"), Some("play vars"));
        assert_eq!(scope.get("missing"), None);
        assert_eq!(scope.names(), vec!["a", "b", "c"]);
    }

    #[test]
    fn a_level_inserted_above_play_vars_stays_under_extra_vars() {
        let mut scope = VarLayers::new();
        scope.push_map("play vars", layer(&[("a", 1), ("b", 1)]));
        scope.push_map("extra vars", layer(&[("b", 3)]));
        scope.insert_above(
            "play vars_files",
            Arc::new(layer(&[("a", 2), ("b", 2)])),
            |l| l == "play vars",
        );
        assert_eq!(scope.get("a"), Some(Value::from(2)));
        assert_eq!(scope.origin("a"), Some("play vars_files"));
        assert_eq!(scope.get("b"), Some(Value::from(3)));
    }
}
