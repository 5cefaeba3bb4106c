//! How the templar asks for variables: lazily, one name at a time, so that a
//! task only pays for the variables it uses (as Ansible's `AnsibleJ2Vars`).

use std::collections::HashMap;

use indexmap::IndexMap;
use minijinja::value::Value;

/// A source of raw (not yet templated) variable values.
///
/// Values that are strings containing templates are templated by the
/// templar on lookup, recursively, in the same variable context.
pub trait VarSource {
    /// The raw value of `name`, or `None` when it is not defined.
    fn get(&self, name: &str) -> Option<Value>;
    /// Every defined name (for `vars`, `varnames`); order as the source keeps it.
    fn names(&self) -> Vec<String>;
}

impl VarSource for IndexMap<String, Value> {
    fn get(&self, name: &str) -> Option<Value> {
        IndexMap::get(self, name).cloned()
    }
    fn names(&self) -> Vec<String> {
        self.keys().cloned().collect()
    }
}

impl VarSource for HashMap<String, Value> {
    fn get(&self, name: &str) -> Option<Value> {
        HashMap::get(self, name).cloned()
    }
    fn names(&self) -> Vec<String> {
        self.keys().cloned().collect()
    }
}

/// A simple ordered variable set, for tests and callers with plain data.
#[derive(Clone, Debug, Default)]
pub struct MapVars {
    pub vars: IndexMap<String, Value>,
}

impl MapVars {
    pub fn new() -> Self {
        MapVars::default()
    }
    /// Builds from a JSON object (e.g. `serde_json::json!({...})`).
    pub fn from_json(data: &serde_json::Value) -> Self {
        let value = crate::value_conv::from_json(data);
        let mut vars = IndexMap::new();
        if let Ok(keys) = value.try_iter() {
            for key in keys {
                if let Some(name) = key.as_str() {
                    vars.insert(name.to_string(), value.get_item(&key).unwrap_or_default());
                }
            }
        }
        MapVars { vars }
    }
    pub fn set(&mut self, name: impl Into<String>, value: impl Into<Value>) -> &mut Self {
        self.vars.insert(name.into(), value.into());
        self
    }
}

impl VarSource for MapVars {
    fn get(&self, name: &str) -> Option<Value> {
        self.vars.get(name).cloned()
    }
    fn names(&self) -> Vec<String> {
        self.vars.keys().cloned().collect()
    }
}

/// Variables layered over another source (loop variables, `vars:` of an include).
pub struct OverlayVars<'a> {
    pub top: &'a dyn VarSource,
    pub base: &'a dyn VarSource,
}

impl VarSource for OverlayVars<'_> {
    fn get(&self, name: &str) -> Option<Value> {
        self.top.get(name).or_else(|| self.base.get(name))
    }
    fn names(&self) -> Vec<String> {
        let mut names = self.base.names();
        for n in self.top.names() {
            if !names.contains(&n) {
                names.push(n);
            }
        }
        names
    }
}
