//! Custom stats set by `set_stats` (Ansible's `AggregateStats.custom`): per
//! host, or for the whole run under `_run`; `aggregate` adds to what is
//! there, as Python's `+=` (numbers, strings, lists) or a recursive merge
//! (dictionaries); a value of another type than the one kept is ignored.

use serde_json::{Map, Number, Value};

/// The key Ansible keeps run-wide stats under.
const RUN: &str = "_run";

#[derive(Clone, Debug, Default)]
pub struct CustomStats {
    by_host: Map<String, Value>,
}

impl CustomStats {
    /// Takes the `ansible_stats` of an ok result of `host`, if it has data.
    pub fn absorb(&mut self, host: &str, result: &Map<String, Value>) {
        let Some(stats) = result.get("ansible_stats").and_then(Value::as_object) else {
            return;
        };
        let Some(data) = stats.get("data").and_then(Value::as_object) else {
            return;
        };
        if data.is_empty() {
            return;
        }
        let per_host = stats.get("per_host").is_none_or(truthy);
        let aggregate = stats.get("aggregate").is_some_and(truthy);
        let owner = if per_host { host } else { RUN };
        for (which, what) in data {
            if aggregate {
                self.update(owner, which, what);
            } else {
                self.set(owner, which, what.clone());
            }
        }
    }

    fn set(&mut self, owner: &str, which: &str, what: Value) {
        let slot = self
            .by_host
            .entry(owner.to_string())
            .or_insert_with(|| Value::Object(Map::new()));
        if let Value::Object(map) = slot {
            map.insert(which.to_string(), what);
        }
    }

    fn update(&mut self, owner: &str, which: &str, what: &Value) {
        let existing = self
            .by_host
            .get_mut(owner)
            .and_then(Value::as_object_mut)
            .and_then(|m| m.get_mut(which));
        let Some(existing) = existing else {
            return self.set(owner, which, what.clone());
        };
        if let Some(sum) = added(existing, what) {
            *existing = sum;
        }
    }

    pub fn is_empty(&self) -> bool {
        self.by_host.is_empty()
    }

    /// Per-host stats, hosts sorted by name (the run's left out).
    pub fn hosts_sorted(&self) -> Vec<(&String, &Value)> {
        let mut hosts: Vec<(&String, &Value)> = self
            .by_host
            .iter()
            .filter(|(k, _)| k.as_str() != RUN)
            .collect();
        hosts.sort_by(|a, b| a.0.cmp(b.0));
        hosts
    }

    /// The stats set for the whole run (`per_host: false`), if any.
    pub fn run(&self) -> Option<&Value> {
        self.by_host.get(RUN)
    }

    /// `(custom_stats, global_custom_stats)` as the json callback shows them.
    pub fn split(&self) -> (Map<String, Value>, Map<String, Value>) {
        let mut per_host = self.by_host.clone();
        let global = match per_host.remove(RUN) {
            Some(Value::Object(map)) => map,
            _ => Map::new(),
        };
        (per_host, global)
    }
}

/// `existing += what` in Python, when `what` is an instance of `existing`'s type.
fn added(existing: &Value, what: &Value) -> Option<Value> {
    match (existing, what) {
        (Value::Object(a), Value::Object(b)) => Some(Value::Object(merge_hash(a, b))),
        (Value::Array(a), Value::Array(b)) => {
            Some(Value::Array(a.iter().chain(b).cloned().collect()))
        }
        (Value::String(a), Value::String(b)) => Some(Value::String(format!("{a}{b}"))),
        // bool is a subclass of int: int += bool works, bool += bool gives an int.
        (Value::Bool(a), Value::Bool(b)) => Some(Value::from(i64::from(*a) + i64::from(*b))),
        (Value::Number(a), Value::Bool(b)) if is_int(a) => int_sum(a, i64::from(*b)),
        (Value::Number(a), Value::Number(b)) if is_int(a) && is_int(b) => {
            b.as_i64().and_then(|b| int_sum(a, b))
        }
        (Value::Number(a), Value::Number(b)) if a.is_f64() && b.is_f64() => {
            let sum = a.as_f64().unwrap_or(0.0) + b.as_f64().unwrap_or(0.0);
            Number::from_f64(sum).map(Value::Number)
        }
        _ => None,
    }
}

fn is_int(n: &Number) -> bool {
    n.is_i64() || n.is_u64()
}

fn int_sum(a: &Number, b: i64) -> Option<Value> {
    a.as_i64().and_then(|a| a.checked_add(b)).map(Value::from)
}

/// Ansible's `merge_hash` with its defaults: nested dictionaries merged, any
/// other value of `b` replaces `a`'s.
fn merge_hash(a: &Map<String, Value>, b: &Map<String, Value>) -> Map<String, Value> {
    let mut out = a.clone();
    for (k, v) in b {
        let merged = match (out.get(k), v) {
            (Some(Value::Object(x)), Value::Object(y)) => Value::Object(merge_hash(x, y)),
            _ => v.clone(),
        };
        out.insert(k.clone(), merged);
    }
    out
}

fn truthy(v: &Value) -> bool {
    super::default_callback::python_truthy(v)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn result(stats: Value) -> Map<String, Value> {
        json!({ "ansible_stats": stats })
            .as_object()
            .cloned()
            .unwrap_or_default()
    }

    #[test]
    fn aggregates_as_python_adds_and_merges() {
        let mut cs = CustomStats::default();
        let run = |data: Value| result(json!({"data": data, "per_host": false, "aggregate": true}));
        cs.absorb(
            "h1",
            &run(json!({"n": 1, "l": ["a"], "d": {"x": {"y": 1}}, "s": "a"})),
        );
        cs.absorb(
            "h2",
            &run(json!({"n": 2, "l": ["b"], "d": {"x": {"z": 2}}, "s": "b"})),
        );
        // A float does not add to an int: ignored.
        cs.absorb("h2", &run(json!({"n": 1.5})));
        let (per_host, global) = cs.split();
        assert!(per_host.is_empty());
        assert_eq!(
            Value::Object(global),
            json!({"n": 3, "l": ["a", "b"], "d": {"x": {"y": 1, "z": 2}}, "s": "ab"})
        );
    }

    #[test]
    fn per_host_by_default_and_set_without_aggregate() {
        let mut cs = CustomStats::default();
        cs.absorb("h1", &result(json!({"data": {"n": 1}})));
        cs.absorb("h1", &result(json!({"data": {"n": 5}, "aggregate": false})));
        cs.absorb("h1", &result(json!({"data": {}})));
        let (per_host, global) = cs.split();
        assert_eq!(Value::Object(per_host), json!({"h1": {"n": 5}}));
        assert!(global.is_empty());
    }
}
