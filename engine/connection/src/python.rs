//! Running a Python-module payload through the agent: the payload travels
//! once per agent (`py_payload`, keyed by its SHA-256), each run is one
//! `py_run` round trip.

use crate::handle::AgentHandle;
use crate::ConnError;
use rsible_modules::protocol::DATA_CHUNK;
use serde_json::json;
use std::collections::BTreeMap;

/// One run of a payload.
pub struct PythonRun<'a> {
    pub payload: &'a [u8],
    pub sha256: &'a str,
    pub interpreter: &'a str,
    /// The module arguments document, fed on the interpreter's stdin.
    pub stdin: &'a str,
    pub env: &'a BTreeMap<String, String>,
    pub cwd: Option<&'a str>,
    /// `async:` — start the payload as a background job; the output is then
    /// the job's start result.
    pub async_job: Option<&'a rsible_modules::protocol::AsyncJob>,
}

/// What the module printed and its exit status.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PythonOutput {
    pub rc: i32,
    pub stdout: String,
    pub stderr: String,
}

impl AgentHandle {
    /// Runs a payload, sending it first if this agent does not have it yet.
    pub fn run_python(&mut self, run: &PythonRun) -> Result<PythonOutput, ConnError> {
        if !self.payloads.contains(run.sha256) {
            self.send_payload(run.payload, run.sha256)?;
            self.payloads.insert(run.sha256.to_string());
        }
        let id = self.take_id()?;
        let mut req = json!({
            "op": "py_run",
            "id": id,
            "sha256": run.sha256,
            "interpreter": run.interpreter,
            "stdin": run.stdin,
            "env": run.env,
        });
        if let Some(cwd) = run.cwd {
            req["cwd"] = json!(cwd);
        }
        if let Some(job) = run.async_job {
            req["async"] = json!(job);
        }
        self.send_json(&req)?;
        let resp = self.recv_json()?;
        match resp["op"].as_str() {
            Some("py_output") if resp["id"] == json!(id) => Ok(PythonOutput {
                rc: resp["rc"].as_i64().unwrap_or(-1) as i32,
                stdout: resp["stdout"].as_str().unwrap_or("").to_string(),
                stderr: resp["stderr"].as_str().unwrap_or("").to_string(),
            }),
            Some("error") => Err(ConnError::Protocol(format!(
                "agent refused the request: {}",
                resp["msg"].as_str().unwrap_or("")
            ))),
            _ => Err(self.protocol_violation(&resp)),
        }
    }

    fn send_payload(&mut self, payload: &[u8], sha256: &str) -> Result<(), ConnError> {
        let id = self.take_id()?;
        self.send_json(&json!({"op": "py_payload", "id": id, "sha256": sha256}))?;
        for chunk in payload.chunks(DATA_CHUNK) {
            self.send_data(chunk)?;
        }
        self.send_data(&[])?;
        let resp = self.recv_json()?;
        match resp["op"].as_str() {
            Some("done") => Ok(()),
            Some("error") => Err(ConnError::Protocol(format!(
                "agent refused the module payload: {}",
                resp["msg"].as_str().unwrap_or("")
            ))),
            _ => Err(self.protocol_violation(&resp)),
        }
    }
}
