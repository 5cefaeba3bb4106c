//! `blockinfile`: insert, update or remove a block of lines between marker lines,
//! as ansible-core's module does (bytes, lines split as Python's `splitlines(True)`).

use super::file::with_file_common_params;
use super::lineinfile::{
    backup_local, check_file_attrs, check_mutually_exclusive, read_file, write_changes,
};
use super::replace::compile_bytes;
use super::{Kind, ModuleContext, ModuleFail, ModuleOutcome, Param, ParamDefault};
use crate::util::fs_attrs::py_os_error;
use serde_json::{json, Map, Value};
use std::fs;
use std::path::Path;

pub const SPEC: &[Param] = &with_file_common_params![
    Param::new("path", Kind::Path)
        .required()
        .aliases(&["dest", "destfile", "name"]),
    Param::new("state", Kind::Str)
        .default(ParamDefault::Str("present"))
        .choices(&["absent", "present"]),
    Param::new("marker", Kind::Str).default(ParamDefault::Str("# {mark} ANSIBLE MANAGED BLOCK")),
    Param::new("block", Kind::Str)
        .default(ParamDefault::Str(""))
        .aliases(&["content"]),
    Param::new("insertafter", Kind::Str),
    Param::new("insertbefore", Kind::Str),
    Param::new("create", Kind::Bool).default(ParamDefault::Bool(false)),
    Param::new("backup", Kind::Bool).default(ParamDefault::Bool(false)),
    Param::new("validate", Kind::Str),
    Param::new("marker_begin", Kind::Str).default(ParamDefault::Str("BEGIN")),
    Param::new("marker_end", Kind::Str).default(ParamDefault::Str("END")),
    Param::new("append_newline", Kind::Bool).default(ParamDefault::Bool(false)),
    Param::new("prepend_newline", Kind::Bool).default(ParamDefault::Bool(false)),
];

const NL: &[u8] = b"\n";

/// Python's `bytes.splitlines(True)`: breaks after `\n`, `\r\n` or a lone `\r`.
fn split_lines_keepends(data: &[u8]) -> Vec<Vec<u8>> {
    let mut lines = Vec::new();
    let mut start = 0;
    let mut i = 0;
    while i < data.len() {
        let end = match data[i] {
            b'\n' => Some(i + 1),
            b'\r' if data.get(i + 1) == Some(&b'\n') => Some(i + 2),
            b'\r' => Some(i + 1),
            _ => None,
        };
        match end {
            Some(e) => {
                lines.push(data[start..e].to_vec());
                start = e;
                i = e;
            }
            None => i += 1,
        }
    }
    if start < data.len() {
        lines.push(data[start..].to_vec());
    }
    lines
}

/// Whether this call needs Python's `re` (see `replace::declines`).
pub fn declines(args: &Map<String, Value>) -> Option<&'static str> {
    let keys = ["insertafter", "insertbefore"];
    super::replace::declines_bytes_patterns(args, &keys)
        .then_some("regular expression beyond the native regex engine")
}

