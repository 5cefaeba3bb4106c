//! Process exit codes, as ansible-playbook uses them.

/// Ansible's exit statuses. `BadOption` is what Ansible returns for an
/// `AnsibleOptionsError` (bad `-e` data, unsupported option); plain argument
/// syntax errors exit 2 as argparse (and clap) do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum ExitCode {
    Ok = 0,
    Error = 1,
    HostFailed = 2,
    Unreachable = 3,
    Parse = 4,
    BadOption = 5,
    Interrupted = 99,
    Unexpected = 250,
}

impl ExitCode {
    pub fn code(self) -> u8 {
        self as u8
    }
}

impl From<ExitCode> for std::process::ExitCode {
    fn from(code: ExitCode) -> Self {
        std::process::ExitCode::from(code.code())
    }
}
