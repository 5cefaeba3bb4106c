//! A playbook run started in the background, for tests that act on it while
//! it runs (signal it, kill one of its sessions) and then read how it ended.

use std::io::Read;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::thread::{self, sleep};
use std::time::{Duration, Instant};

use crate::PlaybookRun;

/// Starts `program` with `args` in `dir` as [`crate::run_playbook`] runs it
/// (`dir/ansible.cfg`, no colours), its output piped for [`finish`].
pub fn spawn_playbook<I, S>(program: &Path, dir: &Path, args: I) -> Child
where
    I: IntoIterator<Item = S>,
    S: AsRef<std::ffi::OsStr>,
{
    Command::new(program)
        .args(args)
        .current_dir(dir)
        .env("ANSIBLE_CONFIG", dir.join("ansible.cfg"))
        .env("ANSIBLE_NOCOLOR", "1")
        .env_remove("ANSIBLE_FORCE_COLOR")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", program.display()))
}

/// Waits up to `limit` for a run from [`spawn_playbook`] to end; kills it and
/// panics (with its output so far) when it does not. `took` counts from this
/// call, not from the start.
pub fn finish(mut child: Child, limit: Duration) -> PlaybookRun {
    let start = Instant::now();
    // Drain the pipes while waiting: a chatty run must not block on a full pipe.
    let out_reader = drain(child.stdout.take());
    let err_reader = drain(child.stderr.take());
    loop {
        if let Some(status) = child.try_wait().expect("wait for the run") {
            let took = start.elapsed();
            return PlaybookRun {
                code: status.code(),
                stdout: out_reader.join().unwrap_or_default(),
                stderr: err_reader.join().unwrap_or_default(),
                took,
            };
        }
        if start.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            panic!(
                "the run was still going after {limit:?}; stdout so far:\n{}",
                out_reader.join().unwrap_or_default()
            );
        }
        sleep(Duration::from_millis(20));
    }
}

fn drain(pipe: Option<impl Read + Send + 'static>) -> thread::JoinHandle<String> {
    thread::spawn(move || {
        let mut text = String::new();
        if let Some(mut pipe) = pipe {
            let _ = pipe.read_to_string(&mut text);
        }
        text
    })
}
