//! `RSIBLE_FACTS_TIMING=<file>` in the agent's environment: the wall time of
//! each collector (and of the costlier steps inside some) is appended to that
//! file, to see where a gathering spends its time. Off by default; the facts
//! themselves are unchanged. A file rather than stderr because the controller
//! keeps the agent's stderr to itself. A local connection's agent inherits
//! the variable from rsible; over ssh it must be in the remote environment
//! (e.g. sshd's `SetEnv`).

use std::io::Write;
use std::sync::Mutex;
use std::time::Instant;

/// The lines of the gathering in progress, None when timing is off. Shared by
/// the threads a gathering's collectors run on.
static LINES: Mutex<Option<String>> = Mutex::new(None);

fn lines() -> std::sync::MutexGuard<'static, Option<String>> {
    LINES.lock().unwrap_or_else(|p| p.into_inner())
}

/// One gathering's timing: created at its start, writes the file when dropped.
pub(crate) struct Timing {
    file: Option<std::path::PathBuf>,
}

impl Timing {
    pub fn from_env() -> Timing {
        let file = std::env::var_os("RSIBLE_FACTS_TIMING")
            .filter(|v| !v.is_empty())
            .map(std::path::PathBuf::from);
        if file.is_some() {
            *lines() = Some(String::new());
        }
        Timing { file }
    }
}

/// The start of a step, when timing is on.
pub(crate) fn start() -> Option<Instant> {
    lines().is_some().then(Instant::now)
}

/// Records a step that began at `started` (nothing when timing is off).
pub(crate) fn done(step: &str, started: Option<Instant>) {
    let Some(t) = started else { return };
    let micros = t.elapsed().as_micros();
    if let Some(lines) = lines().as_mut() {
        lines.push_str(&format!("{} {step} {micros} us\n", std::process::id()));
    }
}

impl Drop for Timing {
    fn drop(&mut self) {
        let taken = lines().take();
        let (Some(path), Some(lines)) = (&self.file, taken) else {
            return;
        };
        // Best effort: a diagnostic must never fail the gathering.
        if let Ok(mut f) = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
        {
            let _ = f.write_all(lines.as_bytes());
        }
    }
}
