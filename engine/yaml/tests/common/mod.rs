//! Shared by the differential tests: the reference loader script and the
//! normalisation both sides apply before comparing.
#![allow(dead_code)]

use std::io::Write;
use std::process::{Command, Stdio};

use rsible_yaml::{load_str, Node, Value};
use serde_json::{json, Value as Json};

const PYTHON: &str = r#"
import json, math, sys, yaml
try:
    Loader = yaml.CSafeLoader
except AttributeError:
    Loader = yaml.SafeLoader

# Ansible's own tags, so Ansible content loads too (values compared as plain strings).
class AnsibleTagged(Loader):
    pass
for tag in ("!unsafe", "!vault", "!vault-encrypted"):
    AnsibleTagged.add_constructor(tag, lambda loader, node: loader.construct_scalar(node))
Loader = AnsibleTagged

def norm(x):
    if x is None or isinstance(x, bool):
        return x
    if isinstance(x, int):
        return {"int": str(x)}
    if isinstance(x, float):
        if math.isnan(x) or math.isinf(x):
            return {"float": repr(x)}
        return {"float": x}
    if isinstance(x, str):
        return x
    if isinstance(x, list):
        return [norm(i) for i in x]
    if isinstance(x, dict):
        return {"map": [[norm(k), norm(v)] for k, v in x.items()]}
    return {"other": repr(x)}

def load(text):
    try:
        return [json.loads(text)]
    except Exception:
        pass
    return list(yaml.load_all(text, Loader=Loader))

out = []
for text in json.load(sys.stdin):
    try:
        out.append({"ok": [norm(d) for d in load(text)]})
    except yaml.MarkedYAMLError as e:
        m = e.problem_mark
        out.append({"error": e.problem, "line": m.line + 1 if m else None, "column": m.column + 1 if m else None})
    except Exception as e:
        out.append({"error": "python: " + type(e).__name__ + ": " + str(e), "line": None, "column": None})
json.dump(out, sys.stdout)
"#;

pub fn norm(node: &Node) -> Json {
    match &node.value {
        Value::Null => Json::Null,
        Value::Bool(b) => json!(b),
        Value::Int(n) => json!({"int": n.to_string()}),
        Value::BigInt(s) => json!({"int": s}),
        Value::Float(f) if f.is_nan() => json!({"float": "nan"}),
        Value::Float(f) if f.is_infinite() => {
            json!({"float": if *f > 0.0 { "inf" } else { "-inf" }})
        }
        Value::Float(f) => json!({"float": f}),
        Value::Str(s) | Value::Unsafe(s) | Value::Vault(s) => json!(s),
        Value::Seq(items) => Json::Array(items.iter().map(norm).collect()),
        Value::Map(m) => {
            json!({"map": m.entries.iter().map(|(k, v)| json!([norm(k), norm(v)])).collect::<Vec<_>>()})
        }
    }
}

pub fn rsible_result(text: &str) -> Json {
    match load_str(text, None) {
        Ok(docs) => json!({"ok": docs.iter().map(norm).collect::<Vec<_>>()}),
        Err(e) => {
            let (line, column) = e
                .mark
                .as_ref()
                .map(|m| (json!(m.line), json!(m.column)))
                .unwrap_or((Json::Null, Json::Null));
            json!({"error": e.message, "line": line, "column": column})
        }
    }
}

pub fn python_results<S: AsRef<str>>(python: &str, inputs: &[S]) -> Vec<Json> {
    let mut child = Command::new(python)
        .arg("-c")
        .arg(PYTHON)
        .current_dir(std::env::temp_dir())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run RSIBLE_REF_PYTHON={python}: {e}"));
    let inputs: Vec<&str> = inputs.iter().map(AsRef::as_ref).collect();
    let input = serde_json::to_vec(&inputs).expect("corpus serialises");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(&input)
        .expect("write corpus");
    let output = child.wait_with_output().expect("python finished");
    assert!(
        output.status.success(),
        "reference python failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).expect("python printed JSON")
}
