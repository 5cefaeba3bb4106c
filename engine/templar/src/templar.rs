//! The templar: Ansible 2.18's `Templar.template` semantics on minijinja
//! (non-native mode, `jinja2_native = False`, as Kubespray runs it).
//!
//! * A string without `{{`, `{%` or `{#` is returned as it is.
//! * `{{ name }}` whose raw value is a bool or number returns that value; a
//!   null raw value returns none (Ansible's `SINGLE_VAR` shortcut).
//! * Otherwise the result is text, and text that starts with `[` or `{`, or is
//!   `True`/`False`, is turned back into data with `literal_eval`. So
//!   `"{{ 5 }}"` gives the string `"5"`, but `"{{ [1, 2] }}"` gives a list.
//! * A single `{{ expr }}` whose last filter is a string filter (`string`,
//!   `to_json`, ...) stays a string.
//! * Other delimiters ([`Delimiters`], the template module's and lookup's
//!   `variable_start_string`, ...) are a minijinja syntax of their own: the
//!   environments and prepared templates are cached per syntax, and the
//!   `{{ name }}`/`{{ expr }}` shortcuts apply to the default syntax only.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use minijinja::value::{Value, ValueKind};
use minijinja::{Environment, UndefinedBehavior};

use crate::context::{with_current_frame, Frame, FrameGuard, RootContext};
use crate::detect;
use crate::error::{ErrorKind, TemplateError};
use crate::literal_eval::convert_result;
use crate::mutable::{to_mutable_shallow, MutList, MutMap};
use crate::plugin_names::{plugin_names, PluginKind};
use crate::prepared::{OwnedExpression, OwnedTemplate, Prepared, PreparedCache};
use crate::python_repr;
use crate::value_conv::{is_unsafe, vault_ciphertext};
use crate::vars::VarSource;

/// Ansible's `STRING_TYPE_FILTERS`: results that must stay strings.
const STRING_TYPE_FILTERS: &[&str] = &[
    "string",
    "to_json",
    "to_nice_json",
    "to_yaml",
    "to_nice_yaml",
    "ppretty",
    "json",
];

/// The function `{% set x = [..] %}` literals are wrapped in (see `detect::mutable_set_literals`).
pub(crate) const MUTABLE_WRAPPER: &str = "__rsible_mutable";

/// Jinja settings that differ between uses (task strings, template files,
/// `#jinja2:` headers). One minijinja environment is kept per combination.
#[derive(Clone, Copy, Debug, Hash, PartialEq, Eq)]
pub struct JinjaOptions {
    pub trim_blocks: bool,
    pub lstrip_blocks: bool,
    pub keep_trailing_newline: bool,
    /// The tag delimiters (the `template` module's and lookup's
    /// `variable_start_string`, ... options).
    pub delimiters: Delimiters,
}

impl Default for JinjaOptions {
    /// Ansible's environment: `trim_blocks=True`, the rest Jinja's defaults.
    fn default() -> Self {
        JinjaOptions {
            trim_blocks: true,
            lstrip_blocks: false,
            keep_trailing_newline: false,
            delimiters: Delimiters::default(),
        }
    }
}

/// Jinja's six tag delimiters, each a (start, end) pair. The strings are
/// interned (a run uses a handful), so that the options stay `Copy` and
/// can key the environment and prepared-template caches.
#[derive(Clone, Copy, Debug, Hash, PartialEq, Eq)]
pub struct Delimiters {
    pub block: (&'static str, &'static str),
    pub variable: (&'static str, &'static str),
    pub comment: (&'static str, &'static str),
}

impl Default for Delimiters {
    fn default() -> Self {
        Delimiters {
            block: ("{%", "%}"),
            variable: ("{{", "}}"),
            comment: ("{#", "#}"),
        }
    }
}

impl Delimiters {
    /// Delimiters from the option values; `None` keeps Jinja's default.
    pub fn new(
        block: (Option<&str>, Option<&str>),
        variable: (Option<&str>, Option<&str>),
        comment: (Option<&str>, Option<&str>),
    ) -> Self {
        let d = Delimiters::default();
        let pick = |given: Option<&str>, default: &'static str| given.map_or(default, intern);
        Delimiters {
            block: (pick(block.0, d.block.0), pick(block.1, d.block.1)),
            variable: (
                pick(variable.0, d.variable.0),
                pick(variable.1, d.variable.1),
            ),
            comment: (pick(comment.0, d.comment.0), pick(comment.1, d.comment.1)),
        }
    }

