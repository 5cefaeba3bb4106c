//! One test per loading rule, through the public API. Expected values were
//! recorded from the reference (ansible-core 2.18 with PyYAML 6.0.3/libyaml)
//! as noted on each test.

use rsible_yaml::{
    load_file, load_one, load_one_with_warnings, load_str, load_str_with_warnings, Node, Value,
};

fn one(text: &str) -> Node {
    load_one(text, None).unwrap_or_else(|e| panic!("{text:?} failed: {e}"))
}

fn get<'a>(node: &'a Node, key: &str) -> &'a Node {
    node.as_map()
        .and_then(|m| m.get(key))
        .unwrap_or_else(|| panic!("no key {key}"))
}

fn keys(node: &Node) -> Vec<String> {
    node.as_map()
        .unwrap()
        .iter()
        .map(|(k, _)| k.as_str().unwrap_or("?").to_string())
        .collect()
}

#[test]
fn empty_text_is_null_and_empty_stream_has_no_documents() {
    assert!(one("").is_null());
    assert!(one("# just a comment\n").is_null());
    assert_eq!(load_str("", None).unwrap().len(), 0);
    assert_eq!(load_str("--- a\n--- b\n", None).unwrap().len(), 2);
}

#[test]
fn several_documents_are_an_error_for_single_data() {
    // PyYAML get_single_data: "expected a single document in the stream" / "but found another document"
    let err = load_one("a: 1\n---\nb: 2\n", None).unwrap_err();
    assert_eq!(err.message, "but found another document");
    assert_eq!(
        err.context.as_deref(),
        Some("expected a single document in the stream")
    );
    assert_eq!(err.mark.as_ref().map(|m| (m.line, m.column)), Some((2, 1)));
}

#[test]
fn quoted_and_block_scalars_are_strings() {
    let n = one("a: '1'\nb: \"yes\"\nc: |\n  1\nd: >-\n  null\ne: 1\n");
    assert_eq!(get(&n, "a").value, Value::Str("1".into()));
    assert_eq!(get(&n, "b").value, Value::Str("yes".into()));
    assert_eq!(get(&n, "c").value, Value::Str("1\n".into()));
    assert_eq!(get(&n, "d").value, Value::Str("null".into()));
    assert_eq!(get(&n, "e").value, Value::Int(1));
}

#[test]
fn timestamps_stay_text() {
    // PyYAML gives datetime.date(2001, 12, 14); rsible keeps the text (documented deviation).
    assert_eq!(
        get(&one("d: 2001-12-14\n"), "d").value,
        Value::Str("2001-12-14".into())
    );
}

#[test]
fn explicit_core_tags() {
    let n = one("a: !!str 12\nb: !!int '12'\nc: !!float '1'\nd: !!bool 'On'\ne: !!null x\nf: !!map {k: v}\ng: !!seq [1]\n");
    assert_eq!(get(&n, "a").value, Value::Str("12".into()));
    assert_eq!(get(&n, "b").value, Value::Int(12));
    assert_eq!(get(&n, "c").value, Value::Float(1.0));
    assert_eq!(get(&n, "d").value, Value::Bool(true));
    assert!(get(&n, "e").is_null());
    assert!(get(&n, "f").as_map().is_some());
    assert_eq!(get(&n, "g").as_seq().map(<[Node]>::len), Some(1));
}

#[test]
fn ansible_tags_unsafe_and_vault() {
    let n = one("a: !unsafe '{{ x }}'\nb: !unsafe 12\nc: !vault |\n  $ANSIBLE_VAULT;1.1;AES256\n  6162\nd: !unsafe {k: v, n: 1}\n");
    assert_eq!(get(&n, "a").value, Value::Unsafe("{{ x }}".into()));
    // wrap_var on the raw scalar: always text
    assert_eq!(get(&n, "b").value, Value::Unsafe("12".into()));
    assert_eq!(
        get(&n, "c").value,
        Value::Vault("$ANSIBLE_VAULT;1.1;AES256\n6162\n".into())
    );
    let d = get(&n, "d").as_map().unwrap();
    assert_eq!(d.entries[0].0.value, Value::Unsafe("k".into()));
    assert_eq!(d.entries[0].1.value, Value::Unsafe("v".into()));
    assert_eq!(d.entries[1].1.value, Value::Int(1));
}

