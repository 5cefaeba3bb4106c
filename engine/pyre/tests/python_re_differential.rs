//! Python's `re` against rsible-pyre on the same patterns: for `str` patterns every
//! match's group spans (`re.finditer`) and `re.subn`'s result, for `bytes` patterns
//! `re.search`'s group spans. Patterns marked native must compile and agree;
//! the others must be refused (the caller then leaves them to Python).
//! Needs RSIBLE_REF_PYTHON; fails without it unless RSIBLE_SKIP_DIFFERENTIAL=1.

use rsible_pyre::{PyBytesRegex, PyRegex, Template};
use serde_json::{json, Value};
use std::io::Write;
use std::process::{Command, Stdio};

/// (bytes?, pattern, subject, replacement template, runs natively?)
const CASES: &[(bool, &str, &str, &str, bool)] = &[
    (false, "a(?!b)", "ab ac a", "A", true),
    (
        false,
        "(?<=n)(?P<k>[ab])=1",
        "na=1 nb=1 xa=1",
        "\\g<k>=2",
        true,
    ),
    (false, "(?P<c>\\w)(?P=c)", "xx yy xyz", "<\\g<0>>", true),
    (false, "(\\w+) \\1", "hello hello world world", "\\1", true),
    // Numbered references next to named groups (fancy-regex alone refuses the mix).
    (
        false,
        "(\\w+) \\1 (?P<next>\\w+)",
        "kube kube proxy",
        "\\g<next>",
        true,
    ),
    (false, "(?P<a>x)?(?(1)y|z)", "xy z", "-", true),
    (
        false,
        "^search\\s[^#]*(?=# BEGIN)",
        "search a b # BEGIN\nx\n",
        "",
        true,
    ),
    (
        false,
        "(?m)(# END\\n(?:(?!^search\\s).*\\n)*)(?:^search\\s.*\\n?)+",
        "# END\nfoo\nsearch x\nsearch y\n",
        "\\1",
        true,
    ),
    (
        false,
        "(?<!\\d)\\d{2}(?!\\d)",
        "1 22 333 44",
        "<\\g<0>>",
        true,
    ),
    (false, "(?>a+)b|a+c", "aab aac", "-", true),
    (false, "a++b", "aaab aa", "-", true),
    (false, "(a)?(?(1)b|c)", "ab c b", "[\\g<0>]", true),
    (false, "(?P<q>')?x(?(q)')", "'x' x 'x", "#", true),
    (false, "(?=a)|b", "bab", "-", true),
    (false, "(?<=é)\\w", "éa éb", "!", true),
    (false, "x$", "ax\n", "Y", true),
    (false, "([0-9]+)[.]([0-9]+)", "1.29.3", "\\2.\\1", true),
    (false, "[]a]+[^]]", "]a]b", "-", true),
    (false, "(?i)(?<=A)b", "aB ab", "z", true),
    // Refused natively: Python decides (or raises its own error).
    (
        false,
        "(a)(b)(c)(d)(e)(f)(g)(h)(i)(j)\\10",
        "abcdefghijj",
        "",
        false,
    ),
    (false, "(a)?(?(1)b|c|d)", "ab", "", false),
    (false, "(?<=a+)b", "aab", "", false),
    (false, "\\p{L}", "a", "", false),
    (true, "(?<=^ns )1", "ns 1", "", true),
    (true, "^d(?= c)", "d c", "", true),
    (true, "(\\w)\\1", "\u{e9}\u{e9} aa", "", true),
    (true, "(?<=\u{e9})(.)", "a\u{e9}\u{20ac}b", "", true),
    (true, "\\b(?=x)\\w+", "\u{e9}xy x", "", true),
    (
        true,
        "(?<!#)\\s*option\\s+(\\S+)$",
        "# option a\n  option b\n",
        "",
        true,
    ),
    (true, "[^\\w ]+(?=\\d)", "a\u{e9}1", "", true),
    (true, "(?i)\u{e9}(?=x)", "\u{e9}x", "", false),
];

