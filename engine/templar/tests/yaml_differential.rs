//! Differential test of `to_yaml` / `to_nice_yaml`: every value of a corpus
//! is dumped with several option sets by the reference ansible-core's filters
//! (PyYAML with libyaml, as Ansible runs them) and by rsible's templar; the
//! texts must be byte-identical. Also `from_yaml`/`from_yaml_all` round trips.
//! Fails when RSIBLE_REF_BIN is unset, unless RSIBLE_SKIP_DIFFERENTIAL=1.

mod reference;

use rsible_templar::{python_repr::repr, MapVars, Templar};
use serde_json::{json, Value as Json};

/// Option sets as Kubespray and users pass them.
const CALLS: &[&str] = &[
    "to_yaml",
    "to_nice_yaml",
    "to_nice_yaml(indent=2)",
    "to_nice_yaml(indent=2, sort_keys=False)",
    "to_nice_yaml(indent=2, width=256)",
    "to_yaml(indent=2, width=1337)",
    "to_nice_yaml(indent=10)",
    "to_nice_yaml(width=30)",
    "to_yaml(default_flow_style=False, explicit_start=True)",
    "to_yaml(default_flow_style=True, explicit_end=True)",
    "to_nice_yaml(indent=3, width=12)",
];

fn strings() -> Vec<String> {
    let mut out: Vec<String> = [
        "",
        "abc",
        "a b",
        "123",
        "-1",
        "0o17",
        "0x1F",
        "1_000",
        "1.5",
        "1e3",
        "1.0e+3",
        ".inf",
        "-.Inf",
        ".NaN",
        "yes",
        "No",
        "ON",
        "off",
        "y",
        "n",
        "true",
        "False",
        "null",
        "Null",
        "~",
        "2001-12-14",
        "2001-12-14t21:59:43.10-05:00",
        "12:30",
        "190:20:30",
        "<<",
        "=",
        "x: y",
        "x:y",
        "- a",
        "-a",
        "-",
        "?",
        "? a",
        ":",
        ": a",
        "a:",
        "#a",
        "a #b",
        "a#b",
        "[a]",
        "a[0]",
        "{a}",
        "a,b",
        "a, b",
        "&x",
        "*x",
        "!x",
        "|x",
        ">x",
        "'x",
        "\"x",
        "%x",
        "@x",
        "`x",
        "---",
        "--- a",
        "...",
        "a...",
        " a",
        "a ",
        "  ",
        "a\nb",
        "a\n",
        "\na",
        "a\n\nb",
        "a \nb",
        "a\n b",
        "a\tb",
        "\t",
        "a\rb",
        "é",
        "café",
        "日本語",
        "\u{1F600}",
        "a\u{85}b",
        "\u{a0}",
        "a\u{2028}b",
        "\u{feff}x",
        "\u{7f}",
        "\u{1b}[0m",
        "back\\slash",
        "it's",
        "\"quoted\"",
        "'single'",
        "both ' and \"",
        "http://example.com:8080/path?q=1#frag",
        "10.0.0.1/24",
        "fe80::1",
        "::1",
        "key=value",
        "${VAR}",
        "%{x}",
        "C:\\path",
        "a  b",
        "a   ",
        "trailing\n\n",
        "\n",
        "x\n\n\n",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    let words = ["word", "a", "longer-word", "x:y", "é", "it's"];
    for n in [15usize, 16, 17, 30, 60] {
        let mut s = String::new();
        for i in 0..n {
            if i > 0 {
                s.push(if i % 11 == 0 { '\n' } else { ' ' });
            }
            s.push_str(words[i % words.len()]);
        }
        out.push(s.replace('\n', " "));
        out.push(s.clone());
        out.push(format!(" {}", s));
        out.push(format!("{}\t", s));
    }
    out.push("k".repeat(128));
    out.push("k".repeat(129));
    out.push("é".repeat(64));
    out.push("é".repeat(65));
    out.push("x".repeat(90));
    out.push(format!("{} {}", "x".repeat(85), "y".repeat(5)));
    out
}

fn corpus() -> Vec<Json> {
    let strings = strings();
    let mut values: Vec<Json> = strings.iter().map(|s| json!(s)).collect();
    values.extend([
        json!(null),
        json!(true),
        json!(false),
        json!(0),
        json!(-17),
        json!(12345678901234i64),
        json!(1.5),
        json!(-0.25),
        json!(1e20),
        json!(1.5e-7),
        json!(100.0),
        json!([]),
        json!({}),
        json!([1, "a", null, true]),
        json!([[1, [2, []]], {"x": "y"}, {}]),
        json!({"b": 1, "a": [1, 2], "c": {"d": null, "e": {}}}),
        json!({"list": [{"name": "a", "v": [1, 2]}, {"name": "b"}], "empty": []}),
        json!({"z": "last", "A": "upper", "_": "under", "a b": 1, "1": "digit key"}),
        json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "cm", "namespace": "kube-system", "labels": {"app": "x"}},
               "data": {"Corefile": ".:53 {\n    errors\n    health {\n        lameduck 5s\n    }\n}\n", "key": "value"}}),
    ]);
    // strings as keys and as values inside collections
    let mut as_keys = serde_json::Map::new();
    let mut nested = Vec::new();
    for s in &strings {
        as_keys.insert(s.clone(), json!(s));
        nested.push(json!({"k": s, "l": [s]}));
    }
    values.push(Json::Object(as_keys));
    values.push(Json::Array(nested));
    values.push(Json::Array(strings.iter().map(|s| json!(s)).collect()));
    values
}

