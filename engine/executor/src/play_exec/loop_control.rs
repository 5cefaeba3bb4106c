//! `loop_control`: the loop variable's name, `index_var`, `label`, `pause`
//! and `extended` (`ansible_loop`), as TaskExecutor's loop sets them.

use std::time::Duration;

use indexmap::IndexMap;
use rsible_templar::{from_yaml, to_json, Templar, Value};
use serde_json::{Map, Value as Json};

use crate::vars::VarLayers;

pub(super) struct LoopControl {
    pub loop_var: String,
    pub index_var: Option<String>,
    pub label: Option<rsible_yaml::Node>,
    pub pause: Duration,
    pub extended: bool,
    pub extended_allitems: bool,
}

impl LoopControl {
    /// Reads `loop_control` (each field templated, as Ansible post-validates it).
    pub fn read(templar: &Templar, node: Option<&rsible_yaml::Node>, scope: &VarLayers) -> Self {
        let map = node.and_then(|n| n.as_map());
        let field = |name: &str| -> Option<Value> {
            let n = map?.get(name)?;
            templar.template(&from_yaml(n), scope).ok()
        };
        let text = |name: &str| {
            field(name).and_then(|v| {
                (!v.is_none() && !v.is_undefined()).then(|| {
                    v.as_str()
                        .map(str::to_string)
                        .unwrap_or_else(|| v.to_string())
                })
            })
        };
        let truthy = |name: &str, default: bool| match field(name) {
            Some(v) => match v.as_str() {
                Some(s) => matches!(
                    s.trim().to_ascii_lowercase().as_str(),
                    "yes" | "on" | "1" | "true" | "t" | "y"
                ),
                None => v.is_true(),
            },
            None => default,
        };
        let pause = text("pause")
            .and_then(|s| s.trim().parse::<f64>().ok())
            .filter(|p| *p > 0.0)
            .unwrap_or(0.0);
        LoopControl {
            loop_var: text("loop_var").unwrap_or_else(|| "item".into()),
            index_var: text("index_var"),
            // The label is templated per item, later.
            label: map.and_then(|m| m.get("label")).cloned(),
            pause: Duration::from_secs_f64(pause),
            extended: truthy("extended", false),
            extended_allitems: truthy("extended_allitems", true),
        }
    }

    /// The variables one iteration sees.
    pub fn item_vars(&self, items: &[Value], index: usize) -> IndexMap<String, Value> {
        let mut top: IndexMap<String, Value> = IndexMap::new();
        top.insert(
            self.loop_var.clone(),
            items.get(index).cloned().unwrap_or_default(),
        );
        top.insert(
            "ansible_loop_var".into(),
            Value::from(self.loop_var.as_str()),
        );
        if let Some(index_var) = &self.index_var {
            top.insert("ansible_index_var".into(), Value::from(index_var.as_str()));
            top.insert(index_var.clone(), Value::from(index));
        }
        if self.extended {
            top.insert("ansible_loop".into(), self.ansible_loop(items, index));
        }
        top
    }

    fn ansible_loop(&self, items: &[Value], index: usize) -> Value {
        let total = items.len();
        let mut l: IndexMap<String, Value> = IndexMap::new();
        l.insert("index".into(), Value::from(index + 1));
        l.insert("index0".into(), Value::from(index));
        l.insert("first".into(), Value::from(index == 0));
        l.insert("last".into(), Value::from(index + 1 == total));
        l.insert("length".into(), Value::from(total));
        l.insert("revindex".into(), Value::from(total - index));
        l.insert("revindex0".into(), Value::from(total - index - 1));
        if self.extended_allitems {
            l.insert("allitems".into(), Value::from(items.to_vec()));
        }
        if let Some(next) = items.get(index + 1) {
            l.insert("nextitem".into(), next.clone());
        }
        if index > 0 {
            l.insert("previtem".into(), items[index - 1].clone());
        }
        crate::scope::map_value(l)
    }

    /// What an item's result carries about its iteration.
    pub fn annotate(&self, r: &mut Map<String, Json>, items: &[Value], index: usize) {
        let item = items.get(index).cloned().unwrap_or_default();
        r.insert(self.loop_var.clone(), to_json(&item));
        r.insert(
            "ansible_loop_var".into(),
            Json::String(self.loop_var.clone()),
        );
        if let Some(index_var) = &self.index_var {
            r.insert(index_var.clone(), Json::from(index));
            r.insert("ansible_index_var".into(), Json::String(index_var.clone()));
        }
        if self.extended {
            r.insert(
                "ansible_loop".into(),
                to_json(&self.ansible_loop(items, index)),
            );
        }
    }
}
