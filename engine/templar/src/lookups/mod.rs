//! Lookup plugins: `lookup()`, `query()`/`q()` in templates and the
//! `with_<lookup>` loops (through [`crate::Templar::run_lookup`]).
//!
//! A lookup sees the variables of the templating call it runs in (the
//! current frame). Files are searched as Ansible's
//! `find_file_in_search_path` does, along `ansible_search_path` (set by the
//! executor: the role's path and the task file's directory) and then the
//! playbook directory (`playbook_dir`).

mod data;
mod files;

use std::path::{Path, PathBuf};

use minijinja::value::{Kwargs, Rest, Value, ValueKind};
use minijinja::{Error, ErrorKind};

use crate::context::{with_current_frame, Frame};
use crate::python_repr::str_of;
use crate::value_conv::unsafe_string;

/// What a lookup is run with.
pub(crate) struct LookupCall<'a, 'f> {
    pub frame: &'a Frame<'f>,
    pub frame_id: u64,
    pub terms: Vec<Value>,
    pub kwargs: &'a Kwargs,
    /// The subdirectory files are searched in (`files`, `templates`,
    /// `vars`): from the task's action for `with_first_found`.
    pub subdir: &'a str,
}

impl LookupCall<'_, '_> {
    /// A variable, templated in the frame.
    pub fn var(&self, name: &str) -> Option<Value> {
        self.frame
            .lookup(self.frame_id, name)
            .filter(|v| !v.is_undefined())
    }

    fn string_var(&self, name: &str) -> Option<String> {
        self.var(name).and_then(|v| v.as_str().map(str::to_string))
    }

    /// Ansible's loader base directory: the playbook's.
    pub fn basedir(&self) -> PathBuf {
        self.string_var("playbook_dir")
            .map(PathBuf::from)
            .or_else(|| std::env::current_dir().ok())
            .unwrap_or_default()
    }

    /// `ansible_search_path`, else the role path.
    pub fn search_path(&self) -> Vec<PathBuf> {
        if let Some(list) = self.var("ansible_search_path") {
            if let Ok(iter) = list.try_iter() {
                if list.as_str().is_none() {
                    return iter.map(|p| PathBuf::from(str_of(&p))).collect();
                }
            }
        }
        self.string_var("role_path")
            .map(|p| vec![PathBuf::from(p)])
            .unwrap_or_default()
    }

    /// Ansible's `find_file_in_search_path`: `<path>/<subdir>/<name>` and
    /// `<path>/<name>` for each search path entry, then the same under the
    /// playbook directory.
    pub fn find_file(&self, subdir: &str, name: &str) -> Option<PathBuf> {
        let needle = Path::new(name);
        if needle.is_absolute() {
            return needle.exists().then(|| needle.to_path_buf());
        }
        let in_subdir_already = name.split('/').next() == Some(subdir);
        let mut dirs = self.search_path();
        dirs.push(self.basedir());
        for dir in dirs {
            if !in_subdir_already {
                let c = dir.join(subdir).join(name);
                if c.exists() {
                    return Some(c);
                }
            }
            let c = dir.join(name);
            if c.exists() {
                return Some(c);
            }
        }
        None
    }

    pub fn kwarg<T>(&self, name: &str) -> Result<Option<T>, Error>
    where
        T: for<'x> minijinja::value::ArgType<'x, Output = T>,
    {
        self.kwargs.get::<Option<T>>(name)
    }
}

pub(crate) fn err(msg: impl Into<String>) -> Error {
    Error::new(ErrorKind::InvalidOperation, msg.into())
}

type LookupFn = fn(&LookupCall<'_, '_>) -> Result<Vec<Value>, Error>;

