//! Process exit codes, as ansible-playbook uses them.

/// Ansible's exit statuses. `BadOption` is what Ansible returns for an
/// `AnsibleOptionsError` (bad `-e` data, unsupported option); plain argument
/// syntax errors exit 2 as argparse (and clap) do.
/// ansible-core 2.18 returns 4 both for a parse error and for a run where a
/// host was unreachable (its RUN_UNREACHABLE_HOSTS), hence two names for 4.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExitCode {
    Ok,
    Error,
    HostFailed,
    Unreachable,
    Parse,
    BadOption,
    Interrupted,
    Unexpected,
}

impl ExitCode {
    pub fn code(self) -> u8 {
        match self {
            ExitCode::Ok => 0,
            ExitCode::Error => 1,
            ExitCode::HostFailed => 2,
            ExitCode::Unreachable | ExitCode::Parse => 4,
            ExitCode::BadOption => 5,
            ExitCode::Interrupted => 99,
            ExitCode::Unexpected => 250,
        }
    }
}

impl From<ExitCode> for std::process::ExitCode {
    fn from(code: ExitCode) -> Self {
        std::process::ExitCode::from(code.code())
    }
}