const REF_SCRIPT: &str = r#"
import sys, json
from ansible.template import Templar
from ansible.parsing.dataloader import DataLoader
data = json.load(sys.stdin)
out = []
from ansible.plugins.filter.core import to_yaml, to_nice_yaml
# the filters called directly (templating each case costs ~7 ms)
calls = [c.replace("(", "(v, ", 1) if "(" in c else c + "(v)" for c in data["calls"]]
for v in data["values"]:
    for call in calls:
        try:
            out.append(str(eval(call)))
        except Exception as e:
            out.append("ERR")
t = Templar(loader=DataLoader(), variables={})
for text in data["loads"]:
    t.available_variables = {"v": text}
    try:
        out.append(repr(t.template("{{ v | from_yaml }}")))
    except Exception as e:
        out.append("ERR")
    try:
        out.append(repr(t.template("{{ v | from_yaml_all | list }}")))
    except Exception as e:
        out.append("ERR")
print(json.dumps(out))
"#;

const LOADS: &[&str] = &[
    "a: 1\nb: [x, 'y']\n",
    "- yes\n- 0o17\n- 017\n- 1_000\n- ~\n",
    "",
    "--- 1\n--- 2\n",
    "{\"json\": [1, 2.5]}",
    "a: &x [1]\nb: *x\n",
    "plain text",
];

#[test]
fn yaml_filters_match_reference() {
    let values = corpus();
    let input = json!({"values": values, "calls": CALLS, "loads": LOADS});
    let Some(reference) = reference::run_reference_script(REF_SCRIPT, &input) else {
        return;
    };

    let templar = Templar::new();
    let mut ours = Vec::new();
    for value in &values {
        let vars = MapVars::from_json(&json!({ "v": value }));
        for call in CALLS {
            let expr = format!("{{{{ v | {} }}}}", call);
            ours.push(match templar.template_str(&expr, &vars) {
                Ok(v) => v.as_str().map(str::to_string).unwrap_or_else(|| repr(&v)),
                Err(_) => "ERR".into(),
            });
        }
    }
    for text in LOADS {
        let vars = MapVars::from_json(&json!({ "v": text }));
        for expr in ["{{ v | from_yaml }}", "{{ v | from_yaml_all | list }}"] {
            ours.push(match templar.template_str(expr, &vars) {
                Ok(v) => repr(&v),
                Err(_) => "ERR".into(),
            });
        }
    }
    assert_eq!(ours.len(), reference.len(), "reference answered every case");
    let errors = reference.iter().filter(|r| *r == "ERR").count();
    assert!(
        errors < 10,
        "the reference failed {} cases: the harness is broken",
        errors
    );
    let mut failures = Vec::new();
    let mut labels = Vec::new();
    for v in &values {
        for c in CALLS {
            labels.push(format!("{} | {}", v, c));
        }
    }
    for t in LOADS {
        labels.push(format!("{:?} | from_yaml", t));
        labels.push(format!("{:?} | from_yaml_all", t));
    }
    for ((label, got), want) in labels.iter().zip(&ours).zip(&reference) {
        if got != want {
            failures.push(format!("{}\n   ref: {:?}\n  ours: {:?}", label, want, got));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} differ:\n{}",
        failures.len(),
        ours.len(),
        failures.join("\n")
    );
}
