//! What a `dnf` CLI run says it does or would do: the transaction table dnf prints
//! before it asks for confirmation (the same with `-y` and `--assumeno`), and the
//! arguments it found no package for. The Python module reads the same facts from
//! dnf's transaction object; the CLI's table is the only machine-independent record
//! of them without Python, so it is parsed here, section by section.

/// One package row of the table: name, arch and `[epoch:]version-release` as dnf
/// prints them (the epoch only when it is not 0, as in dnf's own package names).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct PlanPackage {
    pub name: String,
    pub arch: String,
    pub evr: String,
}

impl PlanPackage {
    /// The package as dnf names it in messages: `name-[epoch:]version-release.arch`.
    pub fn nevra(&self) -> String {
        format!("{}-{}.{}", self.name, self.evr, self.arch)
    }
}

/// How a section of the table acts on its packages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RowAction {
    /// A new package: installed, or a dependency of one.
    Install,
    /// A new version replacing the installed one of the same name (upgrade,
    /// reinstall): the installed one leaves the system too.
    Replace,
    /// An older version replacing the installed one.
    Downgrade,
    /// Removed.
    Remove,
}

/// The sections of dnf 4's transaction table and what they do; any other section
/// (skipped packages, module streams) changes no package.
const SECTIONS: &[(&str, RowAction)] = &[
    ("Installing", RowAction::Install),
    ("Installing dependencies", RowAction::Install),
    ("Installing weak dependencies", RowAction::Install),
    ("Installing group/module packages", RowAction::Install),
    ("Installing group packages", RowAction::Install),
    ("Upgrading", RowAction::Replace),
    ("Reinstalling", RowAction::Replace),
    ("Downgrading", RowAction::Downgrade),
    ("Removing", RowAction::Remove),
    ("Removing dependent packages", RowAction::Remove),
    ("Removing unused dependencies", RowAction::Remove),
];

/// A parsed transaction: rows in table order with their action, and the installed
/// packages named on `replacing` lines (obsoleted by a row above them).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Plan {
    pub rows: Vec<(RowAction, PlanPackage)>,
    pub obsoleted: Vec<PlanPackage>,
    /// dnf could not tell the installroot's release version.
    pub no_releasever: bool,
}

impl Plan {
    pub fn is_empty(&self) -> bool {
        self.rows.is_empty() && self.obsoleted.is_empty()
    }

    /// Rows of one action.
    pub fn with_action(&self, action: RowAction) -> impl Iterator<Item = &PlanPackage> {
        self.rows
            .iter()
            .filter(move |(a, _)| *a == action)
            .map(|(_, p)| p)
    }

    pub fn extend(&mut self, other: Plan) {
        self.rows.extend(other.rows);
        self.obsoleted.extend(other.obsoleted);
        self.no_releasever |= other.no_releasever;
    }
}

/// The transaction table in dnf's stdout; `None` when there is none (nothing to do,
/// or an error before it was printed).
pub fn parse_plan(stdout: &str) -> Option<Plan> {
    let mut lines = stdout.lines();
    // The table starts after its header: a rule, the column titles, a rule.
    lines.by_ref().find(|l| l.starts_with(" Package "))?;
    let mut plan = Plan::default();
    let mut section: Option<RowAction> = None;
    // Tokens of the row being read: dnf wraps a long name onto its own line and
    // continues the row, indented, on the next.
    let mut pending: Vec<String> = Vec::new();
    let flush = |pending: &mut Vec<String>, section: Option<RowAction>, plan: &mut Plan| {
        if let (Some(action), [name, arch, evr, ..]) = (section, pending.as_slice()) {
            plan.rows.push((
                action,
                PlanPackage {
                    name: name.clone(),
                    arch: arch.clone(),
                    evr: evr.clone(),
                },
            ));
        }
        pending.clear();
    };
    for line in lines {
        if line.starts_with('=') {
            continue;
        }
        if line.starts_with("Transaction Summary") {
            break;
        }
        if line.trim().is_empty() {
            flush(&mut pending, section, &mut plan);
            continue;
        }
        if !line.starts_with(' ') {
            // A section title: `Installing:`, `Skipping packages with conflicts:` ...
            flush(&mut pending, section, &mut plan);
            let title = line.trim_end().trim_end_matches(':');
            section = SECTIONS
                .iter()
                .find(|(name, _)| *name == title)
                .map(|(_, action)| *action);
            continue;
        }
        let trimmed = line.trim_start();
        if let Some(rest) = trimmed.strip_prefix("replacing ") {
            flush(&mut pending, section, &mut plan);
            // `replacing  name.arch evr`
            let mut parts = rest.split_whitespace();
            if let (Some(name_arch), Some(evr)) = (parts.next(), parts.next()) {
                if let Some((name, arch)) = name_arch.rsplit_once('.') {
                    plan.obsoleted.push(PlanPackage {
                        name: name.to_string(),
                        arch: arch.to_string(),
                        evr: evr.to_string(),
                    });
                }
            }
            continue;
        }
        // A row starts one space in; its continuation is indented further.
        let starts_row = line.starts_with(' ') && !line.starts_with("  ");
        if starts_row {
            flush(&mut pending, section, &mut plan);
        }
        pending.extend(trimmed.split_whitespace().map(str::to_string));
    }
    flush(&mut pending, section, &mut plan);
    Some(plan)
}

