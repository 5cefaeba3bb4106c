//! The `default` stdout callback: what `ansible-playbook` prints, line for line.
//!
//! It is driven by events (play start, task start, one result per host or
//! item, stats) and keeps the little state Ansible's callback keeps: whether
//! the current task's banner was printed yet (it is deferred when skipped
//! or ok hosts are hidden, so that a task whose hosts all skip prints
//! nothing at all).

use serde_json::{Map, Value};

use super::display::{banner, warning, DEFAULT_COLUMNS};
use super::pyjson::{dumps, PyJsonStyle};
use super::stats::{HostStats, Stats};

/// Settings of the callback (ansible.cfg `[defaults]` and verbosity).
#[derive(Clone, Debug)]
pub struct CallbackOptions {
    pub display_skipped_hosts: bool,
    pub display_ok_hosts: bool,
    pub verbosity: u8,
    pub columns: usize,
    /// Ad hoc runs (`rsible HOSTS -m ...`): Ansible's `minimal` or `oneline`
    /// callback instead of the default one (see `adhoc.rs`).
    pub adhoc: Option<super::adhoc::AdhocStyle>,
    /// Lines of context in `--diff` output (`[diff] context`).
    pub diff_context: usize,
    /// `show_custom_stats`: the `set_stats` data after the recap.
    pub show_custom_stats: bool,
}

impl Default for CallbackOptions {
    fn default() -> Self {
        CallbackOptions {
            display_skipped_hosts: true,
            display_ok_hosts: true,
            verbosity: 0,
            columns: DEFAULT_COLUMNS,
            adhoc: None,
            diff_context: super::diff_text::DEFAULT_DIFF_CONTEXT,
            show_custom_stats: false,
        }
    }
}

/// What the callback needs to know about a task.
#[derive(Clone, Debug)]
pub struct TaskView {
    /// Unique per task object, to tell whether its banner was printed.
    pub id: u64,
    /// `TASK`, `RUNNING HANDLER`.
    pub prefix: &'static str,
    /// `Task.get_name()`: `role : name` or the action.
    pub name: String,
    /// The action as Ansible names it (`ansible.builtin.debug`, `debug`).
    pub action: String,
    /// `file:line` for `-vv`'s `task path:` line.
    pub path: String,
    pub is_include: bool,
    pub delegate_to: Option<String>,
}

/// One host's (or one item's) result.
#[derive(Clone, Debug)]
pub struct ResultView<'a> {
    pub host: &'a str,
    pub task: &'a TaskView,
    pub result: &'a Map<String, Value>,
}

/// Where the callback writes; separate streams because failures go to stdout
/// but warnings go to stderr, as Ansible does.
pub trait Sink {
    fn out(&mut self, text: &str);
    fn err(&mut self, text: &str);
}

/// A sink that keeps what was printed, for tests.
#[derive(Default, Debug)]
pub struct Captured {
    pub stdout: String,
    pub stderr: String,
}

impl Sink for Captured {
    fn out(&mut self, text: &str) {
        self.stdout.push_str(text);
        self.stdout.push('\n');
    }
    fn err(&mut self, text: &str) {
        self.stderr.push_str(text);
    }
}

pub struct DefaultCallback<S: Sink> {
    pub options: CallbackOptions,
    pub sink: S,
    last_banner_task: Option<u64>,
    /// Print a task's banner with its first result, never at its start, as
    /// Ansible's callback does under the free strategy.
    pub lazy_banners: bool,
    /// The `profile_tasks` callback, when enabled: it prints after this
    /// one at each event, as Ansible calls the stdout callback first.
    profile: Option<super::profile_tasks::ProfileTasks>,
    /// `stdout_callback = json`: events are collected into one document
    /// printed at the end instead of the lines below (see `json_callback.rs`).
    json: Option<super::json_callback::JsonCallback>,
    /// What `set_stats` tasks set, for `show_custom_stats`.
    custom: super::custom_stats::CustomStats,
}

const DEBUG_ACTIONS: &[&str] = &["debug", "ansible.builtin.debug", "ansible.legacy.debug"];
const DEBUG_ALLOWED_KEYS: &[&str] = &["msg", "exception", "warnings", "deprecations"];

