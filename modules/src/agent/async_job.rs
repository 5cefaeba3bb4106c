//! Background jobs (the task keywords `async`/`poll`), as Ansible's
//! `async_wrapper` runs them, so that `async_status` — ours or Ansible's —
//! reads the same job files.
//!
//! The agent answers a module call that carries `async` at once: it starts a
//! detached copy of itself (the same binary, in a session of its own, so it
//! outlives the agent, the ssh session and the run), writes the job file
//! `<async_dir>/<jid>` as `{"started": 1, "finished": 0, "ansible_job_id": ..}`
//! and returns Ansible's start result. The job runs the module, then replaces
//! the job file with the module's result; past its time limit it writes
//! `{"msg": "Timeout exceeded", "failed": true, "child_pid": ..}` and kills
//! what the module started.
//!
//! The job file is always written whole under a temporary name and renamed,
//! as `async_wrapper` does, so a reader never sees half of it.

use crate::modules::{run_module, ModuleContext};
use crate::protocol::{AsyncJob, ModuleCall, PyRunCall};
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};
use std::fs;
use std::io::{self, Read, Write};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

/// Set in the environment of the detached copy: it runs the job given on its
/// stdin instead of serving the protocol.
pub const JOB_ENV: &str = "RSIBLE_AGENT_ASYNC_JOB";

/// What the detached process is told to do.
#[derive(Debug, Serialize, Deserialize)]
struct JobSpec {
    jid: String,
    job_path: PathBuf,
    time_limit: u64,
    work: JobWork,
}

#[derive(Debug, Serialize, Deserialize)]
enum JobWork {
    /// A native module, run inside the job process.
    Native(ModuleCall),
    /// A Python-module payload copied into `workdir` (the agent's own copy
    /// goes when the agent ends), removed when the job is done.
    Python {
        call: PyRunCall,
        payload: PathBuf,
        workdir: PathBuf,
    },
}

/// Started background jobs, reaped as they end so they leave no zombies
/// while the agent lives (after it, init adopts them).
#[derive(Default)]
pub struct Jobs {
    children: Vec<Child>,
}

impl Jobs {
    pub fn reap(&mut self) {
        self.children
            .retain_mut(|c| matches!(c.try_wait(), Ok(None)));
    }

    /// Starts a native module call in the background; the start result, or a
    /// failure saying why the job could not start.
    pub fn start_native(&mut self, call: &ModuleCall, job: &AsyncJob) -> Value {
        let mut inner = call.clone();
        inner.async_job = None;
        self.start(job, |_| Ok(JobWork::Native(inner)))
    }

    /// Starts a Python payload in the background. `payload` is the agent's
    /// stored copy; the job gets a copy of its own.
    pub fn start_python(&mut self, call: &PyRunCall, payload: &Path, job: &AsyncJob) -> Value {
        let mut inner = call.clone();
        inner.async_job = None;
        self.start(job, |jid| {
            let workdir = std::env::temp_dir().join(format!("rsible-async-{jid}"));
            create_private_dir(&workdir)?;
            let copy = workdir.join("payload.zip");
            fs::copy(payload, &copy)?;
            Ok(JobWork::Python {
                call: inner,
                payload: copy,
                workdir,
            })
        })
    }

