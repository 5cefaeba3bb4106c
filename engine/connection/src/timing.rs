//! `RSIBLE_TIMING=1`: one stderr line per phase of opening a connection
//! (`rsible-timing <ms since start> <host> <phase> <ms in phase>`), to see where
//! the first task's time goes on many hosts. Off by default; it prints host
//! names and phase names only, never a command line, an argument or a secret.

use std::sync::OnceLock;
use std::time::Instant;

fn enabled() -> bool {
    static ON: OnceLock<bool> = OnceLock::new();
    *ON.get_or_init(|| std::env::var_os("RSIBLE_TIMING").is_some_and(|v| !v.is_empty() && v != "0"))
}

/// The process's first use of the log: the zero of its timestamps.
fn epoch() -> Instant {
    static EPOCH: OnceLock<Instant> = OnceLock::new();
    *EPOCH.get_or_init(Instant::now)
}

/// Times the phases of one connection's opening.
pub(crate) struct PhaseClock {
    host: Option<String>,
    last: Instant,
}

impl PhaseClock {
    pub(crate) fn start(host: &str) -> PhaseClock {
        let host = enabled().then(|| {
            epoch();
            host.to_string()
        });
        PhaseClock {
            host,
            last: Instant::now(),
        }
    }

    /// Ends the current phase, named `phase`, and starts the next.
    pub(crate) fn mark(&mut self, phase: &str) {
        let Some(host) = &self.host else { return };
        let now = Instant::now();
        eprintln!(
            "rsible-timing {:.1} {host} {phase} {:.1}",
            now.duration_since(epoch()).as_secs_f64() * 1000.0,
            now.duration_since(self.last).as_secs_f64() * 1000.0
        );
        self.last = now;
    }

    /// A remark about the current phase (why a master session was not used).
    pub(crate) fn note(&self, text: &str) {
        let Some(host) = &self.host else { return };
        eprintln!(
            "rsible-timing {:.1} {host} note {text}",
            Instant::now().duration_since(epoch()).as_secs_f64() * 1000.0
        );
    }
}
