//! The `json` stdout callback: `stdout_callback = json` resolves to
//! `ansible.posix.json` in ansible-core 2.18 (the ansible 11 collections).
//!
//! Nothing is printed while the run goes on: every play, task and per-host
//! result is collected, and one JSON document with `plays`, `stats`,
//! `custom_stats` and `global_custom_stats` is written when the run ends.
//! Results are the callback's "clean copy" of what the task returned, so a
//! `no_log` result holds the censored text only, never the task's data.

use serde_json::{Map, Value};

use super::custom_stats::CustomStats;
use super::default_callback::TaskView;
use super::pyjson::{dumps, PyJsonStyle};
use super::stats::Stats;
use super::utc_time::iso_utc_now;

/// Internal keys a callback still sees (Ansible's `CLEAN_EXCEPTIONS`).
const KEPT_INTERNAL_KEYS: &[&str] = &[
    "_ansible_verbose_always",
    "_ansible_item_label",
    "_ansible_no_log",
    "_ansible_verbose_override",
];

/// Connection details of a delegated result that survive the clean copy.
const KEPT_DELEGATED_VARS: &[&str] = &[
    "ansible_host",
    "ansible_port",
    "ansible_user",
    "ansible_connection",
];

const DEBUG_ACTIONS: &[&str] = &["debug", "ansible.builtin.debug", "ansible.legacy.debug"];

/// The callback's options (`json_indent`, `show_custom_stats`).
#[derive(Clone, Copy, Debug)]
pub struct JsonOptions {
    /// Spaces per level; `None` writes the document on one line.
    pub indent: Option<usize>,
    pub show_custom_stats: bool,
}

impl JsonOptions {
    /// `json_indent <= 0` means one line, as in the plugin.
    pub fn new(json_indent: i64, show_custom_stats: bool) -> Self {
        JsonOptions {
            indent: usize::try_from(json_indent).ok().filter(|n| *n > 0),
            show_custom_stats,
        }
    }
}

impl Default for JsonOptions {
    fn default() -> Self {
        JsonOptions::new(4, false)
    }
}

/// How a host's task ended: the event the result came with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    Ok,
    Failed,
    Skipped,
    Unreachable,
}

pub struct JsonCallback {
    options: JsonOptions,
    plays: Vec<Map<String, Value>>,
    custom: CustomStats,
    /// Stands in for Ansible's per-run uuid prefix of object ids.
    id_prefix: String,
    next_play_id: u64,
}

impl JsonCallback {
    pub fn new(options: JsonOptions) -> Self {
        JsonCallback {
            options,
            plays: Vec::new(),
            custom: CustomStats::default(),
            id_prefix: id_prefix(),
            next_play_id: 0,
        }
    }

    /// Ids look like Ansible's uuids (`02fc0000-0001-2048-6fbb-000000000004`);
    /// plays and tasks count separately, so they get different middle parts.
    fn id(&self, kind: &str, n: u64) -> String {
        format!("{}-{kind}-{n:012x}", self.id_prefix)
    }

    /// `v2_playbook_on_play_start`; `path` is `file:line`.
    pub fn play_start(&mut self, name: &str, path: &str) {
        self.next_play_id += 1;
        let play = object([
            ("name", Value::from(name)),
            ("id", Value::from(self.id("0000", self.next_play_id))),
            ("path", Value::from(path)),
            (
                "duration",
                Value::Object(object([("start", Value::from(iso_utc_now()))])),
            ),
        ]);
        self.plays.push(object([
            ("play", Value::Object(play)),
            ("tasks", Value::Array(Vec::new())),
        ]));
    }

    /// `v2_playbook_on_task_start` and `..._handler_task_start` (the linear
    /// strategy is lockstep: one entry per task, every host's result in it).
    pub fn task_start(&mut self, task: &TaskView) {
        let entry = object([
            (
                "task",
                Value::Object(object([
                    ("name", Value::from(task.name.trim())),
                    ("id", Value::from(self.id("0001", task.id))),
                    ("path", Value::from(task.path.as_str())),
                    (
                        "duration",
                        Value::Object(object([("start", Value::from(iso_utc_now()))])),
                    ),
                ])),
            ),
            ("hosts", Value::Object(Map::new())),
        ]);
        if let Some(Value::Array(tasks)) = self.plays.last_mut().and_then(|p| p.get_mut("tasks")) {
            tasks.push(Value::Object(entry));
        }
    }

