//! Modules without a native twin in the agent run as Python modules, as
//! Ansible runs them: found where Ansible finds them (the playbook's module
//! registry), packed with their module_utils (cached per module for the run),
//! sent once per agent and run with the target's Python
//! (`ansible_python_interpreter`, or discovery as Ansible's `auto`). The
//! result is the module's JSON, parsed as Ansible parses it.
//!
//! Also here: the `package` and `service` action plugins, which pick the
//! module from the `pkg_mgr` / `service_mgr` facts.

use rsible_playbook::Task;
use rsible_pymodule::interpreter::{
    choose, discovery_command, is_discovery_mode, DEFAULT_FALLBACK,
};
use rsible_pymodule::module_args::{document, ModuleRunSettings};
use rsible_pymodule::result::{parse, RawRun};
use rsible_pymodule::{PayloadCache, SearchRoots};
use rsible_templar::{Value, VarSource};
use serde_json::{json, Map, Value as Json};

mod dnf_action;

use super::prefetch::Intercept;
use super::{obj, Executor};
use crate::frame::Frame;
use crate::output::default_callback::Sink;
use crate::target::{call_outcome_as_python, OwnedPythonCall, PlannedCall};
use crate::vars::VarLayers;

/// What the fallback keeps for the run.
#[derive(Default)]
pub struct FallbackState {
    payloads: PayloadCache,
}

/// Action plugins of ansible-core that only run their module in the cases
/// rsible lets through (named in the check below).
const PASS_THROUGH_ACTIONS: &[&str] = &["uri", "unarchive", "dnf", "service"];

/// One module execution: which task asks, for which host.
pub(super) struct ModuleCallCtx<'t> {
    pub task: &'t Task,
    pub frame: &'t Frame,
    pub host: &'t str,
    pub scope: &'t VarLayers,
    pub delegate: Option<&'t str>,
}

