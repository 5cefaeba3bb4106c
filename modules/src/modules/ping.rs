//! `ping`: answers "pong" (or `data`); `data=crash` raises, as in Ansible.

use super::{Kind, ModuleContext, ModuleFail, ModuleOutcome, Param, ParamDefault};
use serde_json::{json, Map, Value};

pub const SPEC: &[Param] = &[Param::new("data", Kind::Str).default(ParamDefault::Str("pong"))];

pub fn run(params: &Map<String, Value>, _ctx: &ModuleContext) -> ModuleOutcome {
    let data = params.get("data").cloned().unwrap_or(json!("pong"));
    if data == json!("crash") {
        return Err(ModuleFail::msg("boom").with("exception", json!("Exception: boom")));
    }
    let mut r = Map::new();
    r.insert("ping".into(), data);
    Ok(r)
}
