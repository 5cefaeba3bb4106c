//! `rsible-vault`: ansible-vault's actions over rsible-vault's format.
//!
//! Secrets are loaded as ansible-vault loads them: the decrypting actions
//! (decrypt, view, edit, rekey) take every secret given and prompt when none
//! is; the encrypting ones (encrypt, encrypt_string, create) pick one secret
//! (`--encrypt-vault-id` when several are given) and prompt twice.

mod edit;
mod encrypt_string;
mod files;

use std::io::IsTerminal;
use std::path::Path;

use rsible_config::Config;
use rsible_vault::{Secret, Secrets};

use crate::cli::vault::{CommonArgs, VaultAction, VaultCliArgs};
use crate::run::vault_secrets::secret_options;
use crate::{print_error, print_warning, ExitCode};
use encrypt_string::Failure;
use files::{absolute_path, mode_of, read_data, real_path, write_data};

/// ansible-vault's output files: private to the user.
const NEW_FILE_MODE: u32 = 0o600;

pub fn run(args: &VaultCliArgs, config: &Config, cwd: &Path) -> ExitCode {
    let Some(action) = &args.action else {
        eprintln!("usage: rsible-vault [-h] [--version] [-v]\n                    {{create,decrypt,edit,view,encrypt,encrypt_string,rekey}}\n                    ...\nrsible-vault: error: the following arguments are required: action");
        return ExitCode::HostFailed; // argparse's usage status, 2
    };
    if let Err(message) = check_options(action) {
        return fail_options(&message);
    }
    match dispatch(action, config, cwd) {
        Ok(()) => ExitCode::Ok,
        Err(Failure::Options(m)) => fail_options(&m),
        Err(Failure::Error(m)) => {
            print_error(&m);
            ExitCode::Error
        }
    }
}

fn fail_options(message: &str) -> ExitCode {
    print_error(message);
    ExitCode::BadOption
}

fn check_options(action: &VaultAction) -> Result<(), String> {
    for id in &action.common().vault.vault_ids {
        if id.contains(';') {
            return Err(format!(
                "'{id}' is not a valid vault id. The character ';' is not allowed in vault ids"
            ));
        }
    }
    let (output, files) = match action {
        VaultAction::Decrypt(a) => (&a.output.output_file, &a.files),
        VaultAction::Encrypt(a) => (&a.output.output_file, &a.files),
        VaultAction::EncryptString(a) => {
            if a.prompt && encrypt_string::reads_stdin(a) {
                return Err(
                    "The --prompt option is not supported if also reading input from stdin".into(),
                );
            }
            (&a.output.output_file, &a.strings)
        }
        _ => return Ok(()),
    };
    if output.is_some() && files.len() > 1 {
        return Err("At most one input file may be used with the --output option".into());
    }
    Ok(())
}

