//! Sessions a command-line run leaves for its process exit to end.
//!
//! At the end of a run each agent is told to stop by closing its stdin
//! ([`AgentHandle::release`]); nothing waits for it. Closing them just before
//! the process exits set every session ending at once: the ssh masters wake to
//! close their channels and, on the targets, agents, shells and sshd sessions
//! exit, all while this process was still tearing itself down. On a warm
//! 20-host gathering on loopback targets that made the time from the PLAY
//! RECAP to the exit ~7 ms instead of ~3 ms. Left open, the descriptors are
//! closed by the kernel as the process ends (the same EOF for each agent), and
//! that teardown runs after it.
//!
//! Only `rsible-playbook` opts in ([`end_sessions_at_process_exit`]): a
//! library caller (a test running playbooks in its own process) keeps the
//! release at the end of each run. The sessions of one playbook are released
//! when the next playbook of the same command ends its run, so a command with
//! many playbooks never holds more than two runs' sessions.

use rsible_connection::AgentHandle;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;

static AT_PROCESS_EXIT: AtomicBool = AtomicBool::new(false);

/// The sessions of the last run, open until the process exits. A static is
/// never dropped, so nothing closes them before the kernel does.
static PARKED: Mutex<Vec<AgentHandle>> = Mutex::new(Vec::new());

/// From now on, the sessions a run ends are left open for the process exit
/// to close. For a process that exits soon after its runs end.
pub fn end_sessions_at_process_exit() {
    AT_PROCESS_EXIT.store(true, Ordering::Relaxed);
}

/// Ends `handles` (agents without Python payloads, which need no cleanup):
/// released now, or kept open for the process exit when the process opted in
/// (then the sessions kept by an earlier run are released).
pub(super) fn release_or_park(handles: Vec<AgentHandle>) {
    if !AT_PROCESS_EXIT.load(Ordering::Relaxed) {
        handles.into_iter().for_each(AgentHandle::release);
        return;
    }
    let earlier = {
        let mut parked = PARKED
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        std::mem::replace(&mut *parked, handles)
    };
    earlier.into_iter().for_each(AgentHandle::release);
}
