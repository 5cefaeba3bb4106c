//! [`AgentHandle`]: one running agent, called by the executor.

use crate::child::{BecomeFailure, Spawned};
use crate::spec::ConnKind;
use crate::ConnError;
use rsible_modules::protocol::{
    read_frame, write_data_frame, write_json_frame, Frame, FrameError, DATA_CHUNK,
};
use serde_json::{json, Map, Value};
use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::time::Duration;

/// Task-level options of a module call.
#[derive(Debug, Clone, Default)]
pub struct CallOptions {
    pub check_mode: bool,
    pub diff: bool,
    /// The task's `environment:`.
    pub env: BTreeMap<String, String>,
    pub cwd: Option<String>,
    pub become_: Option<bool>,
    /// `async:` — start the module as a background job (see the agent's
    /// `async_job`); the result is the job's start result.
    pub async_job: Option<rsible_modules::protocol::AsyncJob>,
}

/// A running agent on one host for one (user, become user).
pub struct AgentHandle {
    pub(crate) proc: Spawned,
    pub(crate) kind: ConnKind,
    pub(crate) next_id: u64,
    pub(crate) uploaded: bool,
    pub(crate) agent_pid: u32,
    pub(crate) agent_euid: u32,
    pub(crate) dead: Option<ConnError>,
    /// Python-module payloads this agent already holds (by SHA-256).
    pub(crate) payloads: std::collections::HashSet<String>,
}

impl AgentHandle {
    /// Whether this connection had to upload the agent (false: the cached copy ran).
    pub fn uploaded_agent(&self) -> bool {
        self.uploaded
    }

    /// The agent's pid on the target.
    pub fn agent_pid(&self) -> u32 {
        self.agent_pid
    }

    /// The agent's effective uid on the target (the become user's, with become).
    pub fn agent_euid(&self) -> u32 {
        self.agent_euid
    }

    /// Run a module; returns its result JSON (a failed module is `Ok` with `failed`).
    pub fn call(
        &mut self,
        module: &str,
        args: &Map<String, Value>,
        opts: &CallOptions,
    ) -> Result<Value, ConnError> {
        let id = self.take_id()?;
        let mut req = json!({
            "op": "module",
            "id": id,
            "module": module,
            "args": args,
            "check_mode": opts.check_mode,
            "diff": opts.diff,
            "env": opts.env,
        });
        if let Some(cwd) = &opts.cwd {
            req["cwd"] = json!(cwd);
        }
        if let Some(b) = opts.become_ {
            req["become"] = json!(b);
        }
        if let Some(job) = &opts.async_job {
            req["async"] = json!(job);
        }
        self.send_json(&req)?;
        let mut resp = self.recv_json()?;
        match resp["op"].as_str() {
            // Taken, not cloned: a setup result is tens of kilobytes of facts.
            Some("result") if resp["id"] == json!(id) => Ok(resp["result"].take()),
            Some("error") => Err(ConnError::Protocol(format!(
                "agent refused the request: {}",
                resp["msg"].as_str().unwrap_or("")
            ))),
            _ => Err(self.protocol_violation(&resp)),
        }
    }

    /// Write a file on the target (atomically: temp name in the same dir, then rename).
    /// Returns the number of bytes written.
    pub fn put_file(
        &mut self,
        data: &mut dyn Read,
        remote_path: &str,
        mode: Option<u32>,
    ) -> Result<u64, ConnError> {
        let id = self.take_id()?;
        let mut req = json!({"op": "put_file", "id": id, "path": remote_path});
        if let Some(m) = mode {
            req["mode"] = json!(m);
        }
        self.send_json(&req)?;
        let mut buf = vec![0u8; DATA_CHUNK];
        loop {
            let n = match data.read(&mut buf) {
                Ok(n) => n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => {
                    // End the transfer so the agent stays in sync, then report.
                    self.send_data(&[])?;
                    let _ = self.recv_json();
                    return Err(ConnError::Local(format!("cannot read local data: {e}")));
                }
            };
            if n == 0 {
                break;
            }
            self.send_data(&buf[..n])?;
        }
        self.send_data(&[])?;
        let resp = self.recv_json()?;
        match resp["op"].as_str() {
            Some("done") => Ok(resp["size"].as_u64().unwrap_or(0)),
            Some("error") => Err(ConnError::Protocol(
                resp["msg"]
                    .as_str()
                    .unwrap_or("put_file failed")
                    .to_string(),
            )),
            _ => Err(self.protocol_violation(&resp)),
        }
    }

