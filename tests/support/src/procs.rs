//! The process tree, read from /proc: which processes a daemon or a run has
//! started, for tests that assert nothing was left running.

use std::collections::HashMap;
use std::fs;
use std::thread::sleep;
use std::time::{Duration, Instant};

/// A live process: its id and its command line (arguments joined by spaces).
#[derive(Debug, Clone)]
pub struct Proc {
    pub pid: u32,
    pub cmdline: String,
    pub argv: Vec<String>,
}

fn parent_of(pid: u32) -> Option<u32> {
    let stat = fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name (2nd field) is in parentheses and may hold spaces.
    let after = &stat[stat.rfind(')')? + 2..];
    after.split_whitespace().nth(1)?.parse().ok()
}

fn argv_of(pid: u32) -> Vec<String> {
    fs::read(format!("/proc/{pid}/cmdline"))
        .map(|raw| {
            raw.split(|b| *b == 0)
                .filter(|a| !a.is_empty())
                .map(|a| String::from_utf8_lossy(a).into_owned())
                .collect()
        })
        .unwrap_or_default()
}

/// Every live descendant of `root` (not `root` itself).
pub fn descendants(root: u32) -> Vec<Proc> {
    let mut parents: HashMap<u32, u32> = HashMap::new();
    if let Ok(entries) = fs::read_dir("/proc") {
        for e in entries.flatten() {
            if let Some(pid) = e.file_name().to_str().and_then(|n| n.parse::<u32>().ok()) {
                if let Some(ppid) = parent_of(pid) {
                    parents.insert(pid, ppid);
                }
            }
        }
    }
    let mut out = Vec::new();
    for (&pid, _) in parents.iter() {
        let mut cur = pid;
        while let Some(&p) = parents.get(&cur) {
            if p == root {
                let argv = argv_of(pid);
                if !argv.is_empty() {
                    out.push(Proc {
                        pid,
                        cmdline: argv.join(" "),
                        argv,
                    });
                }
                break;
            }
            if p <= 1 {
                break;
            }
            cur = p;
        }
    }
    out.sort_by_key(|p| p.pid);
    out
}

/// What is still running under `root` (a test sshd) that a run of ours
/// started: rsible agents, and commands containing `marker`; as `PID CMDLINE`.
/// A ControlPersist master session may remain, by design, and is not listed.
pub fn agents_and_commands(root: u32, marker: &str) -> Vec<String> {
    descendants(root)
        .into_iter()
        .filter(|p| p.cmdline.contains(marker) || p.argv.get(1).is_some_and(|a| a == "agent"))
        .map(|p| format!("{} {}", p.pid, p.cmdline))
        .collect()
}

/// Waits up to `limit` for `left()` (processes described as text) to be
/// empty; panics listing what is still running then. Processes take a moment
/// to notice their controller went away, hence the wait.
pub fn assert_none_left(limit: Duration, left: impl Fn() -> Vec<String>) {
    let deadline = Instant::now() + limit;
    loop {
        let still = left();
        if still.is_empty() {
            return;
        }
        if Instant::now() > deadline {
            panic!("still running after {limit:?}: {still:#?}");
        }
        sleep(Duration::from_millis(50));
    }
}
