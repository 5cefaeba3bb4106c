//! Runs a loaded playbook: per play, the hosts in batches (`serial`), the
//! play's sections in order with handlers flushed after each, every task in
//! lockstep across the batch's hosts (the `linear` strategy).

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::rc::Rc;
use std::sync::Arc;

use indexmap::IndexMap;
use rsible_inventory::{Inventory, VarsDirs};
use rsible_playbook::{Block, Item, Play, Playbook, Role, Task};
use rsible_templar::{from_yaml, to_json, Templar, Value, VarSource};
use serde_json::{json, Map, Value as Json};

use crate::actions;
use crate::frame::Frame;
use crate::host_state::HostState;
use crate::magic::{magic_layer, HostVars, MagicInputs};
use crate::output::default_callback::{DefaultCallback, ResultView, Sink, TaskView};
use crate::output::stats::Stats;
use crate::scope::{task_scope, InventoryLayers, PlayLayers};
use crate::target::{TargetRunner, TargetSpec};
use crate::vars::{Layer, VarLayers};

/// What the command line asked for.
#[derive(Clone, Debug, Default)]
pub struct RunOptions {
    pub check_mode: bool,
    pub diff: bool,
    pub verbosity: u8,
    pub tags: Vec<String>,
    pub skip_tags: Vec<String>,
    pub limit: Option<Vec<String>>,
    pub force_handlers: bool,
}

/// How the run ended, for the exit code and the retry file.
#[derive(Debug, Default)]
pub struct RunOutcome {
    pub failed_hosts: Vec<String>,
    pub unreachable_hosts: Vec<String>,
}

impl RunOutcome {
    /// Ansible's exit code: 2 when a host failed, 3 when one was unreachable (and none failed), else 0.
    pub fn exit_code(&self) -> i32 {
        if !self.failed_hosts.is_empty() {
            2
        } else if !self.unreachable_hosts.is_empty() {
            3
        } else {
            0
        }
    }
}

/// An error that stops the whole run (Ansible's `ERROR!`), with its exit code.
#[derive(Debug)]
pub struct FatalError {
    pub message: String,
    pub exit_code: i32,
}

pub struct Executor<'a, S: Sink> {
    pub templar: Arc<Templar>,
    pub inventory: &'a mut Inventory,
    pub inventory_dirs: VarsDirs,
    pub playbook_dirs: VarsDirs,
    pub extra_vars: Layer,
    pub options: RunOptions,
    pub runner: &'a mut dyn TargetRunner,
    pub callback: DefaultCallback<S>,
    pub stats: Stats,
    states: HashMap<String, HostState>,
    inventory_layers: InventoryLayers,
    next_task_id: u64,
    task_ids: HashMap<*const Task, u64>,
}

/// Where a play's hosts stand in the current batch.
struct PlayCtx<'p> {
    play: &'p Play,
    layers: PlayLayers,
    play_hosts: Value,
    batch: Value,
    groups: Value,
}

const OMIT: &str = "__omit_place_holder__rsible";

