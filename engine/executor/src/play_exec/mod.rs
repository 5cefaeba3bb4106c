//! Runs a loaded playbook: per play, the hosts in batches (`serial`), the
//! play's sections in order with handlers flushed after each, every task in
//! lockstep across the batch's hosts (the `linear` strategy).

use std::collections::HashMap;
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
use crate::magic::{magic_layer, MagicInputs};
use crate::output::default_callback::{DefaultCallback, Sink, TaskView};
use crate::output::stats::Stats;
use crate::scope::{task_scope, InventoryLayers, PlayLayers};
use crate::target::TargetRunner;
use crate::vars::{Layer, VarLayers};

mod action_fail;
mod async_task;
mod become_secrets;
mod control;
mod controller_actions;
mod copy_diff;
mod delegation;
mod fetch;
mod file_actions;
#[path = "../strategy/free.rs"]
mod free_strategy;
mod gather;
mod handlers;
mod hostvars;
mod hostvars_cache;
mod include_results;
mod include_role;
mod includes;
pub(crate) mod loop_abort;
mod loop_control;
mod loops;
mod meta;
mod module_defaults;
mod notify;
mod prefetch;
mod prefetch_memo;
mod python_fallback;
mod raw_action;
mod reboot;
mod reboot_batch;
mod refresh_inventory;
mod results;
mod retries;
mod script_action;
mod start_at;
mod step;
mod synchronize_action;
mod template_options;
mod unarchive_action;
mod uri_action;
mod variable_params;
mod vars_files;
mod wait_for_connection;

use results::normalize_result;
pub use synchronize_action::SshCommandDefaults;

/// What the command line asked for.
#[derive(Clone, Debug, Default)]
pub struct RunOptions {
    pub check_mode: bool,
    pub diff: bool,
    pub verbosity: u8,
    /// `-f` / ansible.cfg `forks`: how many hosts' module calls run at once.
    pub forks: usize,
    pub tags: Vec<String>,
    pub skip_tags: Vec<String>,
    pub limit: Option<Vec<String>>,
    pub force_handlers: bool,
    /// `-b` / ansible.cfg `become`: become unless a task says `become: false`.
    pub become_default: bool,
    /// `--become-user` / `--become-method` (or their ansible.cfg settings).
    pub become_user: Option<String>,
    pub become_method: Option<String>,
    /// `-c` / ansible.cfg `transport`: the connection of hosts whose play,
    /// task and variables name none (None: ssh).
    pub connection: Option<String>,
    /// The `gathering` setting: implicit, explicit or smart.
    pub gathering: String,
    /// `--flush-cache`: forget cached facts before the first play.
    pub flush_cache: bool,
    /// `--start-at-task`: cleared once a task matched (see `start_at.rs`).
    pub start_at_task: Option<String>,
    /// `ansible_playbook_python` (see `magic::MagicInputs`).
    pub playbook_python: Option<String>,
    /// `ansible_run_tags`, `ansible_limit`, ... (see `magic::option_vars`).
    pub option_vars: Vec<(String, Value)>,
    /// ansible.cfg `strategy` (`linear` when empty); a play's keyword wins.
    pub strategy: String,
    /// The `async_dir` setting (ansible.cfg, `ANSIBLE_ASYNC_DIR`); None: `~/.ansible_async`.
    pub async_dir: Option<String>,
    /// The `poll_interval` setting: `poll`'s default; None: 15.
    pub poll_interval: Option<i64>,
    /// `--step`: ask before each task (see `step.rs`).
    pub step: bool,
    /// ssh settings action plugins hand on (see `synchronize_action.rs`).
    pub ssh: SshCommandDefaults,
}

/// How the run ended, for the exit code and the retry file.
#[derive(Debug, Default)]
pub struct RunOutcome {
    pub failed_hosts: Vec<String>,
    pub unreachable_hosts: Vec<String>,
    /// `--step` found no answer to read: the run stopped.
    pub aborted: bool,
}

