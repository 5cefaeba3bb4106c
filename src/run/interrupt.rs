//! Ctrl-C and SIGTERM during a run: Ansible stops with exit code 99 and
//! " [ERROR]: User interrupted execution". rsible also stops every ssh and
//! agent process it started (they run in their own process groups, so the
//! terminal's signal does not reach them), which makes each agent on a target
//! see end of input and stop what it was running.

use std::time::Duration;

use signal_hook::consts::{SIGINT, SIGTERM};
use signal_hook::iterator::Signals;

/// How long connections get to close before they are killed.
const GRACE: Duration = Duration::from_millis(500);

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
            rsible_connection::interrupt_all(GRACE);
            eprintln!(" [ERROR]: User interrupted execution");
            std::process::exit(i32::from(crate::ExitCode::Interrupted.code()));
        }
    });
}