impl<S: Sink> Executor<'_, S> {
    /// Runs the task's module: `package`/`service` choose theirs, a native
    /// module runs in the agent, anything else through Python.
    pub(super) fn run_module_action(
        &mut self,
        call: &ModuleCallCtx,
        action: &str,
        args: Map<String, Json>,
    ) -> Map<String, Json> {
        let resolved = call
            .task
            .resolved_action
            .clone()
            .unwrap_or_else(|| call.task.action.clone());
        match action {
            "package" if !is_library_override(&resolved) => self.package_action(call, args),
            "dnf" if !is_library_override(&resolved) => self.dnf_action(call, args),
            "service" if !is_library_override(&resolved) => self.service_action(call, args),
            "uri" if !is_library_override(&resolved) => {
                let check_mode = self.ctl.call_settings.check_mode;
                match super::uri_action::check_mode_skip(&call.task.action, check_mode) {
                    Some(skipped) => skipped,
                    None => self.run_resolved(call, &resolved, &call.task.action, args),
                }
            }
            _ => self.run_resolved(call, &resolved, &call.task.action, args),
        }
    }

    /// Runs the module `fqcn` (already resolved); `called_as` is the name
    /// the module is told it was called by.
    fn run_resolved(
        &mut self,
        call: &ModuleCallCtx,
        fqcn: &str,
        called_as: &str,
        args: Map<String, Json>,
    ) -> Map<String, Json> {
        if rsible_modules::modules::runs_natively(fqcn, &args) && !is_library_override(fqcn) {
            let short = rsible_modules::modules::short_name(fqcn).to_string();
            // The name the module's messages use, as Ansible's `_ansible_module_name`.
            let mut args = args;
            args.insert(
                "_ansible_module_name".into(),
                Json::String(called_as.to_string()),
            );
            return self.module_call(
                call.host,
                call.scope,
                call.delegate,
                &short,
                Json::Object(args),
            );
        }
        self.python_module(call, fqcn, called_as, args)
    }

    fn python_module(
        &mut self,
        call: &ModuleCallCtx,
        fqcn: &str,
        called_as: &str,
        args: Map<String, Json>,
    ) -> Map<String, Json> {
        // Linear's rounds cannot carry a Python run (the host leaves them);
        // the free strategy's walks record it as a call.
        if !self.prefetch.records_python() && self.prefetch.refuse_while_recording(call.host) {
            return failed("(prefetch placeholder)".into());
        }
        let Some(registry) = self.loader.map(|l| l.modules) else {
            return failed(format!(
                "rsible: module {fqcn} is not implemented natively and no module search path is known"
            ));
        };
        let short = fqcn.rsplit('.').next().unwrap_or(fqcn);
        if registry.has_action_plugin(fqcn) && !action_passes_through(fqcn, short, &args) {
            return failed(format!(
                "rsible: {fqcn} runs through an action plugin, which rsible does not implement yet"
            ));
        }
        self.python_module_of_action(call, fqcn, called_as, args)
    }

    /// Runs the Python module `fqcn` as its action plugin would, once that
    /// plugin's own work is done (rsible's twin of the plugin called it).
    pub(super) fn python_module_of_action(
        &mut self,
        call: &ModuleCallCtx,
        fqcn: &str,
        called_as: &str,
        args: Map<String, Json>,
    ) -> Map<String, Json> {
        let Some(registry) = self.loader.map(|l| l.modules) else {
            return failed(format!(
                "rsible: module {fqcn} is not implemented natively and no module search path is known"
            ));
        };
        let Some(path) = registry.locate_module(fqcn) else {
            return failed(format!(
                "rsible: module {fqcn} is not implemented natively and its module file was not found"
            ));
        };
        let roots = SearchRoots {
            ansible_core_parent: registry
                .ansible_core_dir()
                .and_then(|d| d.parent())
                .map(|d| d.to_path_buf()),
            collection_roots: registry.collection_roots(),
        };
        let payload = match self.python.payloads.get(fqcn, &path, &roots) {
            Ok(p) => p,
            Err(e) => return failed(format!("rsible: {e}")),
        };
        let (interpreter, discovered) = match self.python_interpreter(call) {
            Ok(v) => v,
            Err(result) => return result,
        };
        let no_log = call
            .frame
            .keyword(call.task, "no_log")
            .is_some_and(|n| self.keyword_truthy(n, call.scope).unwrap_or(false));
        // check_mode, diff and environment as the executor resolved them for this task.
        let task_settings = self.ctl.call_settings.clone();
        let settings = ModuleRunSettings {
            check_mode: task_settings.check_mode,
            diff: task_settings.diff,
            no_log,
            verbosity: self.options.verbosity,
            module_name: called_as.to_string(),
            ansible_version: crate::magic::ANSIBLE_VERSION.to_string(),
            remote_tmp: "~/.ansible/tmp".to_string(),
        };
        let stdin = document(&args, &settings);
        let spec = self.target_spec(call.host, call.scope, call.delegate);
        let env = task_settings.env.clone();
        let run = std::sync::Arc::new(OwnedPythonCall {
            payload: payload.clone(),
            interpreter: interpreter.clone(),
            stdin,
            env,
            async_job: task_settings.async_job.clone(),
        });
        let planned = PlannedCall {
            target: spec,
            module: format!("python:{fqcn}"),
            args: Json::Null,
            settings: task_settings.clone(),
            python: Some(run.clone()),
        };
        // Through the record of the free strategy's walks, as native calls.
        let outcome = match self.prefetch.intercept(call.host, planned.clone()) {
            Intercept::Recorded(placeholder) => return placeholder,
            Intercept::Ready(outcome) => call_outcome_as_python(outcome),
            Intercept::Call => self.runner.run_python(&planned.target, &run.as_call()),
        };
        let mut result = match outcome {
            Err(u) => return obj(json!({"unreachable": true, "msg": u.0, "changed": false})),
            Ok(Err(msg)) => return failed(msg),
            Ok(Ok(out)) => parse(
                &RawRun {
                    stdout: out.stdout,
                    stderr: out.stderr,
                    rc: out.rc,
                },
                &interpreter,
            ),
        };
        if let Some(d) = discovered {
            add_discovery(&mut result, &interpreter, d);
        }
        // The result's `ansible_facts` reach the host through the executor's
        // general handling of module facts (`gather::absorb_result_facts`).
        result
    }

    /// `ansible_python_interpreter` templated, else the interpreter found
    /// on this host before, else discovery. Returns the interpreter and, when
    /// discovery ran now, its warnings (they go into this task's result).
    #[allow(clippy::type_complexity)]
    fn python_interpreter(
        &mut self,
        call: &ModuleCallCtx,
    ) -> Result<(String, Option<Vec<String>>), Map<String, Json>> {
        let mode = match self.var_text(call.scope, "ansible_python_interpreter") {
            Ok(Some(v)) if !is_discovery_mode(&v) => return Ok((v, None)),
            Ok(Some(v)) => v,
            Ok(None) => "auto".to_string(),
            Err(msg) => return Err(failed(msg)),
        };
        let known = self
            .states
            .get(call.delegate.unwrap_or(call.host))
            .and_then(|s| s.facts.get("discovered_interpreter_python").cloned());
        if let Some(known) = known.and_then(|v| v.as_str().map(str::to_string)) {
            return Ok((known, None));
        }
        if let Some(found) = self
            .prefetch
            .discovered_in_walk(call.delegate.unwrap_or(call.host))
        {
            return Ok((found, None));
        }
        let candidates: Vec<String> = match call.scope.get("ansible_interpreter_python_fallback") {
            Some(raw) => match self.templar.template(&raw, call.scope) {
                Ok(v) => v
                    .try_iter()
                    .map(|it| {
                        it.map(|x| {
                            x.as_str()
                                .map(str::to_string)
                                .unwrap_or_else(|| x.to_string())
                        })
                        .collect()
                    })
                    .unwrap_or_default(),
                Err(e) => return Err(failed(e.to_string())),
            },
            None => DEFAULT_FALLBACK.iter().map(|s| s.to_string()).collect(),
        };
        let probe = self.without_async(|ex| {
            ex.module_call(
                call.host,
                call.scope,
                call.delegate,
                "shell",
                json!({"_raw_params": discovery_command(&candidates)}),
            )
        });
        if probe.contains_key("unreachable") {
            return Err(probe);
        }
        // A recording walk without the probe's outcome yet: it stops here.
        if self.prefetch.walk_can_stop(call.host) {
            return Err(probe);
        }
        let stdout = probe.get("stdout").and_then(Json::as_str).unwrap_or("");
        let host = call.delegate.unwrap_or(call.host);
        let found = choose(stdout, &mode, host, &candidates);
        if self.prefetch.is_recording() {
            // The real walk writes the fact, from the same probe outcome.
            self.prefetch.remember_discovered(host, &found.interpreter);
            return Ok((found.interpreter, Some(found.warnings)));
        }
        let st = self.state(host);
        std::sync::Arc::make_mut(&mut st.facts).insert(
            "discovered_interpreter_python".into(),
            Value::from(found.interpreter.as_str()),
        );
        Ok((found.interpreter, Some(found.warnings)))
    }

    /// A variable templated to text; `None` when undefined or null.
    pub(super) fn var_text(&self, scope: &VarLayers, name: &str) -> Result<Option<String>, String> {
        let Some(raw) = scope.get(name) else {
            return Ok(None);
        };
        let v = self
            .templar
            .template(&raw, scope)
            .map_err(|e| e.to_string())?;
        if v.is_none() || v.is_undefined() {
            return Ok(None);
        }
        Ok(Some(
            v.as_str()
                .map(str::to_string)
                .unwrap_or_else(|| v.to_string()),
        ))
    }

    /// The `package` action: the module named by `use`, `ansible_package_use`,
    /// or the `pkg_mgr` fact (gathered now when missing, as Ansible does).
    fn package_action(
        &mut self,
        call: &ModuleCallCtx,
        mut args: Map<String, Json>,
    ) -> Map<String, Json> {
        let mut module = args
            .remove("use")
            .and_then(|v| v.as_str().map(str::to_string))
            .unwrap_or_else(|| "auto".into());
        if module == "auto" {
            module = match self.var_text(call.scope, "ansible_package_use") {
                Ok(Some(m)) if !m.is_empty() => m,
                Ok(_) => match self.fact_text(call, "pkg_mgr") {
                    Some(m) => m,
                    None => {
                        let facts = self.gather_one_fact(call, "ansible_pkg_mgr");
                        if facts.get("failed") == Some(&Json::Bool(true)) {
                            let msg = facts
                                .get("msg")
                                .and_then(Json::as_str)
                                .unwrap_or("")
                                .to_string();
                            let mut out = facts;
                            out.insert("msg".into(), Json::String(format!(
                                "Failed to fetch ansible_pkg_mgr to determine the package action backend: {msg}"
                            )));
                            return out;
                        }
                        match facts
                            .get("ansible_facts")
                            .and_then(|f| f.get("ansible_pkg_mgr"))
                            .and_then(Json::as_str)
                        {
                            Some(m) => m.to_string(),
                            None => return failed(
                                "Could not detect a package manager. Try using the \"use\" option."
                                    .into(),
                            ),
                        }
                    }
                },
                Err(msg) => return failed(msg),
            };
        }
        if module == "auto" || module.is_empty() {
            return failed(
                "Could not detect which package manager to use. Try gathering facts or setting the \"use\" option."
                    .into(),
            );
        }
        let Some(fqcn) = self.resolve_module(&module) else {
            return failed(format!(
                "Could not find a matching action for the \"{module}\" package manager."
            ));
        };
        let called_as = backend_called_as(&module);
        let args =
            match self.with_module_defaults_json(call.task, call.frame, call.scope, &fqcn, args) {
                Ok(a) => a,
                Err(msg) => return failed(msg),
            };
        self.run_resolved(call, &fqcn, &called_as, args)
    }

    /// The `service` action: the module named by `use` or the `service_mgr`
    /// fact (gathered now when missing); `ansible.legacy.service` otherwise.
    fn service_action(
        &mut self,
        call: &ModuleCallCtx,
        mut args: Map<String, Json>,
    ) -> Map<String, Json> {
        let mut module = args
            .remove("use")
            .and_then(|v| v.as_str().map(str::to_lowercase))
            .unwrap_or_else(|| "auto".into());
        if module == "auto" {
            if let Some(m) = self.fact_text(call, "service_mgr") {
                module = m;
            } else {
                let facts = self.gather_one_fact(call, "ansible_service_mgr");
                module = facts
                    .get("ansible_facts")
                    .and_then(|f| f.get("ansible_service_mgr"))
                    .and_then(Json::as_str)
                    .unwrap_or("auto")
                    .to_string();
            }
        }
        let mut fqcn = if module.is_empty() || module == "auto" {
            None
        } else {
            self.resolve_module(&module)
        };
        if fqcn.is_none() {
            module = "service".into();
            fqcn = self.resolve_module("ansible.legacy.service");
        }
        let Some(fqcn) = fqcn else {
            return failed("Could not detect which service manager to use. Try gathering facts or setting the \"use\" option.".into());
        };
        let mut notes = Vec::new();
        if module == "systemd" {
            for unused in ["pattern", "runlevel", "sleep", "arguments", "args"] {
                if args.remove(unused).is_some() {
                    notes.push(format!(
                        "Ignoring \"{unused}\" as it is not used in \"systemd\""
                    ));
                }
            }
        }
        let called_as = backend_called_as(&module);
        let args =
            match self.with_module_defaults_json(call.task, call.frame, call.scope, &fqcn, args) {
                Ok(a) => a,
                Err(msg) => return failed(msg),
            };
        // The service module itself runs as a module, not as this action again.
        let mut result = if fqcn.ends_with(".service") && fqcn.starts_with("ansible.") {
            self.generic_service_module(call, &fqcn, &called_as, args)
        } else {
            self.run_resolved(call, &fqcn, &called_as, args)
        };
        add_warnings(&mut result, notes);
        result
    }

    /// ansible-core's generic `service` module: natively in the agent for OpenRC
    /// and SysV init hosts; where the agent finds systemd or upstart it declines
    /// before running anything and the Python module runs instead.
    fn generic_service_module(
        &mut self,
        call: &ModuleCallCtx,
        fqcn: &str,
        called_as: &str,
        args: Map<String, Json>,
    ) -> Map<String, Json> {
        let mut native_args = args.clone();
        native_args.insert(
            "_ansible_module_name".into(),
            Json::String(called_as.to_string()),
        );
        let result = self.module_call(
            call.host,
            call.scope,
            call.delegate,
            "service",
            Json::Object(native_args),
        );
        if result.contains_key(rsible_modules::modules::SERVICE_DECLINED) {
            return self.python_module(call, fqcn, called_as, args);
        }
        result
    }

    /// `ansible_facts.<name>` of the host (or the delegated host).
    fn fact_text(&self, call: &ModuleCallCtx, name: &str) -> Option<String> {
        let host = call.delegate.unwrap_or(call.host);
        if let Some(v) = self.states.get(host).and_then(|s| s.facts.get(name)) {
            return v.as_str().map(str::to_string);
        }
        let facts = call.scope.get("ansible_facts")?;
        let v = facts.get_attr(name).ok()?;
        v.as_str().map(str::to_string)
    }

    /// Runs `setup` for one fact, as the package and service actions do
    /// when facts were not gathered.
    fn gather_one_fact(&mut self, call: &ModuleCallCtx, fact: &str) -> Map<String, Json> {
        let args = obj(json!({"gather_subset": "!all", "filter": fact}));
        let fqcn = self
            .resolve_module("ansible.legacy.setup")
            .unwrap_or_else(|| "ansible.builtin.setup".into());
        self.without_async(|ex| ex.run_resolved(call, &fqcn, "ansible.legacy.setup", args))
    }

    fn resolve_module(&self, name: &str) -> Option<String> {
        match self.loader.map(|l| l.modules) {
            Some(r) => r.resolve(name),
            None => {
                rsible_modules::modules::is_native(name).then(|| format!("ansible.builtin.{name}"))
            }
        }
    }
}

