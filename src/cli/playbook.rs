//! `rsible-playbook` options: everything `ansible-playbook` 2.18 accepts.

use clap::Parser;

use super::common::*;

/// Runs Ansible playbooks, executing the defined tasks on the targeted hosts.
#[derive(Parser, Debug, Clone, Default, PartialEq)]
#[command(
    name = "rsible-playbook",
    disable_version_flag = true,
    args_override_self = true
)]
pub struct PlaybookArgs {
    /// show program's version number, config file location, configured module search path and exit
    #[arg(long = "version")]
    pub version: bool,
    #[command(flatten)]
    pub verbosity: VerbosityArgs,
    #[command(flatten, next_help_heading = "Connection Options")]
    pub connection: ConnectionArgs,
    /// run handlers even if a task fails
    #[arg(long = "force-handlers")]
    pub force_handlers: bool,
    /// clear the fact cache for every host in inventory
    #[arg(long = "flush-cache")]
    pub flush_cache: bool,
    #[command(flatten, next_help_heading = "Privilege Escalation Options")]
    pub become_args: BecomeArgs,
    /// only run plays and tasks tagged with these values.
    #[arg(short = 't', long = "tags", value_name = "TAGS", action = clap::ArgAction::Append)]
    pub tags: Vec<String>,
    /// only run plays and tasks whose tags do not match these values.
    #[arg(long = "skip-tags", value_name = "SKIP_TAGS", action = clap::ArgAction::Append)]
    pub skip_tags: Vec<String>,
    #[command(flatten)]
    pub check_diff: CheckDiffArgs,
    #[command(flatten)]
    pub inventory: InventoryArgs,
    #[command(flatten)]
    pub list_hosts: ListHostsArgs,
    #[command(flatten)]
    pub extra_vars: ExtraVarsArgs,
    #[command(flatten)]
    pub vault: VaultArgs,
    #[command(flatten)]
    pub runner: RunnerArgs,
    /// perform a syntax check on the playbook, but do not execute it
    #[arg(long = "syntax-check")]
    pub syntax_check: bool,
    /// list all tasks that would be executed
    #[arg(long = "list-tasks")]
    pub list_tasks: bool,
    /// list all available tags
    #[arg(long = "list-tags")]
    pub list_tags: bool,
    /// one-step-at-a-time: confirm each task before running
    #[arg(long = "step")]
    pub step: bool,
    /// start the playbook at the task matching this name
    #[arg(long = "start-at-task", value_name = "START_AT_TASK")]
    pub start_at_task: Option<String>,
    /// Playbook(s)
    #[arg(value_name = "playbook", required_unless_present = "version", num_args = 1..)]
    pub playbooks: Vec<String>,
}

impl PlaybookArgs {
    /// Tags to run: flattened, `all` when none were given; with `--list-tags`
    /// and no tag options, `never` and `all` (as ansible-playbook does).
    pub fn run_tags(&self) -> Vec<String> {
        if self.list_tags && self.tags.is_empty() && self.skip_tags.is_empty() {
            return vec!["never".into(), "all".into()];
        }
        if self.tags.is_empty() {
            return vec!["all".into()];
        }
        flatten_tags(&self.tags)
    }

    pub fn skip_tags(&self) -> Vec<String> {
        flatten_tags(&self.skip_tags)
    }
}