/// The lookup plugin of a name (short, `ansible.builtin.` or `community.general.`).
fn plugin(name: &str) -> Option<LookupFn> {
    let short = name
        .strip_prefix("ansible.builtin.")
        .or_else(|| name.strip_prefix("community.general."))
        .unwrap_or(name);
    Some(match short {
        "env" => data::env,
        "vars" => data::vars,
        "varnames" => data::varnames,
        "inventory_hostnames" => data::inventory_hostnames,
        "items" => |c| Ok(data::items(c)),
        "list" => |c| Ok(c.terms.clone()),
        "flattened" => data::flattened,
        "dict" => data::dict,
        "nested" => data::nested,
        "indexed_items" => |c| Ok(data::indexed_items(c)),
        "together" => data::together,
        "subelements" => data::subelements,
        "sequence" => data::sequence,
        "random_choice" => data::random_choice,
        "pipe" => data::pipe,
        "lines" => data::lines,
        "file" => files::file,
        "fileglob" => files::fileglob,
        "first_found" => files::first_found,
        "template" => files::template,
        "password" => files::password,
        _ => return None,
    })
}

/// Is there a lookup plugin of this name?
pub(crate) fn is_known(name: &str) -> bool {
    plugin(name).is_some()
}

/// Runs the named lookup; its list of results.
pub(crate) fn run(name: &str, call: &LookupCall<'_, '_>) -> Result<Vec<Value>, Error> {
    match plugin(name) {
        Some(f) => f(call),
        None => Err(err(format!("lookup plugin ({}) not found", name))),
    }
}

/// Ansible marks lookup results unsafe: they are never templated again.
fn mark_unsafe(v: Value) -> Value {
    match v.kind() {
        ValueKind::String if !v.is_safe() => unsafe_string(v.as_str().unwrap_or_default()),
        ValueKind::Seq => match v.try_iter() {
            Ok(it) if v.downcast_object_ref::<Vec<Value>>().is_some() => {
                Value::from(it.map(mark_unsafe).collect::<Vec<_>>())
            }
            _ => v,
        },
        _ => v,
    }
}

/// The `lookup()`/`query()` semantics around a plugin run: `wantlist`,
/// `errors=`, joining the results with commas for `lookup()`.
fn call_lookup(
    name: &str,
    terms: Vec<Value>,
    kwargs: Kwargs,
    force_list: bool,
) -> Result<Value, Error> {
    let wantlist = force_list || kwargs.get::<Option<bool>>("wantlist")?.unwrap_or(false);
    let errors = kwargs
        .get::<Option<String>>("errors")?
        .unwrap_or_else(|| "strict".into());
    if !matches!(errors.as_str(), "strict" | "warn" | "ignore") {
        return Err(err(
            "Invalid value for \"errors\" option of lookup. Valid values are: strict, warn, ignore",
        ));
    }
    let result = with_current_frame(|id, frame| {
        let call = LookupCall {
            frame,
            frame_id: id,
            terms,
            kwargs: &kwargs,
            subdir: "files",
        };
        run(name, &call)
    })
    .unwrap_or_else(|| Err(err("lookup() used outside of a template")));
    let ran = match result {
        Ok(r) => r,
        Err(e) if e.kind() == ErrorKind::UndefinedError => return Err(e),
        Err(e) => {
            let msg = e
                .detail()
                .map(str::to_string)
                .unwrap_or_else(|| e.to_string());
            match errors.as_str() {
                "warn" => eprintln!("[WARNING]: {}", msg),
                "ignore" => {}
                _ => return Err(e),
            }
            return Ok(if wantlist {
                Value::from(Vec::<Value>::new())
            } else {
                Value::from(())
            });
        }
    };
    let ran: Vec<Value> = ran.into_iter().map(mark_unsafe).collect();
    if wantlist || ran.is_empty() {
        return Ok(Value::from(ran));
    }
    if ran.iter().all(|v| v.kind() == ValueKind::String) {
        let joined = ran
            .iter()
            .map(|v| v.as_str().unwrap_or_default())
            .collect::<Vec<_>>()
            .join(",");
        return Ok(unsafe_string(&joined));
    }
    if ran.len() == 1 {
        return Ok(ran.into_iter().next().unwrap_or_default());
    }
    Ok(Value::from(ran))
}

/// The terms of a `lookup()` call: its positional arguments.
fn lookup_fn(name: String, terms: Rest<Value>, kwargs: Kwargs) -> Result<Value, Error> {
    call_lookup(&name, terms.0, kwargs, false)
}

fn query_fn(name: String, terms: Rest<Value>, kwargs: Kwargs) -> Result<Value, Error> {
    call_lookup(&name, terms.0, kwargs, true)
}

