//! Whether systemd manages this machine, as Ansible's modules decide it:
//! one of sd_booted()'s canary directories exists (`is_systemd_managed`),
//! and, for the service modules, PID 1 named `systemd` as a last resort.
//! Each caller first looks for `systemctl` its own way (the task's PATH or not).

use std::path::Path;

const CANARIES: [&str; 3] = [
    "/run/systemd/system/",
    "/dev/.run/systemd/",
    "/dev/.systemd/",
];

/// One of sd_booted()'s canaries exists.
pub fn canary_exists() -> bool {
    CANARIES.iter().any(|c| Path::new(c).exists())
}

/// PID 1's name (first line of /proc/1/comm) is `systemd`.
pub fn pid1_is_systemd() -> bool {
    std::fs::read_to_string("/proc/1/comm")
        .is_ok_and(|c| c.lines().next().unwrap_or("").trim() == "systemd")
}
