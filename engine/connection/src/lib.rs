//! rsible-connection: the controller side of running work on a target.
//!
//! - [`spec`]: what to connect to and how ([`ConnSpec`], [`BecomeSpec`]).
//! - [`ssh_command`]: the `ssh` argv, built the way Ansible's ssh plugin builds it.
//! - [`become_cmd`]: sudo/su wrapping with a random prompt for the password.
//! - [`bootstrap`]: the POSIX sh script that caches, verifies and execs the agent.
//! - [`handle`]: [`AgentHandle`], the per-host handle the executor calls.
//! - [`python`]: Python-module payloads sent once per agent, and run.
//! - [`raw`]: plain `ssh host command`, no agent.
//! - [`agent_unusable`], [`agentless`]: hosts that cannot run the agent, driven
//!   one ssh session per module with Python on stdin (as Ansible pipelines).
//! - `master_gate`: aliases of one machine wait for the first to set up the ssh master.
//! - `mux`: later sessions on that master opened from this process, without `ssh`.
//! - [`fd_limit`]: the open-files limit and how many connections it allows.
//! - [`Connection::open`] ties them together.

pub mod agent_unusable;
pub mod agentless;
pub mod become_cmd;
pub mod bootstrap;
mod child;
mod controller_cache;
mod error;
pub mod fd_limit;
pub mod handle;
mod live;
mod master_gate;
mod mux;
mod open;
mod payload_hash;
pub mod python;
pub mod raw;
pub mod spec;
pub mod ssh_command;
mod timing;

pub use error::ConnError;
pub use handle::{AgentHandle, CallOptions};
pub use live::interrupt_all;
pub use open::Connection;
pub use raw::{raw, raw_with, RawOptions, RawOutput};
pub use spec::{BecomeMethod, BecomeSpec, ConnKind, ConnSpec, Secret};