    /// Convenience: [`AgentHandle::put_file`] from memory.
    pub fn put_bytes(
        &mut self,
        data: &[u8],
        remote_path: &str,
        mode: Option<u32>,
    ) -> Result<u64, ConnError> {
        self.put_file(&mut &data[..], remote_path, mode)
    }

    /// Read a file from the target into `out`; returns (size, mode).
    pub fn get_file_into(
        &mut self,
        remote_path: &str,
        out: &mut dyn Write,
    ) -> Result<(u64, u32), ConnError> {
        let id = self.take_id()?;
        self.send_json(&json!({"op": "get_file", "id": id, "path": remote_path}))?;
        let resp = self.recv_json()?;
        match resp["op"].as_str() {
            Some("file_follows") => {}
            Some("error") => {
                return Err(ConnError::Protocol(
                    resp["msg"]
                        .as_str()
                        .unwrap_or("get_file failed")
                        .to_string(),
                ))
            }
            _ => return Err(self.protocol_violation(&resp)),
        }
        let size = resp["size"].as_u64().unwrap_or(0);
        let mode = resp["mode"].as_u64().unwrap_or(0) as u32;
        let mut got = 0u64;
        loop {
            match self.recv()? {
                Frame::Data(d) if d.is_empty() => break,
                Frame::Data(d) => {
                    got += d.len() as u64;
                    out.write_all(&d)
                        .map_err(|e| ConnError::Local(format!("cannot write local data: {e}")))?;
                }
                Frame::Json(v) => return Err(self.protocol_violation(&v)),
            }
        }
        if got != size {
            return Err(ConnError::Protocol(format!(
                "short read of {remote_path}: got {got} of {size} bytes"
            )));
        }
        Ok((size, mode))
    }

    /// Read a whole file from the target.
    pub fn get_file(&mut self, remote_path: &str) -> Result<Vec<u8>, ConnError> {
        let mut out = Vec::new();
        self.get_file_into(remote_path, &mut out)?;
        Ok(out)
    }

    /// Ask the agent to stop and wait for the connection to end.
    pub fn close(mut self) -> Result<(), ConnError> {
        if self.dead.is_none() {
            let id = self.next_id + 1;
            if self.send_json(&json!({"op": "shutdown", "id": id})).is_ok() {
                let _ = self.recv_json();
            }
        }
        self.proc.kill();
        Ok(())
    }

    /// Whether the agent stored Python payloads (it removes them when it ends).
    pub fn holds_python_payloads(&self) -> bool {
        !self.payloads.is_empty()
    }

    /// Ends the connection at the end of a run, without waiting for the
    /// session to end: the agent reads EOF, exits and its session ends on
    /// their own, as an ssh master outlives the run (waiting for 20 sessions
    /// to end added ~5 ms to a warm 20-host gathering of ~110 ms). An agent
    /// holding Python payloads is closed as [`AgentHandle::close`] does, so
    /// that its private directory is gone when the run returns.
    pub fn release(mut self) {
        if self.holds_python_payloads() {
            let _ = self.close();
            return;
        }
        self.proc.release();
    }

    pub(crate) fn take_id(&mut self) -> Result<u64, ConnError> {
        if let Some(e) = &self.dead {
            return Err(e.clone());
        }
        self.next_id += 1;
        Ok(self.next_id)
    }

    pub(crate) fn send_json(&mut self, v: &Value) -> Result<(), ConnError> {
        let mut buf = Vec::new();
        write_json_frame(&mut buf, v).map_err(|e| ConnError::Local(e.to_string()))?;
        self.proc.write_all(&buf).map_err(|_| self.died())
    }

    pub(crate) fn send_data(&mut self, d: &[u8]) -> Result<(), ConnError> {
        let mut buf = Vec::with_capacity(d.len() + 5);
        write_data_frame(&mut buf, d).map_err(|e| ConnError::Local(e.to_string()))?;
        self.proc.write_all(&buf).map_err(|_| self.died())
    }

    fn recv(&mut self) -> Result<Frame, ConnError> {
        match read_frame(&mut self.proc.stdout) {
            Ok(f) => Ok(f),
            Err(FrameError::Eof) | Err(FrameError::Io(_)) => Err(self.died()),
            Err(e) => {
                let err = ConnError::Protocol(format!("agent sent a bad frame: {e}"));
                self.dead = Some(err.clone());
                self.proc.kill();
                Err(err)
            }
        }
    }

