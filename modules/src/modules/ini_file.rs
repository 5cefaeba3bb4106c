//! `community.general.ini_file`: set or remove options and sections of INI files,
//! following the collection module's line-based algorithm (so comments, blank lines and
//! ordering are kept exactly as it keeps them).

use super::file::with_file_common_params;
use super::lineinfile::{backup_local, check_mutually_exclusive, write_changes};
use super::{Kind, ModuleContext, ModuleFail, ModuleOutcome, Param, ParamDefault};
use crate::util::fs_attrs::{py_os_error, set_fs_attributes_if_different, FileArgs};
use regex::Regex;
use serde_json::{json, Map, Value};
use std::fs;
use std::path::{Path, PathBuf};

pub const SPEC: &[Param] = &with_file_common_params![
    Param::new("path", Kind::Path).required().aliases(&["dest"]),
    Param::new("section", Kind::Str),
    Param::new("section_has_values", Kind::Raw),
    Param::new("option", Kind::Str),
    Param::new("value", Kind::Str),
    Param::new("values", Kind::List),
    Param::new("backup", Kind::Bool).default(ParamDefault::Bool(false)),
    Param::new("state", Kind::Str)
        .default(ParamDefault::Str("present"))
        .choices(&["absent", "present"]),
    Param::new("exclusive", Kind::Bool).default(ParamDefault::Bool(true)),
    Param::new("no_extra_spaces", Kind::Bool).default(ParamDefault::Bool(false)),
    Param::new("ignore_spaces", Kind::Bool).default(ParamDefault::Bool(false)),
    Param::new("allow_no_value", Kind::Bool).default(ParamDefault::Bool(false)),
    Param::new("modify_inactive_option", Kind::Bool).default(ParamDefault::Bool(true)),
    Param::new("create", Kind::Bool).default(ParamDefault::Bool(true)),
    Param::new("follow", Kind::Bool).default(ParamDefault::Bool(false)),
];

/// A placeholder section that holds the lines before the first real section, so that
/// section-less options are handled like any other section (the module's own trick).
const FAKE_SECTION: &str = "ad01e11446efb704fcdbdb21f2c43757423d91c5";

/// One `section_has_values` condition: the section must hold `option` with one of `values`.
struct Condition {
    option: String,
    values: Vec<String>,
}

struct Settings {
    exclusive: bool,
    no_extra_spaces: bool,
    ignore_spaces: bool,
    allow_no_value: bool,
    modify_inactive_option: bool,
}

impl Settings {
    fn assignment(&self, option: &str, value: &str) -> String {
        if self.no_extra_spaces {
            format!("{option}={value}\n")
        } else {
            format!("{option} = {value}\n")
        }
    }
}

/// The option line pattern. Groups as in the module: 2 is the comment marker (only
/// when inactive options count), 8 the value. Matched against a line without its
/// trailing newline (see `body`), where `$` means what Python's `$` means on the line.
fn option_regex(option: &str, inactive_too: bool) -> Option<Regex> {
    let marker = if inactive_too { "([#;]?)" } else { "()" };
    let lead = if inactive_too { "( |\\t)*" } else { "()" };
    Regex::new(&format!(
        "^{lead}{marker}( |\\t)*({})( |\\t)*(=|$)( |\\t)*(.*)",
        regex::escape(option)
    ))
    .ok()
}

struct OptionMatcher {
    any: Regex,
    active: Regex,
    modify_inactive: bool,
}

impl OptionMatcher {
    fn new(option: &str, modify_inactive: bool) -> Result<OptionMatcher, ModuleFail> {
        let bad = || ModuleFail::msg(format!("rsible agent: cannot match option {option:?}"));
        Ok(OptionMatcher {
            any: option_regex(option, true).ok_or_else(bad)?,
            active: option_regex(option, false).ok_or_else(bad)?,
            modify_inactive,
        })
    }
    /// The module's `match_function`: commented-out options count unless told not to.
    fn matches(&self, line: &str) -> Option<String> {
        let re = if self.modify_inactive {
            &self.any
        } else {
            &self.active
        };
        re.captures(body(line))
            .map(|c| c.get(8).map_or("", |m| m.as_str()).to_string())
    }
    fn active_value(&self, line: &str) -> Option<String> {
        self.active
            .captures(body(line))
            .map(|c| c.get(8).map_or("", |m| m.as_str()).to_string())
    }
}

