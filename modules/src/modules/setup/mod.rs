//! `setup`: gathers facts natively, with Ansible's fact names and value shapes.
//!
//! One file per fact family (Ansible calls them collectors). This file resolves
//! `gather_subset` into the collectors to run, runs them in dependency order,
//! prefixes the names with `ansible_`, applies `filter` and adds the
//! `gather_subset`/`module_setup` metadata Ansible adds.

mod date_time;
mod debian_patterns;
pub(crate) mod distribution;
mod hardware;
mod helper_cache;
mod local;
mod netlink;
mod network;
pub(crate) mod platform;
mod python;
mod runner;
mod subset;
mod system;
mod timing;
mod util;
mod virtualization;

use super::{Kind, ModuleContext, ModuleFail, ModuleOutcome, Param, ParamDefault};
use serde_json::{Map, Value};

pub const SPEC: &[Param] = &[
    Param::new("gather_subset", Kind::List),
    Param::new("gather_timeout", Kind::Int),
    Param::new("filter", Kind::List),
    Param::new("fact_path", Kind::Path).default(ParamDefault::Str("/etc/ansible/facts.d")),
];

/// Facts gathered so far, without the `ansible_` prefix; later collectors read
/// what earlier ones found (the network collector needs the os family, ...).
pub(crate) type Facts = Map<String, Value>;

/// What a collector gets: the facts so far, the module's parameters and the
/// programs it may run (found and run with the task's environment).
pub(crate) struct Gather<'a> {
    pub facts: &'a Facts,
    pub fact_path: &'a str,
    pub programs: &'a util::Programs<'a>,
}

pub fn run(params: &Map<String, Value>, ctx: &ModuleContext) -> ModuleOutcome {
    let gather_subset = string_list(params.get("gather_subset"));
    let gather_subset = if gather_subset.is_empty() {
        vec!["all".to_string()]
    } else {
        gather_subset
    };
    let filter = string_list(params.get("filter"));
    let fact_path = params
        .get("fact_path")
        .and_then(Value::as_str)
        .unwrap_or("/etc/ansible/facts.d")
        .to_string();
    let collectors = subset::resolve(&gather_subset).map_err(ModuleFail::msg)?;
    let _timing = timing::Timing::from_env();
    let programs = util::Programs::new(&ctx.env);
    let facts = runner::run_collectors(&collectors, &fact_path, &programs);
    let mut prefixed = Map::new();
    for (k, v) in facts {
        prefixed.insert(format!("ansible_{k}"), v);
    }
    // The metadata is a collector's output too: a filter can drop it.
    prefixed.insert(
        "gather_subset".into(),
        Value::Array(gather_subset.into_iter().map(Value::String).collect()),
    );
    prefixed.insert("module_setup".into(), Value::Bool(true));
    let ansible_facts = apply_filter(prefixed, &filter);
    let mut result = Map::new();
    result.insert("ansible_facts".into(), Value::Object(ansible_facts));
    Ok(result)
}

fn string_list(v: Option<&Value>) -> Vec<String> {
    match v {
        Some(Value::Array(items)) => items
            .iter()
            .map(|i| match i {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            })
            .collect(),
        Some(Value::String(s)) if !s.is_empty() => vec![s.clone()],
        _ => Vec::new(),
    }
}

/// Ansible's filter: shell-style globs on the prefixed names; a pattern not
/// starting with `ansible_` is also tried with that prefix. An empty filter,
/// or `*`, keeps everything.
fn apply_filter(facts: Map<String, Value>, filter: &[String]) -> Map<String, Value> {
    if filter.is_empty() || (filter.len() == 1 && filter[0] == "*") {
        return facts;
    }
    let mut out = Map::new();
    for f in filter {
        let direct = glob::Pattern::new(f).ok();
        let prefixed =
            if f.starts_with("ansible_") || f.starts_with("facter") || f.starts_with("ohai") {
                None
            } else {
                glob::Pattern::new(&format!("ansible_{f}")).ok()
            };
        for (k, v) in &facts {
            let hit = f.is_empty()
                || direct.as_ref().is_some_and(|p| p.matches(k))
                || prefixed.as_ref().is_some_and(|p| p.matches(k));
            if hit {
                out.insert(k.clone(), v.clone());
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn filter_matches_with_and_without_prefix() {
        let facts = json!({"ansible_distribution": "Debian", "ansible_distribution_version": "12",
            "ansible_memtotal_mb": 1, "ansible_swaptotal_mb": 0, "ansible_env": {}});
        let Value::Object(facts) = facts else {
            panic!()
        };
        let out = apply_filter(facts.clone(), &["ansible_*total_mb".into()]);
        assert_eq!(
            out.keys().collect::<Vec<_>>(),
            ["ansible_memtotal_mb", "ansible_swaptotal_mb"]
        );
        let out = apply_filter(facts.clone(), &["distribution*version".into()]);
        assert_eq!(
            out.keys().collect::<Vec<_>>(),
            ["ansible_distribution_version"]
        );
        assert_eq!(apply_filter(facts.clone(), &[]).len(), 5);
    }

    #[test]
    fn min_subset_has_metadata_and_no_hardware() {
        let mut params = Map::new();
        params.insert("gather_subset".into(), json!(["!all"]));
        params.insert("fact_path".into(), json!("/nonexistent"));
        let r = run(&params, &ModuleContext::default()).expect("setup runs");
        let facts = r["ansible_facts"].as_object().expect("facts");
        assert_eq!(facts["gather_subset"], json!(["!all"]));
        assert_eq!(facts["module_setup"], json!(true));
        assert!(facts.contains_key("ansible_distribution"));
        assert!(facts.contains_key("ansible_env"));
        assert!(!facts.contains_key("ansible_memtotal_mb"));
        assert!(!facts.contains_key("ansible_interfaces"));
    }

    #[test]
    fn bad_subset_fails_with_ansibles_message() {
        let mut params = Map::new();
        params.insert("gather_subset".into(), json!(["bogus"]));
        let err = run(&params, &ModuleContext::default()).unwrap_err();
        let msg = err.0["msg"].as_str().unwrap_or_default().to_string();
        assert!(msg.starts_with("Bad subset 'bogus' given to Ansible. gather_subset options allowed: all, all_ipv4_addresses, all_ipv6_addresses, apparmor,"), "{msg}");
    }
}
