//! The real `TargetRunner`: one agent per (host, user, become user), opened
//! on first use through `rsible-connection` and kept for the run.

use std::collections::HashMap;
use std::path::PathBuf;
use std::time::Duration;

use rsible_connection::{
    AgentHandle, BecomeMethod, BecomeSpec, CallOptions, ConnKind, ConnSpec, Connection, Secret,
};
use serde_json::{Map, Value};

use crate::target::{
    CallSettings, PythonCall, PythonOutput, RawCall, RawOutcome, TargetRunner, TargetSpec,
    Unreachable,
};

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
}

impl ConnectionPool {
    pub fn new(defaults: ConnectionDefaults) -> Self {
        ConnectionPool {
            defaults,
            open: HashMap::new(),
            dead: HashMap::new(),
            last_used: HashMap::new(),
            calls: 0,
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

    /// Closes the least recently used connection when `max_open` are open,
    /// so that a run over more hosts than the open-files limit can hold
    /// connected at once still completes (the agent is reopened on next use,
    /// from its cached binary).
    fn make_room(&mut self) {
        if self.open.len() < self.defaults.max_open.max(1) {
            return;
        }
        let oldest = self
            .open
            .keys()
            .min_by_key(|t| self.last_used.get(*t).copied().unwrap_or(0))
            .cloned();
        if let Some(t) = oldest {
            self.last_used.remove(&t);
            if let Some(handle) = self.open.remove(&t) {
                let _ = handle.close();
            }
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
    /// The open agent for `target`, connecting on first use. `Ok(Err(msg))`:
    /// become failed (missing or wrong password), which fails the task, as in
    /// Ansible; the next task tries again.
    fn handle(
        &mut self,
        target: &TargetSpec,
    ) -> Result<Result<&mut AgentHandle, String>, Unreachable> {
        if let Some(msg) = self.dead.get(target) {
            return Err(Unreachable(msg.clone()));
        }
        if !self.open.contains_key(target) {
            self.make_room();
            let spec = self.conn_spec(target);
            match Connection::open(&spec) {
                Ok(handle) => {
                    self.open.insert(target.clone(), handle);
                }
                Err(e @ rsible_connection::ConnError::Become(_)) => {
                    return Ok(Err(e.to_string()));
                }
                Err(e) => {
                    let msg = e.to_string();
                    self.dead.insert(target.clone(), msg.clone());
                    return Err(Unreachable(msg));
                }
            }
        }
        self.calls += 1;
        self.last_used.insert(target.clone(), self.calls);
        self.open
            .get_mut(target)
            .map(Ok)
            .ok_or_else(|| Unreachable("connection lost".into()))
    }
}

impl TargetRunner for ConnectionPool {
    fn run_module(
        &mut self,
        target: &TargetSpec,
        module: &str,
        args: &Value,
        settings: &CallSettings,
    ) -> Result<Map<String, Value>, Unreachable> {
        if let Some(msg) = Self::unsupported_become(target) {
            return Ok(Map::from_iter([
                ("failed".to_string(), Value::Bool(true)),
                ("msg".to_string(), Value::String(msg)),
            ]));
        }
        let handle = match self.handle(target)? {
            Ok(h) => h,
            Err(msg) => {
                return Ok(Map::from_iter([
                    ("failed".to_string(), Value::Bool(true)),
                    ("msg".to_string(), Value::String(msg)),
                ]))
            }
        };
        let empty = Map::new();
        let args = args.as_object().unwrap_or(&empty);
        let opts = CallOptions {
            check_mode: settings.check_mode,
            diff: settings.diff,
            env: settings.env.clone(),
            ..CallOptions::default()
        };
        match handle.call(module, args, &opts) {
            Ok(Value::Object(map)) => Ok(map),
            Ok(other) => Ok(Map::from_iter([
                ("failed".to_string(), Value::Bool(true)),
                (
                    "msg".to_string(),
                    Value::String(format!("module returned a non-object result: {other}")),
                ),
            ])),
            Err(e) if e.is_unreachable() => {
                self.open.remove(target);
                self.last_used.remove(target);
                let msg = e.to_string();
                self.dead.insert(target.clone(), msg.clone());
                Err(Unreachable(msg))
            }
            Err(e) => Ok(Map::from_iter([
                ("failed".to_string(), Value::Bool(true)),
                ("msg".to_string(), Value::String(e.to_string())),
            ])),
        }
    }

    fn run_python(
        &mut self,
        target: &TargetSpec,
        call: &PythonCall,
    ) -> Result<Result<PythonOutput, String>, Unreachable> {
        if let Some(msg) = Self::unsupported_become(target) {
            return Ok(Err(msg));
        }
        let handle = match self.handle(target)? {
            Ok(h) => h,
            Err(msg) => return Ok(Err(msg)),
        };
        let run = rsible_connection::python::PythonRun {
            payload: call.payload,
            sha256: call.sha256,
            interpreter: call.interpreter,
            stdin: call.stdin,
            env: call.env,
            cwd: None,
        };
        match handle.run_python(&run) {
            Ok(out) => Ok(Ok(PythonOutput {
                rc: out.rc,
                stdout: out.stdout,
                stderr: out.stderr,
            })),
            Err(e) if e.is_unreachable() => {
                self.open.remove(target);
                self.last_used.remove(target);
                let msg = e.to_string();
                self.dead.insert(target.clone(), msg.clone());
                Err(Unreachable(msg))
            }
            Err(e) => Ok(Err(e.to_string())),
        }
    }

    fn run_raw(&mut self, target: &TargetSpec, command: &str, call: &RawCall) -> RawOutcome {
        if let Some(msg) = self.dead.get(target) {
            return RawOutcome::Unreachable(msg.clone());
        }
        if let Some(msg) = Self::unsupported_become(target) {
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

    fn close_all(&mut self) {
        self.last_used.clear();
        for (_, handle) in self.open.drain() {
            let _ = handle.close();
        }
    }
}
