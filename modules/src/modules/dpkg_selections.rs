//! `dpkg_selections`: read and set a package's dpkg selection state
//! (`dpkg --get-selections` / `--set-selections`), as ansible-core's module does.

use super::{Kind, ModuleContext, ModuleFail, ModuleOutcome, Param};
use crate::util::locale::best_parsable_locale;
use crate::util::run::{argv, check_rc, required_bin, run};
use serde_json::{json, Map, Value};

pub const SPEC: &[Param] = &[
    Param::new("name", Kind::Str).required(),
    Param::new("selection", Kind::Str).required().choices(&[
        "install",
        "hold",
        "deinstall",
        "purge",
    ]),
];

pub fn run_module(params: &Map<String, Value>, ctx: &ModuleContext) -> ModuleOutcome {
    let dpkg = required_bin("dpkg", ctx)?;
    let name = params["name"].as_str().unwrap_or_default();
    let selection = params["selection"].as_str().unwrap_or_default();
    // dpkg's messages are matched below: run it with a parsable locale, as Ansible does.
    let mut ctx = ctx.clone();
    let locale = best_parsable_locale(&ctx.env);
    for var in ["LANG", "LC_ALL", "LC_MESSAGES", "LC_CTYPE", "LANGUAGE"] {
        ctx.env.insert(var.into(), locale.clone());
    }

    let get = argv([dpkg.as_str(), "--get-selections", name]);
    let out = run(&get, &ctx, None)?;
    check_rc(&get, &out)?;
    let current = if out.err.contains("no packages found matching") {
        return Err(ModuleFail::msg(format!(
            "Failed to find package '{name}' to perform selection '{selection}'."
        )));
    } else {
        match out.out.split_whitespace().nth(1) {
            Some(state) => state.to_string(),
            None => "not present".to_string(),
        }
    };
    let changed = current != selection;
    if changed && !ctx.check_mode {
        let set = argv([dpkg.as_str(), "--set-selections"]);
        let o = run(&set, &ctx, Some(&format!("{name} {selection}")))?;
        check_rc(&set, &o)?;
    }
    let mut result = Map::new();
    result.insert("changed".into(), json!(changed));
    result.insert("before".into(), json!(current));
    result.insert("after".into(), json!(selection));
    Ok(result)
}