impl<'a, S: Sink> Executor<'a, S> {
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        templar: Arc<Templar>,
        inventory: &'a mut Inventory,
        inventory_dirs: VarsDirs,
        playbook_dirs: VarsDirs,
        extra_vars: Layer,
        options: RunOptions,
        runner: &'a mut dyn TargetRunner,
        callback: DefaultCallback<S>,
    ) -> Self {
        Executor {
            templar,
            inventory,
            inventory_dirs,
            playbook_dirs,
            extra_vars,
            options,
            runner,
            callback,
            stats: Stats::default(),
            states: HashMap::new(),
            inventory_layers: InventoryLayers::default(),
            next_task_id: 0,
            task_ids: HashMap::new(),
        }
    }

    pub fn run(&mut self, playbook: &Playbook) -> Result<RunOutcome, FatalError> {
        for play in &playbook.plays {
            if !self.run_play(play)? {
                // Every host of a batch failed: Ansible stops the whole playbook.
                break;
            }
        }
        let mut outcome = RunOutcome::default();
        let mut names: Vec<&String> = self.states.keys().collect();
        names.sort();
        for name in names {
            let st = &self.states[name];
            if st.unreachable {
                outcome.unreachable_hosts.push(name.clone());
            } else if st.failed {
                outcome.failed_hosts.push(name.clone());
            }
        }
        Ok(outcome)
    }

    /// Ends the run: the PLAY RECAP, then every connection closed. Called
    /// after the caller printed what comes between (the retry file notice).
    pub fn finish(&mut self) {
        self.callback.stats(&self.stats);
        self.runner.close_all();
    }

    /// Prints a line in the run's output stream.
    pub fn display(&mut self, line: &str) {
        self.callback.sink.out(line);
    }

    fn state(&mut self, host: &str) -> &mut HostState {
        self.states.entry(host.to_string()).or_default()
    }

    /// Runs one play; false when every host of a batch failed, which ends the playbook.
    fn run_play(&mut self, play: &Play) -> Result<bool, FatalError> {
        let hosts = self
            .inventory
            .select_limited(&play.hosts, self.options.limit.as_deref())
            .map_err(|e| FatalError {
                message: e.to_string(),
                exit_code: 1,
            })?;
        // The banner comes before host checks; with `serial` it repeats per batch.
        self.callback.play_start(&play_display_name(play));
        // A host that failed in an earlier play is left out of later ones.
        let hosts: Vec<String> = hosts
            .into_iter()
            .filter(|h| {
                self.states
                    .get(h)
                    .is_none_or(|s| !s.failed && !s.unreachable)
            })
            .collect();
        if hosts.is_empty() {
            self.callback.no_hosts_matched();
            return Ok(true);
        }
        for h in &hosts {
            self.stats.host(h);
        }
        let batches = self.batches(play, &hosts)?;
        let groups = self.groups_value();
        let play_hosts = Value::from_iter(hosts.iter().map(|h| Value::from(h.as_str())));
        for (index, batch) in batches.into_iter().enumerate() {
            if index > 0 {
                self.callback.play_start(&play_display_name(play));
            }
            let ctx = PlayCtx {
                play,
                layers: PlayLayers::new(play, self.extra_vars.clone()),
                play_hosts: play_hosts.clone(),
                batch: Value::from_iter(batch.iter().map(|h| Value::from(h.as_str()))),
                groups: groups.clone(),
            };
            for h in &batch {
                self.state(h).ended = false;
            }
            let base = Frame {
                tags: play.tags.clone(),
                ..Frame::default()
            };
            let sections: [&[Item]; 1] = [&play.pre_tasks];
            for section in sections {
                self.run_items(&ctx, section, &base, &batch)?;
            }
            self.flush_handlers(&ctx, &batch)?;
            for role in &play.roles {
                self.run_role(&ctx, role, &base, &batch)?;
            }
            self.run_items(&ctx, &play.tasks, &base, &batch)?;
            self.flush_handlers(&ctx, &batch)?;
            self.run_items(&ctx, &play.post_tasks, &base, &batch)?;
            self.flush_handlers(&ctx, &batch)?;
            let all_failed = batch.iter().all(|h| {
                self.states
                    .get(h)
                    .is_some_and(|s| s.failed || s.unreachable)
            });
            if all_failed {
                self.callback.no_hosts_remaining();
                return Ok(false);
            }
        }
        Ok(true)
    }

    /// `serial`: an int, a percentage, or a list of either (the last repeats).
    fn batches(&self, play: &Play, hosts: &[String]) -> Result<Vec<Vec<String>>, FatalError> {
        let Some(serial) = play.keywords.get("serial") else {
            return Ok(vec![hosts.to_vec()]);
        };
        let sizes: Vec<Value> = match &serial.value {
            rsible_yaml::Value::Seq(items) => items.iter().map(from_yaml).collect(),
            _ => vec![from_yaml(serial)],
        };
        let scope = VarLayers::new();
        let mut out = Vec::new();
        let mut rest = hosts.to_vec();
        let mut i = 0;
        while !rest.is_empty() {
            let spec = self
                .templar
                .template(&sizes[i.min(sizes.len() - 1)], &scope)
                .map_err(|e| FatalError {
                    message: e.to_string(),
                    exit_code: 1,
                })?;
            let n = batch_size(&spec, hosts.len());
            let take = if n == 0 {
                rest.len()
            } else {
                n.min(rest.len())
            };
            out.push(rest.drain(..take).collect());
            i += 1;
        }
        Ok(out)
    }

    fn groups_value(&self) -> Value {
        let mut map: IndexMap<String, Value> = IndexMap::new();
        for name in self.inventory.groups.keys() {
            let hosts = self.inventory.group_hosts(name);
            map.insert(
                name.clone(),
                Value::from_iter(hosts.into_iter().map(Value::from)),
            );
        }
        crate::scope::map_value(map)
    }

    fn run_role(
        &mut self,
        ctx: &PlayCtx,
        role: &Rc<Role>,
        parent: &Frame,
        hosts: &[String],
    ) -> Result<(), FatalError> {
        let mut frame = parent.clone();
        frame.tags.extend(role.tags.iter().cloned());
        frame.when.extend(role.when.iter().cloned());
        frame.keywords.push(Arc::new(role.keywords.clone()));
        for dep in &role.dependencies {
            self.run_role(ctx, dep, &frame, hosts)?;
        }
        frame.role = Some(role.clone());
        self.run_items(ctx, &role.tasks, &frame, hosts)
    }

    fn run_items(
        &mut self,
        ctx: &PlayCtx,
        items: &[Item],
        frame: &Frame,
        hosts: &[String],
    ) -> Result<(), FatalError> {
        for item in items {
            match item {
                Item::Task(task) => self.run_task(ctx, task, frame, hosts)?,
                Item::Block(block) => self.run_block(ctx, block, frame, hosts)?,
            }
        }
        Ok(())
    }

    fn run_block(
        &mut self,
        ctx: &PlayCtx,
        block: &Rc<Block>,
        parent: &Frame,
        hosts: &[String],
    ) -> Result<(), FatalError> {
        let mut frame = parent.clone();
        frame.tags.extend(block.tags.iter().cloned());
        frame.when.extend(block.when.iter().cloned());
        if let Some(Some(vars)) = block.keywords.get("vars").map(|n| n.as_map()) {
            let vars: IndexMap<String, rsible_yaml::Node> = vars
                .iter()
                .filter_map(|(k, v)| k.as_str().map(|k| (k.to_string(), v.clone())))
                .collect();
            frame.block_vars.push(Arc::new(vars));
        }
        frame.keywords.push(Arc::new(block.keywords.clone()));
        let entered: Vec<String> = hosts
            .iter()
            .filter(|h| self.is_active(h))
            .cloned()
            .collect();
        self.run_items(ctx, &block.block, &frame, &entered)?;
        let failed: Vec<String> = entered
            .iter()
            .filter(|h| {
                self.states
                    .get(*h)
                    .is_some_and(|s| s.failed && !s.unreachable)
            })
            .cloned()
            .collect();
        if !block.rescue.is_empty() && !failed.is_empty() {
            for h in &failed {
                self.state(h).failed = false;
            }
            self.run_items(ctx, &block.rescue, &frame, &failed)?;
            for h in &failed {
                if self.states[h].is_active() {
                    self.stats.host(h).rescued += 1;
                    // The failure was handled: it no longer counts as one.
                    let s = self.stats.host(h);
                    s.failures = s.failures.saturating_sub(1);
                }
            }
        }
        if !block.always.is_empty() {
            let still_failed: Vec<String> = entered
                .iter()
                .filter(|h| {
                    self.states
                        .get(*h)
                        .is_some_and(|s| s.failed && !s.unreachable)
                })
                .cloned()
                .collect();
            for h in &still_failed {
                self.state(h).failed = false;
            }
            self.run_items(ctx, &block.always, &frame, &entered)?;
            for h in &still_failed {
                self.state(h).failed = true;
            }
        }
        Ok(())
    }

    fn is_active(&self, host: &str) -> bool {
        self.states.get(host).is_none_or(HostState::is_active)
    }

    fn task_view(
        &mut self,
        task: &Task,
        prefix: &'static str,
        delegate: Option<String>,
    ) -> TaskView {
        let key = task as *const Task;
        let id = *self.task_ids.entry(key).or_insert_with(|| {
            self.next_task_id += 1;
            self.next_task_id
        });
        TaskView {
            id,
            prefix,
            name: task.display_name(),
            action: task.action.clone(),
            path: format!(
                "{}:{}",
                task.mark.source.as_deref().unwrap_or(""),
                task.mark.line
            ),
            is_include: false,
            delegate_to: delegate,
        }
    }

    /// The tags a task runs under: its own and every enclosing one.
    fn tags_allow(&self, frame: &Frame, task: &Task) -> bool {
        let all: std::collections::BTreeSet<String> =
            frame.tags.iter().chain(task.tags.iter()).cloned().collect();
        rsible_playbook::tags::should_run(&all, &self.options.tags, &self.options.skip_tags)
    }

    fn run_task(
        &mut self,
        ctx: &PlayCtx,
        task: &Rc<Task>,
        frame: &Frame,
        hosts: &[String],
    ) -> Result<(), FatalError> {
        self.run_task_as(ctx, task, frame, hosts, "TASK")
    }

    fn run_task_as(
        &mut self,
        ctx: &PlayCtx,
        task: &Rc<Task>,
        frame: &Frame,
        hosts: &[String],
        prefix: &'static str,
    ) -> Result<(), FatalError> {
        if !self.tags_allow(frame, task) {
            return Ok(());
        }
        let active: Vec<String> = hosts
            .iter()
            .filter(|h| self.is_active(h))
            .cloned()
            .collect();
        if active.is_empty() {
            return Ok(());
        }
        if task.action == "meta" || task.action.ends_with(".meta") {
            return self.run_meta(ctx, task, &active);
        }
        let run_once = frame
            .keyword(task, "run_once")
            .map(|n| self.node_truthy(n))
            .unwrap_or(false);
        let hosts_to_run: Vec<String> = if run_once {
            active[..1].to_vec()
        } else {
            active.clone()
        };
        let mut view: Option<TaskView> = None;
        for host in &hosts_to_run {
            let scope = self.scope_for(ctx, host, frame, Some(task));
            let delegate = match frame.keyword(task, "delegate_to") {
                Some(node) => Some(
                    self.template_node_str(node, &scope)
                        .map_err(|m| self.task_error(task, m))?,
                ),
                None => None,
            };
            if view.is_none() {
                let v = self.task_view(task, prefix, delegate.clone());
                self.callback.task_start(&v);
                view = Some(v);
            }
            let mut v = view.clone().unwrap_or_else(unreachable_view);
            v.delegate_to = delegate.clone();
            let outcome = self.run_on_host(ctx, task, frame, host, &scope, delegate.as_deref());
            self.report(
                task,
                frame,
                host,
                &v,
                outcome,
                &scope,
                if run_once {
                    &active
                } else {
                    std::slice::from_ref(host)
                },
            );
        }
        Ok(())
    }

    fn task_error(&self, task: &Task, message: String) -> FatalError {
        FatalError {
            message: format!("{message}\n\nThe error appears to be in {}", task.mark),
            exit_code: 1,
        }
    }

    fn node_truthy(&self, node: &rsible_yaml::Node) -> bool {
        let v = from_yaml(node);
        match self.templar.evaluate_conditional(&v, &VarLayers::new()) {
            Ok(b) => b,
            Err(_) => v.is_true(),
        }
    }

    fn template_node_str(
        &self,
        node: &rsible_yaml::Node,
        scope: &VarLayers,
    ) -> Result<String, String> {
        let v = self
            .templar
            .template(&from_yaml(node), scope)
            .map_err(|e| e.to_string())?;
        Ok(v.as_str()
            .map(str::to_string)
            .unwrap_or_else(|| v.to_string()))
    }

    fn scope_for(
        &mut self,
        ctx: &PlayCtx,
        host: &str,
        frame: &Frame,
        task: Option<&Task>,
    ) -> VarLayers {
        let inv = self.inventory_layers.for_host(
            self.inventory,
            &self.inventory_dirs,
            &self.playbook_dirs,
            host,
        );
        let hostvars = self.hostvars_value(ctx);
        let state = self.states.get(host).cloned().unwrap_or_default();
        let role = frame
            .role
            .as_ref()
            .map(|r| (r.name.clone(), r.path.display().to_string()));
        let magic = magic_layer(MagicInputs {
            host,
            group_names: self.inventory.group_names(host),
            groups: &ctx.groups,
            hostvars: &hostvars,
            play_hosts: &ctx.play_hosts,
            play_batch: &ctx.batch,
            playbook_dir: &ctx.play.basedir.display().to_string(),
            check_mode: self.options.check_mode,
            diff_mode: self.options.diff,
            role: role.as_ref().map(|(a, b)| (a.as_str(), b.as_str())),
            omit: OMIT,
        });
        task_scope(&ctx.layers, inv, &state, frame, task, magic)
    }

    fn hostvars_value(&mut self, ctx: &PlayCtx) -> Value {
        let names: Vec<String> = self.inventory.hosts.keys().cloned().collect();
        let mut hosts = IndexMap::new();
        for name in names {
            let inv = self.inventory_layers.for_host(
                self.inventory,
                &self.inventory_dirs,
                &self.playbook_dirs,
                &name,
            );
            let state = self.states.get(&name).cloned().unwrap_or_default();
            let mut magic: IndexMap<String, Value> = IndexMap::new();
            magic.insert("inventory_hostname".into(), Value::from(name.as_str()));
            magic.insert(
                "group_names".into(),
                Value::from_iter(
                    self.inventory
                        .group_names(&name)
                        .into_iter()
                        .map(Value::from),
                ),
            );
            magic.insert("groups".into(), ctx.groups.clone());
            magic.insert(
                "playbook_dir".into(),
                Value::from(ctx.play.basedir.display().to_string()),
            );
            let scope = task_scope(
                &ctx.layers,
                inv,
                &state,
                &Frame::default(),
                None,
                Arc::new(magic),
            );
            hosts.insert(name, Arc::new(scope));
        }
        Value::from_object(HostVars {
            templar: self.templar.clone(),
            hosts,
        })
    }

    /// Runs one task on one host: conditions, loop, action, and the task's
    /// result keywords. Returns the result as Ansible's callbacks see it.
    fn run_on_host(
        &mut self,
        ctx: &PlayCtx,
        task: &Task,
        frame: &Frame,
        host: &str,
        scope: &VarLayers,
        delegate: Option<&str>,
    ) -> Map<String, Json> {
        // Conditions of enclosing blocks and roles, then the task's own.
        for cond in frame.when.iter().chain(task.when.iter()) {
            match self.templar.evaluate_conditional(&from_yaml(cond), scope) {
                Ok(true) => {}
                Ok(false) => {
                    return obj(json!({
                        "changed": false,
                        "skipped": true,
                        "skip_reason": "Conditional result was False",
                        "false_condition": cond.as_str().map(str::to_string).unwrap_or_else(|| from_yaml(cond).to_string()),
                    }));
                }
                Err(e) => {
                    return obj(json!({
                        "failed": true,
                        "msg": format!("The conditional check '{}' failed. The error was: {}", cond.as_str().unwrap_or(""), e),
                    }));
                }
            }
        }
        let loop_node = task.loop_items.as_ref();
        let Some(loop_node) = loop_node else {
            return self.run_once_on_host(ctx, task, frame, host, scope, delegate);
        };
        if let Some(with) = &task.loop_with {
            if !matches!(with.as_str(), "items" | "list" | "flattened") {
                return obj(
                    json!({"failed": true, "msg": format!("rsible does not support with_{with} yet")}),
                );
            }
        }
        let items = match self.templar.template(&from_yaml(loop_node), scope) {
            Ok(v) => v,
            Err(e) => return obj(json!({"failed": true, "msg": e.to_string()})),
        };
        let items: Vec<Value> = match items.try_iter() {
            Ok(it) if items.as_str().is_none() => it.collect(),
            _ => {
                return obj(json!({
                    "failed": true,
                    "msg": format!("Invalid data passed to 'loop', it requires a list, got this instead: {items}. Hint: If you passed a list/dict of just one element, try adding wantlist=True to your lookup invocation or use q/query instead of lookup."),
                }))
            }
        };
        let items = if task.loop_with.as_deref() == Some("items")
            || task.loop_with.as_deref() == Some("flattened")
        {
            flatten_one(items)
        } else {
            items
        };
        let loop_control = frame
            .keyword(task, "loop_control")
            .and_then(|n| n.as_map())
            .cloned();
        let loop_var = loop_control
            .as_ref()
            .and_then(|m| m.get("loop_var"))
            .and_then(|n| n.as_str())
            .unwrap_or("item")
            .to_string();
        let label = loop_control.as_ref().and_then(|m| m.get("label")).cloned();
        let mut results = Vec::new();
        let mut any_changed = false;
        let mut any_failed = false;
        let total = items.len();
        for (index, item) in items.into_iter().enumerate() {
            let mut top: IndexMap<String, Value> = IndexMap::new();
            top.insert(loop_var.clone(), item.clone());
            let mut ansible_loop: IndexMap<String, Value> = IndexMap::new();
            ansible_loop.insert("index".into(), Value::from(index + 1));
            ansible_loop.insert("index0".into(), Value::from(index));
            ansible_loop.insert("first".into(), Value::from(index == 0));
            ansible_loop.insert("last".into(), Value::from(index + 1 == total));
            ansible_loop.insert("length".into(), Value::from(total));
            top.insert("ansible_loop".into(), crate::scope::map_value(ansible_loop));
            let mut item_scope = scope.clone();
            item_scope.push_map("loop variables", top);
            let mut r = self.run_once_on_host(ctx, task, frame, host, &item_scope, delegate);
            r.insert(loop_var.clone(), to_json(&item));
            r.insert("ansible_loop_var".into(), Json::String(loop_var.clone()));
            if let Some(label) = &label {
                if let Ok(l) = self.templar.template(&from_yaml(label), &item_scope) {
                    r.insert("_ansible_item_label".into(), to_json(&l));
                }
            }
            any_changed |= r.get("changed") == Some(&Json::Bool(true));
            any_failed |= r.get("failed") == Some(&Json::Bool(true));
            results.push(r);
        }
        let mut out = Map::new();
        out.insert("changed".into(), Json::Bool(any_changed));
        if any_failed {
            out.insert("failed".into(), Json::Bool(true));
            out.insert(
                "msg".into(),
                Json::String("One or more items failed".into()),
            );
        } else {
            out.insert("msg".into(), Json::String("All items completed".into()));
        }
        out.insert("skipped".into(), Json::Bool(false));
        out.insert(
            "results".into(),
            Json::Array(results.into_iter().map(Json::Object).collect()),
        );
        out
    }

    /// One execution of the task's action (one loop item, or the whole task).
    fn run_once_on_host(
        &mut self,
        ctx: &PlayCtx,
        task: &Task,
        frame: &Frame,
        host: &str,
        scope: &VarLayers,
        delegate: Option<&str>,
    ) -> Map<String, Json> {
        let action = short_action(task.resolved_action.as_deref().unwrap_or(&task.action));
        let args = match self.template_args(task, scope) {
            Ok(a) => a,
            Err(msg) => return obj(json!({"failed": true, "msg": msg})),
        };
        let json_args: Map<String, Json> =
            args.iter().map(|(k, v)| (k.clone(), to_json(v))).collect();
        let mut result = match action.as_str() {
            "debug" => {
                let raw_var = task.args.get("var").and_then(|n| n.as_str());
                actions::debug(
                    &json_args,
                    raw_var,
                    &self.templar,
                    scope,
                    self.options.verbosity,
                )
                .result
            }
            "set_fact" => {
                let out = actions::set_fact(&args);
                let st = self.state(host);
                let facts = Arc::make_mut(&mut st.set_facts);
                for (k, v) in out.set_facts {
                    facts.insert(k, v);
                }
                out.result
            }
            "fail" => actions::fail(&json_args).result,
            "assert" => {
                let that: Vec<Value> = match task.args.get("that") {
                    Some(node) => match &node.value {
                        rsible_yaml::Value::Seq(items) => items.iter().map(from_yaml).collect(),
                        _ => vec![from_yaml(node)],
                    },
                    None => {
                        return obj(
                            json!({"failed": true, "msg": "conditional required in \"that\" string"}),
                        )
                    }
                };
                match actions::assert(&that, &json_args, &self.templar, scope) {
                    Ok(o) => o.result,
                    Err(e) => obj(json!({"failed": true, "msg": e.to_string()})),
                }
            }
            "template" => self.template_action(ctx, task, frame, host, scope, &json_args, delegate),
            "copy"
                if json_args.contains_key("src")
                    && !json_args.get("remote_src").is_some_and(json_truthy) =>
            {
                self.copy_src_action(ctx, task, frame, host, scope, &json_args, delegate)
            }
            _ => self.module_call(host, scope, delegate, &action, Json::Object(json_args)),
        };
        normalize_result(&mut result);
        self.apply_result_keywords(task, frame, scope, &mut result);
        result
    }

    fn template_args(
        &self,
        task: &Task,
        scope: &VarLayers,
    ) -> Result<IndexMap<String, Value>, String> {
        let mut out = IndexMap::new();
        for (k, v) in &task.args {
            let value = self.templar.template(&from_yaml(v), scope).map_err(|e| {
                format!(
                    "The task includes an option with an undefined variable. The error was: {e}"
                )
            })?;
            if value.as_str() == Some(OMIT) {
                continue;
            }
            out.insert(k.clone(), value);
        }
        Ok(out)
    }

    fn target_spec(&self, host: &str, scope: &VarLayers, delegate: Option<&str>) -> TargetSpec {
        let get = |name: &str| -> Option<String> {
            let raw = scope.get(name)?;
            let v = self.templar.template(&raw, scope).ok()?;
            if v.is_none() || v.is_undefined() {
                return None;
            }
            Some(
                v.as_str()
                    .map(str::to_string)
                    .unwrap_or_else(|| v.to_string()),
            )
        };
        let name = delegate.unwrap_or(host).to_string();
        let local_default = rsible_inventory::LOCALHOST_NAMES.contains(&name.as_str());
        // Delegation uses the delegated host's connection variables when it is in the inventory.
        let (connection, address) = if delegate.is_some() && delegate != Some(host) {
            let vars = self
                .inventory
                .hosts
                .get(&name)
                .map(|h| h.vars.clone())
                .unwrap_or_default();
            let conn = vars
                .get("ansible_connection")
                .and_then(|n| n.as_str())
                .map(str::to_string);
            let addr = vars
                .get("ansible_host")
                .and_then(|n| n.as_str())
                .map(str::to_string);
            (
                conn.or_else(|| get("ansible_connection"))
                    .unwrap_or_else(|| {
                        if local_default {
                            "local".into()
                        } else {
                            "ssh".into()
                        }
                    }),
                addr.unwrap_or_else(|| name.clone()),
            )
        } else {
            (
                get("ansible_connection").unwrap_or_else(|| {
                    if local_default {
                        "local".into()
                    } else {
                        "ssh".into()
                    }
                }),
                get("ansible_host").unwrap_or_else(|| name.clone()),
            )
        };
        TargetSpec {
            host: name,
            connection,
            address,
            port: get("ansible_port").and_then(|p| p.parse().ok()),
            user: get("ansible_user"),
            private_key_file: get("ansible_ssh_private_key_file")
                .or_else(|| get("ansible_private_key_file")),
            ssh_common_args: get("ansible_ssh_common_args"),
            ssh_extra_args: get("ansible_ssh_extra_args"),
            become_user: None,
            become_method: None,
        }
    }

    fn module_call(
        &mut self,
        host: &str,
        scope: &VarLayers,
        delegate: Option<&str>,
        module: &str,
        args: Json,
    ) -> Map<String, Json> {
        let spec = self.target_spec(host, scope, delegate);
        match self.runner.run_module(
            &spec,
            module,
            &args,
            self.options.check_mode,
            self.options.diff,
        ) {
            Ok(r) => r,
            Err(u) => obj(json!({"unreachable": true, "msg": u.0, "changed": false})),
        }
    }

    /// `template`: rendered here, written on the target by the agent's copy.
    #[allow(clippy::too_many_arguments)]
    fn template_action(
        &mut self,
        ctx: &PlayCtx,
        _task: &Task,
        frame: &Frame,
        host: &str,
        scope: &VarLayers,
        args: &Map<String, Json>,
        delegate: Option<&str>,
    ) -> Map<String, Json> {
        let Some(src) = args.get("src").and_then(Json::as_str) else {
            return obj(json!({"failed": true, "msg": "src and dest are required"}));
        };
        let Some(path) = find_file(ctx, frame, "templates", src) else {
            return obj(
                json!({"failed": true, "msg": format!("Could not find or access '{src}'")}),
            );
        };
        let text = match std::fs::read_to_string(&path) {
            Ok(t) => t,
            Err(e) => {
                return obj(
                    json!({"failed": true, "msg": format!("Could not read '{}': {e}", path.display())}),
                )
            }
        };
        let mut tscope = scope.clone();
        let mut extra: IndexMap<String, Value> = IndexMap::new();
        extra.insert(
            "template_path".into(),
            Value::from(path.display().to_string()),
        );
        extra.insert("template_host".into(), Value::from(host));
        tscope.push_map("template variables", extra);
        let rendered =
            match self
                .templar
                .render_file(&text, &tscope, rsible_templar::JinjaOptions::default())
            {
                Ok(r) => r,
                Err(e) => return obj(json!({"failed": true, "msg": format!("AnsibleError: {e}")})),
            };
        let mut copy_args = args.clone();
        copy_args.remove("src");
        copy_args.insert("content".into(), Json::String(rendered));
        let mut r = self.module_call(host, scope, delegate, "copy", Json::Object(copy_args));
        if !r.contains_key("unreachable") {
            r.insert("src".into(), Json::String(path.display().to_string()));
        }
        r
    }

    #[allow(clippy::too_many_arguments)]
    fn copy_src_action(
        &mut self,
        ctx: &PlayCtx,
        _task: &Task,
        frame: &Frame,
        host: &str,
        scope: &VarLayers,
        args: &Map<String, Json>,
        delegate: Option<&str>,
    ) -> Map<String, Json> {
        let src = args.get("src").and_then(Json::as_str).unwrap_or("");
        let Some(path) = find_file(ctx, frame, "files", src) else {
            return obj(
                json!({"failed": true, "msg": format!("Could not find or access '{src}'")}),
            );
        };
        if path.is_dir() {
            return obj(
                json!({"failed": true, "msg": "rsible does not support copying directories yet"}),
            );
        }
        let content = match std::fs::read_to_string(&path) {
            Ok(t) => t,
            Err(e) => {
                return obj(
                    json!({"failed": true, "msg": format!("Could not read '{}': {e}", path.display())}),
                )
            }
        };
        let mut copy_args = args.clone();
        copy_args.remove("src");
        copy_args.insert("content".into(), Json::String(content));
        self.module_call(host, scope, delegate, "copy", Json::Object(copy_args))
    }

    /// `changed_when`, `failed_when` and `ignore_errors` need the result as
    /// the registered variable; they are applied before the result is shown.
    fn apply_result_keywords(
        &self,
        task: &Task,
        frame: &Frame,
        scope: &VarLayers,
        result: &mut Map<String, Json>,
    ) {
        if result.contains_key("unreachable") || result.get("skipped") == Some(&Json::Bool(true)) {
            return;
        }
        let mut rscope = scope.clone();
        if let Some(name) = task.keywords.get("register").and_then(|n| n.as_str()) {
            let mut top: IndexMap<String, Value> = IndexMap::new();
            top.insert(
                name.to_string(),
                crate::scope::json_to_value(&Json::Object(result.clone())),
            );
            rscope.push_map("registered result", top);
        }
        if let Some(node) = frame.keyword(task, "changed_when") {
            match self.eval_conditions(node, &rscope) {
                Ok(b) => {
                    result.insert("changed".into(), Json::Bool(b));
                }
                Err(e) => {
                    result.insert("failed".into(), Json::Bool(true));
                    result.insert("msg".into(), Json::String(e));
                }
            }
        }
        if let Some(node) = frame.keyword(task, "failed_when") {
            match self.eval_conditions(node, &rscope) {
                Ok(b) => {
                    result.insert("failed_when_result".into(), Json::Bool(b));
                    result.insert("failed".into(), Json::Bool(b));
                }
                Err(e) => {
                    result.insert("failed".into(), Json::Bool(true));
                    result.insert("msg".into(), Json::String(e));
                }
            }
        }
    }

    /// A list of conditions is true when all are (`failed_when: [a, b]`).
    fn eval_conditions(&self, node: &rsible_yaml::Node, scope: &VarLayers) -> Result<bool, String> {
        let conds: Vec<Value> = match &node.value {
            rsible_yaml::Value::Seq(items) => items.iter().map(from_yaml).collect(),
            _ => vec![from_yaml(node)],
        };
        for c in conds {
            if !self
                .templar
                .evaluate_conditional(&c, scope)
                .map_err(|e| e.to_string())?
            {
                return Ok(false);
            }
        }
        Ok(true)
    }

    /// Records and prints one host's result; `applies_to` are the hosts the
    /// result counts for (all of them under run_once).
    #[allow(clippy::too_many_arguments)]
    fn report(
        &mut self,
        task: &Task,
        frame: &Frame,
        host: &str,
        view: &TaskView,
        result: Map<String, Json>,
        scope: &VarLayers,
        applies_to: &[String],
    ) {
        let ignore_errors = frame
            .keyword(task, "ignore_errors")
            .map(|n| {
                let v = from_yaml(n);
                self.templar
                    .evaluate_conditional(&v, scope)
                    .unwrap_or(false)
            })
            .unwrap_or(false);
        if let Some(Json::Array(items)) = result.get("results") {
            for item in items {
                if let Json::Object(m) = item {
                    let shown = clean_copy(m);
                    let rv = ResultView {
                        host,
                        task: view,
                        result: &shown,
                    };
                    if m.get("failed") == Some(&Json::Bool(true)) {
                        self.callback.runner_item_on_failed(&rv);
                    } else if m.get("skipped") == Some(&Json::Bool(true)) {
                        self.callback.runner_item_on_skipped(&rv);
                    } else {
                        self.callback.runner_item_on_ok(&rv);
                    }
                }
            }
        }
        let shown = clean_copy(&result);
        let rv = ResultView {
            host,
            task: view,
            result: &shown,
        };
        let unreachable = result.get("unreachable") == Some(&Json::Bool(true));
        let failed = result.get("failed") == Some(&Json::Bool(true));
        let skipped = result.get("skipped") == Some(&Json::Bool(true));
        let changed = result.get("changed") == Some(&Json::Bool(true));
        if unreachable {
            self.callback.runner_on_unreachable(&rv, false);
        } else if failed {
            self.callback.runner_on_failed(&rv, ignore_errors);
        } else if skipped {
            self.callback.runner_on_skipped(&rv);
        } else {
            self.callback.runner_on_ok(&rv);
        }
        // register: the result as the task's variable, on every host it applies to
        if let Some(name) = task.keywords.get("register").and_then(|n| n.as_str()) {
            let mut registered = result.clone();
            registered.retain(|k, _| !k.starts_with("_ansible_") || k == "_ansible_no_log");
            let value = crate::scope::json_to_value(&Json::Object(registered));
            for h in applies_to {
                let st = self.state(h);
                Arc::make_mut(&mut st.set_facts).insert(name.to_string(), value.clone());
            }
        }
        // Counters and failure belong to the host that ran the task, even
        // under run_once (whose result is registered for every host).
        {
            let h = host;
            let s = self.stats.host(h);
            if unreachable {
                s.unreachable += 1;
            } else if failed && !ignore_errors {
                s.failures += 1;
            } else if failed {
                s.ignored += 1;
                s.ok += 1;
                if changed {
                    s.changed += 1;
                }
            } else if skipped {
                s.skipped += 1;
            } else {
                s.ok += 1;
                if changed {
                    s.changed += 1;
                }
            }
            let st = self.state(h);
            if unreachable {
                st.unreachable = true;
            } else if failed && !ignore_errors {
                st.failed = true;
            }
        }
        if changed && !failed {
            for topic in notify_list(frame.keyword(task, "notify")) {
                for h in applies_to {
                    self.state(h).notified.insert(topic.clone());
                }
            }
        }
    }

    fn run_meta(
        &mut self,
        ctx: &PlayCtx,
        task: &Rc<Task>,
        hosts: &[String],
    ) -> Result<(), FatalError> {
        let what = task
            .args
            .get("_raw_params")
            .and_then(|n| n.as_str())
            .unwrap_or("")
            .to_string();
        match what.as_str() {
            "flush_handlers" => self.flush_handlers(ctx, hosts),
            "noop" => Ok(()),
            "end_play" => {
                for h in hosts {
                    self.state(h).ended = true;
                }
                Ok(())
            }
            "end_host" => {
                for h in hosts {
                    self.state(h).ended = true;
                }
                Ok(())
            }
            other => Err(FatalError {
                message: format!("rsible does not support 'meta: {other}' yet"),
                exit_code: 1,
            }),
        }
    }

    /// Runs the notified handlers, in the order they are defined, on the hosts that notified them.
    fn flush_handlers(&mut self, ctx: &PlayCtx, hosts: &[String]) -> Result<(), FatalError> {
        let mut handlers: Vec<(Rc<Task>, Frame)> = Vec::new();
        let base = Frame {
            tags: ctx.play.tags.clone(),
            ..Frame::default()
        };
        for role in &ctx.play.roles {
            collect_role_handlers(role, &base, &mut handlers);
        }
        collect_handlers(&ctx.play.handlers, &base, &mut handlers);
        let mut ran_any = true;
        while ran_any {
            ran_any = false;
            for (handler, frame) in &handlers {
                let mut names: Vec<String> = vec![];
                if let Some(n) = &handler.name {
                    names.push(n.clone());
                    if let Some(role) = &frame.role {
                        names.push(format!("{} : {}", role.name, n));
                    }
                }
                names.extend(handler.listen.iter().cloned());
                let notified: Vec<String> = hosts
                    .iter()
                    .filter(|h| {
                        self.states.get(*h).is_some_and(|s| {
                            s.is_active() && names.iter().any(|n| s.notified.contains(n))
                        })
                    })
                    .cloned()
                    .collect();
                if notified.is_empty() {
                    continue;
                }
                for h in &notified {
                    let st = self.state(h);
                    for n in &names {
                        st.notified.shift_remove(n);
                    }
                }
                ran_any = true;
                self.run_handler(ctx, handler, frame, &notified)?;
            }
        }
        Ok(())
    }

    fn run_handler(
        &mut self,
        ctx: &PlayCtx,
        handler: &Rc<Task>,
        frame: &Frame,
        hosts: &[String],
    ) -> Result<(), FatalError> {
        // Handlers are not filtered by tags once notified.
        let mut f = frame.clone();
        f.tags.clear();
        let saved = (
            std::mem::take(&mut self.options.tags),
            std::mem::take(&mut self.options.skip_tags),
        );
        let r = self.run_task_as(ctx, handler, &f, hosts, "RUNNING HANDLER");
        self.options.tags = saved.0;
        self.options.skip_tags = saved.1;
        r
    }
}

