//! Stops a module's processes when the controller goes away mid-call.
//!
//! The controller sends one request and waits for its answer, so while a
//! module runs nothing should arrive on the agent's stdin: if it becomes
//! readable (end of input: ssh died, the controller was interrupted or killed),
//! nobody will ever read the result. The watchdog then sends SIGTERM to the
//! agent's process group — the commands the module started — while the agent
//! itself ignores it, lets the module return, fails to write the answer and
//! exits. Without this an interrupted `command: sleep 600` would keep an agent
//! on the target for ten minutes.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

/// How often the watcher checks whether the call it guards has ended.
const POLL_MS: libc::c_int = 200;

/// Watches stdin while alive; dropping it ends the watch.
pub struct CallWatch {
    done: Arc<AtomicBool>,
}

impl CallWatch {
    /// Starts watching fd 0 for the duration of one module call.
    pub fn start() -> CallWatch {
        let done = Arc::new(AtomicBool::new(false));
        let flag = Arc::clone(&done);
        // Detached: it ends within POLL_MS of `done`, and checks `done` before acting,
        // so the controller's next request never trips it: it comes only after our
        // answer, and the caller drops the watch before writing the answer.
        std::thread::spawn(move || watch(&flag));
        CallWatch { done }
    }
}

impl Drop for CallWatch {
    fn drop(&mut self) {
        self.done.store(true, Ordering::SeqCst);
    }
}

fn watch(done: &AtomicBool) {
    while !done.load(Ordering::SeqCst) {
        let mut fds = libc::pollfd {
            fd: 0,
            events: libc::POLLIN,
            revents: 0,
        };
        // SAFETY: one valid pollfd for the duration of the call.
        let n = unsafe { libc::poll(&mut fds, 1, POLL_MS) };
        if n <= 0 || done.load(Ordering::SeqCst) {
            continue;
        }
        if fds.revents & (libc::POLLIN | libc::POLLHUP | libc::POLLERR) != 0 {
            stop_process_group();
            return;
        }
    }
}

fn stop_process_group() {
    // SAFETY: changing our own SIGTERM disposition, then signalling our own
    // process group; neither touches memory. Children spawned earlier keep the
    // default disposition, so they stop; the agent finishes its call and exits
    // when the answer cannot be written.
    unsafe {
        libc::signal(libc::SIGTERM, libc::SIG_IGN);
        libc::kill(0, libc::SIGTERM);
    }
}
