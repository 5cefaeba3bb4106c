//! Ctrl-C and SIGTERM during a run: Ansible stops with exit code 99 and
//! " [ERROR]: User interrupted execution". rsible also stops every ssh and
//! agent process it started (they run in their own process groups, so the
//! terminal's signal does not reach them), which makes each agent on a target
//! see end of input and stop what it was running.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use signal_hook::consts::{SIGINT, SIGTERM};
use signal_hook::iterator::Signals;

/// How long connections get to close before they are killed.
const GRACE: Duration = Duration::from_millis(500);

/// Set the moment a signal arrives, before the connections are stopped.
static STOPPING: AtomicBool = AtomicBool::new(false);

/// Starts the thread that turns the first SIGINT/SIGTERM into a clean stop.
/// Called once, before the first connection opens.
pub fn install() {
    let mut signals = match Signals::new([SIGINT, SIGTERM]) {
        Ok(s) => s,
        Err(e) => {
            crate::print_warning(&format!(
                "cannot watch for Ctrl-C ({e}); an interrupt will not stop agents on targets"
            ));
            return;
        }
    };
    std::thread::spawn(move || {
        if signals.forever().next().is_some() {
            STOPPING.store(true, Ordering::SeqCst);
            rsible_connection::interrupt_all(GRACE);
            eprintln!(" [ERROR]: User interrupted execution");
            std::process::exit(i32::from(crate::ExitCode::Interrupted.code()));
        }
    });
}

/// Called where a run is about to return its exit code. Stopping the connections makes
/// the running tasks fail as unreachable, so the run can reach its end (exit 4) before
/// the signal thread reaches its exit: once a signal arrived, the run waits for that
/// thread, which ends the process with 99 as Ansible's interrupted runs do.
pub fn wait_if_interrupted() {
    if STOPPING.load(Ordering::SeqCst) {
        loop {
            std::thread::park();
        }
    }
}