fn unreachable_view() -> TaskView {
    TaskView {
        id: 0,
        prefix: "TASK",
        name: String::new(),
        action: String::new(),
        path: String::new(),
        is_include: false,
        delegate_to: None,
    }
}

fn collect_role_handlers(role: &Rc<Role>, parent: &Frame, out: &mut Vec<(Rc<Task>, Frame)>) {
    for dep in &role.dependencies {
        collect_role_handlers(dep, parent, out);
    }
    let mut frame = parent.clone();
    frame.role = Some(role.clone());
    collect_handlers(&role.handlers, &frame, out);
}

fn collect_handlers(items: &[Item], frame: &Frame, out: &mut Vec<(Rc<Task>, Frame)>) {
    for item in items {
        match item {
            Item::Task(t) => {
                if !out.iter().any(|(o, _)| Rc::ptr_eq(o, t)) {
                    out.push((t.clone(), frame.clone()));
                }
            }
            Item::Block(b) => {
                collect_handlers(&b.block, frame, out);
                collect_handlers(&b.rescue, frame, out);
                collect_handlers(&b.always, frame, out);
            }
        }
    }
}

fn notify_list(node: Option<&rsible_yaml::Node>) -> Vec<String> {
    match node {
        None => vec![],
        Some(n) => match &n.value {
            rsible_yaml::Value::Seq(items) => items
                .iter()
                .filter_map(|i| i.as_str().map(str::to_string))
                .collect(),
            _ => n.as_str().map(|s| vec![s.to_string()]).unwrap_or_default(),
        },
    }
}

