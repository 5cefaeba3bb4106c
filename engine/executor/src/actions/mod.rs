//! Controller-side actions (Ansible's action plugins that never reach the
//! target): debug, set_fact, assert, fail. Each returns the task's result.

pub mod include_vars;

use indexmap::IndexMap;
use rsible_templar::{to_json, Templar, Value, VarSource};
use serde_json::{json, Map, Value as Json};

/// The result of an action, plus facts for the host when it set some.
pub struct ActionOutcome {
    pub result: Map<String, Json>,
    pub set_facts: IndexMap<String, Value>,
}

impl ActionOutcome {
    fn plain(result: Map<String, Json>) -> Self {
        ActionOutcome {
            result,
            set_facts: IndexMap::new(),
        }
    }
}

fn obj(v: Json) -> Map<String, Json> {
    match v {
        Json::Object(m) => m,
        _ => Map::new(),
    }
}

fn error(msg: impl Into<String>) -> ActionOutcome {
    ActionOutcome::plain(obj(json!({"failed": true, "msg": msg.into()})))
}

/// `debug`: `msg` (default "Hello world!") or `var`, shown at `verbosity`.
pub fn debug(
    args: &Map<String, Json>,
    raw_var: Option<&str>,
    templar: &Templar,
    scope: &dyn VarSource,
    verbosity: u8,
) -> ActionOutcome {
    if args.contains_key("msg") && args.contains_key("var") {
        return error("'msg' and 'var' are incompatible options");
    }
    let wanted = args.get("verbosity").and_then(Json::as_u64).unwrap_or(0);
    if u64::from(verbosity) < wanted {
        return ActionOutcome::plain(obj(json!({
            "changed": false,
            "skipped_reason": "Verbosity threshold not met.",
            "skipped": true,
            "_ansible_verbose_always": true
        })));
    }
    let mut result = Map::new();
    if let Some(var) = raw_var {
        // `var` is an expression evaluated as `{{ var }}`; undefined prints a message.
        let expr = format!("{{{{ {var} }}}}");
        let value = match templar.template_str(&expr, scope) {
            Ok(v) => to_json(&v),
            // Ansible adds the reason from -v on.
            Err(e) if e.is_undefined() && verbosity > 0 => {
                Json::String(format!("VARIABLE IS NOT DEFINED!: {}", e))
            }
            Err(e) if e.is_undefined() => Json::String("VARIABLE IS NOT DEFINED!".into()),
            // e.g. a vaulted value no secret opens: the task fails, as in Ansible
            Err(e) => {
                // raised out of Ansible's action: it ends a loop (loop_abort.rs)
                let mut out = error(e.to_string());
                out.result.insert(
                    crate::play_exec::loop_abort::RAISED.into(),
                    Json::Bool(true),
                );
                return out;
            }
        };
        result.insert(var.to_string(), value);
    } else {
        let msg = args
            .get("msg")
            .cloned()
            .unwrap_or_else(|| Json::String("Hello world!".into()));
        result.insert("msg".into(), msg);
    }
    result.insert("_ansible_verbose_always".into(), Json::Bool(true));
    result.insert("changed".into(), Json::Bool(false));
    ActionOutcome::plain(result)
}

/// The expression `debug`'s `var` names. Ansible templates the task's
/// arguments first, so `var: "{{ loop_item }}"` names the variable the item
/// holds; a plain `var: a.b` stays as written (the templated form would have
/// lost it to native conversion, e.g. `var: 1`).
pub fn debug_var_expr(raw: Option<&str>, templated: Option<&Json>) -> Option<String> {
    let raw = raw?;
    if raw.contains("{{") || raw.contains("{%") {
        if let Some(Json::String(name)) = templated {
            return Some(name.clone());
        }
    }
    Some(raw.to_string())
}

/// `set_fact`: every argument except `cacheable` becomes a host fact.
pub fn set_fact(args: &IndexMap<String, Value>) -> ActionOutcome {
    let mut facts = IndexMap::new();
    let mut shown = Map::new();
    for (k, v) in args {
        if k == "cacheable" {
            continue;
        }
        facts.insert(k.clone(), v.clone());
        shown.insert(k.clone(), to_json(v));
    }
    if facts.is_empty() {
        return error(
            "No key/value pairs provided, at least one is required for this action to succeed",
        );
    }
    let cacheable = args.get("cacheable").map(|v| v.is_true()).unwrap_or(false);
    let result = obj(json!({"ansible_facts": shown, "_ansible_no_log": false, "changed": false}));
    let _ = cacheable;
    ActionOutcome {
        result,
        set_facts: facts,
    }
}

/// `fail`: always fails with `msg` (default "Failed as requested from task").
pub fn fail(args: &Map<String, Json>) -> ActionOutcome {
    let msg = args
        .get("msg")
        .cloned()
        .unwrap_or_else(|| Json::String("Failed as requested from task".into()));
    ActionOutcome::plain(obj(json!({"failed": true, "msg": msg, "changed": false})))
}

/// `assert`: evaluates each condition of `that` in turn. An error names the
/// index of the condition that raised it.
pub fn assert(
    that: &[Value],
    args: &Map<String, Json>,
    templar: &Templar,
    scope: &dyn VarSource,
) -> Result<ActionOutcome, (usize, rsible_templar::TemplateError)> {
    let quiet = args.get("quiet").map(json_truthy).unwrap_or(false);
    for (index, cond) in that.iter().enumerate() {
        if !templar
            .evaluate_conditional(cond, scope)
            .map_err(|e| (index, e))?
        {
            let msg = args
                .get("fail_msg")
                .or_else(|| args.get("msg"))
                .cloned()
                .unwrap_or_else(|| Json::String("Assertion failed".into()));
            let cond_text = cond
                .as_str()
                .map(str::to_string)
                .unwrap_or_else(|| cond.to_string());
            return Ok(ActionOutcome::plain(obj(json!({
                "failed": true,
                "evaluated_to": false,
                "assertion": cond_text,
                "msg": msg,
                "changed": false
            }))));
        }
    }
    let msg = args
        .get("success_msg")
        .cloned()
        .unwrap_or_else(|| Json::String("All assertions passed".into()));
    let mut result = obj(json!({"changed": false, "msg": msg}));
    if !quiet {
        result.insert("_ansible_verbose_always".into(), Json::Bool(true));
    }
    Ok(ActionOutcome::plain(result))
}

fn json_truthy(v: &Json) -> bool {
    match v {
        Json::Bool(b) => *b,
        Json::String(s) => matches!(
            s.to_ascii_lowercase().as_str(),
            "yes" | "true" | "1" | "on" | "y" | "t"
        ),
        Json::Number(n) => n.as_f64().unwrap_or(0.0) != 0.0,
        _ => false,
    }
}