const PYTHON: &str = r#"
import json, re, sys
out = []
for is_bytes, pattern, subject, template in json.load(sys.stdin):
    try:
        if is_bytes:
            m = re.search(pattern.encode(), subject.encode())
            out.append({"search": None if m is None else [list(m.span(g)) if m.span(g) != (-1, -1) else None for g in range(len(m.groups()) + 1)]})
        else:
            r = re.compile(pattern)
            spans = [[list(m.span(g)) if m.span(g) != (-1, -1) else None for g in range(len(m.groups()) + 1)] for m in r.finditer(subject)]
            out.append({"finditer": spans, "subn": list(r.subn(template, subject))})
    except re.error as e:
        out.append({"error": str(e)})
print(json.dumps(out))
"#;

fn python() -> Option<String> {
    match std::env::var("RSIBLE_REF_PYTHON") {
        Ok(p) => Some(p),
        Err(_) if std::env::var("RSIBLE_SKIP_DIFFERENTIAL").as_deref() == Ok("1") => {
            eprintln!("RSIBLE_SKIP_DIFFERENTIAL=1: skipping the differential test");
            None
        }
        Err(_) => panic!(
            "set RSIBLE_REF_PYTHON to the reference venv's python (or RSIBLE_SKIP_DIFFERENTIAL=1)"
        ),
    }
}

fn reference(python: &str) -> Vec<Value> {
    let input: Vec<Value> = CASES
        .iter()
        .map(|(b, p, s, t, _)| json!([b, p, s, t]))
        .collect();
    let mut child = Command::new(python)
        .args(["-c", PYTHON])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("run the reference python");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(json!(input).to_string().as_bytes())
        .expect("write the cases");
    let out = child.wait_with_output().expect("reference python output");
    assert!(out.status.success(), "reference python failed");
    serde_json::from_slice(&out.stdout).expect("reference JSON")
}

/// Python spans count chars for `str` subjects; ours are byte offsets.
fn char_spans(text: &str, spans: &[Option<(usize, usize)>]) -> Value {
    let at = |o: usize| text[..o].chars().count();
    json!(spans
        .iter()
        .map(|s| s.map(|(a, b)| json!([at(a), at(b)])).unwrap_or(Value::Null))
        .collect::<Vec<_>>())
}

fn native(is_bytes: bool, pattern: &str, subject: &str, template: &str) -> Result<Value, String> {
    if is_bytes {
        let re = PyBytesRegex::new(pattern)?;
        let found = re.captures(subject.as_bytes())?;
        let spans = found.map(|spans| {
            json!(spans
                .iter()
                .map(|s| s.map(|(a, b)| json!([a, b])).unwrap_or(Value::Null))
                .collect::<Vec<_>>())
        });
        return Ok(json!({"search": spans}));
    }
    let re = PyRegex::new(pattern)?;
    let all = re.find_all(subject, 0)?;
    let template = Template::parse(template, &re.capture_names())?;
    let (text, count) = re.subn(&template, subject, 0)?;
    Ok(json!({
        "finditer": all.iter().map(|s| char_spans(subject, s)).collect::<Vec<_>>(),
        "subn": [text, count],
    }))
}

#[test]
fn python_re_and_native_engines_agree() {
    let Some(python) = python() else { return };
    let expected = reference(&python);
    assert_eq!(expected.len(), CASES.len());
    let mut failures = Vec::new();
    for ((is_bytes, pattern, subject, template, runs_natively), want) in CASES.iter().zip(&expected)
    {
        let got = native(*is_bytes, pattern, subject, template);
        match (runs_natively, got) {
            (true, Ok(got)) if &got == want => {}
            (true, got) => failures.push(format!(
                "{pattern:?} on {subject:?}: Python {want}, rsible {got:?}"
            )),
            (false, Err(_)) => {}
            (false, Ok(got)) => failures.push(format!(
                "{pattern:?} should be left to Python, rsible ran it: {got}"
            )),
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
