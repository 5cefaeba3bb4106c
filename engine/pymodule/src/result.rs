//! A module's output turned into its result, as ansible-core 2.18's action
//! base does (`_parse_returned_data`, `remove_internal_keys`, the
//! `stdout_lines` split): JSON found among junk lines, or the
//! "MODULE FAILURE" result when there is none.

use serde_json::{Map, Value};

/// What running the payload produced on the target.
#[derive(Debug, Clone, Default)]
pub struct RawRun {
    pub stdout: String,
    pub stderr: String,
    pub rc: i32,
}

/// Keys modules may not set; Ansible drops them with a warning.
const INTERNAL_RESULT_KEYS: &[&str] = &["add_host", "add_group"];

/// The result of a module run with `interpreter` (its command line as used).
pub fn parse(raw: &RawRun, interpreter: &str) -> Map<String, Value> {
    let mut warnings: Vec<String> = Vec::new();
    let mut data = match filter_non_json_lines(&raw.stdout) {
        Ok((text, junk)) => {
            warnings.extend(junk);
            match serde_json::from_str::<Value>(&text) {
                // Ansible marks results `_ansible_parsed`; every display and
                // register strips it again, so rsible does not add it.
                Ok(Value::Object(map)) => Ok(map),
                Ok(_) => Err("Expecting value: line 1 column 1 (char 0)".to_string()),
                Err(e) => Err(python_json_error(&e, &text)),
            }
        }
        Err(e) => Err(e.to_string()),
    };
    let mut result = match data {
        Ok(ref mut map) => std::mem::take(map),
        Err(e) => module_failure(raw, interpreter, &e),
    };
    remove_internal_keys(&mut result, &mut warnings);
    if let Some(results) = result.get("results") {
        if !results.is_array() {
            let moved = result.remove("results").unwrap_or(Value::Null);
            result.insert("ansible_module_results".into(), moved);
            warnings.push(
                "Found internal 'results' key in module return, renamed to 'ansible_module_results'."
                    .into(),
            );
        }
    }
    for (key, lines) in [("stdout", "stdout_lines"), ("stderr", "stderr_lines")] {
        if result.contains_key(key) && !result.contains_key(lines) {
            let text = result.get(key).and_then(Value::as_str).unwrap_or("");
            let split: Vec<Value> = rsible_pytext::splitlines(text)
                .into_iter()
                .map(|l| Value::String(l.to_string()))
                .collect();
            result.insert(lines.into(), Value::Array(split));
        }
    }
    if !warnings.is_empty() {
        let list = result
            .entry("warnings")
            .or_insert_with(|| Value::Array(Vec::new()));
        if let Value::Array(items) = list {
            items.extend(warnings.into_iter().map(Value::String));
        }
    }
    result
}

/// Ansible's result for output that holds no JSON object.
fn module_failure(raw: &RawRun, interpreter: &str, error: &str) -> Map<String, Value> {
    let mut data = Map::new();
    data.insert("failed".into(), Value::Bool(true));
    data.insert("module_stdout".into(), Value::String(raw.stdout.clone()));
    data.insert("module_stderr".into(), Value::String(raw.stderr.clone()));
    if raw.stderr.starts_with("Traceback") {
        data.insert("exception".into(), Value::String(raw.stderr.clone()));
    } else if raw.stdout.starts_with("Traceback") {
        data.insert("exception".into(), Value::String(raw.stdout.clone()));
    }
    let missing_interpreter = [": No such file or directory", ": not found"]
        .iter()
        .any(|tail| {
            let needle = format!("{interpreter}{tail}");
            raw.stderr.contains(&needle) || raw.stdout.contains(&needle)
        });
    let msg = if missing_interpreter {
        "The module failed to execute correctly, you probably need to set the interpreter."
            .to_string()
    } else {
        format!("MODULE FAILURE: {error}")
    };
    data.insert(
        "msg".into(),
        Value::String(format!("{msg}\nSee stdout/stderr for the exact error")),
    );
    data.insert("rc".into(), Value::from(raw.rc));
    data
}

