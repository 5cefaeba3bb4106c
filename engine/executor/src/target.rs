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
    /// A Python-module payload run instead of the native `module` (the
    /// `free` strategy runs those in the background too); its outcome is
    /// carried as `python_outcome_as_call` writes it.
    pub python: Option<std::sync::Arc<OwnedPythonCall>>,
}

/// A `PythonCall` that owns its parts, to travel to another thread.
pub struct OwnedPythonCall {
    pub payload: std::sync::Arc<rsible_pymodule::Payload>,
    pub interpreter: String,
    pub stdin: String,
    pub env: BTreeMap<String, String>,
    pub async_job: Option<rsible_modules::protocol::AsyncJob>,
}

impl OwnedPythonCall {
    pub fn as_call(&self) -> PythonCall<'_> {
        PythonCall {
            payload: &self.payload.bytes,
            sha256: &self.payload.sha256,
            interpreter: &self.interpreter,
            stdin: &self.stdin,
            env: &self.env,
            async_job: self.async_job.as_ref(),
        }
    }
}

/// The module's input (its arguments, maybe secrets) is never printed.
impl std::fmt::Debug for OwnedPythonCall {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OwnedPythonCall")
            .field("module", &self.payload.python_name)
            .field("interpreter", &self.interpreter)
            .finish_non_exhaustive()
    }
}

/// What `run_python` gave.
pub type PythonOutcome = Result<Result<PythonOutput, String>, Unreachable>;

/// Key marking a Python run the agent refused (`Ok(Err(msg))`) inside a
/// `CallOutcome`.
const PYTHON_REFUSED: &str = "_rsible_python_refused";

/// A Python run's outcome in the shape of a module call's, so that it can
/// wait among them (`PlannedCall::python`); `call_outcome_as_python` undoes it.
pub fn python_outcome_as_call(outcome: PythonOutcome) -> CallOutcome {
    let out = outcome?;
    let mut map = Map::new();
    match out {
        Ok(out) => {
            map.insert("rc".into(), Value::from(out.rc));
            map.insert("stdout".into(), Value::String(out.stdout));
            map.insert("stderr".into(), Value::String(out.stderr));
        }
        Err(msg) => {
            map.insert(PYTHON_REFUSED.into(), Value::Bool(true));
            map.insert("msg".into(), Value::String(msg));
        }
    }
    Ok(map)
}

pub fn call_outcome_as_python(outcome: CallOutcome) -> PythonOutcome {
    let map = outcome?;
    let text = |key: &str| {
        map.get(key)
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string()
    };
    if map.contains_key(PYTHON_REFUSED) || !map.contains_key("rc") {
        let msg = match text("msg") {
            m if m.is_empty() => "the Python module's run gave no outcome".to_string(),
            m => m,
        };
        return Ok(Err(msg));
    }
    let rc = map
        .get("rc")
        .and_then(Value::as_i64)
        .and_then(|rc| i32::try_from(rc).ok())
        .unwrap_or(1);
    Ok(Ok(PythonOutput {
        rc,
        stdout: text("stdout"),
        stderr: text("stderr"),
    }))
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

    /// Writes `data` to `path` on the target with `mode` (a temporary name
    /// beside it, then renamed), as the user the target's modules run as:
    /// how an action sends a controller-side file (`unarchive`'s archive)
    /// that is not text. `Ok(Err(msg))`: the file could not be written.
    fn put_file(
        &mut self,
        target: &TargetSpec,
        data: &[u8],
        path: &str,
        mode: Option<u32>,
    ) -> Result<Result<u64, String>, Unreachable> {
        let _ = (target, data, path, mode);
        Ok(Err(
            "file transfers are not available through this target runner".into(),
        ))
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

    /// Runs one planned call: its Python payload when it has one, else its
    /// native module.
    fn run_planned(&mut self, call: &PlannedCall) -> CallOutcome {
        match &call.python {
            Some(py) => python_outcome_as_call(self.run_python(&call.target, &py.as_call())),
            None => self.run_module(&call.target, &call.module, &call.args, &call.settings),
        }
    }

    /// Runs several calls, at most `forks` at a time, and returns their
    /// outcomes in the order of `calls`. Calls to the same target run one
    /// after the other. The default runs them all in turn.
    fn run_many(&mut self, calls: &[PlannedCall], forks: usize) -> Vec<CallOutcome> {
        let _ = forks;
        calls.iter().map(|c| self.run_planned(c)).collect()
    }

    /// Starts `call` without waiting for it (the `free` strategy lets each
    /// host go on as soon as its own call is done). Returns its outcome when
    /// it is already there, else None: `wait_call` gives it later under
    /// `ticket`. The call is made `wait` from now (a retry's delay, an async
    /// job's poll interval). The default sleeps, then runs the call at once.
    fn start_call(
        &mut self,
        ticket: CallTicket,
        call: &PlannedCall,
        wait: std::time::Duration,
    ) -> Option<CallOutcome> {
        let _ = ticket;
        std::thread::sleep(wait);
        Some(self.run_planned(call))
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
