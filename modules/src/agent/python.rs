//! Python-module payloads: kept by content hash in the agent's private
//! directory (created 0700 on first use, removed when the agent ends) and
//! run as `/bin/sh -c '<interpreter> <payload>'`, the way Ansible's pipelined
//! command line runs a module, so that a missing interpreter reads as the
//! shell says it.

use super::async_job::Jobs;
use crate::protocol::{read_frame, write_json_frame, AsyncJob, Frame, PyRunCall, Response};
use sha2::{Digest, Sha256};
use std::collections::HashSet;
use std::fs;
use std::io::{self, Read, Write};
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// The agent's private directory and the payloads stored in it.
#[derive(Default)]
pub struct PythonState {
    dir: Option<PathBuf>,
    stored: HashSet<String>,
}

impl PythonState {
    /// The private directory, created on first use.
    fn private_dir(&mut self) -> io::Result<PathBuf> {
        if let Some(d) = &self.dir {
            return Ok(d.clone());
        }
        let base = std::env::temp_dir();
        for attempt in 0..100u32 {
            let candidate = base.join(format!(
                "rsible-agent-{}-{}-{attempt}",
                std::process::id(),
                nanos()
            ));
            match fs::DirBuilder::new().mode(0o700).create(&candidate) {
                Ok(()) => {
                    self.dir = Some(candidate.clone());
                    return Ok(candidate);
                }
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists => continue,
                Err(e) => return Err(e),
            }
        }
        Err(io::Error::other("cannot create a private directory"))
    }

    /// `py_payload`: read the data frames, check the hash, store the zip.
    /// Errors in the content are answered; a broken stream is returned.
    pub fn receive_payload(
        &mut self,
        reader: &mut dyn Read,
        writer: &mut dyn Write,
        id: u64,
        sha256: &str,
    ) -> io::Result<()> {
        let mut bytes = Vec::new();
        loop {
            match read_frame(reader) {
                Ok(Frame::Data(d)) if d.is_empty() => break,
                Ok(Frame::Data(d)) => bytes.extend_from_slice(&d),
                Ok(Frame::Json(_)) => {
                    return Err(io::Error::new(
                        io::ErrorKind::InvalidData,
                        "JSON frame inside a payload transfer",
                    ))
                }
                Err(e) => return Err(io::Error::new(io::ErrorKind::InvalidData, e.to_string())),
            }
        }
        let resp = match self.store(sha256, &bytes) {
            Ok(()) => Response::Done {
                id,
                size: bytes.len() as u64,
            },
            Err(msg) => Response::Error { id: Some(id), msg },
        };
        write_json_frame(writer, &resp.to_value())
    }

    fn store(&mut self, sha256: &str, bytes: &[u8]) -> Result<(), String> {
        let actual: String = Sha256::digest(bytes)
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        if actual != sha256 || !is_hex(sha256) {
            return Err(format!(
                "payload does not match its hash (expected {sha256}, got {actual})"
            ));
        }
        let dir = self
            .private_dir()
            .map_err(|e| format!("cannot create the agent's private directory: {e}"))?;
        let path = dir.join(format!("{sha256}.zip"));
        let mut file = fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .mode(0o600)
            .open(&path)
            .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
        file.write_all(bytes)
            .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
        self.stored.insert(sha256.to_string());
        Ok(())
    }

    /// The agent's private directory and the stored payload `call` names
    /// in it; the error answer when that payload was never sent or the
    /// directory cannot be made.
    fn stored_payload(&mut self, call: &PyRunCall) -> Result<(PathBuf, PathBuf), Response> {
        if !self.stored.contains(&call.sha256) {
            return Err(Response::Error {
                id: Some(call.id),
                msg: format!("no payload {} was sent to this agent", call.sha256),
            });
        }
        let dir = self.private_dir().map_err(|e| Response::Error {
            id: Some(call.id),
            msg: format!("cannot create the agent's private directory: {e}"),
        })?;
        let payload = dir.join(format!("{}.zip", call.sha256));
        Ok((dir, payload))
    }

    /// `py_run` with `async`: the payload starts in the background; the
    /// answer's stdout is the job's start result (what Ansible's
    /// `async_wrapper` prints).
    pub fn start_async(&mut self, call: &PyRunCall, job: &AsyncJob, jobs: &mut Jobs) -> Response {
        let (_, payload) = match self.stored_payload(call) {
            Ok(found) => found,
            Err(answer) => return answer,
        };
        let started = jobs.start_python(call, &payload, job);
        Response::PyOutput {
            id: call.id,
            rc: 0,
            stdout: started.to_string(),
            stderr: String::new(),
        }
    }

    /// `py_run`: the payload's output and exit status, or why it could not start.
    pub fn run(&mut self, call: &PyRunCall) -> Response {
        let (dir, payload) = match self.stored_payload(call) {
            Ok(found) => found,
            Err(answer) => return answer,
        };
        // A scratch directory per run (the module's `_ansible_tmpdir`), removed after.
        let scratch = dir.join(format!("run-{}", call.id));
        if let Err(e) = fs::DirBuilder::new().mode(0o700).create(&scratch) {
            return Response::Error {
                id: Some(call.id),
                msg: format!("cannot create {}: {e}", scratch.display()),
            };
        }
        let outcome = run_payload(call, &payload, &scratch);
        let _ = fs::remove_dir_all(&scratch);
        match outcome {
            Ok((rc, stdout, stderr)) => Response::PyOutput {
                id: call.id,
                rc,
                stdout,
                stderr,
            },
            Err(e) => Response::Error {
                id: Some(call.id),
                msg: format!("cannot run /bin/sh for the Python module: {e}"),
            },
        }
    }
}

impl Drop for PythonState {
    fn drop(&mut self) {
        if let Some(d) = self.dir.take() {
            let _ = fs::remove_dir_all(d);
        }
    }
}

pub(super) fn run_payload(
    call: &PyRunCall,
    payload: &Path,
    scratch: &Path,
) -> io::Result<(i32, String, String)> {
    let command = format!("{} {}", call.interpreter, quote(&payload.to_string_lossy()));
    let mut child = Command::new("/bin/sh")
        .arg("-c")
        .arg(&command)
        .envs(&call.env)
        .env("RSIBLE_MODULE_TMPDIR", scratch)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()?;
    // Written from a thread: a module that prints a lot before reading its
    // arguments must not deadlock against us.
    let input = call.stdin.clone().into_bytes();
    let mut stdin = child.stdin.take();
    let writer = std::thread::spawn(move || {
        if let Some(s) = stdin.as_mut() {
            let _ = s.write_all(&input);
        }
        drop(stdin);
    });
    let out = child.wait_with_output()?;
    let _ = writer.join();
    Ok((
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    ))
}

pub(super) fn quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', "'\\''"))
}

fn is_hex(s: &str) -> bool {
    s.len() == 64 && s.bytes().all(|b| b.is_ascii_hexdigit())
}

fn nanos() -> u128 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0)
}
