//! Commands a module starts end with the agent that started them.
//!
//! When the agent is killed (SIGKILL: out of memory, an operator, a reboot in
//! progress) its watchdog cannot run, and a `command: sleep 600` it started
//! would keep running on the target with nobody to read its result. The
//! kernel's parent-death signal stops it instead. Only the direct child is
//! marked (the mark is cleared on fork), so daemons a command starts in the
//! background are left alone, as they are under Ansible.

use std::os::unix::process::CommandExt;
use std::process::Command;

/// Marks `cmd` to receive SIGTERM when the thread that spawns it (the
/// agent's module call, which waits for it) goes away.
pub fn end_with_agent(cmd: &mut Command) {
    let agent = std::process::id();
    // SAFETY: prctl and getppid are async-signal-safe and touch no memory of
    // the parent; this runs in the child between fork and exec.
    unsafe {
        cmd.pre_exec(move || {
            libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGTERM);
            // The agent died before the mark was set: do not start orphaned.
            if libc::getppid() as u32 != agent {
                return Err(std::io::Error::other("the rsible agent ended"));
            }
            Ok(())
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{Duration, Instant};

    #[test]
    fn the_command_ends_when_its_spawning_thread_does() {
        // A thread stands in for the agent: it spawns `sleep` and ends
        // without waiting for it.
        let pid = std::thread::spawn(|| {
            let mut cmd = Command::new("sleep");
            cmd.arg("37.5");
            end_with_agent(&mut cmd);
            let child = cmd.spawn().expect("sleep starts");
            let pid = child.id();
            std::mem::forget(child);
            pid
        })
        .join()
        .unwrap();
        let deadline = Instant::now() + Duration::from_secs(5);
        loop {
            // Reap it if it is our zombie; gone or dead means it ended.
            let mut status = 0;
            // SAFETY: waitpid on our own child with a valid status pointer.
            let reaped = unsafe { libc::waitpid(pid as libc::pid_t, &mut status, libc::WNOHANG) };
            if reaped == pid as libc::pid_t {
                assert!(libc::WIFSIGNALED(status));
                assert_eq!(libc::WTERMSIG(status), libc::SIGTERM);
                return;
            }
            assert!(
                Instant::now() < deadline,
                "sleep {pid} outlived its spawner"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}
