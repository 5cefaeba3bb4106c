//! Option groups shared by the three commands, spelled as Ansible 2.18's
//! `cli/arguments/option_helpers.py` spells them.

use std::path::Path;

use clap::Args;

use rsible_config::resolve_path;

/// `-v`, repeatable up to `-vvvvvv`.
#[derive(Args, Debug, Clone, Default, PartialEq)]
pub struct VerbosityArgs {
    /// Causes Ansible to print more debug messages. Adding multiple -v will increase the verbosity
    #[arg(short = 'v', long = "verbose", action = clap::ArgAction::Count)]
    pub verbosity: u8,
}

/// Inventory selection: `-i` (repeatable, comma host lists), `-l`, `--list-hosts`.
#[derive(Args, Debug, Clone, Default, PartialEq)]
pub struct InventoryArgs {
    /// specify inventory host path or comma separated host list. --inventory-file is deprecated.
    #[arg(short = 'i', long = "inventory", visible_alias = "inventory-file", value_name = "INVENTORY", action = clap::ArgAction::Append)]
    pub inventory: Vec<String>,
    /// further limit selected hosts to an additional pattern
    #[arg(short = 'l', long = "limit", value_name = "SUBSET")]
    pub limit: Option<String>,
}

impl InventoryArgs {
    /// Sources as Ansible post-processes them: entries with a comma are host
    /// lists kept verbatim, others are paths made absolute against `cwd`.
    /// `None` when `-i` was not given (use `config.inventory` then).
    pub fn sources(&self, cwd: &Path) -> Option<Vec<String>> {
        if self.inventory.is_empty() {
            return None;
        }
        let env = |k: &str| std::env::var(k).ok();
        Some(
            self.inventory
                .iter()
                .map(|src| {
                    if src.contains(',') {
                        src.clone()
                    } else {
                        resolve_path(src, cwd, cwd, &env)
                            .to_string_lossy()
                            .into_owned()
                    }
                })
                .collect(),
        )
    }
}

/// `--list-hosts`, on its own because ansible-inventory does not take it.
#[derive(Args, Debug, Clone, Default, PartialEq)]
pub struct ListHostsArgs {
    /// outputs a list of matching hosts; does not execute anything else
    #[arg(long = "list-hosts")]
    pub list_hosts: bool,
}

/// `-e`, repeatable.
#[derive(Args, Debug, Clone, Default, PartialEq)]
pub struct ExtraVarsArgs {
    /// set additional variables as key=value or YAML/JSON, if filename prepend with @.
    #[arg(short = 'e', long = "extra-vars", value_name = "EXTRA_VARS", action = clap::ArgAction::Append)]
    pub extra_vars: Vec<String>,
}

/// Vault secrets.
#[derive(Args, Debug, Clone, Default, PartialEq)]
pub struct VaultArgs {
    /// the vault identity to use.
    #[arg(long = "vault-id", value_name = "VAULT_IDS", action = clap::ArgAction::Append)]
    pub vault_ids: Vec<String>,
    /// ask for vault password
    #[arg(
        short = 'J',
        long = "ask-vault-password",
        visible_alias = "ask-vault-pass",
        conflicts_with = "vault_password_files"
    )]
    pub ask_vault_pass: bool,
    /// vault password file
    #[arg(long = "vault-password-file", visible_alias = "vault-pass-file", value_name = "VAULT_PASSWORD_FILES", action = clap::ArgAction::Append)]
    pub vault_password_files: Vec<String>,
}