    fn start(&mut self, job: &AsyncJob, work: impl FnOnce(&str) -> io::Result<JobWork>) -> Value {
        let dir = expand_home(&job.async_dir);
        if let Err(e) = fs::create_dir_all(&dir) {
            return json!({
                "failed": 1,
                "msg": format!("could not create directory: {} - {e}", dir.display()),
            });
        }
        let mut child = match spawn_detached() {
            Ok(c) => c,
            Err(e) => {
                return json!({"failed": true, "msg": format!("FATAL ERROR: cannot start the async job: {e}")})
            }
        };
        // Ansible's ids: `j<random>.<pid of the job>`.
        let jid = format!("j{}.{}", random_below(999_999_999_999), child.id());
        let job_path = dir.join(&jid);
        let started = json!({"started": 1, "finished": 0, "ansible_job_id": jid});
        // Written before the job is told what to do, so the job's result can
        // never be overwritten by this first state.
        let prepared = write_job_file(&job_path, &started).and_then(|()| {
            let spec = JobSpec {
                jid: jid.clone(),
                job_path: job_path.clone(),
                time_limit: job.time_limit,
                work: work(&jid)?,
            };
            let text = serde_json::to_vec(&spec).map_err(io::Error::other)?;
            let mut stdin = child
                .stdin
                .take()
                .ok_or_else(|| io::Error::other("no pipe to the job"))?;
            stdin.write_all(&text)
        });
        if let Err(e) = prepared {
            let _ = child.kill();
            let _ = child.wait();
            let _ = fs::remove_file(&job_path);
            return json!({"failed": true, "msg": format!("FATAL ERROR: cannot start the async job: {e}")});
        }
        self.children.push(child);
        json!({
            "failed": 0,
            "started": 1,
            "finished": 0,
            "ansible_job_id": jid,
            "results_file": job_path.to_string_lossy(),
        })
    }
}

/// This binary again, with the agent's own arguments, in a new session
/// (no controlling terminal, not in the agent's process group: neither the
/// agent's watchdog nor the end of the ssh session reaches it).
fn spawn_detached() -> io::Result<Child> {
    let exe = std::env::current_exe()?;
    let mut cmd = Command::new(exe);
    cmd.args(std::env::args_os().skip(1))
        .env(JOB_ENV, "1")
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    // SAFETY: setsid is async-signal-safe and touches no memory of the parent.
    unsafe {
        cmd.pre_exec(|| {
            if libc::setsid() < 0 {
                return Err(io::Error::last_os_error());
            }
            Ok(())
        });
    }
    cmd.spawn()
}

/// The detached process: read the job, run it, write its result. Returns the
/// exit code.
pub fn job_main() -> i32 {
    let mut text = Vec::new();
    if io::stdin().read_to_end(&mut text).is_err() {
        return 1;
    }
    let Ok(spec) = serde_json::from_slice::<JobSpec>(&text) else {
        return 1;
    };
    std::env::remove_var(JOB_ENV);
    detach_stdin();
    let (tx, rx) = mpsc::channel();
    let work = spec.work;
    let workdir = match &work {
        JobWork::Python { workdir, .. } => Some(workdir.clone()),
        JobWork::Native(_) => None,
    };
    // The module runs on a thread so that this one can keep the time limit.
    std::thread::spawn(move || {
        let _ = tx.send(run_work(work));
    });
    let outcome = rx.recv_timeout(kill_after(spec.time_limit));
    if let Some(dir) = &workdir {
        let _ = fs::remove_dir_all(dir);
    }
    match outcome {
        Ok(result) => {
            let _ = write_job_file(&spec.job_path, &result);
            0
        }
        Err(_) => {
            // As async_wrapper: the module's processes are stopped, and a
            // second later the timeout is recorded. The job leads its own
            // process group; it ignores the SIGTERM it sends the group.
            // SAFETY: changing our own signal disposition and signalling our
            // own process group touch no memory.
            unsafe {
                libc::signal(libc::SIGTERM, libc::SIG_IGN);
                libc::kill(0, libc::SIGTERM);
            }
            std::thread::sleep(Duration::from_secs(1));
            let result = json!({
                "msg": "Timeout exceeded",
                "failed": true,
                "child_pid": std::process::id(),
            });
            let _ = write_job_file(&spec.job_path, &result);
            // Whatever ignored SIGTERM, and the job itself.
            // SAFETY: as above.
            unsafe {
                libc::kill(0, libc::SIGKILL);
            }
            1
        }
    }
}

/// When `async_wrapper` finds a job past its limit: it checks every 5
/// seconds, or twice within limits of 5 seconds and less.
fn kill_after(time_limit: u64) -> Duration {
    let limit = time_limit.max(1);
    if limit <= 5 {
        Duration::from_secs(limit)
    } else {
        Duration::from_secs(limit.div_ceil(5) * 5)
    }
}

