//! Every ssh/agent process group this controller started and has not yet
//! reaped, so that an interrupt (Ctrl-C, SIGTERM) can stop them all at once.
//! The children run in their own process groups (see `child::spawn`), so the
//! terminal's SIGINT never reaches them: stopping them is our job. Sessions opened
//! on an ssh master without a process (`child::spawn_mux`) are kept by their
//! control socket, whose shutdown ends them as an exiting `ssh` client would.

use std::collections::{HashMap, HashSet};
use std::os::unix::net::UnixStream;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Mutex;

static LIVE: Mutex<Option<HashSet<u32>>> = Mutex::new(None);

/// Control sockets of open master sessions, by a token of ours.
static LIVE_MUX: Mutex<Option<HashMap<u64, UnixStream>>> = Mutex::new(None);
static NEXT_MUX_TOKEN: AtomicU64 = AtomicU64::new(1);

/// Set when [`interrupt_all`] starts: the process is about to exit.
static INTERRUPTING: AtomicBool = AtomicBool::new(false);

/// A connection that ended because an interrupt is stopping every connection must
/// not be reported as UNREACHABLE (Ansible prints nothing more after Ctrl-C): the
/// thread that reports it waits here until the interrupt ends the process.
pub(crate) fn hold_if_interrupting() {
    if INTERRUPTING.load(Ordering::SeqCst) {
        loop {
            std::thread::park();
        }
    }
}

fn with_live<R>(f: impl FnOnce(&mut HashSet<u32>) -> R) -> R {
    let mut guard = LIVE.lock().unwrap_or_else(|p| p.into_inner());
    f(guard.get_or_insert_with(HashSet::new))
}

pub(crate) fn register(pid: u32) {
    with_live(|s| s.insert(pid));
}

pub(crate) fn unregister(pid: u32) {
    with_live(|s| s.remove(&pid));
}

fn with_live_mux<R>(f: impl FnOnce(&mut HashMap<u64, UnixStream>) -> R) -> R {
    let mut guard = LIVE_MUX.lock().unwrap_or_else(|p| p.into_inner());
    f(guard.get_or_insert_with(HashMap::new))
}

/// Keeps `control` (a handle on a master session's control socket) until
/// [`unregister_mux`]; returns the token for that.
pub(crate) fn register_mux(control: UnixStream) -> u64 {
    let token = NEXT_MUX_TOKEN.fetch_add(1, Ordering::Relaxed);
    with_live_mux(|m| m.insert(token, control));
    token
}

pub(crate) fn unregister_mux(token: u64) {
    with_live_mux(|m| m.remove(&token));
}

/// Stops every connection process group still running: SIGTERM first (ssh
/// closes its session, so the agent on the target sees end of input and stops
/// what it runs), SIGKILL for those still there after `grace`. Master sessions
/// are ended at once by shutting their control sockets down. Returns how many
/// groups and sessions were stopped.
pub fn interrupt_all(grace: std::time::Duration) -> usize {
    INTERRUPTING.store(true, Ordering::SeqCst);
    let sessions = with_live_mux(|m| {
        for control in m.values() {
            let _ = control.shutdown(std::net::Shutdown::Both);
        }
        m.len()
    });
    let pids: Vec<u32> = with_live(|s| s.iter().copied().collect());
    for pid in &pids {
        // SAFETY: signalling process groups we created; no memory effects.
        unsafe {
            libc::kill(-(*pid as libc::pid_t), libc::SIGTERM);
        }
    }
    let deadline = std::time::Instant::now() + grace;
    while std::time::Instant::now() < deadline {
        // SAFETY: kill with signal 0 only checks whether the group still exists.
        let alive = pids
            .iter()
            .any(|pid| unsafe { libc::kill(-(*pid as libc::pid_t), 0) } == 0);
        if !alive {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    for pid in &pids {
        // SAFETY: as above.
        unsafe {
            libc::kill(-(*pid as libc::pid_t), libc::SIGKILL);
        }
    }
    pids.len() + sessions
}
