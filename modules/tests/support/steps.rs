//! A step: one module call with its arguments, run the same way on both sides.
//! Arguments may hold placeholders (`@D@` for a case directory, ...), filled in per
//! side by `substituted`.

use rsible_modules::{run_module, ModuleContext};
use serde_json::{json, Map, Value};

#[derive(Clone)]
pub struct Step {
    pub module: &'static str,
    pub args: Value,
    pub check_mode: bool,
    /// Keys whose values differ by nature (temporary or random names): only their
    /// presence is compared.
    pub volatile: &'static [&'static str],
}

pub fn step(module: &'static str, args: Value) -> Step {
    Step {
        module,
        args,
        check_mode: false,
        volatile: &[],
    }
}

pub fn checked(module: &'static str, args: Value) -> Step {
    Step {
        check_mode: true,
        ..step(module, args)
    }
}

/// A step run twice: the second run must report what the reference reports (no change).
pub fn twice(module: &'static str, args: Value) -> Vec<Step> {
    vec![step(module, args.clone()), step(module, args)]
}

/// `args` with each placeholder replaced by its value (in the JSON text, so nested
/// strings are filled in too); not a mapping gives no arguments.
pub fn substituted(args: &Value, substitutions: &[(&str, &str)]) -> Map<String, Value> {
    let text = substitutions
        .iter()
        .fold(args.to_string(), |text, (placeholder, value)| {
            text.replace(placeholder, value)
        });
    serde_json::from_str::<Value>(&text)
        .ok()
        .and_then(|v| v.as_object().cloned())
        .unwrap_or_default()
}

impl Step {
    /// The reference's task for this step: errors ignored so that every step runs;
    /// `diff` asks for before/after (left out, the default: off).
    pub fn reference_task(&self, name: String, args: Map<String, Value>, diff: bool) -> Value {
        let mut task = Map::new();
        task.insert("name".into(), json!(name));
        task.insert(self.module.into(), Value::Object(args));
        task.insert("ignore_errors".into(), json!(true));
        task.insert("check_mode".into(), json!(self.check_mode));
        if diff {
            task.insert("diff".into(), json!(true));
        }
        Value::Object(task)
    }

    /// Our result for this step, run natively in this process.
    pub fn run_ours(&self, args: &Map<String, Value>, diff: bool) -> Value {
        let ctx = ModuleContext {
            check_mode: self.check_mode,
            diff,
            ..Default::default()
        };
        run_module(self.module, args, &ctx)
    }
}
