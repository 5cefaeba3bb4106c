//! Options rsible accepts but does not act on yet. Delete a row when the
//! feature lands.
//!
//! `Fatal` rows are options that change what a run does: running without
//! them would silently do something else, so rsible stops (exit 5).
//! `Warn` rows are advisory or cosmetic: rsible warns and carries on.

use super::adhoc::AdhocArgs;
use super::inventory::InventoryCliArgs;
use super::playbook::PlaybookArgs;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Severity {
    Fatal,
    Warn,
}

/// One unimplemented option and how to tell whether it was given.
pub struct Unsupported<A: 'static> {
    pub option: &'static str,
    pub severity: Severity,
    pub given: fn(&A) -> bool,
}

pub static PLAYBOOK: &[Unsupported<PlaybookArgs>] = &[
    Unsupported {
        option: "--ask-pass",
        severity: Severity::Fatal,
        given: |a| a.connection.ask_pass,
    },
    Unsupported {
        option: "--connection-password-file",
        severity: Severity::Fatal,
        given: |a| a.connection.connection_password_file.is_some(),
    },
];

pub static INVENTORY: &[Unsupported<InventoryCliArgs>] = &[Unsupported {
    option: "--toml",
    severity: Severity::Fatal,
    given: |a| a.toml,
}];

pub static ADHOC: &[Unsupported<AdhocArgs>] = &[
    Unsupported {
        option: "--tree",
        severity: Severity::Fatal,
        given: |a| a.tree.is_some(),
    },
    Unsupported {
        option: "--task-timeout",
        severity: Severity::Fatal,
        given: |a| a.task_timeout.is_some(),
    },
    Unsupported {
        option: "--ask-pass",
        severity: Severity::Fatal,
        given: |a| a.connection.ask_pass,
    },
    Unsupported {
        option: "--connection-password-file",
        severity: Severity::Fatal,
        given: |a| a.connection.connection_password_file.is_some(),
    },
    Unsupported {
        option: "--diff",
        severity: Severity::Warn,
        given: |a| a.check_diff.diff,
    },
];

/// What the check found: warnings to print, and the first fatal option.
#[derive(Debug, Default, PartialEq)]
pub struct Verdict {
    pub warnings: Vec<String>,
    pub fatal: Option<String>,
}

pub fn check<A>(table: &[Unsupported<A>], args: &A) -> Verdict {
    let mut verdict = Verdict::default();
    for row in table.iter().filter(|row| (row.given)(args)) {
        match row.severity {
            Severity::Warn => verdict.warnings.push(format!(
                "rsible does not support {} yet; it is ignored",
                row.option
            )),
            Severity::Fatal => {
                if verdict.fatal.is_none() {
                    verdict.fatal = Some(format!("rsible does not support {} yet", row.option));
                }
            }
        }
    }
    verdict
}
