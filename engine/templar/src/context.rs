//! The variable context of one templating call.
//!
//! minijinja asks its root context for names it does not find among the
//! template's locals. Our root context forwards to a `Frame` that lives on the
//! stack of `Templar::template`: it looks the raw value up in the caller's
//! `VarSource`, templates it (recursively, in the same frame) and caches the
//! result so that a container mutated by the template (`d.update(...)`) is the
//! same object on the next read.
//!
//! minijinja objects must be `'static`, while the caller's `VarSource` is only
//! borrowed, so the frame is reached through a thread-local registry: the root
//! context holds only the frame's id, and the id is removed from the registry
//! (by `FrameGuard`'s drop) before the frame goes away. A context that outlives
//! its frame therefore finds nothing instead of reading freed memory.

use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;

use minijinja::value::{Enumerator, Object, ObjectRepr, Value, ValueKind};

use crate::error::{ErrorKind, TemplateError};
use crate::mutable::to_mutable_shallow;
use crate::templar::Templar;
use crate::value_conv::is_unsafe;
use crate::vars::VarSource;

pub(crate) struct Frame<'a> {
    pub templar: &'a Templar,
    pub vars: &'a dyn VarSource,
    /// Templated values of the names looked up so far (and names assigned
    /// through `vars.update(...)`).
    cache: RefCell<HashMap<String, Value>>,
    /// Names being templated right now, to detect `a: "{{ a }}"`.
    resolving: RefCell<Vec<String>>,
    /// For a variable whose own template failed as undefined: the message,
    /// reported if the variable is then used.
    hints: RefCell<HashMap<String, String>>,
    /// An error that must abort the whole call (recursion, syntax error in a
    /// variable); minijinja's lookup cannot return errors.
    fatal: RefCell<Option<TemplateError>>,
    /// The latest failed lookup, in Ansible's words, for undefined errors.
    last_missing: RefCell<Option<String>>,
}

impl<'a> Frame<'a> {
    pub fn new(templar: &'a Templar, vars: &'a dyn VarSource) -> Self {
        Frame {
            templar,
            vars,
            cache: RefCell::default(),
            resolving: RefCell::default(),
            hints: RefCell::default(),
            fatal: RefCell::default(),
            last_missing: RefCell::default(),
        }
    }

    pub fn fatal(&self) -> Option<TemplateError> {
        self.fatal.borrow().clone()
    }

    pub fn set_fatal(&self, err: TemplateError) {
        let mut f = self.fatal.borrow_mut();
        if f.is_none() {
            *f = Some(err);
        }
    }

    pub fn last_missing(&self) -> Option<String> {
        self.last_missing.borrow().clone()
    }

    pub fn record_missing(&self, message: String) {
        *self.last_missing.borrow_mut() = Some(message);
    }

    pub fn clear_missing(&self) {
        *self.last_missing.borrow_mut() = None;
    }

    /// Assigns a name for the rest of this call (`vars.update`, `vars['x'] = `).
    pub fn assign(&self, name: &str, value: Value) {
        self.cache.borrow_mut().insert(name.to_string(), value);
    }

    /// Looks a variable up, templating its raw value. `None` when undefined.
    pub fn lookup(&self, id: u64, name: &str) -> Option<Value> {
        if let Some(v) = self.cache.borrow().get(name) {
            return Some(v.clone());
        }
        if name == "vars" && self.vars.get("vars").is_none() {
            let v = Value::from_object(VarsObject { frame_id: id });
            self.cache.borrow_mut().insert(name.to_string(), v.clone());
            return Some(v);
        }
        let Some(raw) = self.vars.get(name) else {
            // The templar's own helper functions are looked up here before
            // minijinja finds them among the globals: that is no missing variable.
            if !name.starts_with("__rsible_") {
                self.record_missing(format!("'{}' is undefined", name));
            }
            return None;
        };
        let value = if is_unsafe(&raw) || !needs_templating(&raw) {
            raw
        } else {
            if self.resolving.borrow().iter().any(|n| n == name) {
                self.set_fatal(TemplateError::new(
                    ErrorKind::Recursion,
                    format!(
                        "recursive loop detected in template string: {}",
                        crate::python_repr::str_of(&raw)
                    ),
                ));
                return Some(Value::UNDEFINED);
            }
            self.resolving.borrow_mut().push(name.to_string());
            let result = self.templar.template_in_frame(&raw, self, id);
            self.resolving.borrow_mut().pop();
            match result {
                Ok(v) => v,
                Err(e) if e.kind == ErrorKind::Undefined => {
                    // Ansible's hint: "<raw value>: <inner message>"
                    let msg = format!("{}: {}", crate::python_repr::str_of(&raw), e.message);
                    self.hints
                        .borrow_mut()
                        .insert(name.to_string(), msg.clone());
                    self.record_missing(msg);
                    return Some(Value::UNDEFINED);
                }
                Err(e) => {
                    match wrapped_variable_error(&raw, &e) {
                        // replaces the inner error this frame already holds
                        Some(wrapped) => *self.fatal.borrow_mut() = Some(wrapped),
                        None => self.set_fatal(e),
                    }
                    return Some(Value::UNDEFINED);
                }
            }
        };
        let value = to_mutable_shallow(&value).unwrap_or(value);
        self.cache
            .borrow_mut()
            .insert(name.to_string(), value.clone());
        Some(value)
    }
}