impl<S: Sink> DefaultCallback<S> {
    pub fn new(options: CallbackOptions, sink: S) -> Self {
        DefaultCallback {
            options,
            sink,
            last_banner_task: None,
            lazy_banners: false,
            profile: None,
            json: None,
            custom: Default::default(),
        }
    }

    /// Replaces this callback's output by the `json` stdout callback's.
    pub fn enable_json_stdout(&mut self, options: super::json_callback::JsonOptions) {
        self.json = Some(super::json_callback::JsonCallback::new(options));
    }

    /// Whether the `json` stdout callback prints instead of this one.
    pub fn is_json(&self) -> bool {
        self.json.is_some()
    }

    /// Hands a result to the json callback; true when it took it.
    fn json_record(&mut self, r: &ResultView, outcome: super::json_callback::Outcome) -> bool {
        match self.json.as_mut() {
            Some(json) => {
                json.record(r.host, r.task, r.result, outcome);
                true
            }
            None => false,
        }
    }

    /// Turns the `profile_tasks` callback on (ansible.cfg `callbacks_enabled`).
    pub fn enable_profile_tasks(&mut self, options: super::profile_tasks::ProfileOptions) {
        self.profile = Some(super::profile_tasks::ProfileTasks::new(options));
    }

    pub fn playbook_start(&mut self, playbook: &str) {
        if self.options.adhoc.is_some() || self.json.is_some() {
            return;
        }
        // Ansible's `v2_playbook_on_start` shows the banner from -vv on.
        if self.options.verbosity >= 2 {
            let b = banner(&format!("PLAYBOOK: {playbook}"), self.options.columns);
            self.sink.out(&b);
        }
    }

    pub fn play_start(&mut self, name: &str) {
        self.play_start_at(name, "");
    }

    /// The `PLAY [name]` banner; `path` (`file:line`) is for the json callback.
    pub fn play_start_at(&mut self, name: &str, path: &str) {
        if let Some(json) = self.json.as_mut() {
            json.play_start(name.trim(), path);
            return;
        }
        if self.options.adhoc.is_some() {
            return;
        }
        let name = name.trim();
        let msg = if name.is_empty() {
            "PLAY".to_string()
        } else {
            format!("PLAY [{name}]")
        };
        self.sink.out(&banner(&msg, self.options.columns));
    }

    pub fn no_hosts_matched(&mut self) {
        if self.options.adhoc.is_some() || self.json.is_some() {
            return;
        }
        self.sink.out("skipping: no hosts matched");
    }

    pub fn no_hosts_remaining(&mut self) {
        if self.json.is_some() {
            return;
        }
        self.sink
            .out(&banner("NO MORE HOSTS LEFT", self.options.columns));
    }

    pub fn task_start(&mut self, task: &TaskView) {
        if self.options.adhoc.is_some() {
            return;
        }
        if let Some(json) = self.json.as_mut() {
            json.task_start(task);
        } else if self.options.display_skipped_hosts
            && self.options.display_ok_hosts
            && !self.lazy_banners
        {
            self.print_task_banner(task);
        }
        if let Some(profile) = self.profile.as_mut() {
            let path = (self.options.verbosity >= 2 && !task.path.is_empty())
                .then_some(task.path.as_str());
            if let Some(line) = profile.task_start(task.id, task.name.trim(), path) {
                self.sink.out(&line);
            }
        }
    }

    fn print_task_banner(&mut self, task: &TaskView) {
        let msg = format!("{} [{}]", task.prefix, task.name.trim());
        self.sink.out(&banner(&msg, self.options.columns));
        if self.options.verbosity >= 2 && !task.path.is_empty() {
            self.sink.out(&format!("task path: {}", task.path));
        }
        self.last_banner_task = Some(task.id);
    }

    fn ensure_banner(&mut self, task: &TaskView) {
        if self.last_banner_task != Some(task.id) {
            self.print_task_banner(task);
        }
    }