fn remove_internal_keys(data: &mut Map<String, Value>, warnings: &mut Vec<String>) {
    let unexpected: Vec<String> = data
        .keys()
        .filter(|k| k.starts_with("_ansible_") || INTERNAL_RESULT_KEYS.contains(&k.as_str()))
        .cloned()
        .collect();
    for key in unexpected {
        if let Some(v) = data.remove(&key) {
            let shown = match &v {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            warnings.push(format!(
                "Removed unexpected internal key in module return: {key} = {shown}"
            ));
        }
    }
    for key in ["warnings", "deprecations"] {
        let empty = match data.get(key) {
            Some(Value::Array(a)) => a.is_empty(),
            Some(Value::Null) | Some(Value::Bool(false)) => true,
            Some(Value::String(s)) => s.is_empty(),
            Some(Value::Object(m)) => m.is_empty(),
            _ => false,
        };
        if empty {
            data.remove(key);
        }
    }
    if let Some(Value::Object(facts)) = data.get_mut("ansible_facts") {
        facts.retain(|k, _| {
            !k.starts_with("discovered_interpreter_")
                && !k.starts_with("ansible_discovered_interpreter_")
        });
    }
}

/// Lines before the first one starting with `{` and after the last one
/// ending with `}` are junk; junk after the JSON is reported.
fn filter_non_json_lines(data: &str) -> Result<(String, Vec<String>), &'static str> {
    let lines = rsible_pytext::splitlines(data);
    let start = lines
        .iter()
        .position(|l| l.trim().starts_with('{'))
        .ok_or("No start of json char found")?;
    let lines = &lines[start..];
    let end_offset = lines
        .iter()
        .rev()
        .position(|l| l.trim().ends_with('}'))
        .ok_or("No end of json char found")?;
    let mut warnings = Vec::new();
    if end_offset > 0 {
        let junk = &lines[lines.len() - end_offset..];
        if junk.iter().any(|l| !l.trim().is_empty()) {
            warnings.push(format!(
                "Module invocation had junk after the JSON data: {}",
                junk.join("\n")
            ));
        }
    }
    Ok((lines[..lines.len() - end_offset].join("\n"), warnings))
}

/// Python's json error wording for the common cases (serde_json's differs).
fn python_json_error(e: &serde_json::Error, text: &str) -> String {
    let serde_text = e.to_string();
    let what = if serde_text.starts_with("key must be a string") {
        "Expecting property name enclosed in double quotes"
    } else if serde_text.starts_with("expected `,` or `}`")
        || serde_text.starts_with("expected `,` or `]`")
    {
        "Expecting ',' delimiter"
    } else if serde_text.starts_with("expected `:`") {
        "Expecting ':' delimiter"
    } else if serde_text.starts_with("trailing characters") {
        "Extra data"
    } else {
        "Expecting value"
    };
    let (line, column) = (e.line(), e.column().max(1));
    // Python also gives the 0-based character offset.
    let before: usize = text
        .split('\n')
        .take(line.saturating_sub(1))
        .map(|l| l.chars().count() + 1)
        .sum();
    let offset = before + column - 1;
    format!("{what}: line {line} column {column} (char {offset})")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn run(stdout: &str, stderr: &str, rc: i32) -> RawRun {
        RawRun {
            stdout: stdout.into(),
            stderr: stderr.into(),
            rc,
        }
    }

    #[test]
    fn json_among_junk() {
        let r = parse(
            &run(
                "motd line\n{\"changed\": true, \"stdout\": \"a\\nb\"}\ntrailing\n",
                "",
                0,
            ),
            "/usr/bin/python3",
        );
        assert_eq!(r["changed"], true);
        assert_eq!(r["stdout_lines"], json!(["a", "b"]));
        assert_eq!(
            r["warnings"],
            json!(["Module invocation had junk after the JSON data: trailing"])
        );
    }

    #[test]
    fn no_json_is_module_failure() {
        let r = parse(
            &run("", "Traceback (most recent call last):\n  boom\n", 1),
            "/usr/bin/python3",
        );
        assert_eq!(r["failed"], true);
        assert_eq!(
            r["msg"],
            "MODULE FAILURE: No start of json char found\nSee stdout/stderr for the exact error"
        );
        assert_eq!(r["rc"], 1);
        assert!(r["exception"].as_str().unwrap().starts_with("Traceback"));
        assert_eq!(r["module_stdout"], "");
    }

    #[test]
    fn missing_interpreter_is_named() {
        let r = parse(
            &run("", "/bin/sh: 1: /usr/bin/python9: not found\n", 127),
            "/usr/bin/python9",
        );
        assert!(r["msg"].as_str().unwrap().starts_with(
            "The module failed to execute correctly, you probably need to set the interpreter."
        ));
    }

    #[test]
    fn internal_keys_and_discovery_facts_are_dropped() {
        let r = parse(
            &run(
                r#"{"_ansible_x": 1, "warnings": [], "ansible_facts": {"discovered_interpreter_python": "/x", "a": 1}}"#,
                "",
                0,
            ),
            "python3",
        );
        assert!(!r.contains_key("_ansible_x"));
        assert_eq!(r["ansible_facts"], json!({"a": 1}));
        assert_eq!(
            r["warnings"],
            json!(["Removed unexpected internal key in module return: _ansible_x = 1"])
        );
    }
}