    /// A host's result (`v2_runner_on_ok/failed/skipped/unreachable`), kept
    /// under the current task with the action and the event's flag added.
    pub fn record(
        &mut self,
        host: &str,
        task: &TaskView,
        result: &Map<String, Value>,
        outcome: Outcome,
    ) {
        if outcome == Outcome::Ok {
            self.custom.absorb(host, result);
        }
        let mut copy = clean_copy(result, &task.action);
        match outcome {
            Outcome::Failed => {
                copy.insert("failed".into(), Value::Bool(true));
            }
            Outcome::Skipped => {
                copy.insert("skipped".into(), Value::Bool(true));
            }
            Outcome::Ok | Outcome::Unreachable => {}
        }
        copy.insert("action".into(), Value::from(task.action.as_str()));
        let end = iso_utc_now();
        let Some(play) = self.plays.last_mut() else {
            return;
        };
        if let Some(Value::Object(duration)) =
            play.get_mut("play").and_then(|p| p.get_mut("duration"))
        {
            duration.insert("end".into(), Value::from(end.as_str()));
        }
        let Some(Value::Object(entry)) = play
            .get_mut("tasks")
            .and_then(Value::as_array_mut)
            .and_then(|tasks| tasks.last_mut())
        else {
            return;
        };
        if let Some(Value::Object(duration)) =
            entry.get_mut("task").and_then(|t| t.get_mut("duration"))
        {
            duration.insert("end".into(), Value::from(end));
        }
        if let Some(Value::Object(hosts)) = entry.get_mut("hosts") {
            hosts.insert(host.to_string(), Value::Object(copy));
        }
    }

    /// `v2_playbook_on_stats`: the whole document, as one display line.
    pub fn document(&self, stats: &Stats) -> String {
        let mut summary = Map::new();
        for (host, s) in stats.sorted() {
            summary.insert(
                host.clone(),
                Value::Object(object([
                    ("ok", Value::from(s.ok)),
                    ("failures", Value::from(s.failures)),
                    ("unreachable", Value::from(s.unreachable)),
                    ("changed", Value::from(s.changed)),
                    ("skipped", Value::from(s.skipped)),
                    ("rescued", Value::from(s.rescued)),
                    ("ignored", Value::from(s.ignored)),
                ])),
            );
        }
        let (per_host, global) = if self.options.show_custom_stats {
            self.custom.split()
        } else {
            (Map::new(), Map::new())
        };
        let document = object([
            (
                "plays",
                Value::Array(self.plays.iter().cloned().map(Value::Object).collect()),
            ),
            ("stats", Value::Object(summary)),
            ("custom_stats", Value::Object(per_host)),
            ("global_custom_stats", Value::Object(global)),
        ]);
        let text = dumps(
            &Value::Object(document),
            PyJsonStyle {
                indent: self.options.indent,
                sort_keys: true,
            },
        );
        ascii_only(&text)
    }
}

/// What a callback receives of a result (Ansible's `TaskResult.clean_copy`
/// after the executor censored `no_log` results): internal keys removed
/// except those callbacks need, `failed`/`skipped` left to the event,
/// `invocation` dropped for `debug`.
fn clean_copy(result: &Map<String, Value>, action: &str) -> Map<String, Value> {
    let mut copy = result.clone();
    copy.remove("failed");
    copy.remove("skipped");
    if DEBUG_ACTIONS.contains(&action) {
        copy.remove("invocation");
    }
    let delegated = result
        .get("_ansible_delegated_vars")
        .and_then(Value::as_object)
        .map(|vars| {
            vars.iter()
                .filter(|(k, _)| KEPT_DELEGATED_VARS.contains(&k.as_str()))
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect::<Map<String, Value>>()
        });
    let mut copy = match strip_internal_keys(Value::Object(copy)) {
        Value::Object(map) => map,
        _ => Map::new(),
    };
    if let Some(vars) = delegated {
        copy.insert("_ansible_delegated_vars".into(), Value::Object(vars));
    }
    copy
}

