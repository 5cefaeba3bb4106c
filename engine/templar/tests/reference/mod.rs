//! Runs a corpus of template strings through the reference ansible-core's
//! `Templar.template` (the Python in `$RSIBLE_REF_BIN`) and through rsible's
//! templar, giving each result as `type repr` or `ERR message`. Panics when
//! RSIBLE_REF_BIN is unset, unless RSIBLE_SKIP_DIFFERENTIAL=1 (then None).

// Each test binary includes this module and uses only part of it.
#![allow(dead_code)]

use std::io::Write;
use std::process::{Command, Stdio};

use rsible_templar::{python_repr::repr, type_name, MapVars, Templar};

const REF_SCRIPT: &str = r#"
import sys, json
from ansible.plugins.loader import init_plugin_loader
init_plugin_loader()
from ansible.template import Templar
from ansible.parsing.dataloader import DataLoader
data = json.load(sys.stdin)
out = []
for expr in data["corpus"]:
    t = Templar(loader=DataLoader(), variables=json.loads(data["vars"]))
    try:
        r = t.template(expr)
        name = type(r).__name__
        if isinstance(r, str): name = "str"; r = str(r)
        elif isinstance(r, dict): name = "dict"
        elif isinstance(r, list): name = "list"
        out.append(name + " " + repr(r))
    except Exception as e:
        out.append("ERR " + str(e).split("\n")[0])
print(json.dumps(out))
"#;

/// The reference's results, or None when differential tests are skipped.
pub fn reference(corpus: &[&str], vars_json: &str) -> Option<Vec<String>> {
    let input = serde_json::json!({"corpus": corpus, "vars": vars_json});
    let results = run_reference_script(REF_SCRIPT, &input)?;
    assert_eq!(
        results.len(),
        corpus.len(),
        "one reference result per entry"
    );
    Some(results)
}

/// Runs `script` with the reference's Python, `input` as JSON on its stdin,
/// and reads the JSON list of strings it prints. None when differential
/// tests are skipped (RSIBLE_SKIP_DIFFERENTIAL=1 without RSIBLE_REF_BIN).
pub fn run_reference_script(script: &str, input: &serde_json::Value) -> Option<Vec<String>> {
    let Ok(bin) = std::env::var("RSIBLE_REF_BIN") else {
        if std::env::var("RSIBLE_SKIP_DIFFERENTIAL").as_deref() == Ok("1") {
            return None;
        }
        panic!("RSIBLE_REF_BIN is not set (point it at the reference venv's bin/, or set RSIBLE_SKIP_DIFFERENTIAL=1)");
    };
    let mut child = Command::new(format!("{}/python", bin))
        .arg("-c")
        .arg(script)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("run the reference python");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(input.to_string().as_bytes())
        .expect("write corpus");
    let output = child.wait_with_output().expect("reference output");
    Some(serde_json::from_slice(&output.stdout).expect("reference JSON"))
}

/// rsible's result for one entry, in the reference's form.
pub fn ours(expr: &str, vars: &MapVars) -> String {
    match Templar::new().template_str(expr, vars) {
        Ok(v) => format!("{} {}", type_name(&v), repr(&v)),
        Err(e) => format!("ERR {}", e.message.lines().next().unwrap_or_default()),
    }
}

/// Compares every entry; `same` decides whether two results agree.
pub fn assert_same(corpus: &[&str], vars_json: &str, same: impl Fn(&str, &str) -> bool) {
    let Some(reference) = reference(corpus, vars_json) else {
        return;
    };
    let vars = MapVars::from_json(&serde_json::from_str(vars_json).expect("vars JSON"));
    let failures: Vec<String> = corpus
        .iter()
        .zip(reference.iter())
        .filter_map(|(expr, want)| {
            let got = ours(expr, &vars);
            (!same(want, &got)).then(|| format!("{}\n   ref: {}\n  ours: {}", expr, want, got))
        })
        .collect();
    assert!(
        failures.is_empty(),
        "{} of {} differ:\n{}",
        failures.len(),
        corpus.len(),
        failures.join("\n")
    );
}

/// Both succeed with the same value, or both fail (messages aside).
pub fn same_value_or_both_failed(want: &str, got: &str) -> bool {
    want == got || (want.starts_with("ERR") && got.starts_with("ERR"))
}
