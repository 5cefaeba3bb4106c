//! The `template` action's own options (those it removes before calling `copy`):
//! Jinja whitespace settings, `newline_sequence`, `output_encoding`, the delimiters,
//! and `mode: preserve`. Checked in the order and with the messages of ansible-core's
//! template action plugin.

use serde_json::{Map, Value as Json};

use rsible_templar::{Delimiters, JinjaOptions};

/// Options the action consumes; `copy` would refuse them as unsupported.
const TEMPLATE_ONLY: &[&str] = &[
    "newline_sequence",
    "block_start_string",
    "block_end_string",
    "variable_start_string",
    "variable_end_string",
    "comment_start_string",
    "comment_end_string",
    "trim_blocks",
    "lstrip_blocks",
    "output_encoding",
];

/// Options the action checks as strings (`ensure_type(value, 'string')`).
const STRING_OPTIONS: &[&str] = &[
    "src",
    "dest",
    "state",
    "newline_sequence",
    "variable_start_string",
    "variable_end_string",
    "block_start_string",
    "block_end_string",
    "comment_start_string",
    "comment_end_string",
];

pub(super) struct TemplateOptions {
    pub jinja: JinjaOptions,
    /// What every line end of the rendered text becomes.
    pub newline_sequence: &'static str,
    /// `output_encoding`, when not UTF-8.
    pub encoding: Option<Encoding>,
}

/// The `output_encoding`s rsible writes besides UTF-8.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Encoding {
    /// Python's `ascii`: code points below 128.
    Ascii,
    /// `latin-1`: code points below 256, one byte each.
    Latin1,
    /// Single-byte ASCII supersets whose upper half rsible has no table for
    /// (cp1252, iso8859-15): ASCII text only.
    AsciiOnly,
    /// `utf-16`/`utf-32`: a byte order mark, then little-endian units (as
    /// Python writes them on little-endian machines); or without the mark
    /// in the given byte order (`utf-16-le`, `utf-32-be`, ...).
    Utf16 {
        bom: bool,
        big: bool,
    },
    Utf32 {
        bom: bool,
        big: bool,
    },
}

enum EncodingKind {
    Utf8,
    Known(Encoding),
    Other,
}

/// Python's codec names (and common aliases) as far as rsible writes them.
fn encoding_kind(name: &str) -> EncodingKind {
    let n = name.trim().to_lowercase().replace(['-', ' '], "_");
    let known = |e| EncodingKind::Known(e);
    match n.as_str() {
        "" | "utf_8" | "utf8" | "u8" | "utf" | "cp65001" | "utf8_ucs2" | "utf8_ucs4" => {
            EncodingKind::Utf8
        }
        "ascii" | "us_ascii" | "646" => known(Encoding::Ascii),
        "latin_1" | "latin1" | "latin" | "l1" | "iso_8859_1" | "iso8859_1" | "8859" | "cp819" => {
            known(Encoding::Latin1)
        }
        "iso_8859_15" | "iso8859_15" | "latin9" | "l9" | "cp1252" | "windows_1252" => {
            known(Encoding::AsciiOnly)
        }
        "utf_16" | "utf16" | "u16" => known(Encoding::Utf16 {
            bom: true,
            big: false,
        }),
        "utf_16_le" | "utf_16le" => known(Encoding::Utf16 {
            bom: false,
            big: false,
        }),
        "utf_16_be" | "utf_16be" => known(Encoding::Utf16 {
            bom: false,
            big: true,
        }),
        "utf_32" | "utf32" | "u32" => known(Encoding::Utf32 {
            bom: true,
            big: false,
        }),
        "utf_32_le" | "utf_32le" => known(Encoding::Utf32 {
            bom: false,
            big: false,
        }),
        "utf_32_be" | "utf_32be" => known(Encoding::Utf32 {
            bom: false,
            big: true,
        }),
        _ => EncodingKind::Other,
    }
}

