//! Sessions through an ssh ControlMaster without an `ssh` client process:
//! `route` decides whether a command line may, `session` opens one, `wire` is the
//! protocol's framing.

pub(crate) mod route;
pub(crate) mod session;
pub(crate) mod ssh_g_memo;
mod wire;

#[cfg(test)]
mod tests;
