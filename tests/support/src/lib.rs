//! Test support for rsible: real components on loopback.
//!
//! [`TestSshd`] starts the system `sshd` on a free loopback port with its own host key,
//! client key and config in a temporary directory, so integration tests can run real
//! `ssh` against it without touching the machine's own sshd configuration or service.
//! [`run_playbook`] runs either engine on a test's files the same way.
//! [`TestHttpServer`] serves fixed HTTP answers on loopback.

mod await_line;
mod http_server;
mod json_report;
mod local_user;
mod loopback;
mod namespace;
mod playbook_run;
mod procs;
mod reference;
mod side_by_side;
mod sshd;
mod sudo_user;
mod watched_run;

pub use await_line::write_await_line_script;
pub use http_server::TestHttpServer;
pub use json_report::{drop_engine_specific_keys, json_task_results, JSON_RESULTS_ENV};
pub use local_user::ensure_local_user;
pub use loopback::{forward, free_loopback_port};
pub use namespace::{require_root, require_tools, sandboxed};
pub use playbook_run::{run_playbook, run_playbook_with_env, write_files, PlaybookRun};
pub use procs::{agents_and_commands, assert_none_left, descendants, Proc};
pub use reference::reference_bin_dir;
pub use side_by_side::side_by_side;
pub use sshd::{SshdOptions, TestSshd};
pub use sudo_user::SudoPasswordUser;
pub use watched_run::{finish, spawn_playbook};
