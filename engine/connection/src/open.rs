//! Opening a connection: spawn ssh (or the local agent), bootstrap, wait for hello.

use crate::agent_unusable::classify_exec_failure;
use crate::become_cmd;
use crate::bootstrap::{parse_marker, script, AgentPayload, Check, Marker};
use crate::child::BecomeFailure;
use crate::child::{spawn, spawn_mux, Spawned};
use crate::handle::{dead_connection_error, AgentHandle};
use crate::master_gate;
use crate::spec::{BecomeMethod, BecomeSpec, ConnKind, ConnSpec};
use crate::ssh_command::{shell_quote, ssh_argv};
use crate::timing::PhaseClock;
use crate::ConnError;
use rsible_modules::protocol::{read_frame, Frame};
use std::io::BufRead;
use std::time::Duration;

/// Entry point for the executor.
pub struct Connection;

impl Connection {
    /// Start (or reuse the cached binary of) the agent on the target and return a handle.
    /// ssh failures (exit 255) are retried `spec.retries` times, as Ansible does.
    pub fn open(spec: &ConnSpec) -> Result<AgentHandle, ConnError> {
        let payload = AgentPayload::load(&spec.agent_binary).map_err(|e| {
            ConnError::Local(format!(
                "cannot read agent binary {}: {e}",
                spec.agent_binary.display()
            ))
        })?;
        let mut attempt = 0u32;
        let mut check = Check::Cached;
        loop {
            match open_once(spec, &payload, check) {
                Err(Failure::CachedAgentDidNotStart(_)) if check == Check::Cached => {
                    // A cached entry that does not run here (a home shared with a
                    // machine of another architecture, a damaged binary): once more
                    // with the architecture tested and the binary hashed.
                    check = Check::Verify;
                }
                Err(Failure::CachedAgentDidNotStart(e) | Failure::Other(e)) => match e {
                    ConnError::Unreachable(m)
                        if spec.connection == ConnKind::Ssh && attempt < spec.retries =>
                    {
                        let pause = (2u64.pow(attempt.min(5)) - 1).min(30);
                        std::thread::sleep(Duration::from_secs(pause));
                        attempt += 1;
                        let _ = m;
                    }
                    other => return Err(other),
                },
                Ok(handle) => return Ok(handle),
            }
        }
    }
}

/// Why one attempt failed.
enum Failure {
    /// The script found the agent cached and exec'd it, but it never said hello and
    /// the session ended otherwise than by an ssh failure: worth one verified retry.
    CachedAgentDidNotStart(ConnError),
    Other(ConnError),
}

impl From<ConnError> for Failure {
    fn from(e: ConnError) -> Failure {
        Failure::Other(e)
    }
}

