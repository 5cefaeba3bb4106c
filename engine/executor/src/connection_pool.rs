//! The real `TargetRunner`: one agent per (host, user, become user), opened
//! on first use through `rsible-connection` and kept for the run.

use std::collections::HashMap;
use std::path::PathBuf;
use std::time::Duration;

use rsible_connection::{
    AgentHandle, BecomeMethod, BecomeSpec, CallOptions, ConnError, ConnKind, ConnSpec, Connection,
    Secret,
};
use serde_json::{Map, Value};

use crate::target::{
    CallOutcome, CallSettings, CallTicket, PlannedCall, PythonCall, PythonOutcome, PythonOutput,
    RawCall, RawOutcome, TargetRunner, TargetSpec, Unreachable,
};

mod agentless;
mod background;
mod ended_by_exit;

pub use agentless::ModuleSources;
pub use ended_by_exit::end_sessions_at_process_exit;

/// Settings that come from ansible.cfg and the command line, not from variables.
#[derive(Clone, Debug)]
pub struct ConnectionDefaults {
    /// The binary uploaded to targets and run as `<binary> agent`.
    pub agent_binary: PathBuf,
    pub remote_user: Option<String>,
    pub private_key_file: Option<PathBuf>,
    pub ssh_args: Option<String>,
    pub ssh_common_args: Option<String>,
    pub ssh_extra_args: Option<String>,
    pub host_key_checking: bool,
    pub timeout: Duration,
    pub retries: u32,
    /// `-K` / `--become-password-file`: used when no variable sets one.
    pub become_password: Option<Secret>,
    /// ansible.cfg `become_flags`, when set: replaces the method's default.
    pub become_flags: Option<String>,
    /// At most this many agents stay connected (each holds file descriptors):
    /// opening one more first closes the least recently used.
    pub max_open: usize,
}

pub struct ConnectionPool {
    defaults: ConnectionDefaults,
    open: HashMap<TargetSpec, AgentHandle>,
    /// Targets that failed to connect: not retried within the run.
    dead: HashMap<TargetSpec, String>,
    /// When each open connection was last used (a call counter), to pick
    /// the one to close when `max_open` is reached.
    last_used: HashMap<TargetSpec, u64>,
    calls: u64,
    /// Calls running in the background (see `background.rs`).
    background: background::Background,
    /// Targets whose machine cannot run the agent (see `agentless.rs`).
    agentless: HashMap<TargetSpec, agentless::AgentlessHost>,
    agentless_shared: agentless::Shared,
    /// Hosts already warned about running without the agent.
    warned_agentless: std::collections::HashSet<String>,
}

impl ConnectionPool {
    pub fn new(defaults: ConnectionDefaults) -> Self {
        ConnectionPool {
            defaults,
            open: HashMap::new(),
            dead: HashMap::new(),
            last_used: HashMap::new(),
            calls: 0,
            background: Default::default(),
            agentless: HashMap::new(),
            agentless_shared: Default::default(),
            warned_agentless: Default::default(),
        }
    }

    fn conn_spec(&self, t: &TargetSpec) -> ConnSpec {
        let d = &self.defaults;
        let mut spec = ConnSpec::new(t.address.clone(), d.agent_binary.clone());
        spec.connection = if t.connection == "local" {
            ConnKind::Local
        } else {
            ConnKind::Ssh
        };
        spec.port = t.port;
        spec.user = t.user.clone().or_else(|| d.remote_user.clone());
        spec.private_key_file = t
            .private_key_file
            .clone()
            .map(PathBuf::from)
            .or_else(|| d.private_key_file.clone());
        spec.ssh_args = d.ssh_args.clone();
        spec.ssh_common_args = t
            .ssh_common_args
            .clone()
            .or_else(|| d.ssh_common_args.clone());
        spec.ssh_extra_args = t
            .ssh_extra_args
            .clone()
            .or_else(|| d.ssh_extra_args.clone());
        spec.host_key_checking = d.host_key_checking;
        spec.timeout = t
            .timeout
            .map(|secs| Duration::from_secs(secs.max(1)))
            .unwrap_or(d.timeout);
        spec.retries = t.retries.unwrap_or(d.retries);
        if let Some(user) = &t.become_user {
            spec.become_ = Some(BecomeSpec {
                method: if t.become_method.as_deref() == Some("su") {
                    BecomeMethod::Su
                } else {
                    BecomeMethod::Sudo
                },
                user: user.clone(),
                password: t
                    .become_password
                    .clone()
                    .or_else(|| d.become_password.clone()),
                flags: t.become_flags.clone().or_else(|| d.become_flags.clone()),
            });
        }
        spec
    }

