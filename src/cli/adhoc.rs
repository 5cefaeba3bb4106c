//! `rsible` (ad hoc) options: those of `ansible` 2.18.

use clap::Parser;

use super::common::*;

/// Define and run a single task 'playbook' against a set of hosts
#[derive(Parser, Debug, Clone, Default, PartialEq)]
#[command(
    name = "rsible",
    disable_version_flag = true,
    args_override_self = true
)]
pub struct AdhocArgs {
    /// show program's version number, config file location, configured module search path and exit
    #[arg(long = "version")]
    pub version: bool,
    #[command(flatten)]
    pub verbosity: VerbosityArgs,
    #[command(flatten, next_help_heading = "Privilege Escalation Options")]
    pub become_args: BecomeArgs,
    #[command(flatten)]
    pub inventory: InventoryArgs,
    #[command(flatten)]
    pub list_hosts: ListHostsArgs,
    /// set the poll interval if using -B (default=15)
    #[arg(short = 'P', long = "poll", value_name = "POLL_INTERVAL")]
    pub poll_interval: Option<i64>,
    /// run asynchronously, failing after X seconds (default=N/A)
    #[arg(short = 'B', long = "background", value_name = "SECONDS")]
    pub background: Option<i64>,
    /// condense output
    #[arg(short = 'o', long = "one-line")]
    pub one_line: bool,
    /// log output to this directory
    #[arg(short = 't', long = "tree", value_name = "TREE")]
    pub tree: Option<String>,
    #[command(flatten, next_help_heading = "Connection Options")]
    pub connection: ConnectionArgs,
    #[command(flatten)]
    pub check_diff: CheckDiffArgs,
    #[command(flatten)]
    pub extra_vars: ExtraVarsArgs,
    #[command(flatten)]
    pub vault: VaultArgs,
    #[command(flatten)]
    pub runner: RunnerArgs,
    #[command(flatten)]
    pub playbook_dir: PlaybookDirArgs,
    /// set task timeout limit in seconds, must be positive integer.
    #[arg(long = "task-timeout", value_name = "TASK_TIMEOUT")]
    pub task_timeout: Option<i64>,
    /// The action's options in space separated k=v format: -a 'opt1=val1 opt2=val2' or a json string: -a '{"opt1": "val1", "opt2": "val2"}'
    #[arg(
        short = 'a',
        long = "args",
        value_name = "MODULE_ARGS",
        allow_hyphen_values = true
    )]
    pub module_args: Option<String>,
    /// Name of the action to execute (default=command)
    #[arg(short = 'm', long = "module-name", value_name = "MODULE_NAME")]
    pub module_name: Option<String>,
    /// host pattern
    #[arg(value_name = "pattern", required_unless_present = "version")]
    pub pattern: Option<String>,
}

impl AdhocArgs {
    /// The module to run: `-m`, else the configured `module_name` (`command`).
    pub fn module<'a>(&'a self, configured: &'a str) -> &'a str {
        self.module_name.as_deref().unwrap_or(configured)
    }
}
