//! The agent main loop: hello, then one response per request, until `shutdown` or EOF.

pub(crate) mod async_job;
mod python;
mod transfer;
mod watchdog;

use crate::modules::{run_module, ModuleContext};
use crate::protocol::{
    parse_request, read_frame, write_json_frame, Frame, FrameError, Hello, Request, Response,
    PROTOCOL_VERSION,
};
use std::io::{self, BufReader, BufWriter, Read, Write};

/// Run the agent on stdin/stdout. Returns the process exit code: 0 after `shutdown`
/// or a clean EOF, 1 when the stream broke or was not speaking the protocol.
pub fn run_agent_stdio() -> i32 {
    // A background job started by an agent (see `async_job`) is this binary again.
    if std::env::var_os(async_job::JOB_ENV).is_some() {
        return async_job::job_main();
    }
    let stdin = io::stdin();
    let stdout = io::stdout();
    let mut reader = BufReader::new(stdin.lock());
    let mut writer = BufWriter::new(stdout.lock());
    serve(&mut reader, &mut writer, true)
}

/// The agent loop over any byte streams (tests drive it in memory).
pub fn run_agent(reader: &mut dyn Read, writer: &mut dyn Write) -> i32 {
    serve(reader, writer, false)
}

/// The loop itself. `watch_stdin`: the requests come from fd 0, which the
/// watchdog may poll during module calls (never in in-memory tests).
fn serve(reader: &mut dyn Read, writer: &mut dyn Write, watch_stdin: bool) -> i32 {
    // SAFETY: getuid/geteuid have no preconditions.
    let (uid, euid) = unsafe { (libc::getuid(), libc::geteuid()) };
    let hello = Hello {
        op: "hello".into(),
        protocol: PROTOCOL_VERSION,
        pid: std::process::id(),
        uid,
        euid,
    };
    let hello = serde_json::to_value(&hello).unwrap_or_default();
    if write_json_frame(writer, &hello).is_err() {
        return 1;
    }
    let start_dir = std::env::current_dir().ok();
    let mut moved = false;
    // Dropped (private directory removed) whenever the loop returns.
    let mut python = python::PythonState::default();
    let mut jobs = async_job::Jobs::default();
    loop {
        jobs.reap();
        let frame = match read_frame(reader) {
            Ok(f) => f,
            Err(FrameError::Eof) => return 0,
            Err(FrameError::BadJson(e)) => {
                // The frame boundary is intact, so we can answer and go on.
                let resp = Response::Error {
                    id: None,
                    msg: format!("bad JSON in request: {e}"),
                };
                if write_json_frame(writer, &resp.to_value()).is_err() {
                    return 1;
                }
                continue;
            }
            Err(e) => {
                // Out of sync: say why and stop.
                let resp = Response::Error {
                    id: None,
                    msg: format!("protocol error: {e}"),
                };
                let _ = write_json_frame(writer, &resp.to_value());
                return 1;
            }
        };
        let value = match frame {
            Frame::Json(v) => v,
            Frame::Data(_) => {
                let resp = Response::Error {
                    id: None,
                    msg: "protocol error: data frame outside a transfer".into(),
                };
                if write_json_frame(writer, &resp.to_value()).is_err() {
                    return 1;
                }
                continue;
            }
        };
        let id = value.get("id").and_then(|v| v.as_u64());
        let request: Request = match parse_request(value) {
            Ok(r) => r,
            Err(e) => {
                let resp = Response::Error {
                    id,
                    msg: format!("bad request: {e}"),
                };
                if write_json_frame(writer, &resp.to_value()).is_err() {
                    return 1;
                }
                continue;
            }
        };
        let outcome = match request {
            Request::Module(call) => {
                let ctx = ModuleContext {
                    check_mode: call.check_mode,
                    diff: call.diff,
                    env: call.env.clone(),
                };
                // The watch ends before the answer is written: once it is out, the
                // controller may send its next request at once, and a watch still
                // running would take that for a hang-up and stop the process group
                // (under sudo that ended the session: the host went UNREACHABLE).
                let resp = {
                    let _watch = watch_stdin.then(watchdog::CallWatch::start);
                    match enter_cwd(call.cwd.as_deref(), start_dir.as_deref(), &mut moved) {
                        Ok(()) => Response::Result {
                            id: call.id,
                            result: match &call.async_job {
                                Some(job) => jobs.start_native(&call, job),
                                None => run_module(&call.module, &call.args, &ctx),
                            },
                        },
                        Err(msg) => Response::Error {
                            id: Some(call.id),
                            msg,
                        },
                    }
                };
                write_json_frame(writer, &resp.to_value())
            }
            Request::PutFile { id, path, mode } => {
                transfer::receive_file(reader, writer, id, &path, mode)
            }
            Request::GetFile { id, path } => transfer::send_file(writer, id, &path),
            Request::PyPayload { id, sha256 } => {
                python.receive_payload(reader, writer, id, &sha256)
            }
            Request::PyRun(call) => {
                let resp = match enter_cwd(call.cwd.as_deref(), start_dir.as_deref(), &mut moved) {
                    Ok(()) => match &call.async_job {
                        Some(job) => python.start_async(&call, job, &mut jobs),
                        None => python.run(&call),
                    },
                    Err(msg) => Response::Error {
                        id: Some(call.id),
                        msg,
                    },
                };
                write_json_frame(writer, &resp.to_value())
            }
            Request::Shutdown { id } => {
                let _ = write_json_frame(writer, &Response::Done { id, size: 0 }.to_value());
                return 0;
            }
        };
        if outcome.is_err() {
            return 1;
        }
    }
}

/// Each module call starts in its `cwd`, or where the agent started. The start
/// directory may not be accessible to a become user (sudo keeps root's cwd), so it is
/// only returned to, best effort, after a call moved away from it.
fn enter_cwd(
    cwd: Option<&str>,
    start: Option<&std::path::Path>,
    moved: &mut bool,
) -> Result<(), String> {
    match cwd {
        Some(c) => {
            std::env::set_current_dir(c)
                .map_err(|e| format!("cannot change directory to {c}: {e}"))?;
            *moved = true;
        }
        None if *moved => {
            if let Some(s) = start {
                let _ = std::env::set_current_dir(s);
            }
            *moved = false;
        }
        None => {}
    }
    Ok(())
}

#[cfg(test)]
mod tests;