    /// Connections other than ssh and local are refused before connecting,
    /// never run over ssh instead; a name Ansible has no plugin for gets
    /// Ansible's message.
    fn unsupported_connection(t: &TargetSpec) -> Option<String> {
        const ANSIBLE_CORE_OTHERS: [&str; 4] = ["paramiko", "paramiko_ssh", "psrp", "winrm"];
        match t.connection.as_str() {
            "ssh" | "local" => None,
            c if c.contains('.') || ANSIBLE_CORE_OTHERS.contains(&c) => Some(format!(
                "rsible does not support the connection plugin '{c}' yet"
            )),
            c => Some(format!("the connection plugin '{c}' was not found")),
        }
    }

    /// Methods other than sudo and su are refused before connecting.
    fn unsupported_become(t: &TargetSpec) -> Option<String> {
        match t.become_method.as_deref() {
            None | Some("sudo") | Some("su") => None,
            Some(other) => Some(format!(
                "rsible does not support the become method '{other}' yet"
            )),
        }
    }
}

impl ConnectionPool {
    /// The outcome decided before any connection: a host already found
    /// unreachable, or a become method rsible refuses.
    fn precheck(&self, target: &TargetSpec) -> Option<CallOutcome> {
        if let Some(msg) = self.dead.get(target) {
            return Some(Err(Unreachable(msg.clone())));
        }
        Self::unsupported_connection(target)
            .or_else(|| Self::unsupported_become(target))
            .map(|msg| Ok(failure(msg)))
    }

    /// Opens the connections of `targets` that are not open yet, at most
    /// `forks` at a time (an ssh handshake and agent start per host is most
    /// of a small play's time, so they are made side by side).
    ///
    /// Returns the targets whose become failed (a missing or wrong password):
    /// that fails the task, as in Ansible, and the next task tries again, so
    /// they are not marked unreachable.
    fn open_all(&mut self, targets: &[&TargetSpec], forks: usize) -> HashMap<TargetSpec, String> {
        let mut become_failed = HashMap::new();
        let mut todo: Vec<(TargetSpec, ConnSpec)> = Vec::new();
        for t in targets {
            if !self.open.contains_key(*t)
                && !self.dead.contains_key(*t)
                && !self.agentless.contains_key(*t)
                && !todo.iter().any(|(seen, _)| seen == *t)
            {
                todo.push(((*t).clone(), self.conn_spec(t)));
            }
        }
        let max_open = self.defaults.max_open.max(1);
        for chunk in todo.chunks(forks.clamp(1, max_open)) {
            self.make_room(chunk.len());
            let opened: Vec<(TargetSpec, Result<AgentHandle, ConnError>)> =
                std::thread::scope(|s| {
                    let running: Vec<_> = chunk
                        .iter()
                        .map(|(t, spec)| s.spawn(move || (t.clone(), Connection::open(spec))))
                        .collect();
                    running.into_iter().filter_map(|h| h.join().ok()).collect()
                });
            for (t, res) in opened {
                match res {
                    Ok(handle) => {
                        self.touch(&t);
                        self.open.insert(t, handle);
                    }
                    Err(e @ ConnError::Become(_)) => {
                        become_failed.insert(t, e.to_string());
                    }
                    Err(ConnError::NoAgent(why)) => self.go_agentless(t, why),
                    Err(e) => {
                        self.dead.insert(t, e.to_string());
                    }
                }
            }
        }
        become_failed
    }

