//! The templar prepares each distinct text once and reuses it: the same
//! text must still give each call its own result (other variables, other
//! settings) and its own errors, every time.

use rsible_templar::{JinjaOptions, MapVars, Templar, Value};

fn vars(pairs: &[(&str, Value)]) -> MapVars {
    let mut v = MapVars::new();
    for (k, val) in pairs {
        v.set(*k, val.clone());
    }
    v
}

#[test]
fn the_same_text_renders_with_each_call_s_variables() {
    let t = Templar::new();
    let one = vars(&[("a", Value::from("x")), ("b", Value::from(1))]);
    let two = vars(&[("a", Value::from("y")), ("b", Value::from(2))]);
    for _ in 0..3 {
        assert_eq!(
            t.template_str("{{ a }}-{{ b }}", &one).unwrap(),
            Value::from("x-1")
        );
        assert_eq!(
            t.template_str("{{ a }}-{{ b }}", &two).unwrap(),
            Value::from("y-2")
        );
        assert_eq!(
            t.template_str("{{ b + 1 }}", &one).unwrap(),
            Value::from("2")
        );
        assert_eq!(
            t.template_str("{{ b + 1 }}", &two).unwrap(),
            Value::from("3")
        );
        assert!(t
            .evaluate_conditional(&Value::from("b == 1"), &one)
            .unwrap());
        assert!(!t
            .evaluate_conditional(&Value::from("b == 1"), &two)
            .unwrap());
    }
}

#[test]
fn errors_come_back_on_every_use_and_do_not_stick() {
    let t = Templar::new();
    let none = vars(&[]);
    let some = vars(&[("a", Value::from("x"))]);
    for _ in 0..2 {
        let e = t.template_str("{{ a | nosuchfilter }}", &some).unwrap_err();
        assert!(
            e.message.contains("Could not load \"nosuchfilter\""),
            "{}",
            e.message
        );
        let e = t.template_str("x{{ foo( }}", &some).unwrap_err();
        assert!(
            e.message
                .starts_with("template error while templating string"),
            "{}",
            e.message
        );
        let e = t.template_str("[{{ a }}]", &none).unwrap_err();
        assert!(e.message.contains("'a' is undefined"), "{}", e.message);
        assert_eq!(
            t.template_str("[{{ a }}]", &some).unwrap(),
            Value::from("[x]")
        );
        assert!(t
            .evaluate_conditional(&Value::from("a is defined"), &none)
            .is_ok_and(|b| !b));
        assert!(t
            .evaluate_conditional(&Value::from("a == 'x'"), &none)
            .is_err());
        assert!(t
            .evaluate_conditional(&Value::from("a == 'x'"), &some)
            .unwrap());
    }
}

#[test]
fn settings_are_part_of_what_is_reused() {
    let t = Templar::new();
    let v = vars(&[("l", Value::from(vec![1, 2]))]);
    let text = "{% for i in l %}\n{{ i }}\n{% endfor %}\n";
    let trimmed = t.render_file(text, &v, JinjaOptions::default()).unwrap();
    let kept = JinjaOptions {
        trim_blocks: false,
        ..JinjaOptions::default()
    };
    let untrimmed = t.render_file(text, &v, kept).unwrap();
    assert_eq!(trimmed, "1\n2\n");
    assert_eq!(untrimmed, "\n1\n\n2\n");
    // and the first again, after the second was prepared
    assert_eq!(
        t.render_file(text, &v, JinjaOptions::default()).unwrap(),
        trimmed
    );
}

#[test]
fn the_same_text_renders_with_each_call_s_delimiters() {
    use rsible_templar::Delimiters;
    let t = Templar::new();
    let v = vars(&[
        ("a", Value::from("x")),
        ("n", Value::from(2)),
        ("l", Value::from(vec![Value::from(1), Value::from(2)])),
    ]);
    let text = "[# note #]{{ a }} [[ a ]]\n[% for i in l %]\n<[[ i ]]>[% if i == n %]!{% set x = [] %}[% endif %]\n[% endfor %]\n[% set m = [] %][[ m.append(1) or m ]] {{ undefined }}\n";
    let square = JinjaOptions {
        delimiters: Delimiters::new(
            (Some("[%"), Some("%]")),
            (Some("[["), Some("]]")),
            (Some("[#"), Some("#]")),
        ),
        ..JinjaOptions::default()
    };
    for _ in 0..2 {
        assert_eq!(
            t.render_file(text, &v, square).unwrap(),
            "{{ a }} x\n<1><2>!{% set x = [] %}[1] {{ undefined }}\n"
        );
        // the default syntax over the same text: Jinja's delimiters apply
        let e = t
            .render_file(text, &v, JinjaOptions::default())
            .unwrap_err();
        assert!(e.message.contains("undefined"), "{}", e.message);
        // a whole-text variable with other delimiters is text, not a lookup
        assert_eq!(t.render_file("{{ n }}", &v, square).unwrap(), "{{ n }}");
        assert_eq!(t.render_file("[[ n ]]", &v, square).unwrap(), "2");
    }
    // undefined names still fail inside custom tags
    let e = t
        .render_file("[% if nope %]y[% endif %]", &v, square)
        .unwrap_err();
    assert!(e.message.contains("'nope' is undefined"), "{}", e.message);
}
