//! Open-file limits. Every open connection holds file descriptors on the
//! controller (the ssh child's stdin, stdout and stderr pipes), and a run on a
//! thousand hosts needs more than the usual default soft limit of 1024. The
//! soft limit is raised to the hard limit at startup, as far as the system
//! allows; what is left decides how many connections may be open at once.

/// Descriptors one open connection holds: three pipe ends, and one more while
/// it is being spawned (the exec-error pipe of `Command::spawn`).
pub const FDS_PER_CONNECTION: u64 = 4;

/// Descriptors kept for everything else: standard streams, playbook, role
/// and template files being read, the agent binary, logs, the retry file.
pub const RESERVED_FDS: u64 = 64;

/// Raises the soft RLIMIT_NOFILE to the hard limit and returns the soft
/// limit now in effect (unchanged when raising is refused).
pub fn raise_open_files_limit() -> u64 {
    let mut lim = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit/setrlimit with a valid, owned struct.
    unsafe {
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) != 0 {
            return 1024;
        }
        if lim.rlim_cur < lim.rlim_max {
            let raised = libc::rlimit {
                rlim_cur: lim.rlim_max,
                rlim_max: lim.rlim_max,
            };
            if libc::setrlimit(libc::RLIMIT_NOFILE, &raised) == 0 {
                return as_u64(lim.rlim_max);
            }
        }
    }
    as_u64(lim.rlim_cur)
}

// rlim_t is u64 on Linux but not on every platform.
#[allow(clippy::unnecessary_cast)]
fn as_u64(v: libc::rlim_t) -> u64 {
    if v == libc::RLIM_INFINITY {
        u64::MAX
    } else {
        v as u64
    }
}

/// How many connections may be open at once under an open-files limit.
pub fn connection_budget(open_files_limit: u64) -> usize {
    let usable = open_files_limit.saturating_sub(RESERVED_FDS) / FDS_PER_CONNECTION;
    usize::try_from(usable).unwrap_or(usize::MAX).max(1)
}

/// `forks` connections run side by side: refuse a number the limit cannot
/// hold, with what to do about it.
pub fn check_forks(forks: u64, open_files_limit: u64) -> Result<(), String> {
    let budget = connection_budget(open_files_limit) as u64;
    if forks <= budget {
        return Ok(());
    }
    let needed = forks
        .saturating_mul(FDS_PER_CONNECTION)
        .saturating_add(RESERVED_FDS);
    Err(format!(
        "forks = {forks} needs about {needed} open files ({FDS_PER_CONNECTION} per connection), \
         but the open files limit (ulimit -n) is {open_files_limit}: use at most {budget} forks \
         or raise the hard limit"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn budget_leaves_the_reserve() {
        assert_eq!(connection_budget(1024), 240);
        assert_eq!(connection_budget(10), 1);
        assert!(connection_budget(u64::MAX) > 1_000_000);
    }

    #[test]
    fn forks_beyond_the_limit_are_refused_with_advice() {
        assert!(check_forks(240, 1024).is_ok());
        let err = check_forks(241, 1024).unwrap_err();
        assert!(err.contains("forks = 241"), "{err}");
        assert!(err.contains("limit (ulimit -n) is 1024"), "{err}");
        assert!(err.contains("at most 240 forks"), "{err}");
    }

    #[test]
    fn raising_never_lowers_the_limit() {
        let mut before = libc::rlimit {
            rlim_cur: 0,
            rlim_max: 0,
        };
        // SAFETY: reading our own limit into an owned struct.
        assert_eq!(
            unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut before) },
            0
        );
        let now = raise_open_files_limit();
        assert!(now >= as_u64(before.rlim_cur));
        assert!(now <= as_u64(before.rlim_max));
    }
}
