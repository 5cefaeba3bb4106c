//! `RSIBLE_FACTS_TIMING=<file>` in the agent's environment: each collector's
//! wall time is appended to that file, to see where a gathering spends its
//! time. Off by default; the facts themselves are unchanged. A file rather
//! than stderr because the controller keeps the agent's stderr to itself. A
//! local connection's agent inherits the variable from rsible; over ssh it
//! must be in the remote environment (e.g. sshd's `SetEnv`).

use std::io::Write;
use std::time::Instant;

pub(crate) struct Timing {
    file: Option<std::path::PathBuf>,
    lines: std::cell::RefCell<String>,
}

impl Timing {
    pub fn from_env() -> Timing {
        let file = std::env::var_os("RSIBLE_FACTS_TIMING")
            .filter(|v| !v.is_empty())
            .map(std::path::PathBuf::from);
        Timing {
            file,
            lines: Default::default(),
        }
    }

    pub fn start(&self) -> Option<Instant> {
        self.file.as_ref().map(|_| Instant::now())
    }

    pub fn done(&self, collector: &str, started: Option<Instant>) {
        if let Some(t) = started {
            let micros = t.elapsed().as_micros();
            let line = format!("{} {collector} {micros} us\n", std::process::id());
            self.lines.borrow_mut().push_str(&line);
        }
    }
}

impl Drop for Timing {
    fn drop(&mut self) {
        let Some(path) = &self.file else { return };
        let lines = self.lines.borrow();
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