/// A `library/` module named like a builtin one replaces it, as in Ansible.
/// The name a `package`/`service` backend is told it was called by: a short
/// name is the `ansible.legacy.` one, as Ansible's action plugins pass it.
fn backend_called_as(module: &str) -> String {
    if module.contains('.') {
        module.to_string()
    } else {
        format!("ansible.legacy.{module}")
    }
}

pub(super) fn is_library_override(fqcn: &str) -> bool {
    fqcn.starts_with("ansible.legacy.")
}

/// ansible-core action plugins whose only job in these cases is to run
/// their module: `uri` without a controller-side `src`, `unarchive` of a
/// file already on the target.
fn action_passes_through(fqcn: &str, short: &str, args: &Map<String, Json>) -> bool {
    let builtin = fqcn.starts_with("ansible.builtin.") || fqcn.starts_with("ansible.legacy.");
    if !builtin || !PASS_THROUGH_ACTIONS.contains(&short) {
        return false;
    }
    match short {
        "uri" => !args.contains_key("src"),
        "unarchive" => args.get("remote_src").is_some_and(super::json_truthy),
        // Reached after the dnf action (dnf_action.rs) chose the backend, or from
        // the package action, which runs the module directly as Ansible's does.
        "dnf" => true,
        // Only reached from the service action, which chose this module.
        "service" => true,
        _ => false,
    }
}

fn add_discovery(result: &mut Map<String, Json>, interpreter: &str, warnings: Vec<String>) {
    let facts = result
        .entry("ansible_facts")
        .or_insert_with(|| Json::Object(Map::new()));
    if !facts.is_object() {
        *facts = Json::Object(Map::new());
    }
    if let Json::Object(f) = facts {
        f.insert(
            "discovered_interpreter_python".into(),
            Json::String(interpreter.to_string()),
        );
    }
    add_warnings(result, warnings);
}

fn add_warnings(result: &mut Map<String, Json>, warnings: Vec<String>) {
    if warnings.is_empty() {
        return;
    }
    let list = result
        .entry("warnings")
        .or_insert_with(|| Json::Array(Vec::new()));
    if let Json::Array(items) = list {
        items.extend(warnings.into_iter().map(Json::String));
    }
}

fn failed(msg: String) -> Map<String, Json> {
    obj(json!({"failed": true, "msg": msg}))
}
