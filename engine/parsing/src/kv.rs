//! `key=value` parsing of module argument strings (`parse_kv`).

use indexmap::IndexMap;

use crate::escapes::decode_escapes;
use crate::{join_args, split_args, unquote, Error};

/// The key under which the free-form part of the arguments is returned.
pub const RAW_PARAMS: &str = "_raw_params";

/// Options of `command`/`shell` that stay options even in free-form mode;
/// every other `k=v` word is part of the command line when `check_raw` is set.
const FREE_FORM_OPTIONS: &[&str] = &[
    "creates",
    "removes",
    "chdir",
    "executable",
    "warn",
    "stdin",
    "stdin_add_newline",
    "strip_empty_ends",
];

/// Parse a module argument string into options.
///
/// Words holding an unescaped `=` become `key: value` (key and value trimmed,
/// one level of quotes removed from the value). Words without one are joined,
/// with their original spacing, under [`RAW_PARAMS`]. With `check_raw` (the
/// `command`/`shell` modules), `k=v` words whose key is not one of the
/// modules' own options also go to [`RAW_PARAMS`], undecoded.
pub fn parse_kv(args: &str, check_raw: bool) -> Result<IndexMap<String, String>, Error> {
    let mut options = IndexMap::new();
    let mut raw_words: Vec<String> = Vec::new();
    for word in split_args(args)? {
        let decoded = decode_escapes(&word);
        if !decoded.contains('=') {
            raw_words.push(word);
            continue;
        }
        let Some(eq) = first_unescaped_equals(&decoded) else {
            // Only escaped `=` signs: free-form text, with the escapes resolved.
            raw_words.push(decoded.replace("\\=", "="));
            continue;
        };
        let key = &decoded[..eq];
        let value = &decoded[eq + 1..];
        if check_raw && !FREE_FORM_OPTIONS.contains(&key) {
            raw_words.push(word);
        } else {
            options.insert(key.trim().to_string(), unquote(value.trim()).to_string());
        }
    }
    if !raw_words.is_empty() {
        options.insert(RAW_PARAMS.to_string(), join_args(&raw_words));
    }
    Ok(options)
}

/// Byte index of the first `=` not preceded by a backslash. An `=` at the very
/// start of the word is never taken as the separator (Ansible starts looking
/// at the second character), so `=x` is free-form text.
fn first_unescaped_equals(word: &str) -> Option<usize> {
    let bytes = word.as_bytes();
    (1..bytes.len()).find(|&i| bytes[i] == b'=' && bytes[i - 1] != b'\\')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kv(args: &str, check_raw: bool) -> Vec<(String, String)> {
        parse_kv(args, check_raw)
            .expect("parses")
            .into_iter()
            .collect()
    }

    fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    /// Input, check_raw, expected options in order.
    type Case = (&'static str, bool, &'static [(&'static str, &'static str)]);

    // Expected values recorded by running ansible-core 2.18's
    // `ansible.parsing.splitter.parse_kv` (/tmp/ref) on the same input.
    #[test]
    fn reference_cases() {
        let cases: &[Case] = &[
            ("a=b c=d", false, &[("a", "b"), ("c", "d")]),
            (
                "echo \"a=b\" c=d",
                false,
                &[("\"a", "b\""), ("c", "d"), ("_raw_params", "echo")],
            ),
            (
                "echo \"a=b\" c=d",
                true,
                &[("_raw_params", "echo \"a=b\" c=d")],
            ),
            ("msg='it''s'", false, &[("msg", "it''s")]),
            (
                "creates=/x chdir=/tmp cmd",
                true,
                &[("creates", "/x"), ("chdir", "/tmp"), ("_raw_params", "cmd")],
            ),
            (
                "creates=/x chdir=/tmp cmd",
                false,
                &[("creates", "/x"), ("chdir", "/tmp"), ("_raw_params", "cmd")],
            ),
            (
                "msg=\"{{ a | default('x y') }}\" b=1",
                false,
                &[("msg", "{{ a | default('x y') }}"), ("b", "1")],
            ),
            (
                "msg={{ a }} b",
                false,
                &[("msg", "{{ a }}"), ("_raw_params", "b")],
            ),
            ("a\\=b", false, &[("_raw_params", "a=b")]),
            ("a\\=b=c", false, &[("a\\=b", "c")]),
            ("=x", false, &[("_raw_params", "=x")]),
            ("==x", false, &[("=", "x")]),
            ("a= b", false, &[("a", ""), ("_raw_params", "b")]),
            ("msg=a\\nb", false, &[("msg", "a\nb")]),
            ("echo a\\nb", true, &[("_raw_params", "echo a\\nb")]),
            (
                "echo hi\nthere x=1",
                true,
                &[("_raw_params", "echo hi\nthere x=1")],
            ),
            ("a='x y' b=\"z\"", false, &[("a", "x y"), ("b", "z")]),
            ("k='v", false, &[]),
            ("", false, &[]),
            ("  a=1", false, &[("a", "1"), ("_raw_params", " ")]),
            ("msg=\\x41\\u00e9", false, &[("msg", "Aé")]),
            ("a = b", false, &[("_raw_params", "a = b")]),
            (" a=b", true, &[("_raw_params", "a=b")]),
        ];
        for (input, check_raw, expected) in cases {
            if input.contains("k='v") {
                assert!(parse_kv(input, *check_raw).is_err());
                continue;
            }
            assert_eq!(
                kv(input, *check_raw),
                pairs(expected),
                "input {input:?} check_raw={check_raw}"
            );
        }
    }
}
