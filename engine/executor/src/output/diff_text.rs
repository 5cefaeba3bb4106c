//! The text `--diff` prints for a result's `diff` (the callbacks'
//! `_get_diff`): "skipped" notes for binary or large files, a unified diff
//! of `before`/`after` (dictionaries shown as sorted, indented JSON), and
//! the module's own `prepared` text.

use serde_json::{Map, Value};

use super::pyjson::{dumps, PyJsonStyle};
use super::unified_diff::{splitlines_keepends, unified_diff};

/// Lines of context around each change (ansible.cfg `[diff] context`).
pub const DEFAULT_DIFF_CONTEXT: usize = 3;

/// The text for a `diff` value: one dictionary or a list of them. Empty
/// when there is nothing to show.
pub fn diff_text(diff: &Value, context: usize) -> String {
    let entries: Vec<&Value> = match diff {
        Value::Array(items) => items.iter().collect(),
        other => vec![other],
    };
    let mut out = String::new();
    for entry in entries {
        if let Value::Object(d) = entry {
            entry_text(d, context, &mut out);
        }
    }
    out
}

fn entry_text(d: &Map<String, Value>, context: usize, out: &mut String) {
    if d.contains_key("dst_binary") {
        out.push_str("diff skipped: destination file appears to be binary\n");
    }
    if d.contains_key("src_binary") {
        out.push_str("diff skipped: source file appears to be binary\n");
    }
    if let Some(size) = d.get("dst_larger") {
        out.push_str(&format!(
            "diff skipped: destination file size is greater than {}\n",
            int_text(size)
        ));
    }
    if let Some(size) = d.get("src_larger") {
        out.push_str(&format!(
            "diff skipped: source file size is greater than {}\n",
            int_text(size)
        ));
    }
    if let (Some(before), Some(after)) = (d.get("before"), d.get("after")) {
        let before = side_text(before);
        let after = side_text(after);
        let before_header = header("before", d.get("before_header"));
        let after_header = header("after", d.get("after_header"));
        let mut before_lines: Vec<String> = splitlines_keepends(&before)
            .into_iter()
            .map(str::to_string)
            .collect();
        let mut after_lines: Vec<String> = splitlines_keepends(&after)
            .into_iter()
            .map(str::to_string)
            .collect();
        mark_missing_newline(&mut before_lines);
        mark_missing_newline(&mut after_lines);
        let a: Vec<&str> = before_lines.iter().map(String::as_str).collect();
        let b: Vec<&str> = after_lines.iter().map(String::as_str).collect();
        let lines = unified_diff(&a, &b, &before_header, &after_header, context);
        if !lines.is_empty() {
            out.push_str(&lines.concat());
            out.push('\n');
        }
    }
    if let Some(prepared) = d.get("prepared") {
        out.push_str(&side_text(prepared));
    }
}

/// A side as text: a dictionary becomes `json.dumps(sort_keys, indent=4)`
/// plus a newline, `None` is empty, text stays.
fn side_text(v: &Value) -> String {
    match v {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        Value::Object(_) => {
            let text = dumps(
                v,
                PyJsonStyle {
                    indent: Some(4),
                    sort_keys: true,
                },
            );
            format!("{}\n", ascii_escaped(&text))
        }
        other => super::default_callback::python_str(other),
    }
}

fn header(side: &str, name: Option<&Value>) -> String {
    match name {
        Some(Value::String(s)) => format!("{side}: {s}"),
        Some(other) => format!("{side}: {}", super::default_callback::python_str(other)),
        None => side.to_string(),
    }
}

/// difflib is given lines that all end with a newline: a last line
/// without one gets difflib's marker line.
fn mark_missing_newline(lines: &mut [String]) {
    if let Some(last) = lines.last_mut() {
        if !last.ends_with('\n') {
            last.push_str("\n\\ No newline at end of file\n");
        }
    }
}

fn int_text(v: &Value) -> String {
    match v {
        Value::Number(n) => n
            .as_i64()
            .map(|i| i.to_string())
            .unwrap_or_else(|| n.to_string()),
        other => super::default_callback::python_str(other),
    }
}

/// `json.dumps` escapes non-ASCII characters by default (`\uXXXX`, with
/// surrogate pairs above U+FFFF); the serialized diff sides use it.
fn ascii_escaped(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if c.is_ascii() {
            out.push(c);
            continue;
        }
        let mut units = [0u16; 2];
        for unit in c.encode_utf16(&mut units) {
            out.push_str(&format!("\\u{unit:04x}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn dictionaries_are_diffed_as_sorted_json() {
        let d = json!({"before": {"path": "/x", "state": "absent"},
                       "after": {"state": "directory", "path": "/x"}});
        assert_eq!(
            diff_text(&d, 3),
            "--- before\n+++ after\n@@ -1,4 +1,4 @@\n {\n     \"path\": \"/x\",\n-    \"state\": \"absent\"\n+    \"state\": \"directory\"\n }\n\n"
        );
    }

    #[test]
    fn missing_final_newline_is_marked() {
        let d = json!({"before": "a\n", "after": "a\nb", "after_header": "f"});
        assert_eq!(
            diff_text(&d, 3),
            "--- before\n+++ after: f\n@@ -1 +1,2 @@\n a\n+b\n\\ No newline at end of file\n\n"
        );
    }

    #[test]
    fn skipped_notes_and_prepared_text() {
        let d = json!([{"dst_binary": 1}, {"src_larger": 104448}, {"prepared": "hello\n"}]);
        assert_eq!(
            diff_text(&d, 3),
            "diff skipped: destination file appears to be binary\ndiff skipped: source file size is greater than 104448\nhello\n"
        );
    }

    #[test]
    fn equal_sides_print_nothing() {
        assert_eq!(diff_text(&json!({"before": "a", "after": "a"}), 3), "");
    }

    #[test]
    fn non_ascii_in_dictionaries_is_escaped() {
        assert_eq!(ascii_escaped("é😀"), "\\u00e9\\ud83d\\ude00");
    }
}