    fn host_label(&self, r: &ResultView) -> String {
        let mut label = r.host.to_string();
        // A loop item's delegate is templated with the item: it travels in
        // the result; the task's own is the fallback.
        let per_result = r
            .result
            .get("_ansible_delegated_vars")
            .and_then(|v| v.get("ansible_delegated_host"))
            .and_then(|v| v.as_str())
            .map(str::to_string);
        if let Some(delegate) = per_result.as_ref().or(r.task.delegate_to.as_ref()) {
            if delegate != r.host {
                label.push_str(&format!(" -> {delegate}"));
                let ahost = r
                    .result
                    .get("_ansible_delegated_vars")
                    .and_then(|v| v.get("ansible_host"))
                    .and_then(|v| v.as_str());
                if let Some(ahost) = ahost {
                    if ahost != delegate {
                        label.push_str(&format!("({ahost})"));
                    }
                }
            }
        }
        label
    }

    fn is_verbose(&self, result: &Map<String, Value>) -> bool {
        let always = result.get("_ansible_verbose_always") == Some(&Value::Bool(true));
        let overridden = result
            .get("_ansible_verbose_override")
            .is_some_and(|v| v != &Value::Bool(false));
        (self.options.verbosity > 0 || always) && !overridden
    }

    /// `_dump_results`: internal keys stripped, invocation and diff hidden
    /// below -vvv, sorted keys, indent 4 when verbose-always or -vvv.
    pub fn dump_result(&self, result: &Map<String, Value>) -> String {
        self.dump_result_indent(result, None)
    }

    /// `_dump_results` with an explicit `indent` (the minimal callback's 4,
    /// the oneline callback's 0); a falsy indent becomes 4 when verbose.
    pub fn dump_result_indent(&self, result: &Map<String, Value>, indent: Option<usize>) -> String {
        if result.get("_ansible_no_log") == Some(&Value::Bool(true)) {
            return r#"{"censored": "the output has been hidden due to the fact that 'no_log: true' was specified for this result"}"#.to_string();
        }
        let mut abridged = strip_internal_keys(result);
        if self.options.verbosity < 3 {
            abridged.remove("invocation");
            abridged.remove("diff");
        }
        abridged.remove("exception");
        let verbose = result.get("_ansible_verbose_always") == Some(&Value::Bool(true))
            || self.options.verbosity > 2;
        let indent = match indent {
            Some(n) if n > 0 => Some(n),
            _ if verbose => Some(4),
            other => other,
        };
        dumps(
            &Value::Object(abridged),
            PyJsonStyle {
                indent,
                sort_keys: true,
            },
        )
    }

    pub(super) fn clean_results(&self, result: &mut Map<String, Value>, action: &str) {
        if DEBUG_ACTIONS.contains(&action) {
            if result.contains_key("msg") {
                let keys: Vec<String> = result.keys().cloned().collect();
                for key in keys {
                    if !DEBUG_ALLOWED_KEYS.contains(&key.as_str()) && !key.starts_with('_') {
                        result.remove(&key);
                    }
                }
            } else {
                for hide in ["changed", "failed", "skipped", "invocation", "skip_reason"] {
                    result.remove(hide);
                }
            }
        }
    }

    pub(super) fn handle_warnings(&mut self, result: &mut Map<String, Value>) {
        self.print_warnings(result);
        result.remove("warnings");
    }

    /// The result's `warnings`, printed as Ansible's callback prints them.
    fn print_warnings(&mut self, result: &Map<String, Value>) {
        if let Some(Value::Array(warnings)) = result.get("warnings") {
            for w in warnings {
                let text = w
                    .as_str()
                    .map(str::to_string)
                    .unwrap_or_else(|| w.to_string());
                let line = warning(&text, self.options.columns);
                self.sink.err(&line);
            }
        }
    }

    fn item_label(result: &Map<String, Value>) -> String {
        if result.get("_ansible_no_log") == Some(&Value::Bool(true)) {
            return "(censored due to no_log)".into();
        }
        let item = result
            .get("_ansible_item_label")
            .or_else(|| result.get("item"))
            .cloned()
            .unwrap_or(Value::Null);
        python_str(&item)
    }