/// Finds a `src` as Ansible's action plugins do: absolute paths as they are;
/// else the role's `files/` or `templates/`, the role directory, then the
/// play's directory with and without the subdirectory.
fn find_file(ctx: &PlayCtx, frame: &Frame, subdir: &str, src: &str) -> Option<PathBuf> {
    let p = Path::new(src);
    if p.is_absolute() {
        return p.exists().then(|| p.to_path_buf());
    }
    let mut candidates = Vec::new();
    if let Some(role) = &frame.role {
        candidates.push(role.path.join(subdir).join(src));
        candidates.push(role.path.join(src));
    }
    candidates.push(ctx.play.basedir.join(subdir).join(src));
    candidates.push(ctx.play.basedir.join(src));
    candidates.into_iter().find(|c| c.exists())
}

fn play_display_name(play: &Play) -> String {
    if !play.name.is_empty() {
        play.name.clone()
    } else {
        play.hosts.join(",")
    }
}

fn short_action(action: &str) -> String {
    for prefix in ["ansible.builtin.", "ansible.legacy."] {
        if let Some(rest) = action.strip_prefix(prefix) {
            return rest.to_string();
        }
    }
    action.to_string()
}

fn batch_size(spec: &Value, total: usize) -> usize {
    if let Some(s) = spec.as_str() {
        if let Some(pct) = s.trim().strip_suffix('%') {
            let pct: f64 = pct.trim().parse().unwrap_or(100.0);
            let n = ((total as f64) * pct / 100.0) as usize;
            return n.max(1);
        }
        return s.trim().parse().unwrap_or(0);
    }
    i64::try_from(spec.clone())
        .map(|n| n.max(0) as usize)
        .unwrap_or(0)
}