pub fn register(env: &mut minijinja::Environment<'static>) {
    env.add_function("lookup", lookup_fn);
    env.add_function("query", query_fn);
    env.add_function("q", query_fn);
}

/// Runs a lookup for a `with_<name>` loop in a frame of its own.
pub(crate) fn run_for_loop(
    frame: &Frame<'_>,
    frame_id: u64,
    name: &str,
    terms: Vec<Value>,
    subdir: &str,
) -> Result<Vec<Value>, Error> {
    let kwargs = Kwargs::from_iter(std::iter::empty::<(String, Value)>());
    let call = LookupCall {
        frame,
        frame_id,
        terms,
        kwargs: &kwargs,
        subdir,
    };
    run(name, &call)
}

impl crate::Templar {
    /// A `with_<name>` loop's items: the loop terms are templated (Ansible's
    /// `listify_lookup_plugin_terms`: a string or a mapping becomes a
    /// one-element list), then the lookup runs with them. `subdir` is where
    /// files are searched (`files`, `templates`, `vars`: from the action).
    /// For `first_found`, terms that are undefined are skipped, as Ansible
    /// templates them without failing on undefined names.
    pub fn run_lookup(
        &self,
        name: &str,
        terms: &Value,
        vars: &dyn crate::VarSource,
        subdir: &str,
    ) -> Result<Vec<Value>, crate::TemplateError> {
        let frame = Frame::new(self, vars);
        let guard = crate::context::FrameGuard::register(&frame);
        let result = self.lookup_in_frame(name, terms, &frame, guard.id, subdir);
        drop(guard);
        result
    }

    fn lookup_in_frame(
        &self,
        name: &str,
        terms: &Value,
        frame: &Frame<'_>,
        id: u64,
        subdir: &str,
    ) -> Result<Vec<Value>, crate::TemplateError> {
        let lenient = name.trim_start_matches("ansible.builtin.") == "first_found";
        let templated = if lenient {
            self.template_dropping_undefined(terms, frame, id)?
                .unwrap_or_else(|| Value::from(Vec::<Value>::new()))
        } else {
            let t = match terms.as_str() {
                Some(s) => Value::from(s.trim()),
                None => terms.clone(),
            };
            self.template_in_frame(&t, frame, id)?
        };
        let list = match templated.kind() {
            ValueKind::Seq | ValueKind::Iterable => {
                templated.try_iter().map_err(to_template_error)?.collect()
            }
            _ => vec![templated],
        };
        run_for_loop(frame, id, name, list, subdir).map_err(to_template_error)
    }
}

impl crate::Templar {
    /// Templates a value, leaving out strings (and list items, map entries)
    /// whose templating hits an undefined name.
    fn template_dropping_undefined(
        &self,
        value: &Value,
        frame: &Frame<'_>,
        id: u64,
    ) -> Result<Option<Value>, crate::TemplateError> {
        match value.kind() {
            ValueKind::Seq => {
                let mut kept = Vec::new();
                for item in value.try_iter().map_err(to_template_error)? {
                    if let Some(v) = self.template_dropping_undefined(&item, frame, id)? {
                        kept.push(v);
                    }
                }
                Ok(Some(Value::from(kept)))
            }
            ValueKind::Map => {
                let mut kept = indexmap::IndexMap::new();
                for k in value.try_iter().map_err(to_template_error)? {
                    let v = value.get_item(&k).unwrap_or_default();
                    if let Some(v) = self.template_dropping_undefined(&v, frame, id)? {
                        kept.insert(k, v);
                    }
                }
                Ok(Some(Value::from(kept)))
            }
            _ => match self.template_in_frame(value, frame, id) {
                Ok(v) => Ok(Some(v)),
                Err(e) if e.kind == crate::ErrorKind::Undefined => Ok(None),
                Err(e) => Err(e),
            },
        }
    }
}

fn to_template_error(e: Error) -> crate::TemplateError {
    let kind = if e.kind() == ErrorKind::UndefinedError {
        crate::ErrorKind::Undefined
    } else {
        crate::ErrorKind::Other
    };
    crate::TemplateError::new(
        kind,
        e.detail()
            .map(str::to_string)
            .unwrap_or_else(|| e.to_string()),
    )
}
