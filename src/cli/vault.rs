//! `rsible-vault` options: those of `ansible-vault` 2.18, one subcommand per action.

use clap::{Args, Parser, Subcommand};

use super::common::{VaultArgs, VerbosityArgs};

/// encryption/decryption utility for Ansible data files
#[derive(Parser, Debug, Clone, PartialEq)]
#[command(name = "rsible-vault", disable_version_flag = true)]
pub struct VaultCliArgs {
    /// show program's version number, config file location, configured module search path and exit
    #[arg(long = "version")]
    pub version: bool,
    #[command(flatten)]
    pub verbosity: VerbosityArgs,
    #[command(subcommand)]
    pub action: Option<VaultAction>,
}

#[derive(Subcommand, Debug, Clone, PartialEq)]
pub enum VaultAction {
    /// Create new vault encrypted file
    Create(CreateArgs),
    /// Decrypt vault encrypted file
    Decrypt(DecryptArgs),
    /// Edit vault encrypted file
    Edit(EditArgs),
    /// View vault encrypted file
    View(ViewArgs),
    /// Encrypt YAML file
    Encrypt(EncryptArgs),
    /// Encrypt a string
    #[command(name = "encrypt_string")]
    EncryptString(EncryptStringArgs),
    /// Re-key a vault encrypted file
    Rekey(RekeyArgs),
}

/// `--vault-id`, `--ask-vault-pass`, `--vault-password-file` and `-v`.
#[derive(Args, Debug, Clone, Default, PartialEq)]
pub struct CommonArgs {
    #[command(flatten)]
    pub vault: VaultArgs,
    #[command(flatten)]
    pub verbosity: VerbosityArgs,
}

#[derive(Args, Debug, Clone, Default, PartialEq)]
pub struct OutputArg {
    /// output file name for encrypt or decrypt; use - for stdout
    #[arg(long = "output", value_name = "OUTPUT_FILE")]
    pub output_file: Option<String>,
}

#[derive(Args, Debug, Clone, Default, PartialEq)]
pub struct EncryptVaultIdArg {
    /// the vault id used to encrypt (required if more than one vault-id is provided)
    #[arg(long = "encrypt-vault-id", value_name = "ENCRYPT_VAULT_ID")]
    pub encrypt_vault_id: Option<String>,
}

#[derive(Args, Debug, Clone, Default, PartialEq)]
pub struct CreateArgs {
    #[command(flatten)]
    pub common: CommonArgs,
    #[command(flatten)]
    pub vault_id: EncryptVaultIdArg,
    /// allows editor to be opened when no tty attached
    #[arg(long = "skip-tty-check")]
    pub skip_tty_check: bool,
    /// Filename
    #[arg(value_name = "file_name")]
    pub files: Vec<String>,
}

#[derive(Args, Debug, Clone, Default, PartialEq)]
pub struct DecryptArgs {
    #[command(flatten)]
    pub common: CommonArgs,
    #[command(flatten)]
    pub output: OutputArg,
    /// Filename
    #[arg(value_name = "file_name")]
    pub files: Vec<String>,
}

#[derive(Args, Debug, Clone, Default, PartialEq)]
pub struct EditArgs {
    #[command(flatten)]
    pub common: CommonArgs,
    #[command(flatten)]
    pub vault_id: EncryptVaultIdArg,
    /// Filename
    #[arg(value_name = "file_name")]
    pub files: Vec<String>,
}

#[derive(Args, Debug, Clone, Default, PartialEq)]
pub struct ViewArgs {
    #[command(flatten)]
    pub common: CommonArgs,
    /// Filename
    #[arg(value_name = "file_name")]
    pub files: Vec<String>,
}

#[derive(Args, Debug, Clone, Default, PartialEq)]
pub struct EncryptArgs {
    #[command(flatten)]
    pub common: CommonArgs,
    #[command(flatten)]
    pub output: OutputArg,
    #[command(flatten)]
    pub vault_id: EncryptVaultIdArg,
    /// Filename
    #[arg(value_name = "file_name")]
    pub files: Vec<String>,
}

#[derive(Args, Debug, Clone, Default, PartialEq)]
pub struct EncryptStringArgs {
    #[command(flatten)]
    pub common: CommonArgs,
    #[command(flatten)]
    pub output: OutputArg,
    #[command(flatten)]
    pub vault_id: EncryptVaultIdArg,
    /// Prompt for the string to encrypt
    #[arg(short = 'p', long = "prompt")]
    pub prompt: bool,
    /// Do not hide input when prompted for the string to encrypt
    #[arg(long = "show-input")]
    pub show_input: bool,
    /// Specify the variable name
    #[arg(short = 'n', long = "name", value_name = "ENCRYPT_STRING_NAMES", action = clap::ArgAction::Append)]
    pub names: Vec<String>,
    /// Specify the variable name for stdin
    #[arg(long = "stdin-name", value_name = "ENCRYPT_STRING_STDIN_NAME")]
    pub stdin_name: Option<String>,
    /// String to encrypt
    #[arg(value_name = "string_to_encrypt", allow_hyphen_values = true)]
    pub strings: Vec<String>,
}

#[derive(Args, Debug, Clone, Default, PartialEq)]
pub struct RekeyArgs {
    #[command(flatten)]
    pub common: CommonArgs,
    #[command(flatten)]
    pub vault_id: EncryptVaultIdArg,
    /// new vault password file for rekey
    #[arg(
        long = "new-vault-password-file",
        value_name = "NEW_VAULT_PASSWORD_FILE",
        conflicts_with = "new_vault_id"
    )]
    pub new_vault_password_file: Option<String>,
    /// the new vault identity to use for rekey
    #[arg(long = "new-vault-id", value_name = "NEW_VAULT_ID")]
    pub new_vault_id: Option<String>,
    /// Filename
    #[arg(value_name = "file_name")]
    pub files: Vec<String>,
}

impl VaultAction {
    /// The secret options every action shares.
    pub fn common(&self) -> &CommonArgs {
        match self {
            VaultAction::Create(a) => &a.common,
            VaultAction::Decrypt(a) => &a.common,
            VaultAction::Edit(a) => &a.common,
            VaultAction::View(a) => &a.common,
            VaultAction::Encrypt(a) => &a.common,
            VaultAction::EncryptString(a) => &a.common,
            VaultAction::Rekey(a) => &a.common,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::parse_from;

    #[test]
    fn encrypt_string_options() {
        let a: VaultCliArgs = parse_from([
            "rsible-vault",
            "encrypt_string",
            "--vault-id",
            "prod@pw",
            "-n",
            "a",
            "--name",
            "b",
            "--stdin-name",
            "c",
            "x",
            "-",
        ])
        .unwrap();
        let Some(VaultAction::EncryptString(e)) = a.action else {
            panic!("not encrypt_string")
        };
        assert_eq!(e.common.vault.vault_ids, ["prod@pw"]);
        assert_eq!(
            (e.names.as_slice(), e.stdin_name.as_deref()),
            (&["a".to_string(), "b".into()][..], Some("c"))
        );
        assert_eq!(e.strings, ["x", "-"]);
    }

    #[test]
    fn rekey_new_sources_exclude_each_other() {
        assert!(parse_from::<VaultCliArgs, _, _>([
            "rsible-vault",
            "rekey",
            "--new-vault-password-file",
            "a",
            "--new-vault-id",
            "b@c",
            "f"
        ])
        .is_err());
        assert!(parse_from::<VaultCliArgs, _, _>([
            "rsible-vault",
            "encrypt",
            "-J",
            "--vault-password-file",
            "p"
        ])
        .is_err());
    }
}