    /// Records what a call's outcome says about its connection.
    fn settle(&mut self, target: &TargetSpec, handle: AgentHandle, outcome: &CallOutcome) {
        match outcome {
            Err(Unreachable(msg)) => {
                drop(handle);
                self.last_used.remove(target);
                self.dead.insert(target.clone(), msg.clone());
            }
            Ok(_) => {
                self.touch(target);
                self.open.insert(target.clone(), handle);
            }
        }
    }

    /// Marks `target` as just used, for the least-recently-used choice.
    fn touch(&mut self, target: &TargetSpec) {
        self.calls += 1;
        self.last_used.insert(target.clone(), self.calls);
    }

    /// Closes least recently used connections until `incoming` more fit
    /// under `max_open`, so that a run over more hosts than the open-files
    /// limit can hold connected at once still completes (an agent closed
    /// here is reopened on next use, from its cached binary).
    fn make_room(&mut self, incoming: usize) {
        let max_open = self.defaults.max_open.max(1);
        while !self.open.is_empty() && self.open.len() + incoming > max_open {
            let oldest = self
                .open
                .keys()
                .min_by_key(|t| self.last_used.get(*t).copied().unwrap_or(0))
                .cloned();
            let Some(t) = oldest else { break };
            self.last_used.remove(&t);
            if let Some(handle) = self.open.remove(&t) {
                let _ = handle.close();
            }
        }
    }

    /// Splits `calls` into groups touching at most `max_open` distinct
    /// targets, keeping each target's calls in one group and in order.
    fn groups_within_open_limit(&self, calls: &[PlannedCall]) -> Vec<Vec<usize>> {
        let max_open = self.defaults.max_open.max(1);
        let mut targets: Vec<&TargetSpec> = Vec::new();
        for c in calls {
            if !targets.contains(&&c.target) {
                targets.push(&c.target);
            }
        }
        targets
            .chunks(max_open)
            .map(|group| {
                (0..calls.len())
                    .filter(|i| group.contains(&&calls[*i].target))
                    .collect()
            })
            .collect()
    }
}

/// Runs one module call on an open connection.
fn call_on(
    handle: &mut AgentHandle,
    module: &str,
    args: &Value,
    settings: &CallSettings,
) -> CallOutcome {
    let empty = Map::new();
    let args = args.as_object().unwrap_or(&empty);
    let opts = CallOptions {
        check_mode: settings.check_mode,
        diff: settings.diff,
        env: settings.env.clone(),
        async_job: settings.async_job.clone(),
        ..CallOptions::default()
    };
    match handle.call(module, args, &opts) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(other) => Ok(failure(format!(
            "module returned a non-object result: {other}"
        ))),
        Err(e) if e.is_unreachable() => Err(Unreachable(e.to_string())),
        Err(e) => Ok(failure(e.to_string())),
    }
}

/// Runs one planned call (a native module or a Python payload) on an open
/// connection.
fn call_planned(handle: &mut AgentHandle, call: &PlannedCall) -> CallOutcome {
    match &call.python {
        Some(py) => crate::target::python_outcome_as_call(python_on(handle, &py.as_call())),
        None => call_on(handle, &call.module, &call.args, &call.settings),
    }
}

/// Runs a Python-module payload on an open connection.
fn python_on(handle: &mut AgentHandle, call: &PythonCall) -> PythonOutcome {
    let run = rsible_connection::python::PythonRun {
        payload: call.payload,
        sha256: call.sha256,
        interpreter: call.interpreter,
        stdin: call.stdin,
        env: call.env,
        cwd: None,
        async_job: call.async_job,
    };
    match handle.run_python(&run) {
        Ok(out) => Ok(Ok(PythonOutput {
            rc: out.rc,
            stdout: out.stdout,
            stderr: out.stderr,
        })),
        Err(e) if e.is_unreachable() => Err(Unreachable(e.to_string())),
        Err(e) => Ok(Err(e.to_string())),
    }
}

fn failure(msg: String) -> Map<String, Value> {
    Map::from_iter([
        ("failed".to_string(), Value::Bool(true)),
        ("msg".to_string(), Value::String(msg)),
    ])
}

