//! Sessions through an ssh ControlMaster without an `ssh` client process:
//! `route` decides whether a command line may, `session` opens one, `wire` is the
//! protocol's framing.

pub(crate) mod route;
pub(crate) mod session;
mod wire;

#[cfg(test)]
mod tests;