    pub fn runner_on_ok(&mut self, r: &ResultView) {
        if let Some(style) = self.options.adhoc {
            return self.adhoc_on_ok(style, r);
        }
        if self.json_record(r, super::json_callback::Outcome::Ok) {
            return;
        }
        self.custom.absorb(r.host, r.result);
        if r.task.is_include {
            self.ensure_banner(r.task);
            return;
        }
        let changed = r.result.get("changed") == Some(&Value::Bool(true));
        let mut msg = if changed {
            self.ensure_banner(r.task);
            format!("changed: [{}]", self.host_label(r))
        } else {
            if !self.options.display_ok_hosts {
                return;
            }
            self.ensure_banner(r.task);
            format!("ok: [{}]", self.host_label(r))
        };
        self.print_warnings(r.result);
        if r.result.get("results").is_some_and(Value::is_array) {
            // loop results were printed per item
            return;
        }
        // A copy only to print it: without -v an ok line is the host alone, and
        // copying every result (a gathering's facts, on every host) cost more
        // than the rest of the callback.
        if self.is_verbose(r.result) {
            let mut result = r.result.clone();
            result.remove("warnings");
            self.clean_results(&mut result, &r.task.action);
            msg.push_str(&format!(" => {}", self.dump_result(&result)));
        }
        self.sink.out(&msg);
    }

    /// `v2_on_file_diff`: a changed result's `diff`, printed before its
    /// `changed:` line when the task runs in diff mode.
    pub fn on_file_diff(&mut self, r: &ResultView) {
        if self.json.is_some() {
            return;
        }
        let Some(diff) = r.result.get("diff") else {
            return;
        };
        if !python_truthy(diff) || r.result.get("changed") != Some(&Value::Bool(true)) {
            return;
        }
        let text = super::diff_text::diff_text(diff, self.options.diff_context);
        if text.is_empty() {
            return;
        }
        self.ensure_banner(r.task);
        // Display adds the line end a message lacks.
        self.sink.out(text.strip_suffix('\n').unwrap_or(&text));
    }

    pub fn runner_on_failed(&mut self, r: &ResultView, ignore_errors: bool) {
        if let Some(style) = self.options.adhoc {
            return self.adhoc_on_failed(style, r);
        }
        if self.json_record(r, super::json_callback::Outcome::Failed) {
            return;
        }
        self.ensure_banner(r.task);
        let mut result = r.result.clone();
        self.handle_exception(&result);
        self.handle_warnings(&mut result);
        if result.contains_key("results") && result.get("results").is_some_and(Value::is_array) {
            // items were printed one by one
        } else {
            let label = self.host_label(r);
            self.clean_results(&mut result, &r.task.action);
            self.sink.out(&format!(
                "fatal: [{}]: FAILED! => {}",
                label,
                self.dump_result(&result)
            ));
        }
        if ignore_errors {
            self.sink.out("...ignoring");
        }
    }

    pub(super) fn handle_exception(&mut self, result: &Map<String, Value>) {
        if let Some(exception) = result.get("exception").and_then(Value::as_str) {
            if self.options.verbosity < 3 {
                let last = exception.trim().lines().last().unwrap_or("");
                self.sink.out(&format!(
                    "An exception occurred during task execution. To see the full traceback, use -vvv. The error was: {last}"
                ));
            } else {
                self.sink
                    .out(&format!("The full traceback is:\n{exception}"));
            }
        }
    }

    pub fn runner_on_skipped(&mut self, r: &ResultView) {
        if self.options.adhoc.is_some() {
            return self.adhoc_on_skipped(r);
        }
        if self.json_record(r, super::json_callback::Outcome::Skipped) {
            return;
        }
        if !self.options.display_skipped_hosts {
            return;
        }
        self.ensure_banner(r.task);
        let mut result = r.result.clone();
        self.clean_results(&mut result, &r.task.action);
        let mut msg = format!("skipping: [{}]", r.host);
        if self.is_verbose(&result) {
            msg.push_str(&format!(" => {}", self.dump_result(&result)));
        }
        self.sink.out(&msg);
    }