/// Nothing reads the job's output: stdin from /dev/null from now on (stdout
/// and stderr already are).
fn detach_stdin() {
    if let Ok(null) = fs::File::open("/dev/null") {
        use std::os::unix::io::AsRawFd;
        // SAFETY: dup2 onto fd 0 with a valid open descriptor.
        unsafe {
            libc::dup2(null.as_raw_fd(), 0);
        }
    }
}

fn run_work(work: JobWork) -> Value {
    match work {
        JobWork::Native(call) => {
            if let Some(cwd) = &call.cwd {
                if let Err(e) = std::env::set_current_dir(cwd) {
                    return json!({"failed": 1, "msg": format!("cannot change directory to {cwd}: {e}")});
                }
            }
            let ctx = ModuleContext {
                check_mode: call.check_mode,
                diff: call.diff,
                env: call.env.clone(),
            };
            let mut result = run_module(&call.module, &call.args, &ctx);
            // The controller adds these when it reads a module's output; the
            // job file holds what the module printed.
            if let Value::Object(map) = &mut result {
                map.remove("stdout_lines");
                map.remove("stderr_lines");
            }
            result
        }
        JobWork::Python {
            call,
            payload,
            workdir,
        } => {
            if let Some(cwd) = &call.cwd {
                if let Err(e) = std::env::set_current_dir(cwd) {
                    return json!({"failed": 1, "msg": format!("cannot change directory to {cwd}: {e}")});
                }
            }
            let scratch = workdir.join("tmp");
            if let Err(e) = create_private_dir(&scratch) {
                return json!({"failed": 1, "msg": format!("cannot create {}: {e}", scratch.display())});
            }
            let command = format!(
                "{} {}",
                call.interpreter,
                super::python::quote(&payload.to_string_lossy())
            );
            match super::python::run_payload(&call, &payload, &scratch) {
                Ok((_rc, stdout, stderr)) => module_output_result(&command, &stdout, &stderr),
                Err(e) => json!({
                    "failed": 1,
                    "cmd": command,
                    "msg": e.to_string(),
                    "outdata": "",
                    "stderr": "",
                }),
            }
        }
    }
}

/// What `async_wrapper` makes of a module's output: the JSON among other
/// lines (junk after it becomes a warning), with the module's stderr added.
fn module_output_result(command: &str, stdout: &str, stderr: &str) -> Value {
    let parsed = json_part(stdout).and_then(|(text, junk)| {
        match serde_json::from_str::<Map<String, Value>>(&text) {
            Ok(map) => Some((map, junk)),
            Err(_) => None,
        }
    });
    match parsed {
        Some((mut map, junk)) => {
            if let Some(junk) = junk {
                let note = Value::String(format!(
                    "Module invocation had junk after the JSON data: {junk}"
                ));
                match map.get_mut("warnings") {
                    Some(Value::Array(list)) => list.push(note),
                    Some(other) => {
                        let first = other.take();
                        *other = Value::Array(vec![first, note]);
                    }
                    None => {
                        map.insert("warnings".into(), Value::Array(vec![note]));
                    }
                }
            }
            if !stderr.is_empty() {
                map.insert("stderr".into(), Value::String(stderr.to_string()));
            }
            Value::Object(map)
        }
        None => json!({
            "failed": 1,
            "cmd": command,
            "data": stdout,
            "stderr": stderr,
            "msg": "the module's output holds no JSON result",
        }),
    }
}

/// From the first line starting with `{` to the last line ending with `}`,
/// and the lines after it, if any.
fn json_part(output: &str) -> Option<(String, Option<String>)> {
    let lines: Vec<&str> = output.lines().collect();
    let start = lines.iter().position(|l| l.trim().starts_with('{'))?;
    let rest = &lines[start..];
    let end = rest.iter().rposition(|l| l.trim().ends_with('}'))?;
    let junk = (end + 1 < rest.len()).then(|| rest[end + 1..].join("\n"));
    Some((rest[..=end].join("\n"), junk))
}