/// The rendered text as `output_encoding` bytes; `Err` names the first
/// character the encoding cannot hold (Python's UnicodeEncodeError words).
pub(super) fn encode(text: &str, encoding: Encoding) -> Result<Vec<u8>, String> {
    let single = |limit: u32, codec: &str, range: &str| {
        let mut out = Vec::with_capacity(text.len());
        for (pos, c) in text.chars().enumerate() {
            if (c as u32) >= limit {
                return Err(format!(
                    "'{codec}' codec can't encode character '\\u{:04x}' in position {pos}: ordinal not in range({range})",
                    c as u32
                ));
            }
            out.push(c as u32 as u8);
        }
        Ok(out)
    };
    match encoding {
        Encoding::Ascii | Encoding::AsciiOnly => single(128, "ascii", "128"),
        Encoding::Latin1 => single(256, "latin-1", "256"),
        Encoding::Utf16 { bom, big } => {
            let mut out = Vec::with_capacity(text.len() * 2 + 2);
            let units = bom.then_some(0xFEFF).into_iter().chain(text.encode_utf16());
            for u in units {
                out.extend(if big {
                    u.to_be_bytes()
                } else {
                    u.to_le_bytes()
                });
            }
            Ok(out)
        }
        Encoding::Utf32 { bom, big } => {
            let mut out = Vec::with_capacity(text.len() * 4 + 4);
            let units = bom
                .then_some(0xFEFF)
                .into_iter()
                .chain(text.chars().map(|c| c as u32));
            for u in units {
                out.extend(if big {
                    u.to_be_bytes()
                } else {
                    u.to_le_bytes()
                });
            }
            Ok(out)
        }
    }
}

/// Python's `type(value)` as the action's message prints it.
fn python_type(v: &Json) -> &'static str {
    match v {
        Json::Bool(_) => "<class 'bool'>",
        Json::Number(n) if n.is_f64() => "<class 'float'>",
        Json::Number(_) => "<class 'int'>",
        Json::Array(_) => "<class 'list'>",
        Json::Object(_) => "<class 'dict'>",
        Json::Null => "<class 'NoneType'>",
        Json::String(_) => "<class 'str'>",
    }
}

/// Reads and checks the template-only options; `Err` is the action's failure message.
pub(super) fn template_options(args: &Map<String, Json>) -> Result<TemplateOptions, String> {
    for name in STRING_OPTIONS {
        // ensure_type turns ints, floats and bools into their text; lists and
        // dicts stay what they are and are refused.
        if let Some(v @ (Json::Array(_) | Json::Object(_))) = args.get(*name) {
            return Err(format!(
                "{name} is expected to be a string, but got {} instead",
                python_type(v)
            ));
        }
    }
    let trim_blocks = super::loose_boolean(args.get("trim_blocks"), true);
    let lstrip_blocks = super::loose_boolean(args.get("lstrip_blocks"), false);
    let newline = match args.get("newline_sequence") {
        None | Some(Json::Null) => "\n".to_string(),
        Some(Json::String(s)) => s.clone(),
        Some(other) => other.to_string(),
    };
    // The escaped spellings are accepted for the real sequences.
    let newline_sequence = match newline.as_str() {
        "\n" | "\\n" => "\n",
        "\r" | "\\r" => "\r",
        "\r\n" | "\\r\\n" => "\r\n",
        _ => "",
    };
    if args.get("state").is_some_and(|s| !s.is_null()) {
        return Err("'state' cannot be specified on a template".into());
    }
    let present = |k: &str| args.get(k).is_some_and(|v| !v.is_null());
    if !present("src") || !present("dest") {
        return Err("src and dest are required".into());
    }
    if newline_sequence.is_empty() {
        return Err("newline_sequence needs to be one of: \n, \r or \r\n".into());
    }
    let mut encoding = None;
    if let Some(enc) = args.get("output_encoding").and_then(Json::as_str) {
        match encoding_kind(enc) {
            EncodingKind::Utf8 => {}
            EncodingKind::Known(e) => encoding = Some(e),
            EncodingKind::Other => {
                return Err(format!(
                    "template: output_encoding '{enc}' is not implemented natively (only utf-8)"
                ))
            }
        }
    }
    // The delimiters as ensure_type made them strings; null keeps Jinja's.
    let text = |k: &str| match args.get(k) {
        None | Some(Json::Null) => None,
        Some(Json::String(s)) => Some(s.clone()),
        Some(other) => Some(other.to_string()),
    };
    let [bs, be, vs, ve, cs, ce] = [
        "block_start_string",
        "block_end_string",
        "variable_start_string",
        "variable_end_string",
        "comment_start_string",
        "comment_end_string",
    ]
    .map(text);
    // An empty delimiter matches everywhere in Jinja's lexer (an empty
    // comment_start_string, e.g. "{#" templated to "", makes nearly any text
    // an unclosed comment); minijinja has no such syntax.
    for (name, value) in [
        ("block_start_string", &bs),
        ("block_end_string", &be),
        ("variable_start_string", &vs),
        ("variable_end_string", &ve),
        ("comment_start_string", &cs),
        ("comment_end_string", &ce),
    ] {
        if value.as_deref() == Some("") {
            return Err(format!(
                "template: an empty {name} is not implemented natively"
            ));
        }
    }
    let delimiters = Delimiters::new(
        (bs.as_deref(), be.as_deref()),
        (vs.as_deref(), ve.as_deref()),
        (cs.as_deref(), ce.as_deref()),
    );
    Ok(TemplateOptions {
        jinja: JinjaOptions {
            trim_blocks,
            lstrip_blocks,
            keep_trailing_newline: false,
            delimiters,
        },
        newline_sequence,
        encoding,
    })
}

