//! The JSON messages carried in frames.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use std::collections::BTreeMap;

/// Bumped when the controller and agent stop understanding each other.
pub const PROTOCOL_VERSION: u32 = 1;

/// First frame the agent writes, so the controller knows it started (and as whom).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Hello {
    /// Always "hello".
    pub op: String,
    pub protocol: u32,
    pub pid: u32,
    pub uid: u32,
    pub euid: u32,
}

/// Parameters of a module run.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Default)]
pub struct ModuleCall {
    pub id: u64,
    /// Short module name (`command`) or FQCN (`ansible.builtin.command`).
    pub module: String,
    #[serde(default)]
    pub args: Map<String, Value>,
    #[serde(default)]
    pub check_mode: bool,
    #[serde(default)]
    pub diff: bool,
    /// The task's `environment:`, applied to processes the module starts.
    #[serde(default)]
    pub env: BTreeMap<String, String>,
    /// Working directory for the module (relative paths resolve against it).
    #[serde(default)]
    pub cwd: Option<String>,
    /// Informational: whether the task asked for become. The agent already runs as the
    /// become user, since one agent is started per (host, user, become user).
    #[serde(default, rename = "become")]
    pub become_: Option<bool>,
    /// Run in the background (the task's `async:`): answered at once with the
    /// job's id while the module goes on in a detached process.
    #[serde(default, rename = "async", skip_serializing_if = "Option::is_none")]
    pub async_job: Option<AsyncJob>,
}

/// A background run (`async: N`): its time limit and where its job file goes.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq, Default)]
pub struct AsyncJob {
    /// Seconds after which the job is killed (`async: N`).
    pub time_limit: u64,
    /// Where job files are kept (`~/.ansible_async` unless `async_dir` says
    /// otherwise); `~` is the agent's user's home.
    pub async_dir: String,
}

/// Parameters of a Python-module run (the fallback for modules without a
/// native twin).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Default)]
pub struct PyRunCall {
    pub id: u64,
    /// SHA-256 of a payload sent earlier with `py_payload`.
    pub sha256: String,
    /// The interpreter command line (`/usr/bin/python3`), put before the
    /// payload path in a `/bin/sh -c` command as Ansible does.
    pub interpreter: String,
    /// The module arguments document (`{"ANSIBLE_MODULE_ARGS": ...}`).
    #[serde(default)]
    pub stdin: String,
    /// The task's `environment:`.
    #[serde(default)]
    pub env: BTreeMap<String, String>,
    #[serde(default)]
    pub cwd: Option<String>,
    /// Run in the background (see [`ModuleCall::async_job`]); the `py_output`
    /// answer then carries the job's start result as its stdout.
    #[serde(default, rename = "async", skip_serializing_if = "Option::is_none")]
    pub async_job: Option<AsyncJob>,
}

/// A controller -> agent request.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum Request {
    /// Run a module; answered by one `Response::Result` (or `Error`).
    Module(ModuleCall),
    /// Write a file; the JSON frame is followed by data frames and an empty data frame.
    PutFile {
        id: u64,
        path: String,
        /// Permission bits for the new file (e.g. 0o644); None keeps umask defaults.
        #[serde(default)]
        mode: Option<u32>,
    },
    /// Read a file; answered by `Response::FileFollows` then data frames, empty last.
    GetFile { id: u64, path: String },
    /// Store a Python-module payload (a zip) in the agent's private directory
    /// under its SHA-256; the JSON frame is followed by data frames and an
    /// empty data frame. Answered by `Done` or `Error` (hash mismatch).
    PyPayload { id: u64, sha256: String },
    /// Run a stored payload as `<interpreter> <payload>` through `/bin/sh`,
    /// with `stdin` on its standard input; answered by `PyOutput`.
    PyRun(PyRunCall),
    /// Stop the agent after answering.
    Shutdown {
        #[serde(default)]
        id: u64,
    },
}

/// Parse a JSON message as a request (errors as text, for the agent's error response).
pub fn parse_request(value: Value) -> Result<Request, String> {
    serde_json::from_value(value).map_err(|e| e.to_string())
}

impl Request {
    pub fn id(&self) -> u64 {
        match self {
            Request::Module(c) => c.id,
            Request::PyRun(c) => c.id,
            Request::PyPayload { id, .. } => *id,
            Request::PutFile { id, .. }
            | Request::GetFile { id, .. }
            | Request::Shutdown { id } => *id,
        }
    }
}

/// An agent -> controller response.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum Response {
    /// The module's result JSON, as Ansible's module would return it.
    Result { id: u64, result: Value },
    /// A put_file completed, or a shutdown was acknowledged.
    Done {
        id: u64,
        #[serde(default)]
        size: u64,
    },
    /// A get_file succeeded; data frames follow.
    FileFollows { id: u64, size: u64, mode: u32 },
    /// What a `py_run` printed and its exit status (-1: killed by a signal).
    PyOutput {
        id: u64,
        rc: i32,
        stdout: String,
        stderr: String,
    },
    /// The request could not be served (protocol error, I/O error on a transfer).
    Error { id: Option<u64>, msg: String },
}

impl Response {
    pub fn to_value(&self) -> Value {
        serde_json::to_value(self).unwrap_or_else(|e| {
            serde_json::json!({"op": "error", "id": null, "msg": format!("cannot encode response: {e}")})
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn module_request_parses_with_defaults() {
        let r: Request =
            serde_json::from_value(json!({"op": "module", "id": 3, "module": "ping"})).unwrap();
        match r {
            Request::Module(c) => {
                assert_eq!(c.id, 3);
                assert_eq!(c.module, "ping");
                assert!(!c.check_mode);
                assert!(c.args.is_empty());
            }
            other => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn responses_are_tagged() {
        let v = Response::Error {
            id: Some(1),
            msg: "x".into(),
        }
        .to_value();
        assert_eq!(v, json!({"op": "error", "id": 1, "msg": "x"}));
    }
}
