//! Connection errors, worded as Ansible words them where it has wording.

use std::fmt;

#[derive(Debug, Clone, PartialEq)]
pub enum ConnError {
    /// The host could not be reached, or the connection died (Ansible's UNREACHABLE).
    /// The message is Ansible's: "Failed to connect to the host via ssh: <ssh stderr>".
    Unreachable(String),
    /// become failed: "Missing sudo password", "Incorrect sudo password", ...
    Become(String),
    /// The agent could not be installed or started (wrong architecture, no sha256sum,
    /// unwritable cache, exec refused).
    Bootstrap(String),
    /// The agent answered something that is not the protocol, or reported a request
    /// error (e.g. a file that cannot be read).
    Protocol(String),
    /// A local problem (cannot read the agent binary, cannot spawn ssh).
    Local(String),
    /// The agent binary cannot run on the target (another architecture, too
    /// old a C library): the host is driven without it (`agentless`). The
    /// text says why.
    NoAgent(String),
}

impl fmt::Display for ConnError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ConnError::Unreachable(m)
            | ConnError::Become(m)
            | ConnError::Bootstrap(m)
            | ConnError::Protocol(m)
            | ConnError::Local(m) => f.write_str(m),
            ConnError::NoAgent(m) => write!(f, "the rsible agent cannot run on this host: {m}"),
        }
    }
}

impl std::error::Error for ConnError {}

impl ConnError {
    pub fn is_unreachable(&self) -> bool {
        matches!(self, ConnError::Unreachable(_))
    }
}