fn open_once(
    spec: &ConnSpec,
    payload: &AgentPayload,
    check: Check,
) -> Result<AgentHandle, Failure> {
    let mut clock = PhaseClock::start(&spec.host);
    let boot = script(
        payload,
        spec.remote_cache_dir.as_deref(),
        &spec.agent_args,
        check,
    );
    let password = spec
        .become_
        .as_ref()
        .and_then(|b| b.password.as_ref().map(|p| p.expose().to_string()));
    let (program, args, prompt, bootstraps) = match (&spec.connection, &spec.become_) {
        (ConnKind::Local, None) => (
            spec.agent_binary.display().to_string(),
            spec.agent_args.clone(),
            None,
            false,
        ),
        (ConnKind::Local, Some(b)) => {
            let (cmd, prompt) = become_cmd::wrap(b, &boot);
            (
                "/bin/sh".to_string(),
                vec!["-c".to_string(), cmd],
                prompt,
                true,
            )
        }
        (ConnKind::Ssh, become_) => {
            let (remote, prompt) = match become_ {
                Some(b) => become_cmd::wrap(b, &boot),
                None => (format!("/bin/sh -c {}", shell_quote(&boot)), None),
            };
            (
                spec.ssh_executable.clone(),
                ssh_argv(spec, &remote)?,
                prompt,
                true,
            )
        }
    };
    // Aliases of one machine share a ControlMaster: the first goes alone (master_gate).
    let gate = (spec.connection == ConnKind::Ssh && master_gate::shares_master(&args))
        .then(|| master_gate::gate_for(&program, &args));
    if gate.as_deref().is_some_and(master_gate::being_set_up) {
        // Another connection is setting the master up: ask `ssh -G` how to use
        // it (mux::route, cached per command line) now, beside its handshake,
        // rather than after it.
        let _ = through_master(spec, &program, &args);
    }
    let mut turn = gate.as_deref().and_then(master_gate::wait_turn);
    clock.mark(if turn.is_some() {
        "gate-first"
    } else {
        "gate-shared"
    });
    // Once the master is up, sessions on it need no `ssh` process. That holds
    // for the first connection too when a master of an earlier run is still
    // up (ControlPersist): it opens its session there and only falls back to
    // `ssh` (which sets a master up) when none answers. It keeps the gate
    // until its bootstrap is done either way, so an agent missing from the
    // cache is still uploaded once, not by every alias at the same time.
    let route = gate
        .is_some()
        .then(|| through_master(spec, &program, &args))
        .flatten();
    let (proc, phase) = match route {
        Some(route) => mux_or_spawn(&route, spec, &args, &clock, prompt, password),
        None => (spawn(&program, &args, prompt, password), "spawn"),
    };
    clock.mark(phase);
    let mut proc = proc?;
    if let Some(BecomeSpec {
        method: BecomeMethod::Su,
        ..
    }) = &spec.become_
    {
        proc.become_name = "su";
    }
    let uploaded = if bootstraps {
        match run_bootstrap(&mut proc, payload, spec.connection, &mut clock) {
            Ok(u) => Some(u),
            Err(e) => {
                proc.kill();
                return Err(e.into());
            }
        }
    } else {
        None
    };
    if let Some(established) = turn.as_deref_mut() {
        *established = true;
    }
    drop(turn);
    let hello = read_frame(&mut proc.stdout);
    clock.mark("hello");
    let hello = match hello {
        Ok(Frame::Json(v)) if v["op"] == "hello" => v,
        Ok(other) => {
            proc.kill();
            return Err(Failure::Other(ConnError::Protocol(format!(
                "agent did not say hello: {other:?}"
            ))));
        }
        Err(_) => {
            let code = proc.wait_for_exit(Duration::from_secs(2));
            // Drained first (stderr_text waits for the watcher): a become
            // failure is only known once its text has been read.
            let stderr = proc.stderr_text();
            // The script reached its exec: a binary this machine cannot run
            // (old glibc, no loader, wrong format) sends the host agentless.
            let unusable = (bootstraps && proc.become_failure() == BecomeFailure::None)
                .then(|| classify_exec_failure(code, &stderr))
                .flatten();
            let err = match unusable {
                Some(why) => ConnError::NoAgent(why),
                None => failure_before_agent(&proc, spec.connection, code),
            };
            proc.kill();
            // An agent this machine cannot run is that, however verified.
            let ssh_failed = spec.connection == ConnKind::Ssh && code == Some(255);
            let retry = !ssh_failed && !matches!(err, ConnError::NoAgent(_));
            return Err(if uploaded == Some(false) && retry {
                Failure::CachedAgentDidNotStart(err)
            } else {
                Failure::Other(err)
            });
        }
    };
    proc.agent_started
        .store(true, std::sync::atomic::Ordering::Relaxed);
    Ok(AgentHandle {
        proc,
        kind: spec.connection,
        next_id: 0,
        uploaded: uploaded.unwrap_or(false),
        agent_pid: hello["pid"].as_u64().unwrap_or(0) as u32,
        agent_euid: hello["euid"].as_u64().unwrap_or(0) as u32,
        dead: None,
        payloads: Default::default(),
    })
}