    pub fn is_default(&self) -> bool {
        *self == Delimiters::default()
    }

    /// Does `s` contain one of the start delimiters (`is_possibly_template`)?
    pub fn any_start_in(&self, s: &str) -> bool {
        [self.block.0, self.variable.0, self.comment.0]
            .iter()
            .any(|m| !m.is_empty() && s.contains(m))
    }
}

/// A `'static` copy of `s`, made once per distinct text.
fn intern(s: &str) -> &'static str {
    static SEEN: std::sync::OnceLock<Mutex<std::collections::HashSet<&'static str>>> =
        std::sync::OnceLock::new();
    let mut seen = SEEN
        .get_or_init(Default::default)
        .lock()
        .unwrap_or_else(|e| e.into_inner());
    if let Some(hit) = seen.get(s) {
        return hit;
    }
    let leaked: &'static str = Box::leak(s.to_string().into_boxed_str());
    seen.insert(leaked);
    leaked
}

/// How a string is templated.
#[derive(Clone, Copy, Debug)]
pub struct StringMode {
    pub options: JinjaOptions,
    /// Apply `literal_eval` to list/dict/bool-looking results (Ansible's
    /// `convert_data`; off for the template module).
    pub convert_data: bool,
    /// Double backslashes in expression strings (off for template files).
    pub escape_backslashes: bool,
    /// Re-add trailing newlines Jinja dropped.
    pub preserve_trailing_newlines: bool,
}

impl Default for StringMode {
    fn default() -> Self {
        StringMode {
            options: JinjaOptions::default(),
            convert_data: true,
            escape_backslashes: true,
            preserve_trailing_newlines: true,
        }
    }
}

/// Ansible's templar. Build once and share; templating is `&self`.
pub struct Templar {
    envs: Mutex<HashMap<JinjaOptions, Arc<Environment<'static>>>>,
    /// The `ansible_managed` setting (DEFAULT_MANAGED_STR).
    managed: String,
    /// Filters and tests already asked for: whether they exist.
    known_plugins: Mutex<HashMap<(PluginKind, String), bool>>,
    /// Bare `{{ expr }}` strings, whole templates and conditionals, each
    /// prepared (checked, guarded, compiled) once per distinct text.
    expressions: PreparedCache<OwnedExpression>,
    templates: PreparedCache<OwnedTemplate>,
    conditionals: PreparedCache<OwnedExpression>,
}

impl Default for Templar {
    fn default() -> Self {
        Templar::new()
    }
}

impl Templar {
    pub fn new() -> Self {
        Templar {
            envs: Mutex::new(HashMap::new()),
            managed: "Ansible managed".into(),
            known_plugins: Mutex::new(HashMap::new()),
            expressions: PreparedCache::default(),
            templates: PreparedCache::default(),
            conditionals: PreparedCache::default(),
        }
    }

    /// Uses ansible.cfg's `ansible_managed` text.
    pub fn with_ansible_managed(mut self, text: &str) -> Self {
        self.managed = text.to_string();
        self
    }

    /// `ansible_managed` as the template module and lookup define it: the
    /// setting with `{host}`, `{uid}` and `{file}` standing for the
    /// template's variables (templated where it is used). rsible does not
    /// apply strftime directives (`%Y`, ...) to it; the text keeps them.
    pub fn ansible_managed(&self) -> Value {
        Value::from(
            self.managed
                .replace("{host}", "{{ template_host }}")
                .replace("{uid}", "{{ template_uid }}")
                .replace("{file}", "{{ template_path }}"),
        )
    }

