//! Command-line definitions for the three programs. Each accepts every
//! option its Ansible counterpart (2.18) accepts, with the same spellings.
//!
//! Differences from Ansible's argparse front end: `--help` text and syntax
//! error wording come from clap (exit status 2 on both sides).

pub mod adhoc;
pub mod common;
pub mod extra_vars;
pub mod inventory;
pub mod playbook;
pub mod unsupported;
pub mod vault;
pub mod version;

pub use adhoc::AdhocArgs;
pub use inventory::{InventoryAction, InventoryCliArgs};
pub use playbook::PlaybookArgs;

use std::ffi::OsString;

use clap::Parser;

/// Parse `argv`, or say why not. `Err` carries the process exit code and the
/// text clap rendered (help goes to stdout with code 0, errors to stderr with 2).
pub fn parse_from<P: Parser, I, T>(argv: I) -> Result<P, (i32, String)>
where
    I: IntoIterator<Item = T>,
    T: Into<OsString> + Clone,
{
    P::try_parse_from(argv).map_err(|e| (e.exit_code(), e.render().to_string()))
}

/// Parse the process arguments; print help / errors and exit as argparse would.
pub fn parse_or_exit<P: Parser>() -> P {
    match parse_from::<P, _, _>(std::env::args_os()) {
        Ok(args) => args,
        Err((code, text)) => {
            if code == 0 {
                print!("{text}");
            } else {
                eprint!("{text}");
            }
            std::process::exit(code);
        }
    }
}

#[cfg(test)]
mod tests;