fn strip_internal_keys(value: Value) -> Value {
    match value {
        Value::Object(map) => Value::Object(
            map.into_iter()
                .filter(|(k, _)| {
                    !k.starts_with("_ansible_") || KEPT_INTERNAL_KEYS.contains(&k.as_str())
                })
                .map(|(k, v)| (k, strip_internal_keys(v)))
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.into_iter().map(strip_internal_keys).collect()),
        other => other,
    }
}

/// Python's `json.dumps` default `ensure_ascii=True`: every non-ASCII
/// character as `\uXXXX` (surrogate pairs beyond the BMP). Outside strings
/// JSON text is ASCII, so escaping the whole text is the same.
fn ascii_only(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if c.is_ascii() {
            out.push(c);
        } else {
            let mut units = [0u16; 2];
            for unit in c.encode_utf16(&mut units) {
                out.push_str(&format!("\\u{unit:04x}"));
            }
        }
    }
    out
}

fn object<const N: usize>(entries: [(&str, Value); N]) -> Map<String, Value> {
    entries
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect()
}

/// Eight hex digits that differ between runs, then Ansible's fixed `-0001`.
fn id_prefix() -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    let mixed = nanos ^ std::process::id().rotate_left(16);
    format!("{mixed:08x}-0001")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn view(action: &str) -> TaskView {
        TaskView {
            id: 7,
            prefix: "TASK",
            name: "a task".into(),
            action: action.into(),
            path: "/p/play.yml:3".into(),
            is_include: false,
            delegate_to: None,
        }
    }

    fn map(v: Value) -> Map<String, Value> {
        v.as_object().cloned().unwrap_or_default()
    }

    #[test]
    fn results_are_cleaned_and_flagged_by_their_event() {
        let mut cb = JsonCallback::new(JsonOptions::default());
        cb.play_start("p", "/p/play.yml:1");
        let task = view("ansible.builtin.command");
        cb.task_start(&task);
        let result = map(serde_json::json!({
            "changed": true, "failed": true, "rc": 1, "_ansible_no_log": false,
            "_ansible_parsed": true, "_ansible_delegated_vars": {"ansible_host": "h", "ansible_delegated_host": "d"},
            "results": [{"_ansible_item_label": "x", "_ansible_ignore_errors": null, "item": "é"}]
        }));
        cb.record("h1", &task, &result, Outcome::Failed);
        let doc: Value = serde_json::from_str(&cb.document(&Stats::default())).unwrap();
        let got = &doc["plays"][0]["tasks"][0]["hosts"]["h1"];
        assert_eq!(
            got,
            &serde_json::json!({
                "action": "ansible.builtin.command", "changed": true, "failed": true, "rc": 1,
                "_ansible_no_log": false, "_ansible_delegated_vars": {"ansible_host": "h"},
                "results": [{"_ansible_item_label": "x", "item": "é"}]
            })
        );
        assert_eq!(doc["plays"][0]["tasks"][0]["task"]["name"], "a task");
        assert!(doc["plays"][0]["play"]["duration"]["end"].is_string());
    }

    #[test]
    fn the_document_is_ascii_and_indented_as_asked() {
        let mut cb = JsonCallback::new(JsonOptions::new(0, false));
        cb.play_start("ünïcode", "/p:1");
        let text = cb.document(&Stats::default());
        assert!(!text.contains('\n'));
        assert!(text.contains("\\u00fcn\\u00efcode"), "{text}");
        let indented = JsonCallback::new(JsonOptions::new(2, false)).document(&Stats::default());
        assert!(
            indented.starts_with("{\n  \"custom_stats\": {},"),
            "{indented}"
        );
    }

    #[test]
    fn debug_results_lose_their_invocation() {
        let mut cb = JsonCallback::new(JsonOptions::default());
        cb.play_start("p", "/p:1");
        let task = view("debug");
        cb.task_start(&task);
        let result = map(serde_json::json!({"msg": "m", "invocation": {"module_args": {}}}));
        cb.record("h", &task, &result, Outcome::Skipped);
        let doc: Value = serde_json::from_str(&cb.document(&Stats::default())).unwrap();
        assert_eq!(
            doc["plays"][0]["tasks"][0]["hosts"]["h"],
            serde_json::json!({"msg": "m", "skipped": true, "action": "debug"})
        );
    }
}
