//! Templates prepared once per distinct text.
//!
//! Before a string is rendered the templar checks the filters and tests it
//! names (a tokeniser pass), finds the names Jinja resolves eagerly (a parse),
//! rewrites it with strict-undefined guards (another tokeniser pass and
//! parse) and compiles the result. All of that depends only on the text and
//! the Jinja settings, while the same texts (role defaults, template files)
//! are rendered again for every host and every task. The cache keeps the
//! outcome, errors included, keyed by the text and the settings; only the
//! name lookups and the rendering run again.
//!
//! minijinja's compiled templates and expressions borrow their environment
//! (and a template its source text); [`OwnedTemplate`] and
//! [`OwnedExpression`] hold both beside the compiled form (see their SAFETY
//! notes) so that entries can be shared between calls and threads.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use minijinja::{Environment, Expression, Template, Value};

use crate::error::TemplateError;
use crate::templar::JinjaOptions;

/// How many distinct texts are kept. A run that templates more (a loop over
/// generated strings) starts over when the cache is full: correctness never
/// depends on an entry being there.
const MAX_ENTRIES: usize = 8192;

/// A text ready to render: the names Jinja resolves first, the compiled
/// form `C`, and the errors its preparation found (reported when it is used,
/// at the points the uncached code reported them).
pub(crate) struct Prepared<C> {
    /// An unknown filter or test: reported before anything is looked up.
    pub plugin_error: Option<TemplateError>,
    /// The names resolved when the template (or expression) starts.
    pub names: Vec<String>,
    /// A bare expression whose outermost filter makes a string
    /// (`to_json`, ...): its result is never turned back into data.
    pub string_filter: bool,
    /// The compiled form, or the syntax error (reported after the lookups).
    pub compiled: Result<C, TemplateError>,
}

type Entries<C> = HashMap<(JinjaOptions, Arc<str>), Arc<Prepared<C>>>;

/// Thread-safe, bounded map from (settings, text) to prepared texts.
pub(crate) struct PreparedCache<C> {
    entries: Mutex<Entries<C>>,
}

impl<C> Default for PreparedCache<C> {
    fn default() -> Self {
        PreparedCache {
            entries: Mutex::new(HashMap::new()),
        }
    }
}

impl<C> PreparedCache<C> {
    /// The prepared form of `text`, made by `prepare` the first time.
    pub fn get_or_prepare(
        &self,
        options: JinjaOptions,
        text: &str,
        prepare: impl FnOnce() -> Prepared<C>,
    ) -> Arc<Prepared<C>> {
        let key = (options, Arc::<str>::from(text));
        if let Some(hit) = self.lock().get(&key) {
            return Arc::clone(hit);
        }
        // Prepared without the lock held: two threads may both prepare a
        // new text (the same outcome), none waits on the other's parse.
        let prepared = Arc::new(prepare());
        let mut entries = self.lock();
        if entries.len() >= MAX_ENTRIES {
            entries.clear();
        }
        entries.insert(key, Arc::clone(&prepared));
        prepared
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Entries<C>> {
        self.entries.lock().unwrap_or_else(|e| e.into_inner())
    }

    #[cfg(test)]
    pub fn len(&self) -> usize {
        self.lock().len()
    }
}

/// A compiled template that owns its source text and keeps its environment.
pub(crate) struct OwnedTemplate {
    // Declared first so that it is dropped first: it points into `_source`
    // and `_env`.
    template: Template<'static, 'static>,
    _source: Arc<str>,
    _env: Arc<Environment<'static>>,
}

impl OwnedTemplate {
    pub fn compile(
        env: &Arc<Environment<'static>>,
        source: &str,
    ) -> Result<Self, minijinja::Error> {
        let env = Arc::clone(env);
        let source: Arc<str> = Arc::from(source);
        // SAFETY: the environment and the text live in Arc allocations that
        // this struct keeps (their addresses do not move with it), neither is
        // mutated after this point, and both are released only after
        // `template`, the sole holder of these references, has been dropped
        // (field order). The references never leave this struct: callers
        // only get rendered output.
        let env_ref: &'static Environment<'static> = unsafe { &*Arc::as_ptr(&env) };
        let source_ref: &'static str = unsafe { &*Arc::as_ptr(&source) };
        let template = env_ref.template_from_str(source_ref)?;
        Ok(OwnedTemplate {
            template,
            _source: source,
            _env: env,
        })
    }

    pub fn render(&self, ctx: Value) -> Result<String, minijinja::Error> {
        self.template.render(ctx)
    }
}

/// A compiled expression (it owns its text) that keeps its environment.
pub(crate) struct OwnedExpression {
    // Declared first so that it is dropped first: it points into `_env`.
    expression: Expression<'static, 'static>,
    _env: Arc<Environment<'static>>,
}

impl OwnedExpression {
    pub fn compile(
        env: &Arc<Environment<'static>>,
        source: &str,
    ) -> Result<Self, minijinja::Error> {
        let env = Arc::clone(env);
        // SAFETY: as for OwnedTemplate: the environment is kept alive, unmoved
        // and unchanged by this struct for as long as `expression` exists.
        let env_ref: &'static Environment<'static> = unsafe { &*Arc::as_ptr(&env) };
        let expression = env_ref.compile_expression_owned(source.to_string())?;
        Ok(OwnedExpression {
            expression,
            _env: env,
        })
    }

    pub fn eval(&self, ctx: Value) -> Result<Value, minijinja::Error> {
        self.expression.eval(ctx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn options() -> JinjaOptions {
        JinjaOptions::default()
    }

    fn empty() -> Prepared<()> {
        Prepared {
            plugin_error: None,
            names: Vec::new(),
            string_filter: false,
            compiled: Err(TemplateError::other("x")),
        }
    }

    #[test]
    fn each_text_is_prepared_once_per_settings() {
        let cache = PreparedCache::<()>::default();
        let mut calls = 0;
        for _ in 0..3 {
            cache.get_or_prepare(options(), "{{ a }}-{{ b }}", || {
                calls += 1;
                empty()
            });
        }
        assert_eq!(calls, 1);
        let other = JinjaOptions {
            trim_blocks: false,
            ..options()
        };
        cache.get_or_prepare(other, "{{ a }}-{{ b }}", || {
            calls += 1;
            empty()
        });
        cache.get_or_prepare(options(), "{{ a }}-{{ c }}", || {
            calls += 1;
            empty()
        });
        assert_eq!(calls, 3);
        assert_eq!(cache.len(), 3);
    }

    #[test]
    fn a_full_cache_starts_over() {
        let cache = PreparedCache::<()>::default();
        for i in 0..MAX_ENTRIES + 5 {
            cache.get_or_prepare(options(), &format!("{i}"), empty);
        }
        assert_eq!(cache.len(), 5);
    }

    #[test]
    fn compiled_forms_outlive_the_cache_and_the_caller_s_env() {
        let env = Arc::new(Environment::new());
        let t = OwnedTemplate::compile(&env, &String::from("{{ 1 + 2 }}!")).unwrap();
        let e = OwnedExpression::compile(&env, "[1, 2] | length").unwrap();
        drop(env);
        assert_eq!(t.render(Value::from(())).unwrap(), "3!");
        assert_eq!(e.eval(Value::from(())).unwrap(), Value::from(2));
        // shared across threads
        let t = Arc::new(t);
        let t2 = Arc::clone(&t);
        let out = std::thread::spawn(move || t2.render(Value::from(())).unwrap())
            .join()
            .unwrap();
        assert_eq!(out, "3!");
    }
}