/// The master to open this connection's session on without an `ssh` process: when
/// another connection with the same ssh command line has set the master up, ssh's
/// configuration lets us (mux::route) and `RSIBLE_SSH_MUX` is not `0`.
fn through_master(
    spec: &ConnSpec,
    program: &str,
    args: &[String],
) -> Option<std::sync::Arc<crate::mux::route::MuxRoute>> {
    if spec.connection != ConnKind::Ssh
        || std::env::var_os("RSIBLE_SSH_MUX").is_some_and(|v| v == "0")
    {
        return None;
    }
    crate::mux::route::route_for(program, args)
}

/// A session on the master, or the `ssh` process when the master would not open
/// one (gone, refusing): then ssh sets up a new master or reports why it cannot.
/// The phase name says which.
fn mux_or_spawn(
    route: &crate::mux::route::MuxRoute,
    spec: &ConnSpec,
    args: &[String],
    clock: &PhaseClock,
    prompt: Option<String>,
    password: Option<String>,
) -> (Result<Spawned, ConnError>, &'static str) {
    let command = args.last().map(String::as_str).unwrap_or_default();
    match spawn_mux(
        route,
        command,
        spec.timeout,
        prompt.clone(),
        password.clone(),
    ) {
        Ok(proc) => (Ok(proc), "mux-session"),
        Err(why) => {
            clock.note(&format!("no master session: {}", why.0));
            let proc = spawn(&spec.ssh_executable, args, prompt, password);
            (proc, "spawn-after-mux")
        }
    }
}

/// Follow the script's markers; upload when asked. Returns whether we uploaded.
fn run_bootstrap(
    proc: &mut Spawned,
    payload: &AgentPayload,
    kind: ConnKind,
    clock: &mut PhaseClock,
) -> Result<bool, ConnError> {
    let mut uploaded = false;
    loop {
        let mut line = Vec::new();
        let n = proc
            .stdout
            .read_until(b'\n', &mut line)
            .map_err(|e| ConnError::Local(format!("reading bootstrap output: {e}")))?;
        if n == 0 {
            let code = proc.wait_for_exit(Duration::from_secs(2));
            return Err(failure_before_agent(proc, kind, code));
        }
        let marker = parse_marker(&String::from_utf8_lossy(&line));
        clock.mark(match &marker {
            Marker::Cached => "marker-cached",
            Marker::Upload => "marker-upload",
            Marker::Stored => "marker-stored",
            Marker::Exec => "marker-exec",
            _ => "marker-other",
        });
        match marker {
            Marker::Arch(remote) => {
                return Err(ConnError::NoAgent(crate::agent_unusable::arch_mismatch(
                    &remote,
                )))
            }
            Marker::Err(text) => {
                return Err(ConnError::Bootstrap(format!(
                    "agent bootstrap failed: {text}"
                )))
            }
            Marker::Upload => {
                let bytes = payload.bytes().map_err(ConnError::Local)?;
                if proc.write_all(bytes).is_err() {
                    let code = proc.wait_for_exit(Duration::from_secs(2));
                    return Err(failure_before_agent(proc, kind, code));
                }
                uploaded = true;
            }
            Marker::Cached | Marker::Stored | Marker::Other(_) => {}
            Marker::Exec => return Ok(uploaded),
        }
    }
}

/// Why the session ended before the agent spoke: ssh unreachable (255), become, or the
/// bootstrap/exec itself.
fn failure_before_agent(proc: &Spawned, kind: ConnKind, code: Option<i32>) -> ConnError {
    let err = dead_connection_error(proc, kind, code);
    match (&err, kind, code) {
        (ConnError::Unreachable(_), ConnKind::Ssh, Some(255)) => err,
        (ConnError::Unreachable(_), _, _) => ConnError::Bootstrap(format!(
            "the rsible agent did not start (exit status {}): {}",
            code.map(|c| c.to_string())
                .unwrap_or_else(|| "unknown".into()),
            proc.stderr_text()
        )),
        _ => err,
    }
}
