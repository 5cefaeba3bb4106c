//! The executor's view of a connection: something that runs a module on a
//! host and returns the module's JSON result, or says the host is unreachable.
//! `rsible-connection` provides the real one (ssh / local + agent); keeping a
//! trait here lets the executor be tested on its own.

use std::collections::BTreeMap;

use serde_json::{Map, Value};

/// Connection settings of one task on one host, resolved from the task's full
/// variable set (Kubespray sets some in role defaults and task vars).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct TargetSpec {
    pub host: String,
    /// `ansible_connection`: `ssh` or `local`.
    pub connection: String,
    pub address: String,
    pub port: Option<u16>,
    pub user: Option<String>,
    pub private_key_file: Option<String>,
    pub ssh_common_args: Option<String>,
    pub ssh_extra_args: Option<String>,
    pub become_user: Option<String>,
    pub become_method: Option<String>,
    /// `ansible_become_password` (or `_pass`, or the method's own spelling);
    /// redacted in `Debug`, never printed.
    pub become_password: Option<rsible_connection::Secret>,
    /// `become_flags` keyword or `ansible_become_flags`; None: the method's default.
    pub become_flags: Option<String>,
    /// `ansible_ssh_timeout` (seconds); None: the run's `timeout`.
    pub timeout: Option<u64>,
    /// `ansible_ssh_retries`; None: the run's `retries` setting.
    pub retries: Option<u32>,
    /// `ansible_python_interpreter` when set to a path (not a discovery
    /// mode): what hosts without the agent run their modules with.
    pub python_interpreter: Option<String>,
}

/// A Python-module payload run: the zip, its hash (the agent keeps payloads
/// by hash, so each travels once per agent), the interpreter command and
/// the arguments document fed on stdin.
pub struct PythonCall<'a> {
    pub payload: &'a [u8],
    pub sha256: &'a str,
    pub interpreter: &'a str,
    pub stdin: &'a str,
    pub env: &'a std::collections::BTreeMap<String, String>,
    /// `async:` — start the payload as a background job.
    pub async_job: Option<&'a rsible_modules::protocol::AsyncJob>,
}

/// What the payload printed and its exit status.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PythonOutput {
    pub rc: i32,
    pub stdout: String,
    pub stderr: String,
}

/// The host could not be reached; the message is what Ansible would print.
#[derive(Clone, Debug)]
pub struct Unreachable(pub String);

/// Task-level settings of one module call.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CallSettings {
    /// `--check` or the task's `check_mode:`.
    pub check_mode: bool,
    /// `--diff` or the task's `diff:`.
    pub diff: bool,
    /// The task's merged `environment:`, for the processes the module starts.
    pub env: BTreeMap<String, String>,
    /// The task's `async:` (time limit and job directory): the call starts a
    /// background job and returns its start result (`play_exec/async_task.rs`).
    pub async_job: Option<rsible_modules::protocol::AsyncJob>,
}

/// One module call planned for a host, to be run together with others.
#[derive(Clone, Debug)]
pub struct PlannedCall {
    pub target: TargetSpec,
    pub module: String,
    pub args: Value,
    pub settings: CallSettings,
}

/// What a module call gave: its result, or the host was unreachable.
pub type CallOutcome = Result<Map<String, Value>, Unreachable>;

pub trait TargetRunner {
    /// Runs `module` with `args` on the target and returns its result.
    fn run_module(
        &mut self,
        target: &TargetSpec,
        module: &str,
        args: &Value,
        settings: &CallSettings,
    ) -> Result<Map<String, Value>, Unreachable>;

    /// Runs a Python-module payload (see `rsible-pymodule`) on the target.
    /// `Ok(Err(msg))`: the agent could not run it (the task fails with msg).
    fn run_python(
        &mut self,
        target: &TargetSpec,
        call: &PythonCall,
    ) -> Result<Result<PythonOutput, String>, Unreachable> {
        let _ = (target, call);
        Ok(Err("this connection cannot run Python modules".into()))
    }

    /// Forgets `target`'s connection and any unreachable mark on it, so that
    /// the next call connects afresh (as Ansible's `connection.reset()` between
    /// `wait_for_connection` tries). Returns false when this runner cannot.
    fn forget(&mut self, target: &TargetSpec) -> bool {
        let _ = target;
        false
    }

    /// Forgets every connection to `host` (whatever its user or become
    /// user) and any unreachable mark on them: after a reboot they are gone.
    fn forget_host(&mut self, host: &str) {
        let _ = host;
    }

    /// Runs a shell command through the connection without the agent (the
    /// `raw` action). Runners without connections cannot.
    fn run_raw(&mut self, _target: &TargetSpec, _command: &str, _call: &RawCall) -> RawOutcome {
        RawOutcome::Failed("raw commands are not available through this target runner".into())
    }

    /// Runs several calls, at most `forks` at a time, and returns their
    /// outcomes in the order of `calls`. Calls to the same target run one
    /// after the other. The default runs them all in turn.
    fn run_many(&mut self, calls: &[PlannedCall], forks: usize) -> Vec<CallOutcome> {
        let _ = forks;
        calls
            .iter()
            .map(|c| self.run_module(&c.target, &c.module, &c.args, &c.settings))
            .collect()
    }

    /// Starts `call` without waiting for it (the `free` strategy lets each
    /// host go on as soon as its own call is done). Returns its outcome when
    /// it is already there, else None: `wait_call` gives it later under
    /// `ticket`. The default runs the call at once.
    fn start_call(&mut self, ticket: CallTicket, call: &PlannedCall) -> Option<CallOutcome> {
        let _ = ticket;
        Some(self.run_module(&call.target, &call.module, &call.args, &call.settings))
    }

    /// The outcome of a call `start_call` left running: the next one to
    /// finish, waiting for it when `block`, else only one already finished.
    /// None when no call is left running (or none finished, not blocking).
    fn wait_call(&mut self, block: bool) -> Option<(CallTicket, CallOutcome)> {
        let _ = block;
        None
    }

    /// Closes every connection (end of run).
    fn close_all(&mut self) {}

    /// Where ansible-core's and the collections' modules are on the
    /// controller: hosts that cannot run the agent run those.
    fn set_module_sources(&mut self, sources: crate::connection_pool::ModuleSources) {
        let _ = sources;
    }
}

/// Names a call started with `TargetRunner::start_call`.
pub type CallTicket = u64;

/// Options of one `raw` command.
#[derive(Clone, Debug, Default)]
pub struct RawCall {
    /// `executable`: run as `<executable> -c '<command>'`.
    pub executable: Option<String>,
    /// Working directory of a local command (the playbook's directory).
    pub cwd: Option<std::path::PathBuf>,
}

/// What a `raw` command came to.
#[derive(Clone, Debug)]
pub enum RawOutcome {
    Done {
        rc: i32,
        stdout: String,
        stderr: String,
    },
    /// It could not be run (an error on the controller).
    Failed(String),
    Unreachable(String),
}