/// The arguments `copy` gets: the template-only options removed.
pub(super) fn without_template_options(args: &Map<String, Json>) -> Map<String, Json> {
    let mut copy_args = args.clone();
    for k in TEMPLATE_ONLY {
        copy_args.remove(*k);
    }
    copy_args
}

/// `mode: preserve`: the template file's own permission bits, as `0NNN`.
pub(super) fn preserved_mode(path: &std::path::Path) -> Option<String> {
    use std::os::unix::fs::PermissionsExt;
    let meta = std::fs::metadata(path).ok()?;
    Some(format!("0{:03o}", meta.permissions().mode() & 0o7777))
}

/// The diff's `after` header: Ansible names the file it rendered to, in a fresh
/// directory under its per-run local temporary directory
/// (`~/.ansible/tmp/ansible-local-<pid><8>/tmp<8>/<basename>`). rsible renders in
/// memory and names the same shape, so that diffs read alike.
pub(super) fn rendered_header(template: &std::path::Path) -> String {
    let name = template
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    format!("{}/tmp{}/{name}", local_run_dir(), random_name())
}

/// The name of the temporary file the copy action writes `content` to
/// (`<local tmp>/ansible-local-<pid><8>/tmp<8>`).
pub(super) fn local_temp_file() -> String {
    format!("{}/tmp{}", local_run_dir(), random_name())
}

/// Ansible's per-run local temporary directory.
fn local_run_dir() -> &'static str {
    static RUN_DIR: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    RUN_DIR.get_or_init(|| {
        let base = std::env::var("ANSIBLE_LOCAL_TEMP")
            .ok()
            .filter(|v| !v.is_empty())
            .unwrap_or_else(|| {
                let home = std::env::var("ANSIBLE_HOME")
                    .ok()
                    .filter(|v| !v.is_empty())
                    .unwrap_or_else(|| {
                        format!("{}/.ansible", std::env::var("HOME").unwrap_or_default())
                    });
                format!("{home}/tmp")
            });
        format!(
            "{}/ansible-local-{}{}",
            base.trim_end_matches('/'),
            std::process::id(),
            random_name()
        )
    })
}

