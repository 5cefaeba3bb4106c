//! Differential test: the same YAML snippets loaded by rsible-yaml and by
//! PyYAML (as Ansible loads data: `json.loads` first, then libyaml's
//! SafeLoader), compared after the same normalisation on both sides.
//!
//! Needs `RSIBLE_REF_PYTHON` pointing to a Python with PyYAML (CI sets it).
//! Without it the test fails, unless `RSIBLE_SKIP_DIFFERENTIAL=1`.

mod common;

use common::{python_results, rsible_result};
use serde_json::json;

/// Snippets where rsible must agree with PyYAML exactly (values, or the error
/// problem and its position). Timestamps are left out on purpose: rsible keeps
/// them as text where PyYAML builds dates (a documented difference).
const CORPUS: &[&str] = &[
    // YAML 1.1 booleans, nulls, ints, floats
    "[yes, Yes, YES, no, No, NO, on, On, ON, off, Off, OFF, true, True, TRUE, false, False, FALSE, y, n, Y, N, yEs]",
    "[~, null, Null, NULL, nULL, '', \"\"]",
    "a:\nb: ~\nc: null\n",
    "[0, -0, +12, 0644, 0_, 0o17, 09, 1_000, 1__0, 0b1010, -0b11, 0x_1F, +0x10, 0xFF, 0b, 0x]",
    "[190:20:30, 1:2:3, -1:30, 0:30, 1:60, 12345678901234567890, -99999999999999999999999, 0x123456789abcdef0123]",
    "[1.5, 0., 1., .5, -.5, +.5, 6.8523015e+5, 1.5E-3, 1e3, 1.0e3, 1e+3, 0.1e, 1_000.5_0, 190:20:30.15]",
    "[.inf, -.Inf, +.INF, .nan, .NaN, .NAN, -.nan, inf, nan]",
    "[_1, 1_, '1', \"2\", !!str 3, !!int '4', !!float '5', !!bool 'yes', !!null '', !!str yes]",
    "[<<a, =a, ==, a=b, 'x: y', x:y, -x, - , ---a, ...a]",
    // strings of every style
    "a: |\n  line1\n  line2\nb: >\n  folded\n  text\n\n  para\nc: |-\n  strip\nd: |+\n  keep\n\ne: x\n",
    "a: 'it''s'\nb: \"tab\\tnl\\n\\u00e9\\x41\"\nc: plain  text  \nd: multi\n  line\n  plain\n",
    "- \"a\\\n  b\"\n- 'a\n\n  b'\n",
    "key with spaces: value with: colon\n\"quoted key\": 1\n? complex\n: value\n",
    "a: \"{{ x }}\"\nb: '{{ y }}'\nc: x {{ z }}\n",
    "a: #comment\n  b\nc: d # trailing\n# end\n",
    // collections
    "a: [1, [2, 3], {b: c}]\nd: {e: [f, g], h: {}}\ni: []\n",
    "- a\n- - b\n  - c\n-\n  x: 1\n- - d\n-   x: 2\n    y: [a,\n      b]\n",
    "a:\n- 1\n- 2\nb:\n  - 3\n",
    "{a: 1, b: 2, a: 3}",
    "a: 1\nb: 2\na: 3\n",
    "1: a\n1.0: b\ntrue: c\n~: d\n2: e\n",
    "? [a, b]\n: c\n",
    "? {a: b}\n: c\n",
    // anchors, aliases, merge keys
    "base: &b {x: 1, y: 2}\nderived:\n  <<: *b\n  y: 3\n  z: 4\n",
    "a: &a {k: a, only_a: 1}\nb: &b {k: b, only_b: 2}\nc:\n  <<: [*a, *b]\n",
    "a: &a {k: a}\nb: &b {k: b}\nc:\n  <<: *a\n  <<: *b\n",
    "a: &a {x: 1}\nb: &b\n  <<: *a\n  y: 2\nc:\n  <<: *b\n  z: 3\n",
    "s: &s [1, 2]\nt: *s\nu: &v value\nw: *v\n",
    "a: {<<: {x: 1}, x: 2}\n",
    "a:\n  <<: 1\n",
    "a:\n  <<: [1]\n",
    "'<<': {x: 1}\n",
    "a: *undefined\n",
    // documents
    "",
    "---\n",
    "--- a\n--- b\n...\n--- [c]\n",
    "# only a comment\n",
    "%YAML 1.1\n---\na: 1\n",
    // JSON first
    "{\"a\": 1e3, \"b\": [true, null], \"c\": \"\\u00e9\"}",
    "{\"a\":\t1,\n\t\"b\": 2}",
    "{\"a\": 1, \"a\": 2}",
    "[1, 2]  ",
    "\"just a string\"",
    "42",
    // tags
    "a: !!map {x: 1}\nb: !!seq [1]\nc: !!str\n",
    "a: ! 12\n",
    "a: !foo bar\n",
    "a: !!python/tuple [1]\n",
    "a: !!int [1]\n",
    "a: =\n",
    "a: <<\n",
    // syntax errors
    "a: b: c\n",
    "- a\nb: c\n",
    "a:\n  b: 1\n c: 2\n",
    "a: [1, 2\n",
    "a: {x: 1\n",
    "a: @x\n",
    "a: `x\n",
    "a: b\n- c\n",
    "x: 1\n  y: 2\n",
    "a:\n  - b\n  c: d\n",
    "- hosts: all\n  tasks:\n    - debug: msg=foo: bar\n",
    "a: \"unterminated\n",
    "a: {{ x }}\n",
    "[a, b]: c\n",
];

#[test]
fn agrees_with_pyyaml() {
    let python = match std::env::var("RSIBLE_REF_PYTHON") {
        Ok(p) if !p.is_empty() => p,
        _ if std::env::var("RSIBLE_SKIP_DIFFERENTIAL").as_deref() == Ok("1") => {
            eprintln!("RSIBLE_SKIP_DIFFERENTIAL=1: PyYAML differential test skipped");
            return;
        }
        _ => panic!(
            "this test needs RSIBLE_REF_PYTHON set to a Python with PyYAML (e.g. /tmp/ref/bin/python); \
             set RSIBLE_SKIP_DIFFERENTIAL=1 to skip it explicitly"
        ),
    };
    let expected = python_results(&python, CORPUS);
    assert_eq!(expected.len(), CORPUS.len());
    let mut failures = Vec::new();
    for (text, want) in CORPUS.iter().zip(&expected) {
        let mut got = rsible_result(text);
        // Ansible's constructor rewords PyYAML's "found unhashable key" (rsible follows Ansible).
        if got["error"]
            .as_str()
            .is_some_and(|e| e.starts_with("found unacceptable key (unhashable type"))
        {
            got["error"] = json!("found unhashable key");
        }
        if &got != want {
            failures.push(format!("input {text:?}\n  pyyaml: {want}\n  rsible: {got}"));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} snippets differ:\n{}",
        failures.len(),
        CORPUS.len(),
        failures.join("\n")
    );
}