/// A line without its one trailing newline: Python's `re.match(..., line)` with `$`
/// matching before that newline, with no chance of matching on a later "line".
fn body(line: &str) -> &str {
    line.strip_suffix('\n').unwrap_or(line)
}

pub fn run(params: &Map<String, Value>, ctx: &ModuleContext) -> ModuleOutcome {
    check_mutually_exclusive(params, &[&["value", "values"]])?;
    let s = |k: &str| params.get(k).and_then(Value::as_str).map(str::to_string);
    let b = |k: &str| params.get(k).and_then(Value::as_bool).unwrap_or(false);
    let path = s("path").unwrap_or_default();
    let state = s("state").unwrap_or_else(|| "present".into());
    let value = s("value");
    let values_param: Option<Vec<String>> =
        params.get("values").and_then(Value::as_array).map(|a| {
            a.iter()
                .filter_map(|v| v.as_str().map(str::to_string))
                .collect()
        });
    let settings = Settings {
        exclusive: b("exclusive"),
        no_extra_spaces: b("no_extra_spaces"),
        ignore_spaces: b("ignore_spaces"),
        allow_no_value: b("allow_no_value"),
        modify_inactive_option: b("modify_inactive_option"),
    };
    if state == "present"
        && !settings.allow_no_value
        && value.is_none()
        && values_param.as_ref().is_none_or(Vec::is_empty)
    {
        return Err(ModuleFail::msg(
            "Parameter 'value(s)' must be defined if state=present and allow_no_value=False.",
        ));
    }
    let values = match value {
        Some(v) => vec![v],
        None => values_param.unwrap_or_default(),
    };
    let conditions = parse_conditions(params.get("section_has_values"))?;
    let edit = Edit {
        filename: path.clone(),
        section: s("section"),
        conditions,
        option: s("option"),
        values,
        state,
        backup: b("backup"),
        create: b("create"),
        follow: b("follow"),
        settings,
    };
    let outcome = do_ini(&edit, ctx)?;
    let mut changed = outcome.changed;
    if !ctx.check_mode && Path::new(&path).exists() {
        changed = set_fs_attributes_if_different(
            Path::new(&path),
            &FileArgs::from_params(params),
            changed,
            false,
            None,
        )?;
    }
    let mut r = Map::new();
    r.insert("changed".into(), json!(changed));
    r.insert("diff".into(), Value::Object(outcome.diff));
    r.insert("msg".into(), json!(outcome.msg));
    r.insert("path".into(), json!(path));
    if let Some(backup) = outcome.backup_file {
        r.insert("backup_file".into(), json!(backup));
    }
    Ok(r)
}

fn parse_conditions(raw: Option<&Value>) -> Result<Option<Vec<Condition>>, ModuleFail> {
    let Some(Value::Array(items)) = raw else {
        return Ok(None);
    };
    let text = |v: &Value| match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    let mut out = Vec::new();
    for item in items {
        let Value::Object(m) = item else {
            return Err(ModuleFail::msg(
                "Elements value for option 'section_has_values' is of type <class 'str'> and we were unable to convert to dict: dictionary requested, could not parse JSON or key=value",
            ));
        };
        let Some(option) = m.get("option").filter(|v| !v.is_null()) else {
            return Err(ModuleFail::msg(
                "missing required arguments: option found in section_has_values",
            ));
        };
        let values = match (m.get("value"), m.get("values")) {
            (Some(v), _) if !v.is_null() => vec![text(v)],
            (_, Some(Value::Array(vs))) => vs.iter().map(text).collect(),
            _ => Vec::new(),
        };
        out.push(Condition {
            option: text(option),
            values,
        });
    }
    Ok(Some(out))
}

struct Edit {
    filename: String,
    section: Option<String>,
    conditions: Option<Vec<Condition>>,
    option: Option<String>,
    values: Vec<String>,
    state: String,
    backup: bool,
    create: bool,
    follow: bool,
    settings: Settings,
}

struct Outcome {
    changed: bool,
    backup_file: Option<String>,
    diff: Map<String, Value>,
    msg: String,
}

/// Read like Python's text mode with `utf-8-sig`: BOM dropped, `\r\n` and `\r` read as
/// `\n`, lines split after each `\n`.
fn read_ini_lines(path: &Path) -> Result<Vec<String>, ModuleFail> {
    let bytes = fs::read(path).map_err(|e| ModuleFail::msg(py_os_error(&e, path)))?;
    let text = String::from_utf8_lossy(&bytes);
    let text = text.strip_prefix('\u{feff}').unwrap_or(&text);
    let text = text.replace("\r\n", "\n").replace('\r', "\n");
    Ok(text.split_inclusive('\n').map(str::to_string).collect())
}