pub fn run(params: &Map<String, Value>, ctx: &ModuleContext) -> ModuleOutcome {
    check_mutually_exclusive(params, &[&["insertbefore", "insertafter"]])?;
    let s = |k: &str| params.get(k).and_then(Value::as_str).map(str::to_string);
    let b = |k: &str| params.get(k).and_then(Value::as_bool).unwrap_or(false);
    let path_text = s("path").unwrap_or_default();
    let path = Path::new(&path_text);
    if path.is_dir() {
        return Err(
            ModuleFail::msg(format!("Path {path_text} is a directory !")).with("rc", json!(256)),
        );
    }
    let path_exists = path.exists();
    let (original, mut lines) = if path_exists {
        let data = read_file(path)?;
        let lines = split_lines_keepends(&data);
        (Some(data), lines)
    } else {
        if !b("create") {
            return Err(
                ModuleFail::msg(format!("Path {path_text} does not exist !"))
                    .with("rc", json!(257)),
            );
        }
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            if !parent.exists() && !ctx.check_mode {
                fs::create_dir_all(parent).map_err(|e| {
                    let detail = py_os_error(&e, parent);
                    ModuleFail::msg(format!(
                        "Error creating {} Error code: {} Error description: {}",
                        parent.display(),
                        e.raw_os_error().unwrap_or(0),
                        detail
                            .split_once("] ")
                            .map(|(_, d)| d.rsplit_once(": '").map_or(d, |(t, _)| t))
                            .unwrap_or(&detail)
                    ))
                })?;
            }
        }
        (None, Vec::new())
    };

    let mut diff = Map::new();
    let before = match &original {
        Some(o) if ctx.diff && !o.is_empty() => String::from_utf8_lossy(o).into_owned(),
        _ => String::new(),
    };
    diff.insert("before".into(), json!(before));
    diff.insert("after".into(), json!(""));
    diff.insert(
        "before_header".into(),
        json!(format!("{path_text} (content)")),
    );
    diff.insert(
        "after_header".into(),
        json!(format!("{path_text} (content)")),
    );

    let present = s("state").as_deref() != Some("absent");
    if !present && !path_exists {
        let mut r = Map::new();
        r.insert("changed".into(), json!(false));
        r.insert("msg".into(), json!(format!("File {path_text} not present")));
        return Ok(r);
    }
    let insertbefore = s("insertbefore");
    let mut insertafter = s("insertafter");
    if insertbefore.is_none() && insertafter.is_none() {
        insertafter = Some("EOF".into());
    }
    let insert_pattern = match (&insertafter, &insertbefore) {
        (Some(a), _) if a != "EOF" => Some(a.as_str()),
        (None, Some(b)) if b != "BOF" => Some(b.as_str()),
        _ => None,
    };
    let insert_re = insert_pattern.map(compile_bytes).transpose()?;

    let marker = s("marker").unwrap_or_default();
    let marker_line = |mark: &str| [marker.replace("{mark}", mark).as_bytes(), NL].concat();
    let marker0 = marker_line(&s("marker_begin").unwrap_or_default());
    let marker1 = marker_line(&s("marker_end").unwrap_or_default());
    let mut block = s("block").unwrap_or_default().into_bytes();
    let block_lines = if present && !block.is_empty() {
        if !block.ends_with(NL) {
            block.extend_from_slice(NL);
        }
        let mut v = vec![marker0.clone()];
        v.extend(split_lines_keepends(&block));
        v.push(marker1.clone());
        v
    } else {
        Vec::new()
    };

    let n0_found = lines.iter().rposition(|l| *l == marker0);
    let n1_found = lines.iter().rposition(|l| *l == marker1);
    let mut n0 = match (n0_found, n1_found) {
        (Some(a), Some(b)) if a < b => {
            lines.drain(a..=b);
            a
        }
        (Some(a), Some(b)) => {
            lines.drain(b..=a);
            b
        }
        _ => {
            let mut at = None;
            if let (Some(re), Some(pattern)) = (&insert_re, insert_pattern) {
                if rsible_pyre::sets_flag(pattern, 'm') {
                    let whole = original.clone().unwrap_or_default();
                    if let Some((start, end)) = re.find(&whole).map_err(ModuleFail::msg)? {
                        let upto = if insertafter.is_some() { end } else { start };
                        at = Some(whole[..upto].iter().filter(|&&c| c == b'\n').count());
                    }
                } else {
                    for (n, l) in lines.iter().enumerate().rev() {
                        if re.is_match(l).map_err(ModuleFail::msg)? {
                            at = Some(n);
                            break;
                        }
                    }
                }
                match at {
                    None => lines.len(),
                    Some(n) if insertafter.is_some() => n + 1,
                    Some(n) => n,
                }
            } else if insertbefore.is_some() {
                0
            } else {
                lines.len()
            }
        }
    };
    // Python would raise past the end; stay within the file instead.
    n0 = n0.min(lines.len());
    if n0 > 0 && !lines[n0 - 1].ends_with(NL) {
        lines[n0 - 1].extend_from_slice(NL);
    }
    if b("prepend_newline") && present && n0 != 0 && lines[n0 - 1] != NL {
        lines.insert(n0, NL.to_vec());
        n0 += 1;
    }
    let inserted = block_lines.len();
    lines.splice(n0..n0, block_lines);
    if b("append_newline") && present {
        let after_block = n0 + inserted;
        if after_block < lines.len() && lines[after_block] != NL {
            lines.insert(after_block, NL.to_vec());
        }
    }
    let result = lines.concat();
    if ctx.diff {
        diff.insert(
            "after".into(),
            json!(String::from_utf8_lossy(&result).into_owned()),
        );
    }

    let (msg, changed) = match &original {
        Some(o) if *o == result => ("", false),
        None => ("File created", true),
        Some(_) if inserted == 0 => ("Block removed", true),
        Some(_) => ("Block inserted", true),
    };
    let mut backup_file = None;
    if changed && !ctx.check_mode {
        if b("backup") && path_exists {
            backup_file = Some(backup_local(path)?);
        }
        write_changes(params, path, &result)?;
    }
    let mut r = Map::new();
    if ctx.check_mode && !path_exists {
        r.insert("changed".into(), json!(changed));
        r.insert("msg".into(), json!(msg));
        r.insert("diff".into(), Value::Object(diff));
        return Ok(r);
    }
    let mut attr_diff = Map::new();
    let (msg, changed) =
        check_file_attrs(params, path, ctx, changed, msg.into(), Some(&mut attr_diff))?;
    attr_diff.insert(
        "before_header".into(),
        json!(format!("{path_text} (file attributes)")),
    );
    attr_diff.insert(
        "after_header".into(),
        json!(format!("{path_text} (file attributes)")),
    );
    r.insert("changed".into(), json!(changed));
    r.insert("msg".into(), json!(msg));
    r.insert(
        "diff".into(),
        json!([Value::Object(diff), Value::Object(attr_diff)]),
    );
    if let Some(bf) = backup_file {
        r.insert("backup_file".into(), json!(bf));
    }
    Ok(r)
}

