//! Loading the run's vault secrets from the command line and ansible.cfg,
//! and installing them for every loader (YAML files, inventory, templar).

use std::path::Path;

use rsible_config::Config;
use rsible_vault::{SecretOptions, Secrets};

use crate::cli::common::VaultArgs;
use crate::{print_error, print_warning, ExitCode};

/// The secret options as Ansible assembles them: `vault_identity_list`
/// before `--vault-id`, `--vault-password-file` before `vault_password_file`.
pub fn secret_options(args: &VaultArgs, config: &Config) -> SecretOptions {
    let mut vault_ids = config.vault_identity_list.clone();
    vault_ids.extend(args.vault_ids.iter().cloned());
    let mut password_files = args.vault_password_files.clone();
    if let Some(file) = &config.vault_password_file {
        password_files.push(file.to_string_lossy().into_owned());
    }
    SecretOptions {
        vault_ids,
        password_files,
        ask_vault_pass: args.ask_vault_pass || config.ask_vault_pass,
        ..SecretOptions::default()
    }
}

/// Loads secrets (warnings printed as `[WARNING]`), or prints the error.
pub fn load(opts: &SecretOptions, cwd: &Path) -> Result<Secrets, ExitCode> {
    rsible_vault::load_secrets(opts, cwd, &mut |w| print_warning(&w)).map_err(|e| {
        print_error(&e.to_string());
        ExitCode::Error
    })
}

/// ansible-playbook and ansible-inventory: load the secrets the options name
/// (never prompting unasked) and install them before anything is read.
pub fn install_for_run(args: &VaultArgs, config: &Config, cwd: &Path) -> Result<(), ExitCode> {
    let opts = secret_options(args, config);
    let secrets = load(&opts, cwd)?;
    rsible_vault::install(secrets);
    Ok(())
}