/// Eight characters as Python's `tempfile` picks them.
fn random_name() -> String {
    use std::hash::{BuildHasher, Hasher};
    const CHARS: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789_";
    let mut n = std::collections::hash_map::RandomState::new()
        .build_hasher()
        .finish();
    (0..8)
        .map(|_| {
            let c = CHARS[(n % CHARS.len() as u64) as usize] as char;
            n /= CHARS.len() as u64;
            c
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn args(v: Json) -> Map<String, Json> {
        v.as_object().cloned().unwrap_or_default()
    }

    #[test]
    fn the_action_checks_in_ansibles_order() {
        let e = template_options(&args(json!({"src": "a", "dest": "b", "state": "file"})));
        assert_eq!(
            e.err().as_deref(),
            Some("'state' cannot be specified on a template")
        );
        let e = template_options(&args(json!({"src": "a"})));
        assert_eq!(e.err().as_deref(), Some("src and dest are required"));
        let e = template_options(&args(
            json!({"src": "a", "dest": "b", "newline_sequence": "x"}),
        ));
        assert_eq!(
            e.err().as_deref(),
            Some("newline_sequence needs to be one of: \n, \r or \r\n")
        );
        let e = template_options(&args(json!({"src": ["a"], "dest": "b"})));
        assert_eq!(
            e.err().as_deref(),
            Some("src is expected to be a string, but got <class 'list'> instead")
        );
    }

    #[test]
    fn whitespace_options_and_escaped_newlines_are_read() {
        let o = template_options(&args(json!({
            "src": "a", "dest": "b", "trim_blocks": "no", "lstrip_blocks": true,
            "newline_sequence": "\\r\\n"
        })))
        .unwrap_or_else(|e| panic!("{e}"));
        assert!(!o.jinja.trim_blocks);
        assert!(o.jinja.lstrip_blocks);
        assert_eq!(o.newline_sequence, "\r\n");
        assert!(o.encoding.is_none());
    }

    #[test]
    fn empty_delimiters_are_refused() {
        let err = template_options(&args(
            json!({"src": "a", "dest": "b", "comment_start_string": ""}),
        ))
        .err();
        assert!(err.is_some_and(|e| e.contains("empty comment_start_string is not implemented")));
    }

    #[test]
    fn output_encodings() {
        let enc = |e: &str| {
            template_options(&args(
                json!({"src": "a", "dest": "b", "output_encoding": e}),
            ))
        };
        assert!(enc("UTF_8").is_ok_and(|o| o.encoding.is_none()));
        let latin1 = enc("ISO-8859-1").ok().and_then(|o| o.encoding);
        assert_eq!(latin1, Some(Encoding::Latin1));
        assert!(enc("shift_jis")
            .err()
            .is_some_and(|e| e.contains("not implemented natively")));
        let utf16 = enc("UTF-16").ok().and_then(|o| o.encoding);
        assert_eq!(
            utf16.map(|e| encode("a\u{e9}", e)),
            Some(Ok(vec![0xff, 0xfe, b'a', 0, 0xe9, 0]))
        );
        assert_eq!(
            encode(
                "a\u{e9}",
                Encoding::Utf32 {
                    bom: false,
                    big: true
                }
            ),
            Ok(vec![0, 0, 0, b'a', 0, 0, 0, 0xe9])
        );
        assert_eq!(encode("a\u{e9}", Encoding::Latin1), Ok(vec![b'a', 0xe9]));
        assert_eq!(
            encode("a\u{20ac}", Encoding::Latin1),
            Err("'latin-1' codec can't encode character '\\u20ac' in position 1: ordinal not in range(256)".into())
        );
    }

    #[test]
    fn delimiters_are_read() {
        let o = template_options(&args(json!({
            "src": "a", "dest": "b", "variable_start_string": "[[", "block_start_string": "{%",
            "comment_end_string": null
        })))
        .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(o.jinja.delimiters.variable, ("[[", "}}"));
        assert_eq!(o.jinja.delimiters.block, ("{%", "%}"));
        assert_eq!(o.jinja.delimiters.comment, ("{#", "#}"));
    }

    #[test]
    fn rendered_header_and_copy_args() {
        let h = rendered_header(std::path::Path::new("/x/t.conf.j2"));
        assert!(
            h.contains("/ansible-local-") && h.ends_with("/t.conf.j2"),
            "{h}"
        );
        let copy = without_template_options(&args(json!({"src": "a", "trim_blocks": true})));
        assert_eq!(copy.len(), 1);
    }
}