    pub fn runner_on_unreachable(&mut self, r: &ResultView, ignore_unreachable: bool) {
        if let Some(style) = self.options.adhoc {
            return self.adhoc_on_unreachable(style, r);
        }
        if self.json_record(r, super::json_callback::Outcome::Unreachable) {
            return;
        }
        self.ensure_banner(r.task);
        let label = self.host_label(r);
        self.sink.out(&format!(
            "fatal: [{}]: UNREACHABLE! => {}",
            label,
            self.dump_result(r.result)
        ));
        if ignore_unreachable {
            self.sink.out("...ignoring");
        }
    }

    /// `FAILED - RETRYING: [host]: task (N retries left).`, with the result at -vvv.
    pub fn runner_retry(&mut self, r: &ResultView) {
        if self.json.is_some() {
            return;
        }
        let retries = r.result.get("retries").and_then(Value::as_i64).unwrap_or(0);
        let attempts = r
            .result
            .get("attempts")
            .and_then(Value::as_i64)
            .unwrap_or(0);
        let mut msg = format!(
            "FAILED - RETRYING: [{}]: {} ({} retries left).",
            self.host_label(r),
            r.task.name,
            retries - attempts
        );
        let always = r.result.get("_ansible_verbose_always") == Some(&Value::Bool(true));
        let overridden = r
            .result
            .get("_ansible_verbose_override")
            .is_some_and(|v| v != &Value::Bool(false));
        if (self.options.verbosity > 2 || always) && !overridden {
            msg.push_str(&format!("Result was: {}", self.dump_result(r.result)));
        }
        self.sink.out(&msg);
    }

    pub fn runner_item_on_ok(&mut self, r: &ResultView) {
        if self.json.is_some() {
            return;
        }
        if r.task.is_include {
            return;
        }
        let mut result = r.result.clone();
        let changed = result.get("changed") == Some(&Value::Bool(true));
        let status = if changed {
            "changed"
        } else {
            if !self.options.display_ok_hosts {
                return;
            }
            "ok"
        };
        self.ensure_banner(r.task);
        let mut msg = format!(
            "{}: [{}] => (item={})",
            status,
            self.host_label(r),
            Self::item_label(&result)
        );
        self.clean_results(&mut result, &r.task.action);
        if self.is_verbose(&result) {
            msg.push_str(&format!(" => {}", self.dump_result(&result)));
        }
        self.sink.out(&msg);
    }

    pub fn runner_item_on_failed(&mut self, r: &ResultView) {
        if self.json.is_some() {
            return;
        }
        self.ensure_banner(r.task);
        let mut result = r.result.clone();
        self.clean_results(&mut result, &r.task.action);
        self.handle_exception(&result);
        self.handle_warnings(&mut result);
        let msg = format!(
            "failed: [{}] (item={}) => {}",
            self.host_label(r),
            Self::item_label(&result),
            self.dump_result(&result)
        );
        self.sink.out(&msg);
    }

    pub fn runner_item_on_skipped(&mut self, r: &ResultView) {
        if self.json.is_some() {
            return;
        }
        if !self.options.display_skipped_hosts {
            return;
        }
        self.ensure_banner(r.task);
        let mut result = r.result.clone();
        self.clean_results(&mut result, &r.task.action);
        let mut msg = format!(
            "skipping: [{}] => (item={}) ",
            r.host,
            Self::item_label(&result)
        );
        if self.is_verbose(&result) {
            msg.push_str(&format!(" => {}", self.dump_result(&result)));
        }
        self.sink.out(&msg);
    }

    /// `included: /path/file.yml for host1, host2`
    pub fn on_include(&mut self, file: &str, hosts: &[&str], item_label: Option<&str>) {
        if self.json.is_some() {
            return;
        }
        let mut msg = format!("included: {} for {}", file, hosts.join(", "));
        if let Some(label) = item_label {
            msg.push_str(&format!(" => (item={label})"));
        }
        self.sink.out(&msg);
    }