fn dispatch(action: &VaultAction, config: &Config, cwd: &Path) -> Result<(), Failure> {
    let common = action.common();
    match action {
        VaultAction::View(a) => {
            let secrets = decrypt_secrets(common, config, cwd)?;
            for f in &a.files {
                let plaintext = open(&secrets, &read_data(f).map_err(Failure::Error)?, f)?;
                page(&String::from_utf8_lossy(&plaintext));
            }
            Ok(())
        }
        VaultAction::Decrypt(a) => {
            let secrets = decrypt_secrets(common, config, cwd)?;
            let pass = Pass {
                input: "ciphertext",
                done: "Decryption successful",
            };
            rewrite_each(
                &a.files,
                a.output.output_file.as_deref(),
                cwd,
                pass,
                |data, path| open(&secrets, data, path),
            )
        }
        VaultAction::Encrypt(a) => {
            let (id, secret) =
                encrypt_secret(common, a.vault_id.encrypt_vault_id.as_deref(), config, cwd)?;
            let pass = Pass {
                input: "plaintext",
                done: "Encryption successful",
            };
            rewrite_each(
                &a.files,
                a.output.output_file.as_deref(),
                cwd,
                pass,
                |data, _| {
                    rsible_vault::encrypt(data, &secret, Some(&id))
                        .map(String::into_bytes)
                        .map_err(|e| Failure::Error(e.to_string()))
                },
            )
        }
        VaultAction::EncryptString(a) => {
            let (id, secret) =
                encrypt_secret(common, a.vault_id.encrypt_vault_id.as_deref(), config, cwd)?;
            let output = a
                .output
                .output_file
                .as_deref()
                .map(|o| absolute_path(o, cwd));
            encrypt_string::run(a, output.as_deref().unwrap_or("-"), &secret, &id)
        }
        VaultAction::Rekey(a) => {
            let secrets = decrypt_secrets(common, config, cwd)?;
            let (new_id, new_secret) = rekey_secret(a, config, cwd)?;
            for f in &a.files {
                let path = real_path(f, cwd);
                let mode = mode_of(&path);
                let plaintext = open(&secrets, &read_data(&path).map_err(Failure::Error)?, &path)?;
                let vault = rsible_vault::encrypt(&plaintext, &new_secret, Some(&new_id))
                    .map_err(|e| Failure::Error(e.to_string()))?;
                write_data(vault.as_bytes(), &path, mode.unwrap_or(NEW_FILE_MODE))
                    .map_err(Failure::Error)?;
            }
            eprintln!("Rekey successful");
            Ok(())
        }
        VaultAction::Edit(a) => {
            let secrets = decrypt_secrets(common, config, cwd)?;
            for f in &a.files {
                let path = real_path(f, cwd);
                let data = read_data(&path).map_err(Failure::Error)?;
                let opened = secrets
                    .decrypt(&data, None)
                    .map_err(|e| Failure::Error(format!("{e} for {path}")))?;
                let envelope = rsible_vault::parse_envelope(&data, Some(&path))
                    .map_err(|e| Failure::Error(e.to_string()))?;
                edit::edit_in_editor(
                    &path,
                    Some(&opened.plaintext),
                    &opened.secret,
                    Some(&envelope.vault_id),
                )
                .map_err(Failure::Error)?;
            }
            Ok(())
        }
        VaultAction::Create(a) => {
            if a.files.len() != 1 {
                return Err(Failure::Options(
                    "ansible-vault create can take only one filename argument".into(),
                ));
            }
            let (id, secret) =
                encrypt_secret(common, a.vault_id.encrypt_vault_id.as_deref(), config, cwd)?;
            if !(std::io::stdout().is_terminal() || a.skip_tty_check) {
                return Err(Failure::Options(
                    "not a tty, editor cannot be opened".into(),
                ));
            }
            create(&a.files[0], &secret, &id)
        }
    }
}

/// What `decrypt` or `encrypt` says around its pass over the files.
struct Pass {
    /// What is read from stdin ("ciphertext", "plaintext").
    input: &'static str,
    /// Printed at the end when stdout is a terminal.
    done: &'static str,
}

/// The pass `decrypt` and `encrypt` make: each named file (stdin when none)
/// is read, turned into its new content by `convert` (which gets the data
/// and the file's path) and written back in place, or to `output` when
/// given (`-` is stdout).
fn rewrite_each(
    files: &[String],
    output: Option<&str>,
    cwd: &Path,
    pass: Pass,
    convert: impl Fn(&[u8], &str) -> Result<Vec<u8>, Failure>,
) -> Result<(), Failure> {
    let output = output.map(|o| absolute_path(o, cwd));
    if files.is_empty() && std::io::stdin().is_terminal() {
        eprintln!("Reading {} input from stdin", pass.input);
    }
    for f in names_or_stdin(files) {
        let path = real_path(f, cwd);
        let data = read_data(&path).map_err(Failure::Error)?;
        let converted = convert(&data, &path)?;
        write_data(
            &converted,
            output.as_deref().unwrap_or(&path),
            NEW_FILE_MODE,
        )
        .map_err(Failure::Error)?;
    }
    if std::io::stdout().is_terminal() {
        eprintln!("{}", pass.done);
    }
    Ok(())
}

fn names_or_stdin(files: &[String]) -> Vec<&str> {
    if files.is_empty() {
        vec!["-"]
    } else {
        files.iter().map(String::as_str).collect()
    }
}

/// Decrypts vault data read from `name`; errors end in `for <name>`.
fn open(secrets: &Secrets, data: &[u8], name: &str) -> Result<Vec<u8>, Failure> {
    secrets
        .decrypt(data, Some(name))
        .map(|d| d.plaintext.to_vec())
        .map_err(|e| Failure::Error(format!("{e} for {name}")))
}

fn load_or_fail(opts: &rsible_vault::SecretOptions, cwd: &Path) -> Result<Secrets, Failure> {
    // `load` has printed the error already; keep the exit status apart.
    let mut warnings = Vec::new();
    let result = rsible_vault::load_secrets(opts, cwd, &mut |w| warnings.push(w));
    for w in &warnings {
        print_warning(w);
    }
    result.map_err(|e| Failure::Error(e.to_string()))
}