impl RunOutcome {
    /// ansible-core 2.18's exit code: 4 (RUN_UNREACHABLE_HOSTS) when a host was
    /// unreachable, even if others failed; else 2 when a host failed; else 0.
    pub fn exit_code(&self) -> i32 {
        if self.aborted {
            // Ansible's RUN_UNKNOWN_ERROR becomes RUN_FAILED_HOSTS.
            2
        } else if !self.unreachable_hosts.is_empty() {
            4
        } else if !self.failed_hosts.is_empty() {
            2
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
    /// `(method, user)` when the task being run uses become; set per task
    /// execution before its module calls (see `become_for`).
    current_become: Option<(String, String)>,
    /// The task's `become_flags` keyword, when it (or a parent) sets one.
    current_become_flags: Option<String>,
    /// What the task-control keywords keep during a run (see `control.rs`).
    ctl: control::ControlState,
    /// Connection settings of the execution in progress (see `delegation.rs`).
    conn_ctx: delegation::ConnContext,
    /// The play's handlers and notification errors (see `notify.rs`).
    notify: notify::NotifyState,
    /// Module calls of the current task made side by side (see `prefetch`).
    prefetch: prefetch::PrefetchState,
    /// Loads task files at run time (`include_tasks`).
    loader: Option<&'a rsible_playbook::Loader<'a>>,
    /// `hostvars` for the current play (see `hostvars_cache.rs`).
    hostvars_cache: hostvars_cache::HostvarsCache,
    /// `groups` after add_host/group_by changed the inventory during a play.
    groups_now: Option<Value>,
    /// Handlers of roles included at run time (`include_role`), for this play.
    dynamic_handlers: Vec<(Rc<Task>, Frame)>,
    /// Defaults and vars of roles included with `public: true`, for this play.
    public_role_defaults: IndexMap<String, Value>,
    public_role_vars: IndexMap<String, Value>,
    /// The persistent fact cache (`fact_caching = jsonfile`), if configured.
    fact_cache: Option<crate::fact_cache::FactCache>,
    /// Python-module payloads built during the run.
    python: python_fallback::FallbackState,
    module_defaults: module_defaults::ModuleDefaultsState,
    /// Play vars_files already read.
    vars_files_cache: crate::vars::play_vars_files::VarsFilesCache,
    meta: meta::MetaState,
    /// Reads the inventory sources again (`meta: refresh_inventory`).
    inventory_reload: Option<refresh_inventory::InventoryReload<'a>>,
    step: step::StepState,
    /// The free strategy's batch in progress (see `strategy/free_run.rs`).
    free: free_strategy::FreeState,
}

/// Where a play's hosts stand in the current batch.
struct PlayCtx<'p> {
    play: &'p Play,
    layers: PlayLayers,
    play_hosts: Value,
    batch: Value,
    groups: Value,
    /// The roles the play names, and those they depend on (magic variables).
    role_names: (Vec<String>, Vec<String>),
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
            current_become: None,
            current_become_flags: None,
            ctl: control::ControlState::default(),
            conn_ctx: delegation::ConnContext::default(),
            notify: notify::NotifyState::default(),
            prefetch: prefetch::PrefetchState::default(),
            inventory_reload: None,
            loader: None,
            hostvars_cache: Default::default(),
            groups_now: None,
            dynamic_handlers: Vec::new(),
            public_role_defaults: IndexMap::new(),
            public_role_vars: IndexMap::new(),
            fact_cache: None,
            python: Default::default(),
            module_defaults: Default::default(),
            vars_files_cache: Default::default(),
            meta: Default::default(),
            step: Default::default(),
            free: Default::default(),
        }
    }

    /// Gives the executor a persistent fact cache (see `fact_cache`).
    pub fn with_fact_cache(mut self, cache: crate::fact_cache::FactCache) -> Self {
        self.fact_cache = Some(cache);
        self
    }

    pub fn run(&mut self, playbook: &Playbook) -> Result<RunOutcome, FatalError> {
        self.prime_fact_cache();
        for play in &playbook.plays {
            if !self.run_play(play)? || self.step.aborted {
                // Every host of a batch failed: Ansible stops the whole playbook.
                break;
            }
        }
        let mut outcome = RunOutcome {
            aborted: self.step.aborted,
            ..RunOutcome::default()
        };
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

    /// Gives the executor the loader that read the playbook, for `include_tasks`.
    pub fn with_loader(mut self, loader: &'a rsible_playbook::Loader<'a>) -> Self {
        self.loader = Some(loader);
        self.runner
            .set_module_sources(crate::connection_pool::ModuleSources {
                ansible_core_dir: loader.modules.ansible_core_dir().map(|d| d.to_path_buf()),
                collection_roots: loader.modules.collection_roots(),
            });
        self
    }

    /// A task's name as the banner shows it: templated with the first host's
    /// variables when it holds a template (Ansible does the same), else as written.
    fn templated_task_name(&self, task: &Task, scope: &VarLayers) -> String {
        let name = task.display_name();
        if !name.contains("{{") {
            return name;
        }
        match self.templar.template_str(&name, scope) {
            Ok(v) => v
                .as_str()
                .map(str::to_string)
                .unwrap_or_else(|| v.to_string()),
            Err(_) => name,
        }
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

    /// A host's state, for changing it: every such access may change what
    /// `hostvars` shows of that host, so its cached entry is dropped.
    fn state(&mut self, host: &str) -> &mut HostState {
        self.hostvars_cache.host_changed(host);
        self.states.entry(host.to_string()).or_default()
    }

    /// Runs one play; false when every host of a batch failed, which ends the playbook.
    fn run_play(&mut self, play: &Play) -> Result<bool, FatalError> {
        self.check_play_vars_files(play)?;
        let hosts = self
            .inventory
            .select_limited(&play.hosts, self.options.limit.as_deref())
            .map_err(|e| FatalError {
                message: e.to_string(),
                exit_code: 1,
            })?;
        // The banner comes before host checks; with `serial` it repeats per batch.
        self.callback
            .play_start_at(&play_display_name(play), &play_path(play));
        if hosts.is_empty() {
            self.callback.no_hosts_matched();
            return Ok(true);
        }
        // Batches are cut from every matched host, as Ansible's are; a host
        // that failed in an earlier play sits in its batch but runs nothing.
        let batches = self.batches(play, &hosts)?;
        let hosts = self.live_hosts(&hosts);
        self.groups_now = None;
        self.dynamic_handlers.clear();
        self.public_role_defaults.clear();
        self.public_role_vars.clear();
        let groups = self.groups_value();
        let play_hosts = Value::from_iter(hosts.iter().map(|h| Value::from(h.as_str())));
        self.meta.play_ended = false;
        for (index, whole_batch) in batches.into_iter().enumerate() {
            if self.meta.play_ended {
                break;
            }
            if index > 0 {
                self.callback
                    .play_start_at(&play_display_name(play), &play_path(play));
            }
            let failed_before = self.failed_count(&whole_batch);
            let batch = self.live_hosts(&whole_batch);
            if batch.is_empty() {
                continue;
            }
            let ctx = PlayCtx {
                play,
                layers: PlayLayers::new(play, self.extra_vars.clone()),
                play_hosts: play_hosts.clone(),
                batch: Value::from_iter(batch.iter().map(|h| Value::from(h.as_str()))),
                groups: groups.clone(),
                role_names: crate::scope::play_role_names(play),
            };
            for h in &batch {
                self.state(h).ended = false;
            }
            self.step.new_batch();
            // Play keywords (become, ignore_errors, ...) are inherited by every task.
            let base = Frame {
                tags: play.tags.clone(),
                keywords: vec![Arc::new(play.keywords.clone())],
                ..Frame::default()
            };
            if self.play_is_free(play) {
                self.run_batch_free(&ctx, &base, &batch)?;
            } else {
                self.run_batch_sections(&ctx, &base, &batch)?;
            }
            // Ansible ends the playbook when this batch's new failures
            // account for every host of the batch (earlier failures included).
            let all_failed = self
                .failed_count(&whole_batch)
                .saturating_sub(failed_before)
                == whole_batch.len();
            if all_failed {
                // Ansible ends the playbook silently here; "NO MORE HOSTS
                // LEFT" is printed only when max_fail_percentage stops a play.
                return Ok(false);
            }
        }
        Ok(true)
    }

    /// One batch through the play: facts, pre_tasks, roles, tasks,
    /// post_tasks, each followed by a handler flush.
    fn run_batch_sections(
        &mut self,
        ctx: &PlayCtx,
        base: &Frame,
        batch: &[String],
    ) -> Result<(), FatalError> {
        let play = ctx.play;
        self.gather_facts(ctx, base, batch)?;
        self.run_items(ctx, &play.pre_tasks, base, batch)?;
        self.flush_handlers(ctx, batch)?;
        for role in &play.roles {
            self.run_role(ctx, role, base, batch)?;
        }
        self.run_items(ctx, &play.tasks, base, batch)?;
        self.flush_handlers(ctx, batch)?;
        self.run_items(ctx, &play.post_tasks, base, batch)?;
        self.flush_handlers(ctx, batch)
    }

    /// The hosts of `hosts` that have not failed or become unreachable.
    fn live_hosts(&self, hosts: &[String]) -> Vec<String> {
        hosts
            .iter()
            .filter(|h| {
                self.states
                    .get(*h)
                    .is_none_or(|s| !s.failed && !s.unreachable)
            })
            .cloned()
            .collect()
    }

    fn failed_count(&self, hosts: &[String]) -> usize {
        hosts.len() - self.live_hosts(hosts).len()
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
        let mut frame = parent.entering_role(role);
        for dep in &role.dependencies {
            self.run_role(ctx, dep, &frame, hosts)?;
        }
        frame.role = Some(role.clone());
        let r = self.run_items(ctx, &role.tasks, &frame, hosts);
        self.end_of_role(hosts);
        r
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
        let frame = parent.for_block(block);
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
        // Each execution of a task is its own banner identity, as each of
        // Ansible's included copies has its own uuid (an address would be
        // reused by the tasks of the next include).
        let id = self.free_banner_id(task).unwrap_or_else(|| {
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
        if prefix == "TASK" && !self.start_at_allows(task, frame) {
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
        self.refresh_play_handlers(ctx);
        self.free_task_checks(ctx, task, frame, &active[0])?;
        if task.action == "meta" || task.action.ends_with(".meta") {
            return self.run_meta(ctx, task, frame, &active);
        }
        if !self.step_allows(&step::task_repr(task, prefix), &active) {
            return Ok(());
        }
        if task.kind == rsible_playbook::TaskKind::IncludeTasks {
            return self.run_include_tasks(ctx, task, frame, &active, prefix);
        }
        if task.kind == rsible_playbook::TaskKind::IncludeRole {
            return self.run_include_role(ctx, task, frame, &active, prefix);
        }
        // The free strategy runs a run_once task on every host.
        let run_once = frame
            .keyword(task, "run_once")
            .map(|n| self.node_truthy(n))
            .unwrap_or(false)
            && !self.play_is_free(ctx.play);
        let bypass = controller_actions::bypasses_host_loop(task);
        let hosts_to_run: Vec<String> = if run_once || bypass {
            active[..1].to_vec()
        } else {
            active.clone()
        };
        let mut view: Option<TaskView> = None;
        if !run_once && !bypass && hosts_to_run.len() > 1 {
            // The banner comes before any host runs the task, as when hosts
            // run one by one (templated with the first host's variables).
            let first = &hosts_to_run[0];
            let scope = self.scope_for(ctx, first, frame, Some(task));
            let delegate = self.delegate_label(task, frame, &scope);
            let mut v = self.task_view(task, prefix, delegate);
            v.name = self.templated_task_name(task, &scope);
            self.callback.task_start(&v);
            view = Some(v);
            self.prefetch_task(ctx, task, frame, &hosts_to_run);
        }
        for host in &hosts_to_run {
            let scope = self.scope_for(ctx, host, frame, Some(task));
            // Templated again per loop item (see `run_on_host`).
            let delegate = self.delegate_label(task, frame, &scope);
            if view.is_none() {
                let mut v = self.task_view(task, prefix, delegate.clone());
                v.name = self.templated_task_name(task, &scope);
                self.callback.task_start(&v);
                view = Some(v);
            }
            let mut v = view.clone().unwrap_or_else(unreachable_view);
            v.delegate_to = delegate.clone();
            self.ctl.current_view = Some(v.clone());
            let outcome = self.run_on_host(ctx, task, frame, host, &scope);
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
            self.take_notify_error()?;
        }
        self.prefetch.clear();
        self.enforce_failure_limits(ctx, task, frame, &active, run_once);
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
            groups: self.groups_now.as_ref().unwrap_or(&ctx.groups),
            hostvars: &hostvars,
            play_hosts: &ctx.play_hosts,
            play_batch: &ctx.batch,
            playbook_dir: &ctx.play.basedir.display().to_string(),
            check_mode: self.options.check_mode,
            diff_mode: self.options.diff,
            role: role.as_ref().map(|(a, b)| (a.as_str(), b.as_str())),
            omit: OMIT,
            task_file: task.and_then(|t| t.mark.source.as_deref()),
            playbook_python: self.options.playbook_python.as_deref(),
            option_vars: &self.options.option_vars,
            play_name: &ctx.play.name,
            play_role_names: &ctx.role_names.0,
            dependent_role_names: &ctx.role_names.1,
        });
        if self.public_role_defaults.is_empty() && self.public_role_vars.is_empty() {
            let mut scope = task_scope(&ctx.layers, inv, &state, frame, task, magic);
            self.add_play_vars_files(ctx.play, &mut scope);
            return scope;
        }
        // Roles included with `public: true` add to the play's role levels.
        let mut defaults = (*ctx.layers.all_role_defaults).clone();
        defaults.extend(self.public_role_defaults.clone());
        let mut role_vars = (*ctx.layers.all_role_vars).clone();
        role_vars.extend(self.public_role_vars.clone());
        let layers = PlayLayers {
            all_role_defaults: Arc::new(defaults),
            play_vars: ctx.layers.play_vars.clone(),
            all_role_vars: Arc::new(role_vars),
            extra_vars: ctx.layers.extra_vars.clone(),
        };
        let mut scope = task_scope(&layers, inv, &state, frame, task, magic);
        self.add_play_vars_files(ctx.play, &mut scope);
        scope
    }

    /// One execution of the task's action (one loop item, or the whole
    /// task, one attempt of `until`): the result with TaskExecutor's
    /// defaults, before the result keywords (see `retries.rs`).
    fn execute_action(
        &mut self,
        ctx: &PlayCtx,
        task: &Task,
        frame: &Frame,
        host: &str,
        scope: &VarLayers,
        delegate: Option<&str>,
    ) -> Map<String, Json> {
        let action = short_action(task.resolved_action.as_deref().unwrap_or(&task.action));
        let args = match self.template_args_once(task, host, scope) {
            Ok(a) => a,
            Err(msg) => return obj(json!({"failed": true, "msg": msg, loop_abort::RAISED: true})),
        };
        let fqcn = task.resolved_action.as_deref().unwrap_or(&task.action);
        let args = match self.with_module_defaults(task, frame, scope, fqcn, args) {
            Ok(a) => a,
            Err(msg) => return obj(json!({"failed": true, "msg": msg})),
        };
        self.current_become = self.become_for(task, frame, scope);
        if let Err(msg) = self.prepare_call_settings(task, frame, scope) {
            return obj(json!({"failed": true, "msg": msg}));
        }
        self.prepare_connection(ctx, task, frame, host, scope, delegate);
        // `async`/`poll` (async_task.rs): module calls below start a job.
        let async_plan = match self.begin_async(task, &action, scope) {
            Ok(plan) => plan,
            Err(result) => return result,
        };
        self.current_become_flags = frame
            .keyword(task, "become_flags")
            .and_then(|node| self.template_node_str(node, scope).ok());
        let json_args: Map<String, Json> =
            args.iter().map(|(k, v)| (k.clone(), to_json(v))).collect();
        let mut result = match action.as_str() {
            "debug" => {
                let var = actions::debug_var_expr(
                    task.args.get("var").and_then(|n| n.as_str()),
                    json_args.get("var"),
                );
                actions::debug(
                    &json_args,
                    var.as_deref(),
                    &self.templar,
                    scope,
                    self.options.verbosity,
                )
                .result
            }
            "set_fact" => {
                let out = actions::set_fact(&args);
                let owner = self.set_fact_owner(task, frame, host, delegate);
                let st = self.state(&owner);
                let facts = Arc::make_mut(&mut st.set_facts);
                for (k, v) in out.set_facts {
                    facts.insert(k, v);
                }
                self.cache_set_facts(&owner, &args);
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
                    Err((index, e)) => {
                        // As Ansible: the error names the `that` item and its position.
                        let node = task.args.get("that").and_then(|n| match &n.value {
                            rsible_yaml::Value::Seq(items) => items.get(index),
                            _ => Some(n),
                        });
                        let msg = match node {
                            Some(n) => results::conditional_error(n, &e.to_string()),
                            None => e.to_string(),
                        };
                        return obj(json!({"failed": true, "msg": msg}));
                    }
                }
            }
            "template" => self.template_action(ctx, task, frame, host, scope, &json_args, delegate),
            "copy" if action_fail::copy_args_error(&json_args).is_some() => {
                action_fail::copy_args_error(&json_args).unwrap_or_default()
            }
            "copy"
                if json_args.contains_key("src")
                    && !json_args.get("remote_src").is_some_and(json_truthy) =>
            {
                self.copy_src_action(ctx, task, frame, host, scope, &json_args, delegate)
            }
            "copy"
                if json_args.get("content").is_some_and(Json::is_string)
                    && !json_args.get("remote_src").is_some_and(json_truthy) =>
            {
                self.copy_content_action(host, scope, &json_args, delegate)
            }
            "unarchive" if unarchive_action::controller_side_src(&json_args) => {
                self.unarchive_action(ctx, task, frame, host, scope, delegate, &json_args)
            }
            "fetch" => self.fetch_action(host, scope, delegate, &args),
            "wait_for_connection" => {
                self.wait_for_connection_action(&task.action, host, scope, delegate, &args)
            }
            "reboot" => self.reboot_action(&task.action, host, scope, delegate, &args),
            "raw" => self.raw_action(ctx, host, scope, delegate, &json_args),
            "script" => self.script_action(ctx, task, frame, host, scope, delegate, &args),
            "async_status" => self.async_status_action(host, scope, delegate, &json_args),
            synchronize_action::SYNCHRONIZE => {
                let call = python_fallback::ModuleCallCtx {
                    task,
                    frame,
                    host,
                    scope,
                    delegate,
                };
                self.synchronize_action(ctx, &call, json_args)
            }
            other => match self.controller_action(ctx, task, frame, host, other, &args) {
                Some(result) => result,
                None => self.run_module_action(
                    &python_fallback::ModuleCallCtx {
                        task,
                        frame,
                        host,
                        scope,
                        delegate,
                    },
                    &action,
                    json_args,
                ),
            },
        };
        normalize_result(&mut result);
        match async_plan {
            Some(plan) => self.finish_async(plan, host, scope, delegate, result),
            None => result,
        }
    }

    /// Whether and as whom the task becomes: its (or an enclosing block's,
    /// role's or play's) `become`/`become_user`/`become_method`, then the
    /// `ansible_become*` variables, then the command line; user root and
    /// method sudo by default.
    fn become_for(
        &self,
        task: &Task,
        frame: &Frame,
        scope: &VarLayers,
    ) -> Option<(String, String)> {
        let keyword_text = |name: &str| -> Option<String> {
            let node = frame.keyword(task, name)?;
            self.template_node_str(node, scope).ok()
        };
        let var_text = |name: &str| -> Option<String> {
            let raw = scope.get(name)?;
            let v = self.templar.template(&raw, scope).ok()?;
            (!v.is_none() && !v.is_undefined()).then(|| {
                v.as_str()
                    .map(str::to_string)
                    .unwrap_or_else(|| v.to_string())
            })
        };
        let truthy = |s: &str| {
            matches!(
                s.to_ascii_lowercase().as_str(),
                "true" | "yes" | "1" | "on" | "y" | "t"
            )
        };
        let become_ = keyword_text("become")
            .or_else(|| var_text("ansible_become"))
            .map(|s| truthy(&s))
            .unwrap_or(self.options.become_default);
        if !become_ {
            return None;
        }
        let user = keyword_text("become_user")
            .or_else(|| var_text("ansible_become_user"))
            .or_else(|| self.options.become_user.clone())
            .unwrap_or_else(|| "root".into());
        let method = keyword_text("become_method")
            .or_else(|| var_text("ansible_become_method"))
            .or_else(|| self.options.become_method.clone())
            .unwrap_or_else(|| "sudo".into());
        Some((method, user))
    }

    fn template_args(
        &self,
        task: &Task,
        scope: &VarLayers,
    ) -> Result<IndexMap<String, Value>, String> {
        let mut out = IndexMap::new();
        for (k, v) in &task.args {
            let value = self.templar.template(&from_yaml(v), scope).map_err(|e| {
                if e.is_undefined() {
                    undefined_argument_error(task, &e)
                } else {
                    e.to_string()
                }
            })?;
            if value.as_str() == Some(OMIT) {
                continue;
            }
            out.insert(k.clone(), value);
        }
        variable_params::merge_variable_params(out)
    }
}

/// Ansible 2.18's parser error for an undefined variable in a task's
/// arguments: its message, the cause, and the task's position in its file.
fn undefined_argument_error(task: &Task, e: &rsible_templar::TemplateError) -> String {
    let mut msg = format!("The task includes an option with an undefined variable.. {e}");
    rsible_yaml::append_position(&mut msg, &task.mark);
    msg
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

/// `file:line` of the play, as Ansible's `Play.get_path()` (json callback).
fn play_path(play: &Play) -> String {
    format!(
        "{}:{}",
        play.mark.source.as_deref().unwrap_or(""),
        play.mark.line
    )
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

#[allow(dead_code)] // with_items now goes through the `items` lookup
pub(super) fn flatten_one(items: Vec<Value>) -> Vec<Value> {
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

pub(super) fn obj(v: Json) -> Map<String, Json> {
    match v {
        Json::Object(m) => m,
        _ => Map::new(),
    }
}

pub(super) fn json_truthy(v: &Json) -> bool {
    match v {
        Json::Bool(b) => *b,
        Json::String(s) => matches!(s.to_ascii_lowercase().as_str(), "yes" | "true" | "1" | "on"),
        _ => false,
    }
}

/// Ansible's `boolean(value, strict=False)`, as action plugins read their
/// options: the true spellings are true, anything else false; unset or null
/// is `default`.
pub(super) fn loose_boolean(v: Option<&Json>, default: bool) -> bool {
    match v {
        None | Some(Json::Null) => default,
        Some(Json::Bool(b)) => *b,
        Some(Json::Number(n)) => n.as_f64() == Some(1.0),
        Some(Json::String(s)) => matches!(
            s.to_lowercase().as_str(),
            "y" | "yes" | "on" | "1" | "true" | "t" | "1.0"
        ),
        Some(_) => false,
    }
}
