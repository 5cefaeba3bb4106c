//! Test support for rsible: real components on loopback.
//!
//! [`TestSshd`] starts the system `sshd` on a free loopback port with its own host key,
//! client key and config in a temporary directory, so integration tests can run real
//! `ssh` against it without touching the machine's own sshd configuration or service.

mod procs;
mod reference;
mod sshd;

pub use procs::{descendants, Proc};
pub use reference::reference_bin_dir;
pub use sshd::{SshdOptions, TestSshd};
