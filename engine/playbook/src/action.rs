//! Finding a task's action and arguments among its keys, in all the forms
//! Ansible accepts (its ModuleArgsParser):
//! `shell: echo hi`, `copy: src=a dest=b`, `file: {path: x}`, `action: copy src=a`,
//! `local_action: ...`, `module:` inside `action:`, plus `args:` merged in.

use indexmap::IndexMap;
use rsible_parsing::{parse_kv, split_args};
use rsible_yaml::{Mapping, Mark, Node, Value};

use crate::error::{PlaybookError, Result};
use crate::keywords;
use crate::modules::ModuleRegistry;

#[derive(Debug, Clone)]
pub struct ParsedAction {
    pub action: String,
    pub resolved: Option<String>,
    pub args: IndexMap<String, Node>,
    pub delegate_to: Option<Node>,
}

fn is_template(s: &str) -> bool {
    s.contains("{{") || s.contains("{%") || s.contains("{#")
}

/// A free-form argument string that does not split fails as Ansible's task
/// loader reports it: the parser's error re-raised for the whole task (at the
/// task's position, its message repeated as the original exception's).
fn split_error(e: rsible_parsing::Error, task: &Node) -> PlaybookError {
    PlaybookError::at(format!("{e}. {e}"), &task.mark)
}

fn kv_to_nodes(
    text: &str,
    check_raw: bool,
    mark: &Mark,
    task: &Node,
) -> Result<IndexMap<String, Node>> {
    let parsed = parse_kv(text, check_raw).map_err(|e| split_error(e, task))?;
    Ok(parsed
        .into_iter()
        .map(|(k, v)| (k, Node::new(Value::Str(v), mark.clone())))
        .collect())
}

fn map_to_args(map: &Mapping) -> IndexMap<String, Node> {
    let mut out = IndexMap::new();
    for (k, v) in map.iter() {
        let key = match &k.value {
            Value::Str(s) | Value::Unsafe(s) => s.clone(),
            Value::Int(i) => i.to_string(),
            Value::Bool(b) => {
                if *b {
                    "True".into()
                } else {
                    "False".into()
                }
            }
            _ => continue,
        };
        out.insert(key, v.clone());
    }
    out
}

/// `module_string` split into the module name and the rest.
fn split_module_string(text: &str, task: &Node) -> Result<(String, String)> {
    let tokens = split_args(text).map_err(|e| split_error(e, task))?;
    match tokens.split_first() {
        Some((first, rest)) => Ok((first.trim().to_string(), rest.join(" "))),
        None => Ok((String::new(), String::new())),
    }
}

/// Arguments of `action:`/`local_action:` (old style: the module is inside).
fn old_style(thing: &Node, task: &Node) -> Result<(String, IndexMap<String, Node>)> {
    match &thing.value {
        Value::Map(map) => {
            let mut args = map_to_args(map);
            let mut action = String::new();
            if let Some(module) = args.shift_remove("module") {
                let text = module.as_str().unwrap_or("");
                let (name, rest) = split_module_string(text, task)?;
                let check_raw = keywords::is_freeform(&name);
                args.extend(kv_to_nodes(&rest, check_raw, &module.mark, task)?);
                action = name;
            }
            if let Some(extra) = args.shift_remove("args") {
                match &extra.value {
                    Value::Str(s) => args.extend(kv_to_nodes(s, false, &extra.mark, task)?),
                    Value::Map(m) => args.extend(map_to_args(m)),
                    _ => {}
                }
            }
            Ok((action, args))
        }
        Value::Str(text) | Value::Unsafe(text) => {
            let (name, rest) = split_module_string(text, task)?;
            let check_raw = keywords::is_freeform(&name);
            let args = kv_to_nodes(&rest, check_raw, &thing.mark, task)?;
            Ok((name, args))
        }
        _ => Err(PlaybookError::at(
            format!(
                "unexpected parameter type in action: <class '{}'>",
                thing.type_name()
            ),
            &task.mark,
        )),
    }
}