fn flatten_one(items: Vec<Value>) -> Vec<Value> {
    let mut out = Vec::new();
    for i in items {
        if i.as_str().is_none() {
            if let Ok(it) = i.try_iter() {
                if matches!(i.kind(), minijinja::value::ValueKind::Seq) {
                    out.extend(it);
                    continue;
                }
            }
        }
        out.push(i);
    }
    out
}

/// TaskExecutor's defaults for an executed action: `failed` from a non-zero
/// `rc` when the module did not say, `changed` false when absent.
fn normalize_result(result: &mut Map<String, Json>) {
    if result.contains_key("unreachable") {
        return;
    }
    if !result.contains_key("failed") {
        let rc_failed = match result.get("rc") {
            Some(Json::Number(n)) => n.as_i64() != Some(0),
            Some(Json::String(s)) => s != "0",
            _ => false,
        };
        result.insert("failed".into(), Json::Bool(rc_failed));
    }
    if !result.contains_key("changed") {
        result.insert("changed".into(), Json::Bool(false));
    }
}

/// What the callbacks see: TaskResult.clean_copy() drops `failed` and `skipped`.
fn clean_copy(result: &Map<String, Json>) -> Map<String, Json> {
    let mut copy = result.clone();
    copy.remove("failed");
    copy.remove("skipped");
    copy
}

fn obj(v: Json) -> Map<String, Json> {
    match v {
        Json::Object(m) => m,
        _ => Map::new(),
    }
}

fn json_truthy(v: &Json) -> bool {
    match v {
        Json::Bool(b) => *b,
        Json::String(s) => matches!(s.to_ascii_lowercase().as_str(), "yes" | "true" | "1" | "on"),
        _ => false,
    }
}
