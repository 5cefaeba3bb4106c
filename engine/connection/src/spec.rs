//! Connection parameters, resolved by the executor from the task's variables.

use std::path::PathBuf;
use std::time::Duration;

/// ssh (system OpenSSH) or local (a child process on the controller).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ConnKind {
    #[default]
    Ssh,
    Local,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum BecomeMethod {
    #[default]
    Sudo,
    Su,
}

/// A password or other secret: compared and hashed like the text, but its
/// `Debug` shows nothing, so no `{:?}` of a spec, error or log line can leak it.
#[derive(Clone, PartialEq, Eq, Hash, Default)]
pub struct Secret(pub String);

impl Secret {
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(<redacted>)")
    }
}

/// `become: true` settings.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct BecomeSpec {
    pub method: BecomeMethod,
    /// Target user; Ansible's default is root.
    pub user: String,
    /// Fed on stdin after the prompt is seen; never on a command line or in a log.
    pub password: Option<Secret>,
    /// `become_flags`; None means the method's default (sudo: "-H -S -n").
    pub flags: Option<String>,
}

/// Ansible's default `ssh_args`.
pub const DEFAULT_SSH_ARGS: &str = "-C -o ControlMaster=auto -o ControlPersist=60s";

/// Everything needed to reach one host as one (user, become user).
#[derive(Debug, Clone, PartialEq)]
pub struct ConnSpec {
    pub host: String,
    pub port: Option<u16>,
    pub user: Option<String>,
    pub private_key_file: Option<PathBuf>,
    /// `ssh` unless `ansible_ssh_executable` says otherwise.
    pub ssh_executable: String,
    /// ansible.cfg `ssh_args`: replaces [`DEFAULT_SSH_ARGS`] when set.
    pub ssh_args: Option<String>,
    pub ssh_common_args: Option<String>,
    pub ssh_extra_args: Option<String>,
    pub host_key_checking: bool,
    /// ssh ConnectTimeout.
    pub timeout: Duration,
    /// Extra attempts when ssh itself fails (exit 255), like `ansible_ssh_retries`.
    pub retries: u32,
    pub connection: ConnKind,
    pub become_: Option<BecomeSpec>,
    /// The agent binary on the controller, uploaded to the target.
    pub agent_binary: PathBuf,
    /// Arguments the agent binary needs to act as an agent (`["agent"]` for `rsible`).
    pub agent_args: Vec<String>,
    /// Remote cache directory for agent binaries. None: `$HOME/.cache/rsible` of the
    /// (become) user, or `/tmp/.rsible-<uid>` when HOME is unset or not writable.
    pub remote_cache_dir: Option<String>,
    /// Where ssh's ControlPath sockets live (Ansible: ~/.ansible/cp).
    pub control_path_dir: Option<PathBuf>,
}

impl ConnSpec {
    /// Defaults as Ansible has them, for `host` reached over ssh.
    pub fn new(host: impl Into<String>, agent_binary: impl Into<PathBuf>) -> ConnSpec {
        ConnSpec {
            host: host.into(),
            port: None,
            user: None,
            private_key_file: None,
            ssh_executable: "ssh".into(),
            ssh_args: None,
            ssh_common_args: None,
            ssh_extra_args: None,
            host_key_checking: true,
            timeout: Duration::from_secs(10),
            retries: 0,
            connection: ConnKind::Ssh,
            become_: None,
            agent_binary: agent_binary.into(),
            agent_args: vec!["agent".into()],
            remote_cache_dir: None,
            control_path_dir: None,
        }
    }
}