    pub(crate) fn recv_json(&mut self) -> Result<Value, ConnError> {
        match self.recv()? {
            Frame::Json(v) => Ok(v),
            Frame::Data(_) => {
                let err = ConnError::Protocol("agent sent data where a reply was expected".into());
                self.dead = Some(err.clone());
                Err(err)
            }
        }
    }

    pub(crate) fn protocol_violation(&mut self, got: &Value) -> ConnError {
        let err = ConnError::Protocol(format!("unexpected reply from agent: {got}"));
        self.dead = Some(err.clone());
        err
    }

    /// The connection is gone: build the Unreachable error from what ssh said.
    fn died(&mut self) -> ConnError {
        if let Some(e) = &self.dead {
            return e.clone();
        }
        let code = self.proc.wait_for_exit(Duration::from_secs(2));
        let err = match dead_connection_error(&self.proc, self.kind, code) {
            ConnError::Unreachable(msg) => {
                ConnError::Unreachable(explain_mid_session_end(msg, &self.proc, self.kind, code))
            }
            other => other,
        };
        self.dead = Some(err.clone());
        err
    }
}

/// Ansible's wording for a connection that ended: ssh's stderr when it said anything.
pub(crate) fn dead_connection_error(
    proc: &Spawned,
    kind: ConnKind,
    code: Option<i32>,
) -> ConnError {
    // stderr first: reading it waits for the watcher to take in what the
    // process wrote last, and a become failure is only known from that text
    // (checked before, sudo's "a password is required" could still be unread).
    let stderr = proc.stderr_text();
    match proc.become_failure() {
        BecomeFailure::MissingPassword => {
            return ConnError::Become(format!("Missing {} password", proc.become_name))
        }
        BecomeFailure::IncorrectPassword => {
            return ConnError::Become(format!("Incorrect {} password", proc.become_name))
        }
        BecomeFailure::None => {}
    }
    let detail = if stderr.is_empty() {
        match code {
            Some(c) => format!("connection closed (exit status {c})"),
            None => "connection closed".to_string(),
        }
    } else {
        stderr
    };
    match kind {
        ConnKind::Ssh => {
            ConnError::Unreachable(format!("Failed to connect to the host via ssh: {detail}"))
        }
        ConnKind::Local => {
            ConnError::Unreachable(format!("rsible agent exited unexpectedly: {detail}"))
        }
    }
}

/// ssh's stderr says why a session could not be opened; when a running
/// agent's session ends it often says nothing but its own warnings (the agent
/// was killed, the session dropped): then say what happened.
fn explain_mid_session_end(
    msg: String,
    proc: &Spawned,
    kind: ConnKind,
    code: Option<i32>,
) -> String {
    let stderr = proc.stderr_text();
    let said_something = stderr
        .lines()
        .any(|l| !l.trim().is_empty() && !l.starts_with("Warning: Permanently added"));
    if said_something {
        return msg;
    }
    let prefix = match kind {
        ConnKind::Ssh => "Failed to connect to the host via ssh: ",
        ConnKind::Local => "rsible agent exited unexpectedly: ",
    };
    let status = code.map_or_else(|| "unknown".to_string(), |c| c.to_string());
    let sep = if stderr.is_empty() { "" } else { " " };
    format!(
        "{prefix}{stderr}{sep}the session ended during the task (exit status {status}): \
         the rsible agent was killed or the connection dropped"
    )
}

impl Drop for AgentHandle {
    fn drop(&mut self) {
        self.proc.kill();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A become failure written to stderr just after the process ended (here
    /// by a background shell holding the pipe, as a slow stderr watcher would
    /// see sudo's message) is still the verdict: stderr is drained before the
    /// failure is looked at.
    #[test]
    fn a_become_failure_read_late_is_still_the_verdict() {
        let script = "(sleep 0.3; echo 'sudo: a password is required' >&2) & exit 1";
        let mut proc = crate::child::spawn("/bin/sh", &["-c".into(), script.into()], None, None)
            .expect("spawn sh");
        let code = proc.wait_until_exit();
        assert_eq!(code, 1);
        match dead_connection_error(&proc, ConnKind::Ssh, Some(code)) {
            ConnError::Become(msg) => assert_eq!(msg, "Missing sudo password"),
            other => panic!("not a become failure: {other:?}"),
        }
    }
}
