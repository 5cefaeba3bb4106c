//! Facts on the executor side: the implicit `Gathering Facts` task (play
//! keywords `gather_facts`, `gather_subset`, `gather_timeout`, `fact_path`
//! and the `gathering` setting), facts returned by any module (`setup` as a
//! task, `delegate_facts`), cacheable set_fact, `meta: clear_facts`, and the
//! persistent fact cache.

use std::rc::Rc;
use std::sync::Arc;

use indexmap::IndexMap;
use rsible_playbook::{Task, TaskKind};
use rsible_templar::{from_yaml, to_json, Value};
use serde_json::{Map, Value as Json};

use super::results::normalize_result;
use super::{Executor, FatalError, PlayCtx};
use crate::frame::Frame;
use crate::output::default_callback::Sink;

/// Set in the facts of a host the implicit task gathered, as Ansible's
/// gather_facts action does; `gathering = smart` skips such hosts.
const GATHERED: &str = "_ansible_facts_gathered";

impl<'a, S: Sink> Executor<'a, S> {
    /// Loads cached facts for every inventory host (or flushes them for
    /// `--flush-cache`), before the first play.
    pub(super) fn prime_fact_cache(&mut self) {
        let Some(cache) = self.fact_cache.take() else {
            return;
        };
        let hosts: Vec<String> = self.inventory.hosts.keys().cloned().collect();
        for host in hosts {
            if self.options.flush_cache {
                cache.remove(&host);
            } else if let Some(facts) = cache.load(&host) {
                let merged: IndexMap<String, Value> = facts
                    .iter()
                    .map(|(k, v)| (k.clone(), crate::scope::json_to_value(v)))
                    .collect();
                self.state(&host).facts = Arc::new(merged);
            }
        }
        self.fact_cache = Some(cache);
    }

    /// The implicit `Gathering Facts` task at the start of a play batch.
    pub(super) fn gather_facts(
        &mut self,
        ctx: &PlayCtx,
        frame: &Frame,
        hosts: &[String],
    ) -> Result<(), FatalError> {
        let wanted = self.hosts_to_gather(ctx, hosts);
        if wanted.is_empty() {
            return Ok(());
        }
        let task = Rc::new(gather_task(ctx));
        if !self.start_at_gathers(ctx.play) {
            return Ok(());
        }
        if !self.step_allows("TASK: Gathering Facts", &wanted) {
            return Ok(());
        }
        let mut view = self.task_view(&task, "TASK", None);
        view.name = "Gathering Facts".into();
        self.callback.task_start(&view);
        // Every host's setup runs side by side (see `prefetch`).
        let forks = self.options.forks;
        // One host: its call may be made already (the free strategy's
        // `install_parked`), which a new round must not clear.
        if wanted.len() > 1 {
            self.prefetch_one_call(&wanted, forks, |ex, host| {
                let scope = ex.scope_for(ctx, host, frame, Some(&task));
                let _ = ex.gather_call(ctx, &task, frame, host, &scope);
            });
        }
        for host in &wanted {
            let scope = self.scope_for(ctx, host, frame, Some(&task));
            let mut result = self.gather_call(ctx, &task, frame, host, &scope);
            normalize_result(&mut result);
            if let Some(Json::Object(facts)) = result.get_mut("ansible_facts") {
                facts.insert(GATHERED.into(), Json::Bool(true));
            }
            // Ansible's gather_facts action keeps -v from showing the facts.
            if !result.contains_key("unreachable") {
                result.insert("_ansible_verbose_override".into(), Json::Bool(true));
            }
            // What the callback shows of a gathering: no facts, no module_args.
            self.report(
                &task,
                frame,
                host,
                &view,
                result,
                &scope,
                std::slice::from_ref(host),
            );
        }
        self.prefetch.clear();
        Ok(())
    }

    /// The hosts of `hosts` the implicit task gathers facts for.
    pub(super) fn hosts_to_gather(&self, ctx: &PlayCtx, hosts: &[String]) -> Vec<String> {
        let keyword = ctx
            .play
            .keywords
            .get("gather_facts")
            .map(|n| self.node_truthy(n));
        let implied = keyword.unwrap_or(true);
        hosts
            .iter()
            .filter(|h| self.is_active(h))
            .filter(|h| match self.options.gathering.as_str() {
                "explicit" => keyword == Some(true),
                "smart" => implied && !self.facts_gathered(h),
                _ => implied,
            })
            .cloned()
            .collect()
    }

    /// The implicit task's `setup` call for `host` (its result as the module gave it).
    pub(super) fn gather_call(
        &mut self,
        ctx: &PlayCtx,
        task: &Task,
        frame: &Frame,
        host: &str,
        scope: &crate::vars::VarLayers,
    ) -> Map<String, Json> {
        let args = self.gather_args(ctx, scope);
        // module_defaults of the gather_facts action, then of the fact module.
        let args = self
            .with_module_defaults_json(task, frame, scope, "ansible.builtin.gather_facts", args)
            .and_then(|a| {
                self.with_module_defaults_json(task, frame, scope, "ansible.builtin.setup", a)
            });
        match args {
            Ok(args) => self.module_call(host, scope, None, "setup", Json::Object(args)),
            Err(msg) => super::obj(serde_json::json!({"failed": true, "msg": msg})),
        }
    }