    pub(crate) fn env(&self, options: JinjaOptions) -> Arc<Environment<'static>> {
        let mut envs = self.envs.lock().unwrap_or_else(|e| e.into_inner());
        envs.entry(options)
            .or_insert_with(|| Arc::new(build_env(options)))
            .clone()
    }

    /// Templates a value: strings are templated, lists and maps recursively
    /// (map keys are left as they are), other values returned unchanged.
    pub fn template(&self, value: &Value, vars: &dyn VarSource) -> Result<Value, TemplateError> {
        let frame = Frame::new(self, vars);
        let guard = FrameGuard::register(&frame);
        let result = self.template_in_frame(value, &frame, guard.id);
        drop(guard);
        result
    }

    /// Templates one string.
    pub fn template_str(&self, s: &str, vars: &dyn VarSource) -> Result<Value, TemplateError> {
        self.template_str_with(s, vars, StringMode::default())
    }

    /// Templates one string with explicit settings.
    pub fn template_str_with(
        &self,
        s: &str,
        vars: &dyn VarSource,
        mode: StringMode,
    ) -> Result<Value, TemplateError> {
        let frame = Frame::new(self, vars);
        let guard = FrameGuard::register(&frame);
        let result = self.template_string(s, None, &frame, guard.id, mode);
        drop(guard);
        result
    }

    /// Renders a template file's text as the template module does: no
    /// data conversion, no backslash escaping, trailing newlines kept,
    /// `trim_blocks` on unless the caller or a `#jinja2:` header says otherwise.
    pub fn render_file(
        &self,
        source: &str,
        vars: &dyn VarSource,
        options: JinjaOptions,
    ) -> Result<String, TemplateError> {
        let mode = StringMode {
            options,
            convert_data: false,
            escape_backslashes: false,
            preserve_trailing_newlines: true,
        };
        let v = self.template_str_with(source, vars, mode)?;
        Ok(python_repr::str_of(&v))
    }

    /// [`render_file`](Self::render_file) with the template action's
    /// `newline_sequence`: as Jinja's lexer does, every line end of the
    /// template's own text (and of its string literals) becomes `sequence`,
    /// those inside variable values stay as they are; the trailing newlines
    /// Jinja dropped are added back as Ansible does (counting the `\n`s that
    /// end the source and those that end the output, so "\r" sequences get
    /// them all again).
    pub fn render_file_with_newlines(
        &self,
        source: &str,
        vars: &dyn VarSource,
        options: JinjaOptions,
        sequence: &str,
    ) -> Result<String, TemplateError> {
        if sequence == "\n" && !source.contains('\r') {
            return self.render_file(source, vars, options);
        }
        let data_newlines = count_trailing_newlines(source);
        let normalized = normalize_newlines(source);
        let (overrides, body) = detect::jinja2_header(&normalized).map_err(TemplateError::other)?;
        let header = &normalized[..normalized.len() - body.len()];
        let body_options = JinjaOptions {
            trim_blocks: overrides.trim_blocks.unwrap_or(options.trim_blocks),
            lstrip_blocks: overrides.lstrip_blocks.unwrap_or(options.lstrip_blocks),
            keep_trailing_newline: overrides
                .keep_trailing_newline
                .unwrap_or(options.keep_trailing_newline),
            delimiters: options.delimiters,
        };
        let marked = format!(
            "{header}{}",
            mark_text_newlines(body, syntax_config(body_options), sequence)
        );
        let mode = StringMode {
            options,
            convert_data: false,
            escape_backslashes: false,
            preserve_trailing_newlines: false,
        };
        let v = self.template_str_with(&marked, vars, mode)?;
        let mut out = python_repr::str_of(&v)
            .replace(&format!("{TEXT_NEWLINE}\n"), sequence)
            .replace(TEXT_NEWLINE, "");
        let have = count_trailing_newlines(&out);
        for _ in have..data_newlines {
            out.push_str(sequence);
        }
        Ok(out)
    }

    /// Ansible's `is_template`: does the string contain a complete Jinja construct?
    pub fn is_template(s: &str) -> bool {
        detect::is_template(s)
    }

    /// Evaluates a conditional (`when`, `failed_when`, `changed_when`,
    /// `until`, `assert.that`): a bool is used as it is, an empty string or
    /// none is true... as Ansible: `None`/`""` are true, a string is a bare
    /// Jinja expression (or a `{{ }}` template, which is rendered first).
    pub fn evaluate_conditional(
        &self,
        cond: &Value,
        vars: &dyn VarSource,
    ) -> Result<bool, TemplateError> {
        let frame = Frame::new(self, vars);
        let guard = FrameGuard::register(&frame);
        let result = self.conditional_in_frame(cond, &frame, guard.id);
        drop(guard);
        result
    }

    fn conditional_in_frame(
        &self,
        cond: &Value,
        frame: &Frame<'_>,
        id: u64,
    ) -> Result<bool, TemplateError> {
        match cond.kind() {
            ValueKind::None | ValueKind::Undefined => return Ok(true),
            ValueKind::Bool => return Ok(cond.is_true()),
            _ => {}
        }
        let Some(text) = cond.as_str() else {
            // numbers and containers: their truth value
            return Ok(cond.is_true());
        };
        if text.is_empty() {
            return Ok(true);
        }
        let original = text;
        let wrap = |e: TemplateError| {
            if e.kind == ErrorKind::Undefined {
                TemplateError::undefined(format!(
                    "error while evaluating conditional ({}): {}",
                    original, e.message
                ))
            } else {
                e
            }
        };
        if is_unsafe(cond) {
            return Err(TemplateError::other(
                "Conditional is marked as unsafe, and cannot be evaluated.",
            ));
        }
        let mut expr = text.to_string();
        if detect::is_template(text) {
            let v = self
                .template_string(text, None, frame, id, StringMode::default())
                .map_err(wrap)?;
            if v.kind() == ValueKind::Bool {
                return Ok(v.is_true());
            }
            let s = python_repr::str_of(&v);
            if s.is_empty() {
                return Ok(false);
            }
            expr = s;
        }
        if expr.contains('\r') {
            // Ansible renders the condition inside an `{% if %}` template,
            // whose line ends Jinja's lexer makes "\n"
            expr = normalize_newlines(&expr);
        }
        let options = JinjaOptions::default();
        let prepared = self.conditionals.get_or_prepare(options, &expr, || {
            self.prepare_conditional(&expr, &self.env(options))
        });
        let compiled = prepared.compiled.as_ref().map_err(Clone::clone)?;
        frame.clear_missing();
        resolve_eagerly(frame, id, &prepared.names).map_err(wrap)?;
        let ctx = Value::from_object(RootContext { frame_id: id });
        let value = compiled
            .eval(ctx)
            .map_err(|e| self.map_error(&e, frame, &expr))
            .map_err(wrap)?;
        if let Some(f) = frame.fatal() {
            return Err(f);
        }
        if value.is_undefined() {
            return Err(wrap(undefined_error(frame, &expr)));
        }
        Ok(value.is_true())
    }

    pub(crate) fn template_in_frame(
        &self,
        value: &Value,
        frame: &Frame<'_>,
        id: u64,
    ) -> Result<Value, TemplateError> {
        if let Some(s) = value.as_str() {
            return self.template_string(s, Some(value), frame, id, StringMode::default());
        }
        if vault_ciphertext(value).is_some() {
            return Ok(value.clone());
        }
        match value.kind() {
            ValueKind::Seq => {
                let items = if let Some(l) = value.downcast_object_ref::<MutList>() {
                    l.snapshot()
                } else if value.downcast_object_ref::<Vec<Value>>().is_some() {
                    value.try_iter().map(|it| it.collect()).unwrap_or_default()
                } else {
                    return Ok(value.clone()); // foreign sequence objects are left alone
                };
                let mut out = Vec::with_capacity(items.len());
                for item in &items {
                    out.push(self.template_in_frame(item, frame, id)?);
                }
                Ok(Value::from(out))
            }
            ValueKind::Map => {
                let pairs: Vec<(Value, Value)> =
                    if let Some(m) = value.downcast_object_ref::<MutMap>() {
                        m.snapshot()
                    } else if value
                        .downcast_object_ref::<indexmap::IndexMap<Value, Value>>()
                        .is_some()
                    {
                        value
                            .try_iter()
                            .map(|it| {
                                it.map(|k| (k.clone(), value.get_item(&k).unwrap_or_default()))
                                    .collect()
                            })
                            .unwrap_or_default()
                    } else {
                        return Ok(value.clone());
                    };
                let mut out = indexmap::IndexMap::with_capacity(pairs.len());
                for (k, v) in pairs {
                    let tv = self.template_in_frame(&v, frame, id)?;
                    out.insert(k, tv);
                }
                Ok(Value::from(out))
            }
            _ => Ok(value.clone()),
        }
    }

    pub(crate) fn template_string(
        &self,
        s: &str,
        original: Option<&Value>,
        frame: &Frame<'_>,
        id: u64,
        mode: StringMode,
    ) -> Result<Value, TemplateError> {
        if let Some(orig) = original {
            if is_unsafe(orig) {
                return Ok(orig.clone());
            }
        }
        let delimiters = mode.options.delimiters;
        let custom = !delimiters.is_default();
        if !(if custom {
            delimiters.any_start_in(s)
        } else {
            detect::is_possibly_template(s)
        }) {
            return Ok(original.cloned().unwrap_or_else(|| Value::from(s)));
        }
        if let Some(name) = detect::single_var(s).filter(|_| !custom) {
            if let Some(raw) = frame.vars.get(name) {
                match raw.kind() {
                    ValueKind::Bool | ValueKind::Number => return Ok(raw),
                    ValueKind::None => return Ok(raw),
                    _ => {}
                }
            }
        }
        let (overrides, body) = detect::jinja2_header(s).map_err(TemplateError::other)?;
        let options = JinjaOptions {
            trim_blocks: overrides.trim_blocks.unwrap_or(mode.options.trim_blocks),
            lstrip_blocks: overrides
                .lstrip_blocks
                .unwrap_or(mode.options.lstrip_blocks),
            keep_trailing_newline: overrides
                .keep_trailing_newline
                .unwrap_or(mode.options.keep_trailing_newline),
            delimiters,
        };
        if custom {
            // delimiters Jinja accepts but minijinja refuses (a start marker
            // shared by two kinds of tags) fail here, not as default syntax
            checked_syntax(options).map_err(|e| {
                TemplateError::new(
                    ErrorKind::Syntax,
                    format!(
                        "template error while templating string: {}. String: {}",
                        e.detail().unwrap_or("invalid delimiters"),
                        s
                    ),
                )
            })?;
        }
        let data_newlines = count_trailing_newlines(body);
        let normalized;
        let body = if body.contains('\r') {
            normalized = normalize_newlines(body);
            normalized.as_str()
        } else {
            body
        };
        let escaped;
        let body = if mode.escape_backslashes {
            escaped = detect::escape_backslashes(body);
            escaped.as_str()
        } else {
            body
        };
        let env = self.env(options);
        let ctx = Value::from_object(RootContext { frame_id: id });
        frame.clear_missing();

        if let Some(expr) = detect::single_expression(body).filter(|_| !custom) {
            let prepared = self.expressions.get_or_prepare(options, body, || {
                self.prepare_expression(expr, body, options, &env)
            });
            if let Some(e) = &prepared.plugin_error {
                return Err(e.clone());
            }
            resolve_eagerly(frame, id, &prepared.names)?;
            let compiled = prepared.compiled.as_ref().map_err(Clone::clone)?;
            let value = compiled
                .eval(ctx)
                .map_err(|e| self.map_error(&e, frame, body))?;
            if let Some(f) = frame.fatal() {
                return Err(f);
            }
            check_defined(&value, frame, body)?;
            let string_filter = prepared.string_filter;
            return Ok(match value.kind() {
                ValueKind::String => {
                    let text = value.as_str().unwrap_or_default();
                    if mode.convert_data && !string_filter && !is_unsafe(&value) {
                        convert_result(text).unwrap_or(value)
                    } else {
                        value
                    }
                }
                ValueKind::Bool if mode.convert_data => value,
                ValueKind::Seq | ValueKind::Map | ValueKind::Iterable if mode.convert_data => {
                    // str() then literal_eval gives back the same data; a
                    // one-shot iterable (e.g. a generator) is made a list.
                    if value.kind() == ValueKind::Iterable {
                        Value::from(
                            value
                                .try_iter()
                                .map(|i| i.collect::<Vec<_>>())
                                .unwrap_or_default(),
                        )
                    } else {
                        value
                    }
                }
                ValueKind::None => Value::from(""),
                // a vaulted value that could not be opened fails where it is used
                _ if vault_ciphertext(&value).is_some() => {
                    return Err(TemplateError::other(
                        crate::value_conv::vault_error(&value).unwrap_or_default(),
                    ))
                }
                _ => Value::from(python_repr::str_of(&value)),
            });
        }

        let prepared = self
            .templates
            .get_or_prepare(options, body, || self.prepare_template(body, options, &env));
        if let Some(e) = &prepared.plugin_error {
            return Err(e.clone());
        }
        resolve_eagerly(frame, id, &prepared.names)?;
        let tmpl = prepared.compiled.as_ref().map_err(Clone::clone)?;
        let rendered = tmpl
            .render(ctx)
            .map_err(|e| self.map_error(&e, frame, body));
        if let Some(f) = frame.fatal() {
            return Err(f);
        }
        let mut out = rendered?;
        if mode.preserve_trailing_newlines {
            let have = count_trailing_newlines(&out);
            for _ in have..data_newlines {
                out.push('\n');
            }
        }
        if mode.convert_data {
            if let Some(v) = convert_result(&out) {
                return Ok(v);
            }
        }
        Ok(Value::from(out))
    }

    /// A bare expression (`{{ expr }}` is all of `body`), checked, guarded
    /// and compiled. Ansible's undefined fails where Python looks at it (see
    /// strict_undefined).
    fn prepare_expression(
        &self,
        expr: &str,
        body: &str,
        options: JinjaOptions,
        env: &Arc<Environment<'static>>,
    ) -> Prepared<OwnedExpression> {
        let plugin_error = self.check_plugins(expr, true, options, body).err();
        let compiled = crate::strict_undefined::guard_expression(expr)
            .and_then(|g| OwnedExpression::compile(env, &g).ok())
            .map(Ok)
            .unwrap_or_else(|| {
                OwnedExpression::compile(env, expr).map_err(|e| syntax_error(&e, body))
            });
        Prepared {
            plugin_error,
            names: crate::eager_resolve::expression_names(expr),
            string_filter: detect::outermost_filter(expr).is_some_and(|f| {
                let short = f.rsplit('.').next().unwrap_or(f);
                STRING_TYPE_FILTERS.contains(&short)
            }),
            compiled,
        }
    }

    /// A whole template, checked, guarded and compiled. Ansible's undefined
    /// fails in `{% if %}`, `{% for %}`, filters and operators too (see
    /// strict_template); a template that does not compile is reported from
    /// its own text.
    fn prepare_template(
        &self,
        body: &str,
        options: JinjaOptions,
        env: &Arc<Environment<'static>>,
    ) -> Prepared<OwnedTemplate> {
        let closed = detect::close_trailing_comment(
            body,
            options.keep_trailing_newline,
            options.delimiters.comment,
        );
        let source = detect::mutable_set_literals_in(
            closed.as_deref().unwrap_or(body),
            MUTABLE_WRAPPER,
            options.delimiters.block,
        );
        let plugin_error = self.check_plugins(&source, false, options, body).err();
        let names = crate::eager_resolve::template_names(&source, syntax_config(options));
        let (root, loop_names) = match names {
            Some(n) => (n.root, n.loops),
            None => (Vec::new(), Vec::new()),
        };
        let compiled =
            crate::strict_template::guard_template(&source, syntax_config(options), &loop_names)
                .and_then(|g| OwnedTemplate::compile(env, &g).ok())
                .map(Ok)
                .unwrap_or_else(|| {
                    OwnedTemplate::compile(env, &source).map_err(|e| syntax_error(&e, body))
                });
        Prepared {
            plugin_error,
            names: root,
            string_filter: false,
            compiled,
        }
    }

    /// A conditional's bare expression, guarded (Ansible's undefined fails
    /// when compared, filtered or negated, see strict_undefined) and compiled.
    fn prepare_conditional(
        &self,
        expr: &str,
        env: &Arc<Environment<'static>>,
    ) -> Prepared<OwnedExpression> {
        let compiled = crate::strict_undefined::guard_expression(expr.trim())
            .and_then(|g| OwnedExpression::compile(env, &g).ok())
            .map(Ok)
            .unwrap_or_else(|| {
                OwnedExpression::compile(env, expr.trim()).map_err(|e| {
                    syntax_error(
                        &e,
                        &format!("{{% if {} %}} True {{% else %}} False {{% endif %}}", expr),
                    )
                })
            });
        Prepared {
            plugin_error: None,
            names: crate::eager_resolve::expression_names(expr.trim()),
            string_filter: false,
            compiled,
        }
    }

    /// Fails as Jinja's compiler does when `source` names a filter or test
    /// that does not exist, wherever it sits.
    fn check_plugins(
        &self,
        source: &str,
        in_expr: bool,
        options: JinjaOptions,
        data: &str,
    ) -> Result<(), TemplateError> {
        for (kind, name) in plugin_names(source, in_expr, syntax_config(options)) {
            let cached = self
                .known_plugins
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .get(&(kind, name.clone()))
                .copied();
            let known = match cached {
                Some(k) => k,
                None => {
                    let k = match kind {
                        PluginKind::Filter => self.knows_filter(&name),
                        PluginKind::Test => self.knows_test(&name),
                    };
                    self.known_plugins
                        .lock()
                        .unwrap_or_else(|e| e.into_inner())
                        .insert((kind, name.clone()), k);
                    k
                }
            };
            if !known {
                let what = format!("Could not load \"{}\": '{}'", name, name);
                return Err(TemplateError::new(
                    ErrorKind::Syntax,
                    format!(
                        "template error while templating string: {}. String: {}. {}",
                        what, data, what
                    ),
                ));
            }
        }
        Ok(())
    }

    /// Evaluates an expression in a frame (used to explain undefined errors).
    pub(crate) fn map_error(
        &self,
        err: &minijinja::Error,
        frame: &Frame<'_>,
        data: &str,
    ) -> TemplateError {
        if let Some(f) = frame.fatal() {
            return f;
        }
        if let Some(inner) = find_template_error(err) {
            return inner;
        }
        match err.kind() {
            minijinja::ErrorKind::UndefinedError => match err.detail() {
                Some(d) if d.starts_with('\'') => TemplateError::undefined(d.to_string()),
                _ => undefined_error(frame, data),
            },
            minijinja::ErrorKind::SyntaxError => syntax_error(err, data),
            minijinja::ErrorKind::UnknownFilter | minijinja::ErrorKind::UnknownTest => {
                unknown_plugin_error(err, data).unwrap_or_else(|| syntax_error(err, data))
            }
            _ => {
                let detail = err
                    .detail()
                    .map(str::to_string)
                    .unwrap_or_else(|| err.kind().to_string());
                TemplateError::other(detail)
            }
        }
    }
}