#[test]
fn unknown_tags_fail_like_pyyaml() {
    // ansible-core 2.18: "could not determine a constructor for the tag '!foo'"
    let err = load_one("a: !foo bar\n", None).unwrap_err();
    assert_eq!(
        err.message,
        "could not determine a constructor for the tag '!foo'"
    );
    assert_eq!(err.mark.as_ref().map(|m| (m.line, m.column)), Some((1, 4)));
    let err = load_one("a: =\n", None).unwrap_err();
    assert_eq!(
        err.message,
        "could not determine a constructor for the tag 'tag:yaml.org,2002:value'"
    );
}

#[test]
fn merge_keys_explicit_keys_win_and_earlier_maps_win() {
    let n = one("a: &a {k: a, only_a: 1}\nb: &b {k: b, only_b: 2}\nc:\n  <<: [*a, *b]\n  own: 3\nd:\n  <<: *a\n  k: mine\n");
    let c = get(&n, "c");
    assert_eq!(get(c, "k").value, Value::Str("a".into()));
    // order as PyYAML: later list maps first, then earlier, then own keys
    assert_eq!(keys(c), ["k", "only_b", "only_a", "own"]);
    assert_eq!(get(get(&n, "d"), "k").value, Value::Str("mine".into()));
    let err = load_one("a:\n  <<: [1]\n", None).unwrap_err();
    assert_eq!(
        err.message,
        "expected a mapping for merging, but found scalar"
    );
}

#[test]
fn aliases_copy_the_anchored_node_with_its_positions() {
    let n = one("a: &x\n  k: v\nb: *x\n");
    let (a, b) = (get(&n, "a"), get(&n, "b"));
    assert_eq!(a, b);
    assert_eq!((b.mark.line, b.mark.column), (1, 4));
}

#[test]
fn duplicate_keys_keep_last_value_first_place_and_warn() {
    // Warnings recorded from ansible-playbook 2.18 on the same file.
    let text = "a: 1\nb:\n  x: 1\n  x: 2\na: 3\nbase: &b {k: 1}\nm:\n  <<: *b\n  k: 2\nn: {1: a, true: b, 1.5: c, 1.5: d, ~: e, null: f}\n";
    let loaded = load_one_with_warnings(text, Some("/tmp/yref/dup.yml")).unwrap();
    let w = |l: u32, c: u32, k: &str| {
        format!("While constructing a mapping from /tmp/yref/dup.yml, line {l}, column {c}, found a duplicate dict key ({k}). Using last defined value only.")
    };
    assert_eq!(
        loaded.warnings,
        [
            w(1, 1, "a"),
            w(3, 3, "x"),
            w(8, 3, "k"),
            w(10, 4, "True"),
            w(10, 4, "1.5"),
            w(10, 4, "None")
        ]
    );
    let n = &loaded.value;
    assert_eq!(keys(n)[0], "a");
    assert_eq!(get(n, "a").value, Value::Int(3));
    let nmap = get(n, "n").as_map().unwrap();
    assert_eq!(nmap.len(), 3);
    assert_eq!(
        nmap.entries[0].0.value,
        Value::Int(1),
        "the first key object stays"
    );
    assert_eq!(nmap.entries[0].1.value, Value::Str("b".into()));
    // An alias re-uses the constructed object in PyYAML: one warning, not two.
    let warnings = load_str_with_warnings("a: &x {k: 1, k: 2}\nb: *x\n", None)
        .unwrap()
        .warnings;
    assert_eq!(warnings.len(), 1);
    let warnings = load_str_with_warnings("a: 1\na: 2\n", None)
        .unwrap()
        .warnings;
    assert!(warnings[0].starts_with("While constructing a mapping from <string>, line 1, column 1"));
}

#[test]
fn non_string_keys_keep_their_types() {
    let n = one("1: a\nfalse: b\n~: c\n1.5: d\n");
    let types: Vec<&str> = n
        .as_map()
        .unwrap()
        .iter()
        .map(|(k, _)| k.type_name())
        .collect();
    assert_eq!(types, ["int", "bool", "NoneType", "float"]);
}

#[test]
fn positions_match_ansible_pos() {
    // ansible_pos values printed by the reference for the same text.
    let n = one("a: 1\nb:\n- x\n-  - y\n- k: v\n- [p, {q: r}]\nc: |\n  lit\n");
    let at = |node: &Node| (node.mark.line, node.mark.column);
    assert_eq!(at(&n), (1, 1));
    let b = get(&n, "b");
    assert_eq!(at(b), (3, 1));
    let items = b.as_seq().unwrap();
    assert_eq!(at(&items[0]), (3, 3));
    assert_eq!(at(&items[1]), (4, 4));
    assert_eq!(at(&items[2]), (5, 3));
    assert_eq!(at(&items[3]), (6, 3));
    assert_eq!(at(&items[3].as_seq().unwrap()[1]), (6, 7));
    assert_eq!(at(get(&n, "c")), (7, 4));
    let key = &n.as_map().unwrap().entries[1].0;
    assert_eq!(at(key), (2, 1));
}