/// Arguments of `module: thing` (new style).
fn new_style(thing: &Node, action: &str, task: &Node) -> Result<IndexMap<String, Node>> {
    match &thing.value {
        Value::Map(map) => Ok(map_to_args(map)),
        Value::Str(text) | Value::Unsafe(text) => {
            kv_to_nodes(text, keywords::is_freeform(action), &thing.mark, task)
        }
        Value::Null => Ok(IndexMap::new()),
        _ => Err(PlaybookError::at(
            format!(
                "unexpected parameter type in action: <class '{}'>",
                thing.type_name()
            ),
            &task.mark,
        )),
    }
}

fn normalize(
    thing: &Node,
    action: Option<&str>,
    additional: Option<&Node>,
    task: &Node,
) -> Result<(String, IndexMap<String, Node>)> {
    let mut final_args: IndexMap<String, Node> = IndexMap::new();
    if let Some(extra) = additional {
        match &extra.value {
            Value::Map(m) => final_args.extend(map_to_args(m)),
            Value::Str(s) if is_template(s) => {
                final_args.insert("_variable_params".into(), extra.clone());
            }
            Value::Str(_) => {
                return Err(PlaybookError::at(
                    "Complex args containing variables cannot use bare variables (without Jinja2 delimiters), and must use the full variable style ('{{var_name}}')",
                    &task.mark,
                ))
            }
            Value::Null => {}
            _ => {
                return Err(PlaybookError::at(
                    "Complex args must be a dictionary or variable string (\"{{var}}\").",
                    &task.mark,
                ))
            }
        }
    }
    let (action, args) = match action {
        Some(a) => (a.to_string(), new_style(thing, a, task)?),
        None => old_style(thing, task)?,
    };
    if !keywords::is_freeform(&action) {
        if let Some(bad) = args.keys().find(|k| k.starts_with("_ansible_")) {
            return Err(PlaybookError::generic(format!(
                "Invalid parameter specified beginning with keyword '_ansible_' for action '{action}': '{bad}'. The prefix '_ansible_' is reserved for internal use only."
            )));
        }
    }
    final_args.extend(args);
    Ok((action, final_args))
}

/// Parse the action of `task` (a mapping node). With `skip_validation`, every
/// key that is not a task keyword counts as an action (Ansible's first pass,
/// which reports "conflicting action statements"); without it, only keys that
/// name an existing module do.
pub fn parse(
    task: &Node,
    registry: &ModuleRegistry,
    skip_validation: bool,
) -> Result<ParsedAction> {
    let Some(map) = task.as_map() else {
        return Err(PlaybookError::at("task must be a dictionary", &task.mark));
    };
    let mut action: Option<String> = None;
    let mut args = IndexMap::new();
    let mut delegate_to = map.get("delegate_to").cloned();
    let mut resolved = None;
    let additional = map.get("args");

    if let Some(thing) = map.get("action") {
        let (a, ar) = normalize(thing, None, additional, task)?;
        action = Some(a);
        args = ar;
    }
    if let Some(thing) = map.get("local_action") {
        if action.is_some() {
            return Err(PlaybookError::at(
                "action and local_action are mutually exclusive",
                &task.mark,
            ));
        }
        let (a, ar) = normalize(thing, None, additional, task)?;
        action = Some(a);
        args = ar;
        delegate_to = Some(Node::new(
            Value::Str("localhost".into()),
            thing.mark.clone(),
        ));
    }
    if let (Some(a), false) = (&action, skip_validation) {
        resolved = registry.resolve(a);
    }

    let mut first_unknown: Option<String> = None;
    for (key, value) in map.iter() {
        let Some(item) = key_text(key) else { continue };
        if keywords::is_task_attribute(&item) || item.starts_with("with_") {
            continue;
        }
        if first_unknown.is_none() {
            first_unknown = Some(item.clone());
        }
        let candidate = if keywords::is_builtin_task(&item) || skip_validation {
            true
        } else {
            match registry.resolve(&item) {
                Some(fq) => {
                    resolved = Some(fq);
                    true
                }
                None => false,
            }
        };
        if !candidate {
            continue;
        }
        if let Some(existing) = &action {
            return Err(PlaybookError::at(
                format!("conflicting action statements: {existing}, {item}"),
                &task.mark,
            ));
        }
        let (a, ar) = normalize(value, Some(&item), additional, task)?;
        action = Some(a);
        args = ar;
    }

    let Some(action) = action else {
        let message = match first_unknown {
            Some(bad) => format!(
                "couldn't resolve module/action '{bad}'. This often indicates a misspelling, missing collection, or incorrect module path."
            ),
            None => "no module/action detected in task.".to_string(),
        };
        return Err(PlaybookError::at(message, &task.mark));
    };

    let raw_nonempty = args
        .get("_raw_params")
        .is_some_and(|n| n.as_str() != Some(""));
    if raw_nonempty && !keywords::allows_raw_params(&action) {
        let raw = args
            .shift_remove("_raw_params")
            .unwrap_or_else(|| Node::unplaced(Value::Null));
        if raw.as_str().is_some_and(is_template) {
            args.insert("_variable_params".into(), raw);
        } else {
            return Err(PlaybookError::at(
                format!(
                    "this task '{action}' has extra params, which is only allowed in the following modules: {}",
                    keywords::RAW_PARAM_MODULES_SIMPLE.join(", ")
                ),
                &task.mark,
            ));
        }
    }
    Ok(ParsedAction {
        action,
        resolved,
        args,
        delegate_to,
    })
}