    fn facts_gathered(&self, host: &str) -> bool {
        self.states
            .get(host)
            .and_then(|s| s.facts.get(GATHERED))
            .is_some_and(Value::is_true)
    }

    /// `gather_subset`, `gather_timeout` and `fact_path` from the play, templated.
    fn gather_args(&self, ctx: &PlayCtx, scope: &crate::vars::VarLayers) -> Map<String, Json> {
        let mut args = Map::new();
        for key in ["gather_subset", "gather_timeout", "fact_path"] {
            if let Some(node) = ctx.play.keywords.get(key) {
                if let Ok(v) = self.templar.template(&from_yaml(node), scope) {
                    args.insert(key.into(), to_json(&v));
                }
            }
        }
        args
    }

    /// A module result's `ansible_facts` become the host's facts (or the
    /// delegated host's with `delegate_facts`), and go to the fact cache.
    /// set_fact and include_vars results are variables, not facts.
    pub(super) fn absorb_result_facts(
        &mut self,
        task: &Task,
        frame: &Frame,
        host: &str,
        delegate: Option<&str>,
        result: &Map<String, Json>,
    ) {
        let action = super::short_action(task.resolved_action.as_deref().unwrap_or(&task.action));
        if matches!(action.as_str(), "set_fact" | "include_vars") {
            return;
        }
        if result.get("failed") == Some(&Json::Bool(true)) || result.contains_key("unreachable") {
            return;
        }
        let Some(Json::Object(facts)) = result.get("ansible_facts") else {
            return;
        };
        let delegate_facts = frame
            .keyword(task, "delegate_facts")
            .map(|n| self.node_truthy(n))
            .unwrap_or(false);
        let target = match delegate {
            Some(d) if delegate_facts => d.to_string(),
            _ => host.to_string(),
        };
        self.store_host_facts(&target, facts);
    }

    /// Merges facts into a host's (first level replaced, as Ansible's
    /// set_host_facts does) and writes them to the fact cache.
    pub(super) fn store_host_facts(&mut self, host: &str, facts: &Map<String, Json>) {
        let st = self.state(host);
        let all = Arc::make_mut(&mut st.facts);
        for (k, v) in facts {
            all.insert(k.clone(), crate::scope::json_to_value(v));
        }
        // The JSON copy of every fact is only for the persistent cache: without
        // one (the default memory cache) it would be built and dropped per host.
        if !self.fact_cache.as_ref().is_some_and(|c| c.is_persistent()) {
            return;
        }
        let snapshot: Map<String, Json> = self
            .state(host)
            .facts
            .iter()
            .map(|(k, v)| (k.clone(), to_json(v)))
            .collect();
        if let Some(cache) = &self.fact_cache {
            if let Err(e) = cache.save(host, &snapshot) {
                let text = crate::output::display::warning(&e, 80);
                self.callback.sink.err(&text);
            }
        }
    }

    /// `set_fact: ... cacheable: yes`: the facts also become host facts and are cached.
    pub(super) fn cache_set_facts(&mut self, host: &str, args: &IndexMap<String, Value>) {
        let cacheable = args.get("cacheable").is_some_and(Value::is_true);
        if !cacheable {
            return;
        }
        let facts: Map<String, Json> = args
            .iter()
            .filter(|(k, _)| *k != "cacheable")
            .map(|(k, v)| (k.clone(), to_json(v)))
            .collect();
        self.store_host_facts(host, &facts);
    }

    /// `meta: clear_facts`: forgets the facts of the play's hosts, cache included.
    pub(super) fn clear_facts(&mut self, hosts: &[String]) {
        for h in hosts {
            self.state(h).facts = Arc::new(IndexMap::new());
            if let Some(cache) = &self.fact_cache {
                cache.remove(h);
            }
        }
    }
}

/// The implicit task as Ansible builds it: named `Gathering Facts`, action
/// `gather_facts`, tagged `always`, placed at the play.
pub(super) fn gather_task(ctx: &PlayCtx) -> Task {
    Task {
        name: Some("Gathering Facts".into()),
        action: "gather_facts".into(),
        resolved_action: Some("ansible.builtin.gather_facts".into()),
        args: IndexMap::new(),
        delegate_to: None,
        kind: TaskKind::Module,
        tags: vec!["always".into()],
        when: Vec::new(),
        loop_with: None,
        loop_items: None,
        keywords: IndexMap::new(),
        role: None,
        is_handler: false,
        listen: Vec::new(),
        mark: ctx.play.mark.clone(),
    }
}
