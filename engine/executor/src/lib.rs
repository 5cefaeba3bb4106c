//! Running plays: hosts and batches, the strategy loop, per-task variable
//! scopes, results, and the callbacks that print them.
//!
//! Reading order: `play_exec` (plays, batches, blocks, tasks, handlers) ->
//! `scope` (precedence levels per host and task, see `vars::precedence`) ->
//! `actions` (controller-side actions) -> `target` (how modules reach a host)
//! -> `output` (the default callback).

pub mod actions;
pub mod connection_pool;
pub mod fact_cache;
pub mod frame;
pub mod host_state;
mod lexical_path;
pub mod magic;
pub mod output;
pub mod play_exec;
mod raw_command;
pub mod scope;
mod scope_memo;
pub mod target;
pub mod vars;

pub use play_exec::{Executor, FatalError, RunOptions, RunOutcome, SshCommandDefaults};
pub use target::{
    CallSettings, PythonCall, PythonOutput, RawCall, RawOutcome, TargetRunner, TargetSpec,
    Unreachable,
};