/// Whether a raw value may contain templates (strings, or containers of them).
fn needs_templating(value: &Value) -> bool {
    match value.kind() {
        ValueKind::String => {
            !is_unsafe(value)
                && crate::detect::is_possibly_template(value.as_str().unwrap_or_default())
        }
        ValueKind::Seq | ValueKind::Map => {
            // foreign objects (hostvars and the like) template themselves
            value.downcast_object_ref::<Vec<Value>>().is_some()
                || value
                    .downcast_object_ref::<indexmap::IndexMap<Value, Value>>()
                    .is_some()
                || crate::mutable::is_mutable(value)
        }
        _ => false,
    }
}

thread_local! {
    static FRAMES: RefCell<Vec<(u64, *const Frame<'static>)>> = const { RefCell::new(Vec::new()) };
    static NEXT_ID: Cell<u64> = const { Cell::new(1) };
}

/// Registers a frame for the duration of the guard.
pub(crate) struct FrameGuard {
    pub id: u64,
}

impl FrameGuard {
    pub fn register(frame: &Frame<'_>) -> FrameGuard {
        let id = NEXT_ID.with(|n| {
            let id = n.get();
            n.set(id + 1);
            id
        });
        // The lifetime is erased here and restored in `with_frame`; the
        // registry entry is removed in `drop`, before `frame` can be freed
        // (the guard is created after the frame and dropped before it).
        #[allow(clippy::unnecessary_cast)] // the cast erases the lifetime on purpose
        let ptr = frame as *const Frame<'_> as *const Frame<'static>;
        FRAMES.with(|f| f.borrow_mut().push((id, ptr)));
        FrameGuard { id }
    }
}

impl Drop for FrameGuard {
    fn drop(&mut self) {
        FRAMES.with(|f| {
            let mut frames = f.borrow_mut();
            if let Some(pos) = frames.iter().rposition(|(id, _)| *id == self.id) {
                frames.remove(pos);
            }
        });
    }
}

/// Runs `f` with the frame of `id`, if it is still alive on this thread.
pub(crate) fn with_frame<R>(id: u64, f: impl FnOnce(&Frame<'_>) -> R) -> Option<R> {
    let ptr = FRAMES.with(|frames| {
        frames
            .borrow()
            .iter()
            .rev()
            .find(|(fid, _)| *fid == id)
            .map(|(_, p)| *p)
    })?;
    // SAFETY: the pointer is in the registry only while its FrameGuard lives,
    // and the guard never outlives the frame it registered (see FrameGuard).
    let frame: &Frame<'_> = unsafe { &*ptr };
    Some(f(frame))
}

/// The frame of the innermost templating call on this thread, for filters
/// and tests that need variables or need to record a missing name.
pub(crate) fn with_current_frame<R>(f: impl FnOnce(u64, &Frame<'_>) -> R) -> Option<R> {
    let (id, _) = FRAMES.with(|frames| frames.borrow().last().copied())?;
    with_frame(id, |fr| f(id, fr))
}

/// The root context handed to minijinja.
#[derive(Debug)]
pub(crate) struct RootContext {
    pub frame_id: u64,
}

impl Object for RootContext {
    fn repr(self: &Arc<Self>) -> ObjectRepr {
        ObjectRepr::Map
    }
    fn get_value(self: &Arc<Self>, key: &Value) -> Option<Value> {
        let name = key.as_str()?;
        with_frame(self.frame_id, |f| f.lookup(self.frame_id, name)).flatten()
    }
    fn enumerate(self: &Arc<Self>) -> Enumerator {
        // Listing every variable would template all of them; minijinja only
        // enumerates the root context for debugging output.
        Enumerator::NonEnumerable
    }
}

/// Ansible's `vars`: every variable, templated on access; `vars.update()`
/// and `vars['x']` assignments are visible to the rest of the template.
pub(crate) struct VarsObject {
    pub frame_id: u64,
}

impl fmt::Debug for VarsObject {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<vars>")
    }
}

impl Object for VarsObject {
    fn repr(self: &Arc<Self>) -> ObjectRepr {
        ObjectRepr::Map
    }
    fn get_value(self: &Arc<Self>, key: &Value) -> Option<Value> {
        let name = key.as_str()?;
        with_frame(self.frame_id, |f| f.lookup(self.frame_id, name)).flatten()
    }
    fn enumerate(self: &Arc<Self>) -> Enumerator {
        let names = with_frame(self.frame_id, |f| {
            let mut names = f.vars.names();
            for k in f.cache.borrow().keys() {
                if !names.contains(k) {
                    names.push(k.clone());
                }
            }
            names
        })
        .unwrap_or_default();
        Enumerator::Values(names.into_iter().map(Value::from).collect())
    }
    fn call_method(
        self: &Arc<Self>,
        _state: &mut minijinja::State<'_, '_>,
        method: &str,
        args: &[Value],
    ) -> Result<Value, minijinja::Error> {
        match method {
            "update" | "__setitem__" => {
                let pairs: Vec<(Value, Value)> = if method == "update" {
                    let Some(src) = args.first() else {
                        return Ok(Value::from(()));
                    };
                    let keys = src.try_iter()?;
                    keys.map(|k| {
                        let v = src.get_item(&k).unwrap_or_default();
                        (k, v)
                    })
                    .collect()
                } else {
                    match args {
                        [k, v] => vec![(k.clone(), v.clone())],
                        _ => {
                            return Err(minijinja::Error::new(
                                minijinja::ErrorKind::InvalidOperation,
                                "__setitem__ expected 2 arguments",
                            ))
                        }
                    }
                };
                with_frame(self.frame_id, |f| {
                    for (k, v) in pairs {
                        f.assign(&crate::python_repr::str_of(&k), v);
                    }
                });
                Ok(Value::from(()))
            }
            _ => Err(minijinja::Error::from(minijinja::ErrorKind::UnknownMethod)),
        }
    }
}

/// Ansible's variable proxy turns an error other than an undefined variable
/// raised while templating a variable's value into "An unhandled exception
/// occurred while templating '<value>'. Error was a <class>, original
/// message: <message>" (nested variables nest it). Only for errors whose
/// Python class rsible knows (a template that does not parse, or names an
/// unknown filter or test, is Templar's AnsibleError); others keep their
/// own message.
fn wrapped_variable_error(raw: &Value, e: &TemplateError) -> Option<TemplateError> {
    let class = match e.kind {
        ErrorKind::Other => e.python_class?,
        ErrorKind::Syntax => crate::error::ANSIBLE_ERROR,
        _ => return None,
    };
    Some(
        TemplateError::other(format!(
            "An unhandled exception occurred while templating '{}'. Error was a <class '{}'>, original message: {}",
            crate::python_repr::str_of(raw),
            class,
            e.message
        ))
        .with_python_class(crate::error::ANSIBLE_ERROR),
    )
}

/// Lets objects outside the templar (the executor's `hostvars`) say why a
/// lookup came back undefined, in Ansible's words: an undefined error of
/// the template being rendered then gives this reason.
pub fn record_undefined_reason(message: String) {
    with_current_frame(|_, f| f.record_missing(message));
}

/// Lets `MutMap` record a missing key so undefined errors can name it.
pub(crate) fn record_missing_attr(container: &Value, key: &Value) {
    let type_name = crate::python_types::type_name(container);
    let key_text = crate::python_repr::str_of(key);
    let message = if container.kind() == ValueKind::Seq && key.is_integer() {
        format!("{} object has no element {}", type_name, key_text)
    } else {
        format!("'{} object' has no attribute '{}'", type_name, key_text)
    };
    with_current_frame(|_, f| f.record_missing(message));
}