    pub fn stats(&mut self, stats: &Stats) {
        if self.options.adhoc.is_some() {
            return;
        }
        if let Some(json) = self.json.as_ref() {
            let document = json.document(stats);
            self.sink.out(&document);
        } else {
            self.sink.out(&banner("PLAY RECAP", self.options.columns));
            for (host, s) in stats.sorted() {
                self.sink.out(&recap_line(host, s));
            }
            self.sink.out("");
            self.print_custom_stats();
        }
        if let Some(profile) = self.profile.as_mut() {
            for line in profile.summary(self.options.columns) {
                self.sink.out(&line);
            }
        }
    }
}

impl<S: Sink> DefaultCallback<S> {
    /// The `CUSTOM STATS:` section: per host, then the run's, each as JSON
    /// with indent 1 folded onto one line (Ansible's rendering).
    fn print_custom_stats(&mut self) {
        if !self.options.show_custom_stats || self.custom.is_empty() {
            return;
        }
        self.sink
            .out(&banner("CUSTOM STATS: ", self.options.columns));
        let one_line = |cb: &Self, v: &Value| {
            let map = v.as_object().cloned().unwrap_or_default();
            cb.dump_result_indent(&map, Some(1)).replace('\n', "")
        };
        let hosts: Vec<String> = self
            .custom
            .hosts_sorted()
            .into_iter()
            .map(|(host, v)| format!("\t{host}: {}", one_line(self, v)))
            .collect();
        for line in hosts {
            self.sink.out(&line);
        }
        if let Some(run) = self.custom.run() {
            let line = format!("\tRUN: {}", one_line(self, run));
            self.sink.out("");
            self.sink.out(&line);
        }
        self.sink.out("");
    }
}

/// One PLAY RECAP line without colour.
pub fn recap_line(host: &str, s: &HostStats) -> String {
    format!(
        "{:<26} : ok={:<4} changed={:<4} unreachable={:<4} failed={:<4} skipped={:<4} rescued={:<4} ignored={:<4}",
        host, s.ok, s.changed, s.unreachable, s.failures, s.skipped, s.rescued, s.ignored
    )
}

/// Removes Ansible's internal `_ansible_*` keys at every level (strip_internal_keys).
fn strip_internal_keys(map: &Map<String, Value>) -> Map<String, Value> {
    let mut out = Map::new();
    for (k, v) in map {
        if k.starts_with("_ansible_") && k != "_ansible_parsed" {
            continue;
        }
        let v = match v {
            Value::Object(inner) => Value::Object(strip_internal_keys(inner)),
            Value::Array(items) => Value::Array(
                items
                    .iter()
                    .map(|i| match i {
                        Value::Object(inner) => Value::Object(strip_internal_keys(inner)),
                        other => other.clone(),
                    })
                    .collect(),
            ),
            other => other.clone(),
        };
        out.insert(k.clone(), v);
    }
    out
}

/// Python's truth value of JSON-shaped data.
pub fn python_truthy(v: &Value) -> bool {
    match v {
        Value::Null => false,
        Value::Bool(b) => *b,
        Value::Number(n) => n.as_f64().is_some_and(|f| f != 0.0),
        Value::String(s) => !s.is_empty(),
        Value::Array(items) => !items.is_empty(),
        Value::Object(map) => !map.is_empty(),
    }
}

/// `str(value)` as Python prints it inside `(item=...)`.
pub fn python_str(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => python_repr(other),
    }
}

/// `repr(value)` for JSON-shaped data: `{'a': 1, 'b': [True, None]}`.
pub fn python_repr(v: &Value) -> String {
    match v {
        Value::Null => "None".into(),
        Value::Bool(true) => "True".into(),
        Value::Bool(false) => "False".into(),
        Value::Number(n) => {
            if n.is_f64() {
                rsible_pytext::json_float(n.as_f64().unwrap_or(f64::NAN))
            } else {
                n.to_string()
            }
        }
        Value::String(s) => rsible_pytext::str_repr(s),
        Value::Array(items) => format!(
            "[{}]",
            items.iter().map(python_repr).collect::<Vec<_>>().join(", ")
        ),
        Value::Object(map) => format!(
            "{{{}}}",
            map.iter()
                .map(|(k, v)| format!("{}: {}", rsible_pytext::str_repr(k), python_repr(v)))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}
