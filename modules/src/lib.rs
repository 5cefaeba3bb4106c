//! rsible-modules: everything that runs on a target.
//!
//! - [`protocol`]: the framed request/response protocol spoken between the controller
//!   and the agent (described in `PROTOCOL.md` beside this crate).
//! - [`agent`]: the agent main loop ([`run_agent_stdio`]).
//! - [`modules`]: native modules (ping, command, shell, stat, file, copy) with Ansible's
//!   argument handling and result shapes.
//! - [`util`]: helpers shared by modules (modes, owners, checksums, atomic writes, ...).

pub mod agent;
pub mod modules;
pub mod protocol;
pub mod util;

pub use agent::{run_agent, run_agent_stdio};
pub use modules::{run_module, ModuleContext};
