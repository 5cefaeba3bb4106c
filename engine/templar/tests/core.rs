//! Core templating semantics. Expected values were recorded from the
//! reference ansible-core 2.18 (`Templar(...).template(s)` in /tmp/ref).

use rsible_templar::{python_repr::repr, MapVars, Templar, Value};
use serde_json::json;

fn vars() -> MapVars {
    MapVars::from_json(&json!({
        "a": "{{ b }}", "b": 1, "c": "{{ [b] }}", "d": {"x": 1}, "e": null,
        "r": "{{ r }}", "u": "é", "m": "{{ missing }}", "l": [1],
        "s": "[1, 2]", "t": true,
    }))
}

/// Templates and shows the result as Python's `type_name repr` pair.
fn t(s: &str) -> String {
    let templar = Templar::new();
    match templar.template_str(s, &vars()) {
        Ok(v) => format!("{} {}", rsible_templar::type_name(&v), repr(&v)),
        Err(e) => format!("ERR {}", e),
    }
}

#[test]
fn non_native_results() {
    assert_eq!(t("{{ 5 }}"), "str '5'");
    assert_eq!(t("{{ [1,2] }}"), "list [1, 2]");
    assert_eq!(t("{{ true }}"), "bool True");
    assert_eq!(t("{{ none }}"), "str ''");
    assert_eq!(t("{{ a }}"), "str '1'");
    assert_eq!(t("{{ b }}"), "int 1");
    assert_eq!(t("{{ c }}"), "list [1]");
    assert_eq!(t("{{ a }}{{ b }}"), "str '11'");
    assert_eq!(t("{{ d }}"), "dict {'x': 1}");
    assert_eq!(t("{{ 1.0 }}"), "str '1.0'");
    assert_eq!(t("{{ 1e20 }}"), "str '1e+20'");
    assert_eq!(t("{{ e }}"), "NoneType None");
    assert_eq!(t("x{{ u }}"), "str 'xé'");
    assert_eq!(t("{{ s }}"), "list [1, 2]");
    assert_eq!(t("{{ t }}"), "bool True");
    assert_eq!(t("plain"), "str 'plain'");
}

#[test]
fn python_str_inside_text() {
    assert_eq!(
        t("v={{ [1, 'a', none, true, 1.5] }}"),
        "str \"v=[1, 'a', None, True, 1.5]\""
    );
    assert_eq!(t("{{ '[' }}{{ 1 }}]"), "list [1]");
}

#[test]
fn undefined_errors_name_the_variable() {
    assert_eq!(t("{{ foo }}"), "ERR 'foo' is undefined");
    assert_eq!(t("{{ d.bar }}"), "ERR 'dict object' has no attribute 'bar'");
    assert_eq!(t("{{ m }}"), "ERR {{ missing }}: 'missing' is undefined");
    assert_eq!(t("x {{ m }}"), "ERR {{ missing }}: 'missing' is undefined");
    assert_eq!(t("{{ l[5] }}"), "ERR list object has no element 5");
    assert_eq!(t("{{ nope.x }}"), "ERR 'nope' is undefined");
}

#[test]
fn defined_checks_chain() {
    assert_eq!(t("{{ m is defined }}"), "bool False");
    assert_eq!(t("{{ d.x.y is defined }}"), "bool False");
    assert_eq!(t("{{ nope.x.y is defined }}"), "bool False");
    assert_eq!(t("{{ nope is undefined }}"), "bool True");
}

#[test]
fn recursion_and_syntax_errors() {
    assert_eq!(
        t("{{ r }}"),
        "ERR recursive loop detected in template string: {{ r }}"
    );
    let e = t("{{ a + }}");
    assert!(
        e.starts_with("ERR template error while templating string: "),
        "{}",
        e
    );
    assert!(e.contains(". String: {{ a + }}. "), "{}", e);
}