impl TargetRunner for ConnectionPool {
    fn run_module(
        &mut self,
        target: &TargetSpec,
        module: &str,
        args: &Value,
        settings: &CallSettings,
    ) -> CallOutcome {
        if let Some(outcome) = self.precheck(target) {
            return outcome;
        }
        if let Some(msg) = self.open_all(&[target], 1).remove(target) {
            return Ok(failure(msg));
        }
        if let Some(outcome) = self.call_agentless(target, module, args, settings) {
            return outcome;
        }
        let Some(mut handle) = self.open.remove(target) else {
            return Err(Unreachable(
                self.dead
                    .get(target)
                    .cloned()
                    .unwrap_or_else(|| "connection lost".into()),
            ));
        };
        let outcome = call_on(&mut handle, module, args, settings);
        self.settle(target, handle, &outcome);
        outcome
    }

    fn run_many(&mut self, calls: &[PlannedCall], forks: usize) -> Vec<CallOutcome> {
        let groups = self.groups_within_open_limit(calls);
        if groups.len() <= 1 {
            return self.run_group(calls, forks);
        }
        let mut outcomes: Vec<Option<CallOutcome>> = vec![None; calls.len()];
        for group in groups {
            let part: Vec<PlannedCall> = group.iter().map(|i| calls[*i].clone()).collect();
            for (i, outcome) in group.into_iter().zip(self.run_group(&part, forks)) {
                outcomes[i] = Some(outcome);
            }
        }
        outcomes
            .into_iter()
            .map(|o| o.unwrap_or_else(|| Err(Unreachable("connection lost".into()))))
            .collect()
    }

    fn run_python(
        &mut self,
        target: &TargetSpec,
        call: &PythonCall,
    ) -> Result<Result<PythonOutput, String>, Unreachable> {
        self.on_connection(
            target,
            |host| host.run_python(call),
            |handle| python_on(handle, call),
        )
    }

    fn put_file(
        &mut self,
        target: &TargetSpec,
        data: &[u8],
        path: &str,
        mode: Option<u32>,
    ) -> Result<Result<u64, String>, Unreachable> {
        self.on_connection(
            target,
            |host| host.put_file(data, path, mode),
            |handle| match handle.put_bytes(data, path, mode) {
                Ok(size) => Ok(Ok(size)),
                Err(e) if e.is_unreachable() => Err(Unreachable(e.to_string())),
                Err(e) => Ok(Err(e.to_string())),
            },
        )
    }

    fn forget(&mut self, target: &TargetSpec) -> bool {
        self.dead.remove(target);
        self.agentless.remove(target);
        self.last_used.remove(target);
        if let Some(handle) = self.open.remove(target) {
            let _ = handle.close();
        }
        true
    }

    fn forget_host(&mut self, host: &str) {
        let targets: Vec<TargetSpec> = self
            .open
            .keys()
            .chain(self.dead.keys())
            .chain(self.agentless.keys())
            .filter(|t| t.host == host)
            .cloned()
            .collect();
        for t in targets {
            self.forget(&t);
        }
    }

    fn run_raw(&mut self, target: &TargetSpec, command: &str, call: &RawCall) -> RawOutcome {
        if let Some(msg) = self.dead.get(target) {
            return RawOutcome::Unreachable(msg.clone());
        }
        if let Some(msg) =
            Self::unsupported_connection(target).or_else(|| Self::unsupported_become(target))
        {
            return RawOutcome::Failed(msg);
        }
        let spec = self.conn_spec(target);
        match crate::raw_command::run(&spec, command, call) {
            RawOutcome::Unreachable(msg) => {
                self.dead.insert(target.clone(), msg.clone());
                RawOutcome::Unreachable(msg)
            }
            other => other,
        }
    }

    fn start_call(
        &mut self,
        ticket: CallTicket,
        call: &PlannedCall,
        wait: Duration,
    ) -> Option<CallOutcome> {
        self.start_background(ticket, call, wait)
    }

    fn set_module_sources(&mut self, sources: ModuleSources) {
        self.agentless_shared.sources = std::sync::Arc::new(sources);
    }

