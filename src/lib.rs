//! rsible: the command-line shells over the engine crates.
//!
//! Each binary in `src/bin/` parses its options ([`cli`]), loads the
//! configuration ([`rsible_config::Config`]) and calls one `run_*` function
//! here, which returns the process [`ExitCode`].

pub mod cli;
pub mod exit;
pub mod run;

pub use exit::ExitCode;

use cli::unsupported::{self, Unsupported};
use cli::{AdhocArgs, InventoryCliArgs, PlaybookArgs};
use rsible_config::Config;

/// Print `ERROR! <message>` on stderr, as Ansible formats fatal errors.
pub fn print_error(message: &str) {
    eprintln!("ERROR! {message}");
}

/// Print `[WARNING]: <message>` on stderr, wrapped at Ansible's width.
pub fn print_warning(message: &str) {
    eprint!(
        "{}",
        rsible_executor::output::display::warning(
            message,
            rsible_executor::output::display::DEFAULT_COLUMNS
        )
    );
}

/// Load the configuration for a command-line program: from the current
/// directory and the process environment. Prints config warnings.
pub fn load_config() -> Result<Config, ExitCode> {
    let cwd = match std::env::current_dir() {
        Ok(dir) => dir,
        Err(e) => {
            print_error(&format!("Unable to determine the current directory: {e}"));
            return Err(ExitCode::Error);
        }
    };
    match Config::load(&cwd, &rsible_config::process_env) {
        Ok(config) => {
            for warning in &config.warnings {
                print_warning(warning);
            }
            Ok(config)
        }
        Err(e) => {
            print_error(&e.to_string());
            Err(ExitCode::BadOption)
        }
    }
}

/// Stop on unsupported options that would change the run; warn on the rest.
pub fn refuse_unsupported<A>(table: &[Unsupported<A>], args: &A) -> Result<(), ExitCode> {
    let verdict = unsupported::check(table, args);
    for warning in &verdict.warnings {
        print_warning(warning);
    }
    match verdict.fatal {
        Some(message) => {
            print_error(&message);
            Err(ExitCode::BadOption)
        }
        None => Ok(()),
    }
}

/// Ansible's argparse-level check on `-f`: exit 2 (the usage-error status,
/// which shares its number with `HostFailed`).
pub fn check_forks(program: &str, forks: Option<i64>) -> Result<(), ExitCode> {
    match forks {
        Some(n) if n < 1 => {
            eprintln!("{program}: error: The number of processes (--forks) must be >= 1");
            Err(ExitCode::HostFailed)
        }
        _ => Ok(()),
    }
}

/// `rsible-playbook`: not wired to the executor yet.
pub fn run_playbook(args: PlaybookArgs, config: Config) -> ExitCode {
    if let Err(code) = check_forks("rsible-playbook", args.runner.forks) {
        return code;
    }
    if let Err(code) = refuse_unsupported(unsupported::PLAYBOOK, &args) {
        return code;
    }
    if let Err(code) = install_vault_secrets(&args.vault, &config) {
        return code;
    }
    let code = run::playbook::run(&args, &config);
    run::interrupt::wait_if_interrupted();
    code
}

/// `rsible-inventory`: not wired to the inventory output yet.
pub fn run_inventory(args: InventoryCliArgs, config: Config) -> ExitCode {
    if let Err(code) = refuse_unsupported(unsupported::INVENTORY, &args) {
        return code;
    }
    if let Err(code) = install_vault_secrets(&args.vault, &config) {
        return code;
    }
    let action = match args.action() {
        Ok(action) => action,
        Err(message) => {
            print_error(&message);
            return ExitCode::BadOption;
        }
    };
    run::inventory::run(&args, action, &config)
}

/// Load the vault secrets the options name and install them for every
/// loader, before anything is read (Ansible's `_play_prereqs`).
fn install_vault_secrets(args: &cli::common::VaultArgs, config: &Config) -> Result<(), ExitCode> {
    let cwd = run::loading::current_dir()?;
    run::vault_secrets::install_for_run(args, config, &cwd)
}

/// `rsible-vault`: ansible-vault's actions.
pub fn run_vault(args: cli::vault::VaultCliArgs, config: Config) -> ExitCode {
    match run::loading::current_dir() {
        Ok(cwd) => run::vault::run(&args, &config, &cwd),
        Err(code) => code,
    }
}

/// `rsible` (ad hoc): one module on a host pattern (see `run::adhoc`).
pub fn run_adhoc(args: AdhocArgs, config: Config) -> ExitCode {
    if let Err(code) = check_forks("rsible", args.runner.forks) {
        return code;
    }
    if let Err(code) = refuse_unsupported(unsupported::ADHOC, &args) {
        return code;
    }
    if let Err(code) = install_vault_secrets(&args.vault, &config) {
        return code;
    }
    let code = run::adhoc::run(&args, &config);
    run::interrupt::wait_if_interrupted();
    code
}