/// A mapping key as the string Python would compare (`str(key)` for scalars).
pub fn key_text(key: &Node) -> Option<String> {
    match &key.value {
        Value::Str(s) | Value::Unsafe(s) => Some(s.clone()),
        Value::Int(i) => Some(i.to_string()),
        Value::Bool(b) => Some(if *b { "True".into() } else { "False".into() }),
        Value::Null => Some("None".into()),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn task(yaml: &str) -> Node {
        rsible_yaml::load_str(yaml, None).unwrap().remove(0)
    }

    fn reg() -> ModuleRegistry {
        ModuleRegistry::builtin_only()
    }

    #[test]
    fn free_form_command() {
        let p = parse(&task("name: x\nshell: echo hi chdir=/tmp\n"), &reg(), false).unwrap();
        assert_eq!(p.action, "shell");
        assert_eq!(p.args["_raw_params"].as_str(), Some("echo hi"));
        assert_eq!(p.args["chdir"].as_str(), Some("/tmp"));
    }

    #[test]
    fn kv_and_dict_and_args_merge() {
        let p = parse(
            &task("copy: src=a dest=b\nargs:\n  mode: '0644'\n"),
            &reg(),
            false,
        )
        .unwrap();
        assert_eq!(
            p.args.keys().collect::<Vec<_>>(),
            vec!["mode", "src", "dest"]
        );
        let p = parse(&task("ansible.builtin.file:\n  path: /x\n"), &reg(), false).unwrap();
        assert_eq!(p.action, "ansible.builtin.file");
        assert_eq!(p.resolved.as_deref(), Some("ansible.builtin.file"));
    }

    #[test]
    fn local_action_delegates_to_localhost() {
        let p = parse(&task("local_action: command echo hi\n"), &reg(), false).unwrap();
        assert_eq!(p.action, "command");
        assert_eq!(p.delegate_to.unwrap().as_str(), Some("localhost"));
        let p = parse(
            &task("action:\n  module: copy src=a\n  dest: b\n"),
            &reg(),
            false,
        )
        .unwrap();
        assert_eq!(p.action, "copy");
        assert_eq!(p.args["src"].as_str(), Some("a"));
    }

    #[test]
    fn errors_in_ansible_wording() {
        let e = parse(&task("shell: x\ncommand: y\n"), &reg(), false).unwrap_err();
        assert_eq!(e.message, "conflicting action statements: shell, command");
        let e = parse(&task("shell: x\nfoo: y\n"), &reg(), true).unwrap_err();
        assert_eq!(e.message, "conflicting action statements: shell, foo");
        let e = parse(&task("name: x\n"), &reg(), false).unwrap_err();
        assert_eq!(e.message, "no module/action detected in task.");
        let e = parse(&task("name: x\nnot_a_module: 1\n"), &reg(), false).unwrap_err();
        assert!(e
            .message
            .starts_with("couldn't resolve module/action 'not_a_module'"));
        let e = parse(&task("file: path=/x extra words\n"), &reg(), false).unwrap_err();
        assert!(e.message.starts_with("this task 'file' has extra params"));
    }
}
