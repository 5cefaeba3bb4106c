//! The `dnf` action plugin (also `yum`, which ansible-core 2.18 redirects to it):
//! picks the backend from `use`/`use_backend` or the `pkg_mgr` fact (gathered now
//! when missing, as Ansible does), then runs `ansible.legacy.dnf` (native in the
//! agent unless the call needs the Python module) or the Python `dnf5` module.

use serde_json::{json, Map, Value as Json};

use super::{failed, ModuleCallCtx};
use crate::output::default_callback::Sink;
use crate::play_exec::Executor;

/// The backends the action accepts (`yum`/`yum4`/`dnf4` all mean dnf 4).
const VALID_BACKENDS: &[&str] = &["yum", "yum4", "dnf", "dnf4", "dnf5"];

impl<S: Sink> Executor<'_, S> {
    pub(in crate::play_exec) fn dnf_action(
        &mut self,
        call: &ModuleCallCtx,
        mut args: Map<String, Json>,
    ) -> Map<String, Json> {
        if args.contains_key("use") && args.contains_key("use_backend") {
            // Raised as AnsibleActionFail outside an exception: Ansible's result
            // carries the empty traceback text.
            return obj_failed(json!(
                "parameters are mutually exclusive: ('use', 'use_backend')"
            ))
            .into_iter()
            .chain([("exception".to_string(), json!("NoneType: None\n"))])
            .collect();
        }
        let text = |v: &Json| v.as_str().map_or_else(|| v.to_string(), str::to_string);
        let mut backend = args
            .get("use")
            .or_else(|| args.get("use_backend"))
            .map(text)
            .unwrap_or_else(|| "auto".into());
        if backend == "yum" || backend == "auto" {
            if let Some(m) = self.fact_text(call, "pkg_mgr") {
                backend = m;
            }
        }
        let mut learned_fact = None;
        if !VALID_BACKENDS.contains(&backend.as_str()) {
            let facts = self.gather_one_fact(call, "ansible_pkg_mgr");
            if facts.get("failed") == Some(&Json::Bool(true)) {
                let msg = facts.get("msg").map(text).unwrap_or_default();
                let mut out = facts;
                out.insert(
                    "msg".into(),
                    Json::String(format!(
                        "Failed to fetch ansible_pkg_mgr to determine the dnf action backend: {msg}"
                    )),
                );
                return out;
            }
            backend = facts
                .get("ansible_facts")
                .and_then(|f| f.get("ansible_pkg_mgr"))
                .map(text)
                .unwrap_or_else(|| "auto".into());
            let own_facts = match call.delegate {
                None => true,
                Some(_) => call
                    .frame
                    .keyword(call.task, "delegate_facts")
                    .is_some_and(|n| self.node_truthy(n)),
            };
            if own_facts && backend != "auto" {
                learned_fact = Some(backend.clone());
            }
        }
        let mut result = if !VALID_BACKENDS.contains(&backend.as_str()) {
            obj_failed(json!([
                "Could not detect which major revision of dnf is in use, which is required to determine module backend.",
                "You should manually specify use_backend to tell the module whether to use the dnf4 or dnf5 backend})"
            ]))
        } else {
            args.remove("use");
            args.remove("use_backend");
            let module = match backend.as_str() {
                "yum4" | "dnf4" => "dnf",
                other => other,
            };
            let fqcn = format!("ansible.legacy.{module}");
            if module == "dnf" && rsible_modules::modules::runs_natively("dnf", &args) {
                self.module_call(
                    call.host,
                    call.scope,
                    call.delegate,
                    "dnf",
                    Json::Object(args),
                )
            } else if self.resolve_module(&fqcn).is_none() {
                failed(format!("Could not find a dnf module backend for {fqcn}."))
            } else {
                self.python_module(call, &fqcn, &fqcn, args)
            }
        };
        if let Some(pkg_mgr) = learned_fact {
            // As the action plugin: the fact it gathered joins the result's facts.
            let facts = result
                .entry("ansible_facts")
                .or_insert_with(|| Json::Object(Map::new()));
            if let Json::Object(f) = facts {
                f.entry("pkg_mgr").or_insert(Json::String(pkg_mgr));
            }
        }
        result
    }
}

fn obj_failed(msg: Json) -> Map<String, Json> {
    let mut m = Map::new();
    m.insert("failed".into(), Json::Bool(true));
    m.insert("msg".into(), msg);
    m
}