#[cfg(test)]
mod tests {
    use super::super::run_module;
    use super::*;

    fn call(args: Value) -> Value {
        run_module(
            "blockinfile",
            args.as_object().unwrap(),
            &ModuleContext::default(),
        )
    }

    #[test]
    fn insert_update_remove_cycle() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("f");
        fs::write(&p, "head\nno-newline").unwrap();
        let r = call(json!({"path": p, "block": "a\nb"}));
        assert_eq!(r["msg"], json!("Block inserted"), "{r}");
        assert_eq!(
            fs::read_to_string(&p).unwrap(),
            "head\nno-newline\n# BEGIN ANSIBLE MANAGED BLOCK\na\nb\n# END ANSIBLE MANAGED BLOCK\n"
        );
        let r = call(json!({"path": p, "block": "a\nb"}));
        assert_eq!(r["changed"], json!(false));
        assert_eq!(r["msg"], json!(""));
        let r = call(json!({"path": p, "content": "c"}));
        assert_eq!(r["changed"], json!(true));
        assert!(fs::read_to_string(&p).unwrap().contains("BLOCK\nc\n# END"));
        let r = call(json!({"path": p, "state": "absent", "backup": true}));
        assert_eq!(r["msg"], json!("Block removed"));
        assert_eq!(fs::read_to_string(&p).unwrap(), "head\nno-newline\n");
        assert!(r["backup_file"].as_str().is_some());
    }

    #[test]
    fn insertbefore_custom_markers_and_newlines() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("f");
        fs::write(&p, "one\ntwo\n").unwrap();
        let r = call(json!({
            "path": p, "block": "X", "insertbefore": "^two",
            "marker": "<!-- {mark} -->", "marker_begin": "start", "marker_end": "stop",
            "prepend_newline": true, "append_newline": true
        }));
        assert_eq!(r["changed"], json!(true), "{r}");
        assert_eq!(
            fs::read_to_string(&p).unwrap(),
            "one\n\n<!-- start -->\nX\n<!-- stop -->\n\ntwo\n"
        );
        let r = call(json!({"path": p, "block": "Y", "insertbefore": "BOF"}));
        assert_eq!(r["changed"], json!(true));
        assert!(fs::read_to_string(&p)
            .unwrap()
            .starts_with("# BEGIN ANSIBLE MANAGED BLOCK\nY\n"));
    }

    #[test]
    fn create_and_missing_file() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("d/new");
        let r = call(json!({"path": p, "block": "x"}));
        assert_eq!(r["rc"], json!(257));
        assert_eq!(
            r["msg"],
            json!(format!("Path {} does not exist !", p.display()))
        );
        let r = call(json!({"path": p, "block": "x", "create": true, "mode": "0640"}));
        assert_eq!(
            r["msg"],
            json!("File created and ownership, perms or SE linux context changed"),
            "{r}"
        );
        // Reference: the create check comes first, so only create=true reaches this.
        let r = call(json!({"path": dir.path().join("nope"), "state": "absent", "create": true}));
        assert_eq!(
            r["msg"],
            json!(format!(
                "File {} not present",
                dir.path().join("nope").display()
            ))
        );
    }

    #[test]
    fn splitlines_like_python() {
        assert_eq!(
            split_lines_keepends(b"a\r\nb\rc\nd"),
            vec![
                b"a\r\n".to_vec(),
                b"b\r".to_vec(),
                b"c\n".to_vec(),
                b"d".to_vec()
            ]
        );
    }
}