/// `jwrite`: the whole document under `<path>.tmp`, then renamed.
fn write_job_file(path: &Path, value: &Value) -> io::Result<()> {
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(".tmp");
    let tmp = PathBuf::from(tmp);
    let text = serde_json::to_string(value).map_err(io::Error::other)?;
    fs::write(&tmp, text)?;
    fs::rename(&tmp, path)
}

fn create_private_dir(path: &Path) -> io::Result<()> {
    use std::os::unix::fs::DirBuilderExt;
    fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(path)
}

/// `~` and `~user` at the start of `path`, as the target's shell expands
/// them for the agent's user (which is the become user).
pub fn expand_home(path: &str) -> PathBuf {
    let Some(rest) = path.strip_prefix('~') else {
        return PathBuf::from(path);
    };
    let (user, tail) = match rest.find('/') {
        Some(i) => (&rest[..i], &rest[i + 1..]),
        None => (rest, ""),
    };
    let home = if user.is_empty() {
        // SAFETY: geteuid has no preconditions.
        let euid = unsafe { libc::geteuid() };
        crate::util::users::user_name(euid)
            .and_then(|name| crate::util::users::user_home(&name))
            .or_else(|| std::env::var("HOME").ok())
    } else {
        crate::util::users::user_home(user)
    };
    match home {
        Some(h) if tail.is_empty() => PathBuf::from(h),
        Some(h) => Path::new(&h).join(tail),
        None => PathBuf::from(path),
    }
}

/// A random number below `bound`, from the kernel's generator (the clock when
/// it cannot be read): job ids only need to differ.
fn random_below(bound: u64) -> u64 {
    let mut bytes = [0u8; 8];
    let read = fs::File::open("/dev/urandom").and_then(|mut f| f.read_exact(&mut bytes));
    let n = match read {
        Ok(()) => u64::from_ne_bytes(bytes),
        Err(_) => std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64)
            .unwrap_or(0),
    };
    n % bound
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jobs_are_stopped_when_async_wrapper_would_notice() {
        let secs = |n| kill_after(n).as_secs();
        assert_eq!(
            (secs(1), secs(5), secs(6), secs(10), secs(11)),
            (1, 5, 10, 10, 15)
        );
    }

    #[test]
    fn json_is_found_among_other_lines() {
        let (text, junk) = json_part("hello\n{\"a\": 1}\nbye").unwrap();
        assert_eq!(text, "{\"a\": 1}");
        assert_eq!(junk.as_deref(), Some("bye"));
        assert!(json_part("no json").is_none());
    }

    #[test]
    fn module_output_gains_stderr_and_junk_warning() {
        let r = module_output_result("py x", "{\"changed\": true}\ntrailing", "oops");
        assert_eq!(r["changed"], json!(true));
        assert_eq!(r["stderr"], json!("oops"));
        assert_eq!(
            r["warnings"],
            json!(["Module invocation had junk after the JSON data: trailing"])
        );
        let bad = module_output_result("py x", "Traceback", "");
        assert_eq!(bad["failed"], json!(1));
        assert_eq!(bad["data"], json!("Traceback"));
    }

    #[test]
    fn home_is_expanded_for_the_current_user() {
        assert_eq!(expand_home("/var/x"), PathBuf::from("/var/x"));
        let expanded = expand_home("~/.ansible_async");
        assert!(expanded.is_absolute(), "{}", expanded.display());
        assert!(expanded.ends_with(".ansible_async"));
    }

    #[test]
    fn job_files_are_replaced_whole() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("j1.2");
        write_job_file(&path, &json!({"started": 1})).unwrap();
        write_job_file(&path, &json!({"rc": 0})).unwrap();
        let text = fs::read_to_string(&path).unwrap();
        assert_eq!(text, "{\"rc\":0}");
        assert!(!dir.path().join("j1.2.tmp").exists());
    }
}