/// How dnf 4 says it found no package for an argument: none at all, or only ones
/// hidden by `exclude`s or module streams (the Python API raises the same
/// MarkingError for all three).
const UNMATCHED_PREFIXES: &[&str] = &[
    "No match for argument: ",
    "All matches were filtered out by exclude filtering for argument: ",
    "All matches were filtered out by modular filtering for argument: ",
];

/// An argument dnf found no package for, and dnf's line saying so.
#[derive(Debug, Clone, PartialEq)]
pub struct Unmatched {
    pub arg: String,
    pub message: String,
}

impl Unmatched {
    /// Whether nothing at all matched (rather than only filtered-out packages).
    pub fn no_match(&self) -> bool {
        self.message.starts_with(UNMATCHED_PREFIXES[0])
    }
}

/// The arguments dnf found no package for, in order.
pub fn unmatched_arguments(output: &str) -> Vec<Unmatched> {
    let mut found: Vec<Unmatched> = Vec::new();
    for line in output.lines() {
        let line = line.trim();
        let arg = UNMATCHED_PREFIXES
            .iter()
            .find_map(|prefix| line.strip_prefix(prefix));
        if let Some(arg) = arg {
            if !found.iter().any(|f| f.arg == arg) {
                found.push(Unmatched {
                    arg: arg.to_string(),
                    message: line.to_string(),
                });
            }
        }
    }
    found
}

/// The text of dnf's `Error:` report (the line and what follows it), if any.
pub fn error_text(stderr: &str) -> Option<String> {
    let start = stderr.find("Error: ")?;
    Some(stderr[start + "Error: ".len()..].trim_end().to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    const INSTALL: &str = "\
Last metadata expiration check: 0:00:04 ago on Sun Nov 22 17:04:56 2026.
Dependencies resolved.
================================================================================
 Package                Architecture     Version          Repository       Size
================================================================================
Installing:
 rsible-app             noarch           1.0-1            local           5.9 k
 rsible-a-package-with-a-name-longer-than-its-column-is-wide
                        x86_64           2:1.0-1          local           5.9 k
     replacing  old-thing.x86_64 0.9-1
Upgrading:
 rsible-hello           noarch           2.0-1            local           5.9 k
Installing dependencies:
 rsible-lib             noarch           1.0-1            local           5.9 k
Skipping packages with conflicts:
(add '--best --allowerasing' to command line to force their upgrade)
 other                  noarch           3.0-1            local           5.9 k

Transaction Summary
================================================================================
Install  3 Packages
";

    #[test]
    fn reads_sections_wrapped_rows_and_obsoletes() {
        let plan = parse_plan(INSTALL).expect("a table");
        let rows: Vec<(RowAction, String)> =
            plan.rows.iter().map(|(a, p)| (*a, p.nevra())).collect();
        assert_eq!(
            rows,
            vec![
                (RowAction::Install, "rsible-app-1.0-1.noarch".to_string()),
                (
                    RowAction::Install,
                    "rsible-a-package-with-a-name-longer-than-its-column-is-wide-2:1.0-1.x86_64"
                        .to_string()
                ),
                (RowAction::Replace, "rsible-hello-2.0-1.noarch".to_string()),
                (RowAction::Install, "rsible-lib-1.0-1.noarch".to_string()),
            ]
        );
        assert_eq!(plan.obsoleted[0].nevra(), "old-thing-0.9-1.x86_64");
    }

    #[test]
    fn nothing_to_do_has_no_table() {
        assert_eq!(
            parse_plan("Dependencies resolved.\nNothing to do.\nComplete!\n"),
            None
        );
    }

    #[test]
    fn finds_unmatched_arguments_and_errors() {
        let out = "No match for argument: nosuch\nPackage x is already installed.\n";
        let found = unmatched_arguments(out);
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].arg, "nosuch");
        assert!(found[0].no_match());
        let filtered = unmatched_arguments(
            "All matches were filtered out by exclude filtering for argument: x\n",
        );
        assert_eq!(filtered[0].arg, "x");
        assert!(!filtered[0].no_match());
        assert_eq!(
            error_text("Operation aborted.\nError: Unable to find a match: nosuch\n").as_deref(),
            Some("Unable to find a match: nosuch")
        );
    }
}