    fn wait_call(&mut self, block: bool) -> Option<(CallTicket, CallOutcome)> {
        self.wait_background(block)
    }

    fn close_all(&mut self) {
        self.last_used.clear();
        // The run is over: each agent is told to end (EOF) and nothing waits
        // for its session to end, except where the agent must clean up first
        // (AgentHandle::release); those close side by side, as one after
        // another made the end of a run on 20 hosts take 0.1-0.3 s.
        // (At most 64 threads at a time, however many hosts stay open.)
        // Agents without Python payloads may be left for the process exit to
        // end (ended_by_exit).
        let (mut handles, plain): (Vec<AgentHandle>, Vec<AgentHandle>) = self
            .open
            .drain()
            .map(|(_, h)| h)
            .partition(AgentHandle::holds_python_payloads);
        ended_by_exit::release_or_park(plain);
        while !handles.is_empty() {
            let batch: Vec<AgentHandle> = handles.drain(..handles.len().min(64)).collect();
            std::thread::scope(|s| {
                for handle in batch {
                    s.spawn(move || handle.release());
                }
            });
        }
    }
}

impl ConnectionPool {
    /// Records that `target`'s machine cannot run the agent, warning once
    /// per host, Ansible-style, that its modules run through Python.
    fn go_agentless(&mut self, target: TargetSpec, why: String) {
        if self.warned_agentless.insert(target.host.clone()) {
            eprint!(
                "{}",
                crate::output::display::warning(
                    &agentless::warning_text(&target.host, &why),
                    crate::output::display::DEFAULT_COLUMNS,
                )
            );
        }
        let spec = self.conn_spec(&target);
        self.agentless.insert(
            target.clone(),
            agentless::AgentlessHost::new(target.host, spec, why),
        );
    }

    /// Runs a call on an agentless target; None when the target has the agent.
    fn call_agentless(
        &mut self,
        target: &TargetSpec,
        module: &str,
        args: &Value,
        settings: &CallSettings,
    ) -> Option<CallOutcome> {
        let host = self.agentless.get_mut(target)?;
        let outcome = host.call(target, module, args, settings, &self.agentless_shared);
        if let Err(Unreachable(msg)) = &outcome {
            self.agentless.remove(target);
            self.dead.insert(target.clone(), msg.clone());
        }
        Some(outcome)
    }

    /// One call other than a module's (a Python module, a file's bytes) on
    /// `target`: the connection opened or reused, the agentless host's own way
    /// where the machine cannot run the agent, and the connection kept unless
    /// the call lost it.
    fn on_connection<T>(
        &mut self,
        target: &TargetSpec,
        agentless: impl FnOnce(&mut agentless::AgentlessHost) -> Result<Result<T, String>, Unreachable>,
        agent: impl FnOnce(&mut AgentHandle) -> Result<Result<T, String>, Unreachable>,
    ) -> Result<Result<T, String>, Unreachable> {
        match self.precheck(target) {
            Some(Err(unreachable)) => return Err(unreachable),
            Some(Ok(failed)) => {
                let msg = failed
                    .get("msg")
                    .and_then(Value::as_str)
                    .unwrap_or_default();
                return Ok(Err(msg.to_string()));
            }
            None => {}
        }
        if let Some(msg) = self.open_all(&[target], 1).remove(target) {
            return Ok(Err(msg));
        }
        if let Some(host) = self.agentless.get_mut(target) {
            let outcome = agentless(host);
            if let Err(Unreachable(msg)) = &outcome {
                self.agentless.remove(target);
                self.dead.insert(target.clone(), msg.clone());
            }
            return outcome;
        }
        let Some(mut handle) = self.open.remove(target) else {
            return Err(Unreachable(self.dead_reason(target)));
        };
        let result = agent(&mut handle);
        let settled = match &result {
            Err(u) => Err(u.clone()),
            Ok(_) => Ok(Map::new()),
        };
        self.settle(target, handle, &settled);
        result
    }

    /// Why `target` has no connection: its recorded failure, if any.
    fn dead_reason(&self, target: &TargetSpec) -> String {
        self.dead
            .get(target)
            .cloned()
            .unwrap_or_else(|| "connection lost".into())
    }