/// Looks up the names Jinja resolves when a template starts (see
/// eager_resolve): a variable whose template fails fails this one.
fn resolve_eagerly(frame: &Frame<'_>, id: u64, names: &[String]) -> Result<(), TemplateError> {
    for name in names {
        frame.lookup(id, name);
        if let Some(f) = frame.fatal() {
            return Err(f);
        }
    }
    frame.clear_missing();
    Ok(())
}

fn find_template_error(err: &minijinja::Error) -> Option<TemplateError> {
    let mut src: Option<&(dyn std::error::Error + 'static)> = std::error::Error::source(err);
    while let Some(e) = src {
        if let Some(t) = e.downcast_ref::<TemplateError>() {
            return Some(t.clone());
        }
        src = e.source();
    }
    None
}

fn undefined_error(frame: &Frame<'_>, data: &str) -> TemplateError {
    match frame.last_missing() {
        Some(m) => TemplateError::undefined(m),
        None => TemplateError::undefined(
            crate::attr_reason::attribute_reason(frame, data)
                .unwrap_or_else(|| format!("an undefined variable was used in: {}", data)),
        ),
    }
}

/// Ansible 2.18's wording: "template error while templating string: <what>.
/// String: <template>. <what>" (its AnsibleError repeats the cause). What
/// went wrong is minijinja's text, with Jinja's quotes.
fn syntax_error(err: &minijinja::Error, data: &str) -> TemplateError {
    let detail = match err.detail() {
        // the lexer's failures, in Jinja's words
        Some("unexpected end of comment") => "Missing end of comment tag".to_string(),
        Some("unexpected end of raw block") => "Missing end of raw directive".to_string(),
        Some(d) => d.replace('`', "'"),
        None => err.kind().to_string(),
    };
    TemplateError::new(
        ErrorKind::Syntax,
        format!(
            "template error while templating string: {}. String: {}. {}",
            detail, data, detail
        ),
    )
}

/// A filter or test rsible does not have, in Ansible's words (Jinja reports
/// it when it compiles the template).
fn unknown_plugin_error(err: &minijinja::Error, data: &str) -> Option<TemplateError> {
    let detail = err.detail()?;
    let name = detail
        .strip_prefix("filter ")
        .or_else(|| detail.strip_prefix("test "))?
        .strip_suffix(" is unknown")?;
    let what = format!("Could not load \"{}\": '{}'", name, name);
    Some(TemplateError::new(
        ErrorKind::Syntax,
        format!(
            "template error while templating string: {}. String: {}. {}",
            what, data, what
        ),
    ))
}

/// Ansible's `_fail_on_undefined`: an undefined anywhere in the result is an error.
fn check_defined(value: &Value, frame: &Frame<'_>, data: &str) -> Result<(), TemplateError> {
    match value.kind() {
        ValueKind::Undefined => Err(undefined_error(frame, data)),
        ValueKind::Seq | ValueKind::Map => {
            if let Ok(iter) = value.try_iter() {
                for k in iter {
                    if value.kind() == ValueKind::Map {
                        let v = value.get_item(&k).unwrap_or_default();
                        check_defined(&v, frame, data)?;
                    } else {
                        check_defined(&k, frame, data)?;
                    }
                }
            }
            Ok(())
        }
        _ => Ok(()),
    }
}

/// Put before each line end of a template's own text while it renders, so
/// that those become `newline_sequence` and those of values do not (a
/// private-use character, not whitespace: Jinja's whitespace control
/// treats the marked text as before).
const TEXT_NEWLINE: char = '\u{E000}';

/// `body` with [`TEXT_NEWLINE`] before each `\n` of its template data
/// (those the lexer keeps after whitespace control), and each raw line end
/// of a string literal written as the escaped `sequence`. A template that
/// does not tokenise is returned as it is (rendering reports the error).
fn mark_text_newlines(
    body: &str,
    syntax: minijinja::syntax::SyntaxConfig,
    sequence: &str,
) -> String {
    use minijinja::machinery::{tokenize, Token};
    let escaped: String = sequence
        .chars()
        .map(|c| if c == '\r' { "\\r" } else { "\\n" })
        .collect();
    let mut edits: Vec<(usize, usize, String)> = Vec::new();
    for item in tokenize(body, false, syntax) {
        let Ok((token, span)) = item else {
            return body.to_string();
        };
        match token {
            Token::TemplateData(text) => {
                let at = text.as_ptr() as usize - body.as_ptr() as usize;
                for (i, _) in text.match_indices('\n') {
                    edits.push((at + i, at + i, TEXT_NEWLINE.to_string()));
                }
            }
            Token::Str(_) | Token::String(_) => {
                let (start, end) = (span.start_offset as usize, span.end_offset as usize);
                if let Some(literal) = body.get(start..end).filter(|l| l.contains('\n')) {
                    edits.push((start, end, literal.replace('\n', &escaped)));
                }
            }
            _ => {}
        }
    }
    let mut out = String::with_capacity(body.len() + edits.len() * 3);
    let mut at = 0;
    for (start, end, text) in edits {
        out.push_str(&body[at..start]);
        out.push_str(&text);
        at = end;
    }
    out.push_str(&body[at..]);
    out
}

/// The template source as Jinja's lexer reads it: every line end ("\r\n",
/// "\r", "\n") becomes "\n" (Ansible's `newline_sequence`), in the text and
/// in string literals alike; values of variables keep theirs.
fn normalize_newlines(s: &str) -> String {
    s.replace("\r\n", "\n").replace('\r', "\n")
}

fn count_trailing_newlines(s: &str) -> usize {
    // Jinja counts "\n", "\r\n" and "\r" line ends alike; Ansible counts "\n".
    s.bytes().rev().take_while(|b| *b == b'\n').count()
}

/// Jinja's syntax with the options' whitespace handling and delimiters.
fn syntax_config(options: JinjaOptions) -> minijinja::syntax::SyntaxConfig {
    checked_syntax(options).unwrap_or_default()
}

fn checked_syntax(
    options: JinjaOptions,
) -> Result<minijinja::syntax::SyntaxConfig, minijinja::Error> {
    let d = options.delimiters;
    let mut builder = minijinja::syntax::SyntaxConfig::builder();
    builder
        .trim_blocks(options.trim_blocks)
        .lstrip_blocks(options.lstrip_blocks)
        .keep_trailing_newline(options.keep_trailing_newline);
    if !d.is_default() {
        builder
            .block_delimiters(d.block.0, d.block.1)
            .variable_delimiters(d.variable.0, d.variable.1)
            .comment_delimiters(d.comment.0, d.comment.1);
    }
    builder.build()
}

fn build_env(options: JinjaOptions) -> Environment<'static> {
    let mut env = Environment::new();
    env.set_syntax(syntax_config(options));
    // Chainable so that `a.b.c is defined` and `default()` work through
    // missing parents as with AnsibleUndefined; printing an undefined value
    // is still an error (see the formatter).
    env.set_undefined_behavior(UndefinedBehavior::Chainable);
    env.set_debug(false);
    env.set_formatter(|out, _state, value| {
        if value.is_undefined() {
            let msg = with_current_frame(|_, f| f.last_missing()).flatten();
            return Err(minijinja::Error::new(
                minijinja::ErrorKind::UndefinedError,
                msg.unwrap_or_else(|| "an undefined variable was used".into()),
            ));
        }
        if value.is_none() {
            return Ok(()); // Ansible's finalize prints None as ''
        }
        if let Some(reason) = crate::value_conv::vault_error(value) {
            return Err(minijinja::Error::new(
                minijinja::ErrorKind::InvalidOperation,
                reason.to_string(),
            ));
        }
        std::fmt::Write::write_str(out, &python_repr::str_of(value))
            .map_err(|_| minijinja::Error::new(minijinja::ErrorKind::WriteFailure, "write failed"))
    });
    env.add_function(MUTABLE_WRAPPER, |v: Value| {
        to_mutable_shallow(&v).unwrap_or(v)
    });
    env.set_unknown_method_callback(crate::methods::call_method);
    crate::filters::register(&mut env);
    crate::tests_plugins::register(&mut env);
    crate::lookups::register(&mut env);
    crate::globals::register(&mut env);
    crate::strict_undefined::register(&mut env);
    crate::eager_resolve::register(&mut env);
    env
}