#[test]
fn recursive_structures_are_templated() {
    let templar = Templar::new();
    let v = rsible_templar::Value::from(vec![Value::from("{{ b }}"), Value::from("{{ [b, 2] }}")]);
    let out = templar.template(&v, &vars()).unwrap();
    assert_eq!(repr(&out), "[1, [1, 2]]");
}

#[test]
fn unsafe_strings_are_not_templated() {
    let templar = Templar::new();
    let mut vars = vars();
    vars.set("x", rsible_templar::unsafe_string("{{ b }}"));
    let out = templar
        .template(&rsible_templar::unsafe_string("{{ b }}"), &vars)
        .unwrap();
    assert_eq!(out.as_str(), Some("{{ b }}"));
    assert_eq!(
        templar.template_str("{{ x }}", &vars).unwrap().as_str(),
        Some("{{ b }}")
    );
}

#[test]
fn conditionals() {
    let templar = Templar::new();
    let v = vars();
    let c = |s: &str| {
        templar
            .evaluate_conditional(&Value::from(s), &v)
            .map_err(|e| e.to_string())
    };
    assert_eq!(c("b == 1"), Ok(true));
    assert_eq!(c("d.x > 3"), Ok(false));
    assert_eq!(c("{{ b == 1 }}"), Ok(true));
    assert_eq!(c("nope is defined and nope.x"), Ok(false));
    assert_eq!(
        c("nope"),
        Err("error while evaluating conditional (nope): 'nope' is undefined".into())
    );
    assert_eq!(
        templar.evaluate_conditional(&Value::from(false), &v),
        Ok(false)
    );
}

#[test]
fn mutation_is_seen_later_in_the_template() {
    // Kubespray's openssl.conf.j2 pattern and cri-o's append pattern.
    let src = "{% set counter = {'dns': 2,'ip': 1,} %}{% macro increment(dct, key, inc=1)%}{% if dct.update({key: dct[key] + inc}) %} {% endif %}{% endmacro %}{{ increment(counter, 'dns') }}{{ counter.dns }}";
    assert_eq!(t(src), "str '3'");
    assert_eq!(
        t("{% set l = [] %}{{ l.append(1) }}{{ l.append(2) }}{{ l }}"),
        "list [1, 2]"
    );
    assert_eq!(
        t("{% set _ = d.update({'y': 2}) %}{{ d }}"),
        "dict {'x': 1, 'y': 2}"
    );
    assert_eq!(
        t("{% if vars.update({'hosts': 'a'}) %}{% endif %}{{ vars['hosts'] }}-{{ hosts }}"),
        "str 'a-a'"
    );
}

/// The template module's `newline_sequence` (outputs recorded from
/// ansible-core 2.18's template action): the template's own line ends and
/// string literals change, a value's do not, trailing newlines are re-added
/// as Ansible counts them.
#[test]
fn newline_sequence_changes_the_template_text_only() {
    let templar = Templar::new();
    let v = MapVars::from_json(&json!({"v": "x\ny\r\nz"}));
    let opts = rsible_templar::JinjaOptions::default();
    let src = "a={{ v }}\n{% for i in [1] %}\n- {{ i }}\n{% endfor %}\n{{ \"l\nm\" }}\nend\n\n";
    let render = |seq: &str| {
        templar
            .render_file_with_newlines(src, &v, opts, seq)
            .unwrap_or_else(|e| panic!("{e}"))
    };
    assert_eq!(render("\n"), "a=x\ny\r\nz\n- 1\nl\nm\nend\n\n");
    assert_eq!(
        render("\r\n"),
        "a=x\ny\r\nz\r\n- 1\r\nl\r\nm\r\nend\r\n\r\n"
    );
    assert_eq!(render("\r"), "a=x\ny\r\nz\r- 1\rl\rm\rend\r\r\r");
    let crlf = templar
        .render_file_with_newlines("{{ v }}\r\nb\r\n\r\n", &v, opts, "\n")
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(crlf, "x\ny\r\nz\nb\n");
}
