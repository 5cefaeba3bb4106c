//! Unit tests of the translation; matching itself is compared with Python's `re` in
//! tests/python_re_differential.rs.

use super::*;

fn linear(p: &str) -> String {
    translate(p, Engine::Linear, Subject::Text).unwrap()
}

fn fancy(p: &str) -> String {
    translate(p, Engine::Backtracking, Subject::Text).unwrap()
}

fn fancy_bytes(p: &str) -> String {
    translate(p, Engine::Backtracking, Subject::Bytes).unwrap()
}

#[test]
fn python_syntax_for_the_linear_engine() {
    assert_eq!(linear("a{"), "a\\{");
    assert_eq!(linear("a{,2}b{3}"), "a{0,2}b{3}");
    assert_eq!(linear("[[]x"), "[\\[]x");
    assert!(translate("end$", Engine::Linear, Subject::Text).is_err());
    assert_eq!(linear("(?m)end$"), "(?m)end$");
    assert_eq!(linear("a\\Z(?#note)"), "a\\z");
    assert_eq!(linear("[]$]"), "[]$]");
    assert_eq!(linear("[.](a)[^]]"), "[.](a)[^]]");
    assert_eq!(linear("[\\b]\\0\\012"), "[\\x08]\\x{00}\\x{0A}");
    assert_eq!(linear("(?P<n>a)"), "(?P<n>a)");
    let refused = |p: &str| translate(p, Engine::Linear, Subject::Text).unwrap_err();
    assert!(refused("(?<!x)y").contains("look-behind"));
    assert!(refused("(?=x)").contains("look-ahead"));
    assert!(refused("(a)\\1").contains("back-reference"));
    assert!(refused("(?P<a>x)(?P=a)").contains("named back-reference"));
    assert!(refused("(?>a)").contains("atomic"));
}

#[test]
fn python_syntax_for_the_backtracking_engine() {
    assert_eq!(
        fancy("(?P<c>x)(?P=c)\\1$"),
        "(?P<c>x)\\k<c>\\k<1>(?=\\n?\\z)"
    );
    assert_eq!(fancy("(?<=a)(?!b)"), "(?<=a)(?!b)");
    assert_eq!(fancy("(?>a+)b"), "(?>a+)b");
    assert_eq!(fancy("(a)?(?(1)b|c)"), "(a)?(?(<1>)b|c)");
    assert_eq!(fancy("(?P<q>')?x(?(q)')"), "(?P<q>')?x(?(<q>)')");
    let refused = |p: &str| translate(p, Engine::Backtracking, Subject::Text).unwrap_err();
    // Python rejects a third branch in a conditional: leave the message to it.
    assert!(refused("(a)?(?(1)b|c|d)").contains("conditional"));
    assert!(refused("(a)\\12").contains("multi-digit"));
    assert!(refused("\\p{L}").contains("\\p"));
    assert!(refused("(?U)a*").contains("flag U"));
    assert!(refused("(?a)\\w").contains("flag a"));
    assert!(refused("\\N{DIGIT ONE}").contains("named character"));
}

#[test]
fn bytes_patterns_keep_ascii_classes_on_the_latin1_view() {
    assert_eq!(fancy_bytes("\\w(?=\\d)"), "[[:word:]](?=[[:digit:]])");
    assert_eq!(fancy_bytes("[\\s\\W]"), "[[:space:][:^word:]]");
    assert_eq!(fancy_bytes("é(?=x)"), "\\x{C3}\\x{A9}(?=x)");
    assert!(fancy_bytes("\\bx(?=y)").starts_with("(?:(?<=[[:word:]])"));
    let refused = |p: &str| translate(p, Engine::Backtracking, Subject::Bytes).unwrap_err();
    assert!(refused("(?i)é(?=x)").contains("case-insensitive"));
    assert!(refused("\\u00e9").contains("\\u"));
}

#[test]
fn engines_are_chosen_by_need() {
    assert!(!PyRegex::new("^a+\\Z").unwrap().is_backtracking());
    assert!(PyRegex::new("a(?=b)").unwrap().is_backtracking());
    assert!(matches!(
        PyBytesRegex::new("(?m)x$"),
        Ok(PyBytesRegex::Plain(_))
    ));
    assert!(matches!(
        PyBytesRegex::new("(?<=x)y"),
        Ok(PyBytesRegex::Fancy(_))
    ));
    // Variable-width look-behind: Python refuses it too.
    assert!(PyRegex::new("(?<=a+)b").is_err());
}

#[test]
fn bytes_spans_are_offsets_in_the_original_bytes() {
    let re = PyBytesRegex::new("(?<=é)(.)").unwrap();
    let hay = "aé€b".as_bytes();
    // `.` is one byte: the first byte of the euro sign's three.
    assert_eq!(
        re.captures(hay).unwrap(),
        Some(vec![Some((3, 4)), Some((3, 4))])
    );
    let re = PyBytesRegex::new("(\\w)\\1").unwrap();
    assert_eq!(re.find(b"\xff\xffaab").unwrap(), Some((2, 4)));
}
