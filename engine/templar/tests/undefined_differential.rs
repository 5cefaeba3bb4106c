//! Ansible 2.18's strict undefined in templates, against the reference:
//! which uses of an undefined value fail (`{% if %}`, `{% for %}`, filters,
//! operators, most tests) and which do not (`default`, `is defined`,
//! attribute chains, containers holding it, `{% set %}`), and the message
//! naming the missing variable or attribute.

mod reference;

const VARS: &str =
    r#"{"d": {"x": 1, "e": ""}, "l": [1, 2], "s": "abc", "n": null, "none": {"a": 1}}"#;

const CORPUS: &[&str] = &[
    // conditions and loops take the value's truth / items
    "{% if nope %}y{% else %}n{% endif %}",
    "{% if d.nope %}y{% else %}n{% endif %}",
    "{% if d.nope.x %}y{% else %}n{% endif %}",
    "{% if not nope %}y{% else %}n{% endif %}",
    "{% if false %}{% elif nope %}y{% endif %}x",
    "{% if nope is defined and nope %}y{% else %}n{% endif %}",
    "{% if nope is not defined or nope %}y{% else %}n{% endif %}",
    "{% if d.x or nope %}y{% endif %}",
    "{% if d.e or nope %}y{% endif %}",
    "{% if d.e and nope %}y{% else %}n{% endif %}",
    "{% for i in nope %}{{ i }}{% endfor %}x",
    "{% for i in d.nope %}{{ i }}{% endfor %}x",
    "{% for i in l if nope %}{{ i }}{% endfor %}x",
    "{% for i in l if i > 1 %}{{ i }}{% endfor %}x",
    "{% for k, v in d.items() %}{{ k }}{% endfor %}",
    "{% for i in nope | default([]) %}{{ i }}{% endfor %}x",
    "a\n{% if x is defined %}\n{% if nope %}b{% endif %}\n{% endif %}\nc",
    // filters, operators, tests
    "{{ nope | length }}",
    "{{ d.nope | length }}",
    "{{ nope | default('x') }}",
    "{{ d.nope.y | default('x') }}",
    "{{ nope.y.z | default('x') }}",
    "{{ nope == 1 }}",
    "{{ nope ~ 'a' }}",
    "x{{ nope ~ 'a' }}",
    "{{ nope is defined }}",
    "{{ nope.x is defined }}",
    "{{ d.nope.x is undefined }}",
    "{{ nope | list }}",
    "{{ nope | join(',') }}",
    "x{{ nope | join(',') }}",
    "{{ nope | string }}",
    "{{ nope | bool }}",
    "{{ nope | to_json }}",
    "{{ nope | lower }}",
    "{{ nope | upper | default('q') }}",
    "{{ nope | int }}",
    "{{ nope | first }}",
    "{{ nope | ternary(1, 2) }}",
    "{{ nope | select | list }}",
    "{{ nope | combine({}) }}",
    "{{ [nope] | length }}",
    "{{ {'a': nope} | length }}",
    "{{ nope or 'b' }}",
    "{{ nope and 'b' }}",
    "{{ false and nope }}",
    "{{ true or nope }}",
    "{{ nope in l }}",
    "{{ 1 in nope }}",
    "{{ nope[0] }}",
    "{{ nope['a'] | default(1) }}",
    "{{ nope.keys() }}",
    "{{ d.nope.keys() }}",
    "{{ 'a' if nope else 'b' }}",
    "{{ nope if true else 'b' }}",
    "{{ 'a' if false else nope }}",
    "x{{ 'a' if false }}",
    "[{{ 'a' if false }}]",
    "{{ ('a' if false) | length }}",
    "{{ ('a' if false) ~ 'b' }}",
    "{{ ('a' if false) is none }}",
    "{{ ('a' if false) | string }}",
    "{% if ('a' if false) %}y{% else %}n{% endif %}",
    "{% for c in ('a' if false) %}{{ c }}{% endfor %}x",
    "{{ nope is string }}",
    "{{ nope is none }}",
    "{{ nope is mapping }}",
    "{{ nope is iterable }}",
    "{{ nope is number }}",
    "{{ nope is version('1', '>') }}",
    "{{ nope is match('a') }}",
    "{{ (nope | default({})).x | default(3) }}",
    "{{ n | default('x') }}",
    // filters that fail with an error of their own on an undefined input
    "{{ nope | ansible.utils.ipwrap }}",
    "{{ d.nope | ansible.utils.ipaddr('address') }}",
    "{{ nope | ansible.utils.ipv4 }}",
    "{{ nope | to_nice_yaml }}",
    "{{ d.x | ansible.utils.ipwrap }}",
    "{{ n is none }}",
    // an undefined argument fails where the filter, test or method uses it
    "{{ 'abc' | replace('a', nope) }}",
    "{{ 'abc' | replace('a', new=nope) }}",
    "{{ 'abc' | replace('a', d.nope) }}",
    "{{ 'abc' | regex_replace('a', nope.attr) }}",
    "{{ 'abc' | replace('a', nope) | default('q') }}",
    "{{ ('abc' | replace('a', nope)) if false else 'no' }}",
    "{{ l | join(nope) }}",
    "{{ d | combine(nope) }}",
    "{{ l | union(nope) }}",
    "{{ '%s' | format(nope) }}",
    "{{ d | dict2items(key_name=nope) }}",
    "{{ [d] | selectattr('x', 'equalto', nope) | list }}",
    "{{ 'a' is in(nope) }}",
    "{{ 'a' is equalto(nope) }}",
    "{{ 's' is version(nope, '>=') }}",
    "{{ 'a' is sameas(nope) }}",
    "{{ nope | default(d.nope) }}",
    "{{ s | default(nope) }}",
    "{{ nope | default(s) }}",
    "{{ true | ternary('y', nope) }}",
    "{{ false | ternary('y', nope) }}",
    "{{ l | map('default', nope) | list }}",
    "{{ d.get('x', nope) }}",
    "{{ d.get('z', nope) }}",
    "{{ d.get(nope) }}",
    "{{ lookup('vars', nope) }}",
    "{{ query('vars', 's', nope) }}",
    "{{ lookup('env', 'HOME', default=nope) | length > 0 }}",
    // set keeps an undefined value until it is used
    "{% set x = nope %}z",
    "{% set x = nope %}{{ x | default('q') }}",
    "{% set x = nope %}{% if x %}y{% endif %}",
    "{% set x = d.nope ~ 'a' %}z",
    // attributes and items of None (Jinja's `none`, even with a variable of
    // that name), bools and numbers: Jinja's getattr reason
    "{{ none.a }}",
    "{{ none['a'] }}",
    "{{ none[0] }}",
    "{{ n.a }}",
    "{{ n.a.b }}",
    "{{ n['k'] }}",
    "{{ d.x.y }}",
    "{{ d.x[0] }}",
    "{{ l[0].a }}",
    "{{ true.a }}",
    "x {{ none.a }} y",
    "{% if n.a %}y{% endif %}",
    "{{ n.a | upper }}",
    "{{ n.a | default('q') }} {{ none.b }}",
    "{{ n.a is defined }}",
    "{{ none.a is undefined }}",
    // multi-line tags: the error still fails, a good template still renders
    "{% if d.x\n   and l %}y{% endif %}\n{{ s\n | upper }}",
];

