//! Telling "the agent binary cannot run on this machine" apart from every
//! other reason a bootstrap fails. Only the first sends a host to the
//! agentless (Python-per-module) path: an unreachable host, a refused become
//! or a full disk must stay what they are.

/// Why the agent cannot run on the target, when the session that exec'd it
/// ended with `code` and `stderr` before the agent said hello; `None` when
/// the failure is of another kind.
///
/// The agent is a dynamically linked binary: a target with another
/// architecture refuses it (`Exec format error`, the shell's exit 126), one
/// without the loader the binary names says `No such file or directory`
/// (exit 127), and one with an older glibc has the loader print
/// `version 'GLIBC_2.xx' not found` and exit 1.
pub fn classify_exec_failure(code: Option<i32>, stderr: &str) -> Option<String> {
    let lower = stderr.to_lowercase();
    if let Some(line) = stderr
        .lines()
        .find(|l| l.contains("GLIBC_") && l.contains("not found"))
    {
        return Some(format!(
            "its C library is too old for the rsible agent ({})",
            line.trim()
        ));
    }
    if lower.contains("exec format error") || lower.contains("cannot execute binary file") {
        return Some("the rsible agent binary is not executable there (exec format error)".into());
    }
    let loader_missing = lower.contains("ld-linux") || lower.contains("/lib64/ld-");
    match code {
        Some(126) if !lower.contains("permission denied") => Some(format!(
            "the rsible agent binary cannot be executed there (exit status 126{})",
            detail(stderr)
        )),
        Some(127) if loader_missing || lower.contains("agent-") => Some(format!(
            "the rsible agent binary's loader is missing there (exit status 127{})",
            detail(stderr)
        )),
        _ => None,
    }
}

/// The message for a target whose `uname -m` is not the controller's.
pub fn arch_mismatch(remote: &str) -> String {
    format!(
        "its architecture ({remote}) differs from the agent's ({})",
        std::env::consts::ARCH
    )
}

fn detail(stderr: &str) -> String {
    let first = stderr.lines().map(str::trim).find(|l| !l.is_empty());
    match first {
        Some(l) => format!(": {l}"),
        None => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn old_glibc_is_unusable() {
        let err = "/root/.cache/rsible/agent-ab: /lib/x86_64-linux-gnu/libc.so.6: version `GLIBC_2.34' not found (required by /root/.cache/rsible/agent-ab)\n";
        let why = classify_exec_failure(Some(1), err).expect("glibc");
        assert!(why.contains("C library is too old"), "{why}");
        assert!(why.contains("GLIBC_2.34"), "{why}");
    }

    #[test]
    fn exec_format_error_is_unusable() {
        let err = "/bin/sh: 22: exec: /home/u/.cache/rsible/agent-ab: Exec format error\n";
        assert!(classify_exec_failure(Some(2), err).is_some());
        assert!(classify_exec_failure(Some(126), "sh: cannot execute binary file").is_some());
        assert!(classify_exec_failure(Some(126), "").is_some());
    }

    #[test]
    fn missing_loader_is_unusable() {
        let err = "/bin/sh: 22: exec: /root/.cache/rsible/agent-ab: not found\n";
        assert!(classify_exec_failure(Some(127), err).is_some());
        let err = "cannot open /lib64/ld-linux-x86-64.so.2: No such file or directory";
        assert!(classify_exec_failure(Some(127), err).is_some());
    }

    #[test]
    fn ordinary_failures_are_not() {
        // ssh's own failure, become, a noexec mount, a command missing on
        // the path, a crash: none of them means "use Python instead".
        assert_eq!(
            classify_exec_failure(
                Some(255),
                "ssh: connect to host x port 22: Connection refused"
            ),
            None
        );
        assert_eq!(
            classify_exec_failure(Some(1), "sudo: a password is required"),
            None
        );
        assert_eq!(
            classify_exec_failure(Some(126), "/bin/sh: agent-ab: Permission denied"),
            None
        );
        assert_eq!(
            classify_exec_failure(Some(127), "sh: 1: sudo: not found"),
            None
        );
        assert_eq!(classify_exec_failure(Some(139), ""), None);
        assert_eq!(classify_exec_failure(None, ""), None);
    }
}