/// Connection options ("control as whom and how to connect to hosts").
#[derive(Args, Debug, Clone, Default, PartialEq)]
pub struct ConnectionArgs {
    /// use this file to authenticate the connection
    #[arg(
        long = "private-key",
        visible_alias = "key-file",
        value_name = "PRIVATE_KEY_FILE"
    )]
    pub private_key_file: Option<String>,
    /// connect as this user
    #[arg(short = 'u', long = "user", value_name = "REMOTE_USER")]
    pub remote_user: Option<String>,
    /// connection type to use (default=ssh)
    #[arg(short = 'c', long = "connection", value_name = "CONNECTION")]
    pub connection: Option<String>,
    /// override the connection timeout in seconds (default depends on connection)
    #[arg(short = 'T', long = "timeout", value_name = "TIMEOUT")]
    pub timeout: Option<i64>,
    /// specify common arguments to pass to sftp/scp/ssh (e.g. ProxyCommand)
    #[arg(
        long = "ssh-common-args",
        value_name = "SSH_COMMON_ARGS",
        allow_hyphen_values = true
    )]
    pub ssh_common_args: Option<String>,
    /// specify extra arguments to pass to sftp only (e.g. -f, -l)
    #[arg(
        long = "sftp-extra-args",
        value_name = "SFTP_EXTRA_ARGS",
        allow_hyphen_values = true
    )]
    pub sftp_extra_args: Option<String>,
    /// specify extra arguments to pass to scp only (e.g. -l)
    #[arg(
        long = "scp-extra-args",
        value_name = "SCP_EXTRA_ARGS",
        allow_hyphen_values = true
    )]
    pub scp_extra_args: Option<String>,
    /// specify extra arguments to pass to ssh only (e.g. -R)
    #[arg(
        long = "ssh-extra-args",
        value_name = "SSH_EXTRA_ARGS",
        allow_hyphen_values = true
    )]
    pub ssh_extra_args: Option<String>,
    /// ask for connection password
    #[arg(
        short = 'k',
        long = "ask-pass",
        conflicts_with = "connection_password_file"
    )]
    pub ask_pass: bool,
    /// Connection password file
    #[arg(
        long = "connection-password-file",
        visible_alias = "conn-pass-file",
        value_name = "CONNECTION_PASSWORD_FILE"
    )]
    pub connection_password_file: Option<String>,
}

/// Privilege escalation options.
#[derive(Args, Debug, Clone, Default, PartialEq)]
pub struct BecomeArgs {
    /// run operations with become (does not imply password prompting)
    #[arg(short = 'b', long = "become")]
    pub become_: bool,
    /// privilege escalation method to use (default=sudo)
    #[arg(long = "become-method", value_name = "BECOME_METHOD")]
    pub become_method: Option<String>,
    /// run operations as this user (default=root)
    #[arg(long = "become-user", value_name = "BECOME_USER")]
    pub become_user: Option<String>,
    /// ask for privilege escalation password
    #[arg(
        short = 'K',
        long = "ask-become-pass",
        conflicts_with = "become_password_file"
    )]
    pub ask_become_pass: bool,
    /// Become password file
    #[arg(
        long = "become-password-file",
        visible_alias = "become-pass-file",
        value_name = "BECOME_PASSWORD_FILE"
    )]
    pub become_password_file: Option<String>,
}

/// `-C`, `-D`.
#[derive(Args, Debug, Clone, Default, PartialEq)]
pub struct CheckDiffArgs {
    /// don't make any changes; instead, try to predict some of the changes that may occur
    #[arg(short = 'C', long = "check")]
    pub check: bool,
    /// when changing (small) files and templates, show the differences in those files
    #[arg(short = 'D', long = "diff")]
    pub diff: bool,
}

/// `-f`, `-M`.
#[derive(Args, Debug, Clone, Default, PartialEq)]
pub struct RunnerArgs {
    /// specify number of parallel processes to use (default=5)
    #[arg(short = 'f', long = "forks", value_name = "FORKS")]
    pub forks: Option<i64>,
    /// prepend colon-separated path(s) to module library.
    #[arg(short = 'M', long = "module-path", value_name = "MODULE_PATH", action = clap::ArgAction::Append)]
    pub module_path: Vec<String>,
}

/// `--playbook-dir` (ad hoc and inventory: stands in for a playbook's directory).
#[derive(Args, Debug, Clone, Default, PartialEq)]
pub struct PlaybookDirArgs {
    /// Since this tool does not use playbooks, use this as a substitute playbook directory.
    #[arg(long = "playbook-dir", value_name = "BASEDIR")]
    pub playbook_dir: Option<String>,
}

/// `-t`/`--skip-tags` values flattened as Ansible does: split on commas,
/// trimmed, duplicates dropped (Ansible uses a set; rsible keeps first-seen order).
pub fn flatten_tags(values: &[String]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for tag in values.iter().flat_map(|v| v.split(',')).map(str::trim) {
        if !out.iter().any(|t| t == tag) {
            out.push(tag.to_string());
        }
    }
    out
}
