//! One ssh master per control socket: hosts whose ssh command lines are identical
//! (inventory aliases of one machine: same address, port, user and options) end up
//! on the same ControlPath (`%C` hashes exactly those), so only one of them can be
//! the master. Started side by side, each would run its own key exchange (the
//! default sntrup761x25519 costs ~0.1 s of CPU per connection) and upload the agent
//! on its own, and all but one then fail to bind the socket. The first connection
//! per command line goes alone until its bootstrap is done; the others then
//! multiplex over its master and find the agent cached.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};

/// Per command line: whether a connection with it already bootstrapped.
type Gates = HashMap<Vec<String>, Arc<Mutex<bool>>>;

fn gates() -> &'static Mutex<Gates> {
    static GATES: OnceLock<Mutex<Gates>> = OnceLock::new();
    GATES.get_or_init(|| Mutex::new(HashMap::new()))
}

/// Whether ssh would share a master socket for this argv: ControlPersist given and
/// ControlMaster not switched off (the last `-o ControlMaster=` wins as in ssh,
/// approximated by any mention of "ControlMaster=no").
pub fn shares_master(args: &[String]) -> bool {
    let joined = args.join(" ");
    joined.contains("ControlPersist") && !joined.contains("ControlMaster=no")
}

/// The gate for one ssh command line (`program` and every argument but the
/// remote command, which differs between hosts without changing the socket).
pub fn gate_for(program: &str, args: &[String]) -> Arc<Mutex<bool>> {
    let mut key = vec![program.to_string()];
    key.extend(args.iter().take(args.len().saturating_sub(1)).cloned());
    let mut all = gates().lock().unwrap_or_else(|p| p.into_inner());
    Arc::clone(all.entry(key).or_default())
}

/// Whether a first connection holds the gate now (its master is being set up).
pub fn being_set_up(gate: &Mutex<bool>) -> bool {
    matches!(gate.try_lock(), Err(std::sync::TryLockError::WouldBlock))
}

/// Held by the first connection of a command line until its bootstrap ended;
/// None when another connection already established the master.
pub fn wait_turn(gate: &Mutex<bool>) -> Option<MutexGuard<'_, bool>> {
    let guard = gate.lock().unwrap_or_else(|p| p.into_inner());
    if *guard {
        None
    } else {
        Some(guard)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{Duration, Instant};

    fn argv(host: &str, cmd: &str) -> Vec<String> {
        ["-o", "ControlPersist=60s", "-o", "Port=2222", host, cmd]
            .iter()
            .map(|s| s.to_string())
            .collect()
    }

    #[test]
    fn only_identical_command_lines_share_a_gate() {
        let a = gate_for("ssh", &argv("gate-test-h1", "echo a"));
        let b = gate_for("ssh", &argv("gate-test-h1", "echo b"));
        let c = gate_for("ssh", &argv("gate-test-h2", "echo a"));
        assert!(Arc::ptr_eq(&a, &b));
        assert!(!Arc::ptr_eq(&a, &c));
    }

    #[test]
    fn later_connections_wait_for_the_first_then_go_freely() {
        let gate = gate_for("ssh", &argv("gate-test-h3", "x"));
        let first = wait_turn(&gate).expect("the first connection goes alone");
        let g2 = Arc::clone(&gate);
        let started = Instant::now();
        let waiter = std::thread::spawn(move || {
            let turn = wait_turn(&g2);
            (turn.is_none(), started.elapsed())
        });
        std::thread::sleep(Duration::from_millis(100));
        assert!(being_set_up(&gate));
        let mut first = first;
        *first = true; // bootstrapped
        drop(first);
        let (free, waited) = waiter.join().expect("waiter thread");
        assert!(free, "after the first bootstrapped, no one waits");
        assert!(waited >= Duration::from_millis(100), "{waited:?}");
    }

    #[test]
    fn a_failed_first_connection_lets_the_next_one_try_alone() {
        let gate = gate_for("ssh", &argv("gate-test-h4", "x"));
        drop(wait_turn(&gate).expect("first"));
        assert!(
            wait_turn(&gate).is_some(),
            "not established: next goes alone"
        );
    }

    #[test]
    fn master_sharing_needs_control_persist() {
        let s = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert!(shares_master(&s(&["-o", "ControlPersist=60s", "h", "c"])));
        assert!(!shares_master(&s(&["-o", "ControlMaster=no", "h", "c"])));
        assert!(!shares_master(&s(&["h", "c"])));
    }
}