fn decrypt_secrets(common: &CommonArgs, config: &Config, cwd: &Path) -> Result<Secrets, Failure> {
    let mut opts = secret_options(&common.vault, config);
    opts.auto_prompt = true;
    let secrets = load_or_fail(&opts, cwd)?;
    if secrets.is_empty() {
        return Err(Failure::Options(
            "A vault password is required to use Ansible's Vault".into(),
        ));
    }
    Ok(secrets)
}

fn encrypt_secret(
    common: &CommonArgs,
    encrypt_vault_id: Option<&str>,
    config: &Config,
    cwd: &Path,
) -> Result<(String, Secret), Failure> {
    let mut opts = secret_options(&common.vault, config);
    opts.auto_prompt = true;
    opts.create_new_password = true;
    let secrets = load_or_fail(&opts, cwd)?;
    if secrets.len() > 1 && encrypt_vault_id.is_none() {
        return Err(Failure::Options(format!(
            "The vault-ids {} are available to encrypt. Specify the vault-id to encrypt with --encrypt-vault-id",
            secrets.ids().collect::<Vec<_>>().join(",")
        )));
    }
    pick(
        &secrets,
        encrypt_vault_id,
        "A vault password is required to use Ansible's Vault",
    )
}

/// The new secret of `rekey`: `--new-vault-id`, `--new-vault-password-file`
/// or a prompt (`vault_identity_list` too when `--encrypt-vault-id` is given).
fn rekey_secret(
    a: &crate::cli::vault::RekeyArgs,
    config: &Config,
    cwd: &Path,
) -> Result<(String, Secret), Failure> {
    let encrypt_vault_id = a.vault_id.encrypt_vault_id.as_deref();
    let mut vault_ids = Vec::new();
    if encrypt_vault_id.is_some() {
        vault_ids.extend(config.vault_identity_list.iter().cloned());
    }
    vault_ids.extend(a.new_vault_id.iter().cloned());
    let mut password_files: Vec<String> = a
        .new_vault_password_file
        .iter()
        .map(|f| absolute_path(f, cwd))
        .collect();
    if let Some(file) = &config.vault_password_file {
        password_files.push(file.to_string_lossy().into_owned());
    }
    let opts = rsible_vault::SecretOptions {
        vault_ids,
        password_files,
        ask_vault_pass: a.common.vault.ask_vault_pass || config.ask_vault_pass,
        create_new_password: true,
        auto_prompt: true,
        id_must_match: false,
    };
    let secrets = load_or_fail(&opts, cwd)?;
    pick(
        &secrets,
        encrypt_vault_id,
        "A new vault password is required to use Ansible's Vault rekey",
    )
}

fn pick(secrets: &Secrets, wanted: Option<&str>, none: &str) -> Result<(String, Secret), Failure> {
    if secrets.is_empty() {
        return Err(Failure::Options(none.into()));
    }
    match secrets.encrypt_secret(wanted) {
        Ok(Some((id, secret))) => Ok((id.to_string(), secret.clone())),
        Ok(None) => Err(Failure::Options(none.into())),
        Err(e) => Err(Failure::Error(e.to_string())),
    }
}

fn create(name: &str, secret: &Secret, vault_id: &str) -> Result<(), Failure> {
    let path = Path::new(name);
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        if !dir.exists() {
            print_warning(&format!("{} does not exist, creating...", dir.display()));
            std::fs::create_dir_all(dir).map_err(|e| Failure::Error(e.to_string()))?;
        }
    }
    if path.is_file() {
        return Err(Failure::Error(format!(
            "{name} exists, please use 'edit' instead"
        )));
    }
    edit::edit_in_editor(name, None, secret, Some(vault_id)).map_err(Failure::Error)
}

/// `view`: through `$PAGER` (default `less`) on a terminal, else printed.
fn page(text: &str) {
    let mut text = text.to_string();
    if !std::io::stdout().is_terminal() {
        if !text.ends_with('\n') {
            text.push('\n');
        }
        print!("{text}");
        return;
    }
    let pager = std::env::var("PAGER").unwrap_or_else(|_| "less".into());
    let mut cmd = std::process::Command::new("/bin/sh");
    cmd.arg("-c")
        .arg(&pager)
        .stdin(std::process::Stdio::piped());
    if pager.contains("less") {
        cmd.env("LESS", "FRSX");
    }
    match cmd.spawn() {
        Ok(mut child) => {
            if let Some(mut stdin) = child.stdin.take() {
                let _ = std::io::Write::write_all(&mut stdin, text.as_bytes());
            }
            let _ = child.wait();
        }
        Err(_) => print!("{text}"),
    }
}