fn section_has_values(conditions: &Option<Vec<Condition>>, lines: &[String]) -> bool {
    let Some(conditions) = conditions else {
        return true;
    };
    conditions.iter().all(|c| {
        let Some(re) = option_regex(&c.option, true) else {
            return false;
        };
        lines.iter().any(|line| {
            re.captures(body(line)).is_some_and(|m| {
                c.values.is_empty()
                    || c.values
                        .iter()
                        .any(|v| Some(v.as_str()) == m.get(8).map(|g| g.as_str()))
            })
        })
    })
}

fn do_ini(e: &Edit, ctx: &ModuleContext) -> Result<Outcome, ModuleFail> {
    let st = &e.settings;
    let mut values: Vec<String> = Vec::new();
    for v in &e.values {
        if !values.contains(v) {
            values.push(v.clone());
        }
    }
    let mut diff = Map::new();
    diff.insert("before".into(), json!(""));
    diff.insert("after".into(), json!(""));
    diff.insert(
        "before_header".into(),
        json!(format!("{} (content)", e.filename)),
    );
    diff.insert(
        "after_header".into(),
        json!(format!("{} (content)", e.filename)),
    );

    let link = Path::new(&e.filename);
    let target: PathBuf = if e.follow && link.is_symlink() {
        fs::canonicalize(link).unwrap_or_else(|_| link.to_path_buf())
    } else {
        link.to_path_buf()
    };
    let mut lines: Vec<String> = if !target.exists() {
        if !e.create {
            return Err(ModuleFail::msg(format!(
                "Destination {} does not exist!",
                target.display()
            ))
            .with("rc", json!(257)));
        }
        if let Some(parent) = target.parent().filter(|p| !p.as_os_str().is_empty()) {
            if !parent.exists() && !ctx.check_mode {
                fs::create_dir_all(parent)
                    .map_err(|err| ModuleFail::msg(py_os_error(&err, parent)))?;
            }
        }
        Vec::new()
    } else {
        read_ini_lines(&target)?
    };
    if ctx.diff {
        diff.insert("before".into(), json!(lines.concat()));
    }
    let mut changed = false;
    if lines.is_empty() {
        lines.push("\n".into());
    }
    if let Some(last) = lines.last_mut() {
        if !last.ends_with('\n') {
            last.push('\n');
            changed = true;
        }
    }
    lines.insert(0, format!("[{FAKE_SECTION}]"));
    lines.push("[".into());

    let section = e
        .section
        .clone()
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| FAKE_SECTION.to_string());
    let section_re = Regex::new(&format!(r"^\[\s*{}\s*]", regex::escape(section.trim())))
        .map_err(|err| ModuleFail::msg(format!("rsible agent: section pattern: {err}")))?;

    // Find the section (the first one whose lines satisfy section_has_values).
    let mut within = false;
    let (mut start, mut end) = (0usize, 0usize);
    for (i, line) in lines.iter().enumerate() {
        if within && line.starts_with('[') {
            if section_has_values(&e.conditions, &lines[start..i]) {
                end = i;
                break;
            }
            within = false;
            start = 0;
            end = 0;
        }
        if section_re.is_match(line) {
            within = true;
            start = i;
        }
    }
    let before: Vec<String> = lines[..start].to_vec();
    let mut section_lines: Vec<String> = lines[start..end].to_vec();
    let after: Vec<String> = lines[end..].to_vec();
    let mut changed_lines = vec![false; section_lines.len()];
    let mut msg = String::from("OK");
    let mut no_value_present = false;

    let matcher = match &e.option {
        Some(o) => Some(OptionMatcher::new(o, st.modify_inactive_option)?),
        None => None,
    };
    let option = e.option.clone().unwrap_or_default();
    // update_section_line: replace the line when it differs (or, with ignore_spaces,
    // when an active option's value differs).
    let update = |section_lines: &mut Vec<String>,
                  changed_lines: &mut Vec<bool>,
                  index: usize,
                  newline: String,
                  changed: &mut bool,
                  msg: &mut String,
                  m: &OptionMatcher| {
        let mut option_changed = None;
        if st.ignore_spaces {
            if let Some(old) = m.any.captures(body(&section_lines[index])) {
                if old.get(2).is_none_or(|g| g.as_str().is_empty()) {
                    let old_value = old.get(8).map_or("", |g| g.as_str());
                    let new_value = m
                        .any
                        .captures(body(&newline))
                        .and_then(|c| c.get(8).map(|g| g.as_str().to_string()))
                        .unwrap_or_default();
                    option_changed = Some(old_value != new_value);
                }
            }
        }
        let option_changed = option_changed.unwrap_or(section_lines[index] != newline);
        if option_changed {
            section_lines[index] = newline;
            *changed = true;
            *msg = "option changed".into();
        }
        changed_lines[index] = true;
    };

    if e.state == "present" {
        if let (Some(m), false) = (&matcher, option.is_empty()) {
            for index in 0..section_lines.len() {
                let Some(current) = m.matches(&section_lines[index]) else {
                    continue;
                };
                if !values.is_empty() && values.contains(&current) {
                    let newline = if current.is_empty() && st.allow_no_value {
                        no_value_present = true;
                        format!("{option}\n")
                    } else {
                        st.assignment(&option, &current)
                    };
                    update(
                        &mut section_lines,
                        &mut changed_lines,
                        index,
                        newline,
                        &mut changed,
                        &mut msg,
                        m,
                    );
                    if let Some(pos) = values.iter().position(|v| *v == current) {
                        values.remove(pos);
                    }
                } else if values.is_empty() && st.allow_no_value {
                    update(
                        &mut section_lines,
                        &mut changed_lines,
                        index,
                        format!("{option}\n"),
                        &mut changed,
                        &mut msg,
                        m,
                    );
                    no_value_present = true;
                    break;
                }
            }
        }
    }

    if e.state == "present" && st.exclusive && !st.allow_no_value {
        if let Some(m) = &matcher {
            if !values.is_empty() {
                for index in 0..section_lines.len() {
                    if !changed_lines[index] && m.matches(&section_lines[index]).is_some() {
                        let v = values.remove(0);
                        update(
                            &mut section_lines,
                            &mut changed_lines,
                            index,
                            st.assignment(&option, &v),
                            &mut changed,
                            &mut msg,
                            m,
                        );
                        if values.is_empty() {
                            break;
                        }
                    }
                }
            }
            // Remaining matches of the option are surplus (index 0 is the header).
            for index in (1..section_lines.len()).rev() {
                if !changed_lines[index] && m.matches(&section_lines[index]).is_some() {
                    section_lines.remove(index);
                    changed_lines.remove(index);
                    changed = true;
                    msg = "option changed".into();
                }
            }
        } else if !values.is_empty() {
            // No option given: the module's match on an empty option never hits
            // anything but the value list stays for the insertion step below.
        }
    }

    if e.state == "present" {
        let blank_or_comment = Regex::new(r"^[ \t]*([#;].*)?$")
            .map_err(|err| ModuleFail::msg(format!("rsible agent: comment pattern: {err}")))?;
        for index in (1..=section_lines.len()).rev() {
            if blank_or_comment.is_match(body(&section_lines[index - 1])) {
                continue;
            }
            if !option.is_empty() && !values.is_empty() {
                for v in values.iter().rev() {
                    section_lines.insert(index, st.assignment(&option, v));
                    msg = "option added".into();
                    changed = true;
                }
            } else if !option.is_empty()
                && values.is_empty()
                && st.allow_no_value
                && !no_value_present
            {
                section_lines.insert(index, format!("{option}\n"));
                msg = "option added".into();
                changed = true;
            }
            break;
        }
    }

    if e.state == "absent" {
        if let (Some(m), false) = (&matcher, option.is_empty()) {
            let kept: Vec<String> = if st.exclusive {
                section_lines
                    .iter()
                    .filter(|l| m.active_value(l).is_none())
                    .cloned()
                    .collect()
            } else if !values.is_empty() {
                section_lines
                    .iter()
                    .filter(|l| !m.active_value(l).is_some_and(|v| values.contains(&v)))
                    .cloned()
                    .collect()
            } else {
                section_lines.clone()
            };
            if kept != section_lines {
                changed = true;
                msg = "option changed".into();
                section_lines = kept;
            }
        } else if !section_lines.is_empty() {
            section_lines.clear();
            msg = "section removed".into();
            changed = true;
        }
    }

    let mut lines: Vec<String> = before;
    lines.extend(section_lines);
    lines.extend(after);
    lines.remove(0);
    lines.pop();

    if !within && e.state == "present" {
        lines.push(format!("[{section}]\n"));
        msg = "section and option added".into();
        if let Some(conditions) = &e.conditions {
            for c in conditions {
                if c.option != option {
                    if !c.values.is_empty() {
                        for v in &c.values {
                            lines.push(st.assignment(&c.option, v));
                        }
                    } else if st.allow_no_value {
                        lines.push(format!("{}\n", c.option));
                    }
                } else if !st.exclusive {
                    for v in &c.values {
                        if !values.contains(v) {
                            values.push(v.clone());
                        }
                    }
                }
            }
        }
        if !option.is_empty() && !values.is_empty() {
            for v in &values {
                lines.push(st.assignment(&option, v));
            }
        } else if !option.is_empty() && values.is_empty() && st.allow_no_value {
            lines.push(format!("{option}\n"));
        } else {
            msg = "only section added".into();
        }
        changed = true;
    }
    if ctx.diff {
        diff.insert("after".into(), json!(lines.concat()));
    }

    let mut backup_file = None;
    if changed && !ctx.check_mode {
        if e.backup {
            backup_file = Some(if target.exists() {
                backup_local(&target)?
            } else {
                String::new()
            });
        }
        let abs = std::path::absolute(&target).unwrap_or(target.clone());
        write_changes(&Map::new(), &abs, lines.concat().as_bytes())?;
    }
    Ok(Outcome {
        changed,
        backup_file,
        diff,
        msg,
    })
}

