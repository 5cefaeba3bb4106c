//! Mutable containers. Kubespray templates build data with Python's mutating
//! methods (`{% set _ = d.update({...}) %}`, `l.append(x)`, `d.__setitem__(k, v)`),
//! and the change must be seen by later reads in the same template. minijinja's
//! own maps and lists are immutable (shared behind an `Arc`), so every
//! container that reaches a template through a variable or a `{% set %}`
//! literal is wrapped in one of these objects, which use interior mutability.

use std::fmt;
use std::sync::{Arc, Mutex, MutexGuard};

use indexmap::IndexMap;
use minijinja::value::{Enumerator, Object, ObjectRepr, Value, ValueKind};

/// A Python `dict`: ordered, mutable, keys of any hashable type.
#[derive(Default)]
pub struct MutMap {
    entries: Mutex<IndexMap<Value, Value>>,
}

/// A Python `list`: mutable.
#[derive(Default)]
pub struct MutList {
    items: Mutex<Vec<Value>>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // A poisoned lock only means a panic elsewhere; the data is still usable.
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl MutMap {
    pub fn new(entries: IndexMap<Value, Value>) -> Self {
        MutMap {
            entries: Mutex::new(entries),
        }
    }
    /// A copy of the entries, taken so that callers can iterate without
    /// holding the lock (the template may mutate the map while iterating).
    pub fn snapshot(&self) -> Vec<(Value, Value)> {
        lock(&self.entries)
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect()
    }
    pub fn len(&self) -> usize {
        lock(&self.entries).len()
    }
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
    pub fn get(&self, key: &Value) -> Option<Value> {
        lock(&self.entries).get(key).cloned()
    }
    pub fn insert(&self, key: Value, value: Value) {
        lock(&self.entries).insert(key, value);
    }
    /// Python's `dict.pop`: removes the key keeping the order of the rest.
    pub fn remove(&self, key: &Value) -> Option<Value> {
        lock(&self.entries).shift_remove(key)
    }
    pub fn clear(&self) {
        lock(&self.entries).clear();
    }
}

impl MutList {
    pub fn new(items: Vec<Value>) -> Self {
        MutList {
            items: Mutex::new(items),
        }
    }
    pub fn snapshot(&self) -> Vec<Value> {
        lock(&self.items).clone()
    }
    pub fn len(&self) -> usize {
        lock(&self.items).len()
    }
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
    pub fn with_items<R>(&self, f: impl FnOnce(&mut Vec<Value>) -> R) -> R {
        f(&mut lock(&self.items))
    }
}

impl fmt::Debug for MutMap {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map().entries(self.snapshot()).finish()
    }
}

impl fmt::Debug for MutList {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.snapshot()).finish()
    }
}

impl Object for MutMap {
    fn repr(self: &Arc<Self>) -> ObjectRepr {
        ObjectRepr::Map
    }
    fn get_value(self: &Arc<Self>, key: &Value) -> Option<Value> {
        let Some(value) = self.get(key) else {
            crate::context::record_missing_attr(&Value::from_dyn_object(self.clone()), key);
            return None;
        };
        // Wrap nested containers on first access and store the wrapper back,
        // so `d.sub.update(...)` changes what `d.sub` returns next time.
        match to_mutable_shallow(&value) {
            Some(wrapped) => {
                self.insert(key.clone(), wrapped.clone());
                Some(wrapped)
            }
            None => Some(value),
        }
    }
    fn enumerate(self: &Arc<Self>) -> Enumerator {
        Enumerator::Values(self.snapshot().into_iter().map(|(k, _)| k).collect())
    }
    fn enumerator_len(self: &Arc<Self>) -> Option<usize> {
        Some(self.len())
    }
    fn is_true(self: &Arc<Self>) -> bool {
        !self.is_empty()
    }
    fn render(self: &Arc<Self>, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&crate::python_repr::repr(&Value::from_dyn_object(
            self.clone(),
        )))
    }
}

impl Object for MutList {
    fn repr(self: &Arc<Self>) -> ObjectRepr {
        ObjectRepr::Seq
    }
    fn get_value(self: &Arc<Self>, key: &Value) -> Option<Value> {
        let len = self.len() as i64;
        let mut idx = key.as_i64()?;
        if idx < 0 {
            idx += len;
        }
        if idx < 0 || idx >= len {
            crate::context::record_missing_attr(&Value::from_dyn_object(self.clone()), key);
            return None;
        }
        let value = self.with_items(|items| items.get(idx as usize).cloned())?;
        match to_mutable_shallow(&value) {
            Some(wrapped) => {
                self.with_items(|items| {
                    if let Some(slot) = items.get_mut(idx as usize) {
                        *slot = wrapped.clone();
                    }
                });
                Some(wrapped)
            }
            None => Some(value),
        }
    }
    fn enumerate(self: &Arc<Self>) -> Enumerator {
        Enumerator::Values(self.snapshot())
    }
    fn enumerator_len(self: &Arc<Self>) -> Option<usize> {
        Some(self.len())
    }
    fn is_true(self: &Arc<Self>) -> bool {
        !self.is_empty()
    }
    fn render(self: &Arc<Self>, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&crate::python_repr::repr(&Value::from_dyn_object(
            self.clone(),
        )))
    }
}

/// True when the value is already one of our mutable containers.
pub fn is_mutable(value: &Value) -> bool {
    value.downcast_object_ref::<MutMap>().is_some()
        || value.downcast_object_ref::<MutList>().is_some()
}

/// Wraps a plain map or sequence (one level) into a mutable container;
/// `None` when the value is not a plain container (scalars, already mutable,
/// special objects such as hostvars which keep their own behaviour).
pub fn to_mutable_shallow(value: &Value) -> Option<Value> {
    if is_mutable(value) {
        return None;
    }
    let obj = value.as_object()?;
    // Only minijinja's own containers (and the vault/unsafe wrappers are not
    // containers) are converted; foreign objects keep their identity.
    match value.kind() {
        ValueKind::Map if is_plain_container(value) => {
            let mut map = IndexMap::new();
            for (k, v) in obj.try_iter_pairs()? {
                map.insert(k, v);
            }
            Some(Value::from_object(MutMap::new(map)))
        }
        ValueKind::Seq if is_plain_container(value) => {
            Some(Value::from_object(MutList::new(obj.try_iter()?.collect())))
        }
        _ => None,
    }
}

fn is_plain_container(value: &Value) -> bool {
    value
        .downcast_object_ref::<IndexMap<Value, Value>>()
        .is_some()
        || value.downcast_object_ref::<Vec<Value>>().is_some()
        || value
            .downcast_object_ref::<std::collections::BTreeMap<Value, Value>>()
            .is_some()
        || value
            .downcast_object_ref::<std::collections::HashMap<Value, Value>>()
            .is_some()
}

/// Builds a mutable map from pairs.
pub fn new_map(entries: impl IntoIterator<Item = (Value, Value)>) -> Value {
    Value::from_object(MutMap::new(entries.into_iter().collect()))
}

/// Builds a mutable list.
pub fn new_list(items: impl IntoIterator<Item = Value>) -> Value {
    Value::from_object(MutList::new(items.into_iter().collect()))
}