#[test]
fn json_is_tried_first() {
    // json.loads wins: 1e3 is a float there (YAML 1.1 would give the string "1e3"), tabs are fine.
    let n = one("{\"a\":\t1e3,\n\t\"b\": [1]}");
    assert_eq!(get(&n, "a").value, Value::Float(1000.0));
    assert_eq!(get(&one("a: 1e3"), "a").value, Value::Str("1e3".into()));
}

#[test]
fn bom_is_tolerated() {
    let n = one("\u{feff}a: 1\n");
    assert_eq!(get(&n, "a").value, Value::Int(1));
}

/// Recorded from `ansible-playbook --syntax-check bad1.yml` (ansible-core 2.18),
/// the text after `ERROR! `.
#[test]
fn syntax_error_text_matches_ansible() {
    let dir = std::env::temp_dir().join(format!("rsible-yaml-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("bad1.yml");
    std::fs::write(
        &path,
        "- hosts: localhost\n  tasks:\n    - debug: msg=foo: bar\n",
    )
    .unwrap();
    let err = load_file(&path).unwrap_err();
    let p = path.display();
    let want = format!(
        "We were unable to read either as JSON nor YAML, these are the errors we got from each:\n\
JSON: Expecting value: line 1 column 1 (char 0)\n\n\
Syntax Error while loading YAML.\n  mapping values are not allowed in this context. mapping values are not allowed in this context\n  \
in \"<unicode string>\", line 3, column 21\n\n\
The error appears to be in '{p}': line 3, column 21, but may\n\
be elsewhere in the file depending on the exact syntax problem.\n\n\
The offending line appears to be:\n\n  tasks:\n    - debug: msg=foo: bar\n                    ^ here\n"
    );
    assert_eq!(err.to_string(), want);

    std::fs::write(&path, "- hosts: localhost\n  gather_facts: no\n  tasks:\n    - name: x\n      debug:\n        msg: hello\n     bad: indent\n").unwrap();
    let err = load_file(&path).unwrap_err();
    let want = format!(
        "We were unable to read either as JSON nor YAML, these are the errors we got from each:\n\
JSON: Expecting value: line 1 column 1 (char 0)\n\n\
Syntax Error while loading YAML.\n  did not find expected '-' indicator. while parsing a block collection\n  \
in \"<unicode string>\", line 4, column 5\ndid not find expected '-' indicator\n  \
in \"<unicode string>\", line 7, column 6\n\n\
The error appears to be in '{p}': line 7, column 6, but may\n\
be elsewhere in the file depending on the exact syntax problem.\n\n\
The offending line appears to be:\n\n        msg: hello\n     bad: indent\n     ^ here\n"
    );
    assert_eq!(err.to_string(), want);
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn string_sources_show_only_the_position() {
    // Recorded from ansible-core 2.18's from_yaml('a: =').
    let err = load_one("a: =", None).unwrap_err();
    assert_eq!(
        err.to_string(),
        "We were unable to read either as JSON nor YAML, these are the errors we got from each:\n\
JSON: Expecting value: line 1 column 1 (char 0)\n\n\
Syntax Error while loading YAML.\n  could not determine a constructor for the tag 'tag:yaml.org,2002:value'. \
could not determine a constructor for the tag 'tag:yaml.org,2002:value'\n  in \"<unicode string>\", line 1, column 4\n\n\
The error appears to be in '<string>': line 1, column 4, but may\n\
be elsewhere in the file depending on the exact syntax problem.\n"
    );
}

#[test]
fn hostile_input_is_refused_not_fatal() {
    let deep = "[".repeat(100_000);
    assert!(load_str(&deep, None).is_err());
    let mut bomb = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
    for i in 1..10 {
        bomb.push_str(&format!(
            "a{i}: &a{i} [*a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}]\n",
            p = i - 1
        ));
    }
    let err = load_str(&bomb, None).unwrap_err();
    assert!(err.message.contains("too many nodes"), "{}", err.message);
}