#[cfg(test)]
mod tests {
    use super::super::run_module;
    use super::*;

    fn call(args: Value, check: bool) -> Value {
        let ctx = ModuleContext {
            check_mode: check,
            diff: true,
            ..Default::default()
        };
        run_module(
            "community.general.ini_file",
            args.as_object().unwrap(),
            &ctx,
        )
    }

    #[test]
    fn adds_section_then_replaces_value_then_is_idempotent() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("sub/a.ini");
        let args = json!({"path": p, "section": "s", "option": "k", "value": "1"});
        let r = call(args.clone(), false);
        assert_eq!(r["msg"], json!("section and option added"), "{r}");
        assert_eq!(r["changed"], json!(true));
        assert_eq!(fs::read_to_string(&p).unwrap(), "\n[s]\nk = 1\n");
        let r = call(args, false);
        assert_eq!(r["changed"], json!(false));
        assert_eq!(r["msg"], json!("OK"));
        let r = call(
            json!({"path": p, "section": "s", "option": "k", "value": "2", "no_extra_spaces": true}),
            false,
        );
        assert_eq!(r["msg"], json!("option changed"));
        assert_eq!(fs::read_to_string(&p).unwrap(), "\n[s]\nk=2\n");
    }

    #[test]
    fn commented_option_is_reused_and_absent_removes() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("a.ini");
        fs::write(&p, "[main]\n# gpgcheck = 0\nname=x\n\n[other]\na=b\n").unwrap();
        let r = call(
            json!({"path": p, "section": "main", "option": "gpgcheck", "value": "1"}),
            false,
        );
        assert_eq!(r["changed"], json!(true));
        assert_eq!(
            fs::read_to_string(&p).unwrap(),
            "[main]\ngpgcheck = 1\nname=x\n\n[other]\na=b\n"
        );
        let r = call(
            json!({"path": p, "section": "other", "option": "a", "state": "absent"}),
            false,
        );
        assert_eq!(r["msg"], json!("option changed"));
        assert_eq!(
            fs::read_to_string(&p).unwrap(),
            "[main]\ngpgcheck = 1\nname=x\n\n[other]\n"
        );
    }

    #[test]
    fn check_mode_changes_nothing_and_missing_value_fails() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("a.ini");
        let r = call(
            json!({"path": p, "section": "s", "option": "k", "value": "v"}),
            true,
        );
        assert_eq!(r["changed"], json!(true));
        assert!(!p.exists());
        assert_eq!(r["diff"]["after"], json!("\n[s]\nk = v\n"));
        let r = call(json!({"path": p, "section": "s", "option": "k"}), false);
        assert_eq!(
            r["msg"],
            json!(
                "Parameter 'value(s)' must be defined if state=present and allow_no_value=False."
            )
        );
        let r = call(
            json!({"path": p, "section": "s", "option": "k", "value": "v", "create": false}),
            false,
        );
        assert_eq!(r["rc"], json!(257));
    }
}