/// Results agree, and failures name the same undefined thing.
fn same_result_and_message(want: &str, got: &str) -> bool {
    want == got
}

#[test]
fn undefined_values_fail_where_ansible_fails() {
    reference::assert_same(CORPUS, VARS, same_result_and_message);
}

/// A method given an undefined argument fails as in Ansible, where Python's
/// own TypeError ("must be str, not AnsibleUndefined") words the message;
/// rsible names the undefined variable instead.
const METHOD_CORPUS: &[&str] = &[
    "{{ s.startswith(nope) }}",
    "{{ s.replace('a', nope) }}",
    "{{ s.split(nope) }}",
    "{{ s.startswith('a') }}",
];

#[test]
fn methods_given_an_undefined_argument_fail() {
    reference::assert_same(METHOD_CORPUS, VARS, reference::same_value_or_both_failed);
}

/// `bad`'s own template fails (not by being undefined): Jinja looks up the
/// names a template or loop body uses when it starts, so naming `bad` in a
/// branch that is not taken fails too; a loop that never runs does not.
const EAGER_VARS: &str = r#"{"bad": "{{ nope | ansible.utils.ipwrap }}", "gone": "{{ nope }}",
 "l": [1, 2]}"#;

const EAGER_CORPUS: &[&str] = &[
    "{% if false %}{{ bad }}{% endif %}ok",
    "{% if false %}{{ gone }}{% endif %}ok",
    "{{ 1 if true else bad }}",
    "{{ 1 if true else gone }}",
    "{% for i in [] %}{{ bad }}{% endfor %}ok",
    "{% for i in l %}{% if false %}{{ bad }}{% endif %}{% endfor %}ok",
    "{% for i in l -%}\n{% if false %}{{ gone }}{% endif %}\n{%- endfor %}ok",
    "{% for bad in l %}{{ bad }}{% endfor %}",
    "{% set bad = 1 %}{{ bad }}",
];

#[test]
fn names_are_resolved_when_the_template_or_loop_starts() {
    reference::assert_same(
        EAGER_CORPUS,
        EAGER_VARS,
        reference::same_value_or_both_failed,
    );
}

/// Syntax errors and unknown filters/tests: Ansible's first words and the
/// template quoted after "String:" (the cause is minijinja's wording).
const SYNTAX_CORPUS: &[&str] = &[
    "{{ foo( }}",
    "{% if x %}no end",
    "{{ 'a' ~ }}",
    "a{% endfor %}",
    "{{ x | nosuchfilter }}",
    "{{ l is nosuchtest }}",
    "a {# b",
    "{#}",
    "{% raw %} x",
    "{{ l | ansible.builtin.nosuchfilter }}",
];

fn same_error_shape(want: &str, got: &str) -> bool {
    let shape = |s: &str| -> Option<(String, String)> {
        let rest = s.strip_prefix("ERR template error while templating string: ")?;
        let (cause, data) = rest.split_once(". String: ")?;
        // unknown plugins are reported alike; other causes are minijinja's words
        let cause = if cause.starts_with("Could not load") || cause.starts_with("Missing end of") {
            cause.to_string()
        } else {
            String::new()
        };
        Some((cause, data.to_string()))
    };
    let (Some((want_cause, want_data)), Some((got_cause, got_data))) = (shape(want), shape(got))
    else {
        return false;
    };
    want_cause == got_cause && got_data.starts_with(&want_data[..want_data.len().min(8)])
}

#[test]
fn syntax_errors_are_worded_as_ansible_words_them() {
    reference::assert_same(SYNTAX_CORPUS, VARS, same_error_shape);
}