    /// Runs calls touching at most `max_open` targets: opens their
    /// connections, then works through one queue entry per target on up to
    /// `forks` threads.
    fn run_group(&mut self, calls: &[PlannedCall], forks: usize) -> Vec<CallOutcome> {
        let mut outcomes: Vec<Option<CallOutcome>> =
            calls.iter().map(|c| self.precheck(&c.target)).collect();
        let pending: Vec<&TargetSpec> = calls
            .iter()
            .zip(&outcomes)
            .filter(|(_, o)| o.is_none())
            .map(|(c, _)| &c.target)
            .collect();
        let become_failed = self.open_all(&pending, forks);
        // One unit of work per target: its handle and its calls, in order.
        let mut work: Vec<(TargetSpec, AgentHandle, Vec<usize>)> = Vec::new();
        let mut agentless_work: Vec<agentless::Unit> = Vec::new();
        for (i, call) in calls.iter().enumerate() {
            if outcomes[i].is_some() {
                continue;
            }
            if let Some(msg) = become_failed.get(&call.target) {
                outcomes[i] = Some(Ok(failure(msg.clone())));
            } else if let Some(unit) = agentless_work
                .iter_mut()
                .find(|(t, _, _)| *t == call.target)
            {
                unit.2.push(i);
            } else if let Some(host) = self.agentless.remove(&call.target) {
                agentless_work.push((call.target.clone(), host, vec![i]));
            } else if let Some(unit) = work.iter_mut().find(|(t, _, _)| *t == call.target) {
                unit.2.push(i);
            } else if let Some(handle) = self.open.remove(&call.target) {
                work.push((call.target.clone(), handle, vec![i]));
            } else {
                let msg = self
                    .dead
                    .get(&call.target)
                    .cloned()
                    .unwrap_or_else(|| "connection lost".into());
                outcomes[i] = Some(Err(Unreachable(msg)));
            }
        }
        let queue = std::sync::Mutex::new(work);
        let done = std::sync::Mutex::new(Vec::new());
        std::thread::scope(|s| {
            let workers = forks.max(1).min(calls.len().max(1));
            for _ in 0..workers {
                s.spawn(|| loop {
                    let next = queue.lock().unwrap_or_else(|p| p.into_inner()).pop();
                    let Some((target, mut handle, indexes)) = next else {
                        break;
                    };
                    let mut results = Vec::new();
                    for i in indexes {
                        let outcome = call_planned(&mut handle, &calls[i]);
                        let lost = outcome.is_err();
                        results.push((i, outcome));
                        if lost {
                            break;
                        }
                    }
                    done.lock()
                        .unwrap_or_else(|p| p.into_inner())
                        .push((target, handle, results));
                });
            }
        });
        let shared = self.agentless_shared.clone();
        for (target, host, results) in agentless::run_units(agentless_work, calls, forks, &shared) {
            let lost = results.iter().find_map(|(_, o)| o.as_ref().err().cloned());
            for (i, outcome) in results {
                outcomes[i] = Some(outcome);
            }
            match lost {
                Some(Unreachable(msg)) => {
                    self.dead.insert(target, msg);
                }
                None => {
                    self.agentless.insert(target, host);
                }
            }
        }
        for (target, handle, results) in done.into_inner().unwrap_or_else(|p| p.into_inner()) {
            // The last outcome decides the connection's fate; it is looked at
            // in place (a gathering's is all of a host's facts, not worth a copy).
            match results.last() {
                Some((_, outcome)) => self.settle(&target, handle, outcome),
                None => {
                    self.open.insert(target, handle);
                }
            }
            for (i, outcome) in results {
                outcomes[i] = Some(outcome);
            }
        }
        // Calls after a lost connection on the same target: unreachable too.
        outcomes
            .into_iter()
            .zip(calls)
            .map(|(o, c)| {
                o.unwrap_or_else(|| {
                    Err(Unreachable(
                        self.dead
                            .get(&c.target)
                            .cloned()
                            .unwrap_or_else(|| "connection lost".into()),
                    ))
                })
            })
            .collect()
    }
}
