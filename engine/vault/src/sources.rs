//! Where vault secrets come from, in the order Ansible reads them:
//! `vault_identity_list` and `--vault-id label@source` first, then
//! `--vault-password-file` and `vault_password_file` (as `default@file`),
//! then `--ask-vault-pass` (as `default@prompt_ask_vault_pass`).
//!
//! A source is `prompt`, a plain file (its stripped content; itself possibly
//! vaulted with an earlier secret), an executable script (its stdout) or a
//! `*-client` script (called with `--vault-id <label>`). Scripts never get
//! the password on their command line and their output is never logged.

use std::path::{Component, Path, PathBuf};
use std::process::{Command, Stdio};

use crate::error::VaultError;
use crate::prompt::prompt_hidden;
use crate::secrets::{Secret, Secrets, DEFAULT_VAULT_ID};

/// The options that name secrets, gathered from the command line and config.
#[derive(Clone, Debug, Default)]
pub struct SecretOptions {
    /// `vault_identity_list` from config, then `--vault-id` values.
    pub vault_ids: Vec<String>,
    /// `--vault-password-file` values, then config `vault_password_file`.
    pub password_files: Vec<String>,
    pub ask_vault_pass: bool,
    /// ansible-vault's encrypting commands: prompts ask twice ("New vault password").
    pub create_new_password: bool,
    /// Prompt when nothing else is given (ansible-vault; not ansible-playbook).
    pub auto_prompt: bool,
    /// `vault_id_match`.
    pub id_must_match: bool,
}

/// A problem with one source that did not stop loading: Ansible's
/// `[WARNING]` text.
pub type SourceWarning = String;

/// `label@source` -> (label, source); no `@`: no label.
pub fn split_vault_id(slug: &str) -> (Option<&str>, &str) {
    match slug.split_once('@') {
        Some((label, source)) => (Some(label), source),
        None => (None, slug),
    }
}

/// The vault-id slugs to load, in order.
pub fn build_vault_ids(opts: &SecretOptions) -> Vec<String> {
    let mut ids = opts.vault_ids.clone();
    for file in &opts.password_files {
        ids.push(format!("{DEFAULT_VAULT_ID}@{file}"));
    }
    if opts.ask_vault_pass || (ids.is_empty() && opts.auto_prompt) {
        ids.push(format!("{DEFAULT_VAULT_ID}@prompt_ask_vault_pass"));
    }
    ids
}

/// Loads every secret the options name. A bad password file is a warning
/// while another source works; with none working its error is returned. A
/// failed prompt is an error at once.
pub fn load_secrets(
    opts: &SecretOptions,
    cwd: &Path,
    warn: &mut dyn FnMut(SourceWarning),
) -> Result<Secrets, VaultError> {
    let mut secrets = Secrets::new();
    secrets.id_must_match = opts.id_must_match;
    let mut last_error = None;
    for slug in build_vault_ids(opts) {
        let (label, source) = split_vault_id(&slug);
        let shown_label = label.unwrap_or("None");
        if source == "prompt" || source == "prompt_ask_vault_pass" {
            let id = label.unwrap_or(DEFAULT_VAULT_ID);
            let formats = prompt_formats(source, opts.create_new_password);
            match ask(&formats, id) {
                Ok(secret) => secrets.push(id, secret),
                Err(e) => {
                    warn(format!(
                        "Error in vault password prompt ({shown_label}): {e}"
                    ));
                    return Err(e);
                }
            }
            continue;
        }
        let path = absolute(source, cwd);
        if let Err(e) = check_source(&path) {
            warn(format!(
                "Error getting vault password file ({shown_label}): {e}"
            ));
            last_error = Some(e);
            continue;
        }
        match read_source(&path, source, label, &secrets) {
            Ok(secret) => secrets.push(label.unwrap_or(DEFAULT_VAULT_ID), secret),
            Err(e) => {
                warn(format!(
                    "Error in vault password file loading ({shown_label}): {e}"
                ));
                last_error = Some(e);
            }
        }
    }
    match last_error {
        Some(e) if secrets.is_empty() => Err(e),
        _ => Ok(secrets),
    }
}

fn prompt_formats(source: &str, create: bool) -> Vec<&'static str> {
    match (source, create) {
        ("prompt", true) => vec![
            "New vault password (%s): ",
            "Confirm new vault password (%s): ",
        ],
        ("prompt", false) => vec!["Vault password (%s): "],
        (_, true) => vec!["New Vault password: ", "Confirm New Vault password: "],
        (_, false) => vec!["Vault password: "],
    }
}

fn ask(formats: &[&str], vault_id: &str) -> Result<Secret, VaultError> {
    let mut answers: Vec<Secret> = Vec::new();
    for format in formats {
        let prompt = format.replace("%s", vault_id);
        let line = prompt_hidden(&prompt)
            .map_err(|e| VaultError::Other(format!("prompt failed: {e}")))?
            .ok_or_else(|| {
                VaultError::Other(format!("EOFError (ctrl-d) on prompt for ({vault_id})"))
            })?;
        if line.is_empty() {
            return Err(VaultError::Other(
                "Invalid vault password was provided".into(),
            ));
        }
        answers.push(Secret::new(strip(line.as_bytes(), is_py_space).to_vec()));
    }
    if answers.iter().any(|a| a.bytes() != answers[0].bytes()) {
        return Err(VaultError::Other("Passwords do not match".into()));
    }
    answers
        .into_iter()
        .next()
        .ok_or_else(|| VaultError::Other("Invalid vault password was provided".into()))
}

fn check_source(path: &Path) -> Result<(), VaultError> {
    if !path.exists() {
        return Err(VaultError::Other(format!(
            "The vault password file {} was not found",
            path.display()
        )));
    }
    if path.is_dir() {
        return Err(VaultError::Other(format!(
            "The vault password file provided '{}' can not be a directory",
            path.display()
        )));
    }
    Ok(())
}

fn read_source(
    path: &Path,
    given: &str,
    label: Option<&str>,
    earlier: &Secrets,
) -> Result<Secret, VaultError> {
    if is_executable(path) {
        return run_script(path, is_client_script(given), label);
    }
    let shown = path.display();
    let bytes = std::fs::read(path).map_err(|e| {
        VaultError::Other(format!(
            "Could not read vault password file {shown}: {}",
            py_os_error(&e, path)
        ))
    })?;
    let content = strip(&bytes, is_py_space);
    let opened;
    let content = if crate::is_encrypted(content) {
        opened = earlier
            .decrypt(content, Some(&shown.to_string()))?
            .plaintext;
        opened.as_slice()
    } else {
        content
    };
    let password = strip(content, |b| b == b'\r' || b == b'\n');
    if password.is_empty() {
        return Err(VaultError::Other(format!(
            "Invalid vault password was provided from file ({shown})"
        )));
    }
    Ok(Secret::new(password.to_vec()))
}

/// Runs a password script: its stdout (minus line ends) is the password.
/// A client script gets `--vault-id <label>` and exits 2 for an unknown label.
fn run_script(path: &Path, client: bool, label: Option<&str>) -> Result<Secret, VaultError> {
    let shown = path.display();
    let mut cmd = Command::new(path);
    cmd.stdin(Stdio::inherit()).stdout(Stdio::piped());
    if client {
        cmd.stderr(Stdio::piped());
        if let Some(id) = label {
            cmd.arg("--vault-id").arg(id);
        }
    } else {
        cmd.stderr(Stdio::inherit());
    }
    let kind = if client { "client script" } else { "script" };
    let output = cmd.output().map_err(|e| {
        VaultError::Other(format!(
            "Problem running vault password {kind} {shown} ({}). If this is not a script, remove the executable bit from the file.",
            py_os_error(&e, path)
        ))
    })?;
    let code = output
        .status
        .code()
        .map(|c| c.to_string())
        .unwrap_or_else(|| {
            use std::os::unix::process::ExitStatusExt;
            format!("-{}", output.status.signal().unwrap_or(0))
        });
    let stderr = if client {
        py_bytes_repr(&output.stderr)
    } else {
        "None".into()
    };
    let id = label.unwrap_or("None");
    if client && output.status.code() == Some(2) {
        return Err(VaultError::Other(format!(
            "Vault password client script {shown} did not find a secret for vault-id={id}: {stderr}"
        )));
    }
    if !output.status.success() {
        return Err(VaultError::Other(if client {
            format!("Vault password client script {shown} returned non-zero ({code}) when getting secret for vault-id={id}: {stderr}")
        } else {
            format!("Vault password script {shown} returned non-zero ({code}): {stderr}")
        }));
    }
    let password = strip(&output.stdout, |b| b == b'\r' || b == b'\n');
    if password.is_empty() {
        return Err(VaultError::Other(format!(
            "Invalid vault password was provided from script ({shown})"
        )));
    }
    Ok(Secret::new(password.to_vec()))
}

/// `name-client` or `name-client.ext` is a client script (Ansible goes by the name).
fn is_client_script(given: &str) -> bool {
    let name = Path::new(given);
    let stem = match name.extension() {
        Some(_) => name.with_extension(""),
        None => name.to_path_buf(),
    };
    stem.to_string_lossy().ends_with("-client")
}

fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path)
        .map(|m| m.permissions().mode() & 0o111 != 0)
        .unwrap_or(false)
}

/// Ansible's `unfrackpath` without following links: `~` expanded, made
/// absolute against `cwd`, `.` and `..` folded.
fn absolute(given: &str, cwd: &Path) -> PathBuf {
    let expanded = match given.strip_prefix('~') {
        Some(rest) if rest.is_empty() || rest.starts_with('/') => match std::env::var_os("HOME") {
            Some(home) => PathBuf::from(format!("{}{rest}", home.to_string_lossy())),
            None => PathBuf::from(given),
        },
        _ => PathBuf::from(given),
    };
    let joined = cwd.join(expanded);
    let mut out = PathBuf::new();
    for part in joined.components() {
        match part {
            Component::ParentDir => {
                out.pop();
            }
            Component::CurDir => {}
            other => out.push(other),
        }
    }
    out
}

fn is_py_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | b'\r' | 0x0b | 0x0c)
}

fn strip(bytes: &[u8], drop: impl Fn(u8) -> bool) -> &[u8] {
    let start = bytes.iter().position(|b| !drop(*b)).unwrap_or(bytes.len());
    let end = bytes
        .iter()
        .rposition(|b| !drop(*b))
        .map_or(start, |i| i + 1);
    &bytes[start..end]
}

/// Python's `str(OSError)`: `[Errno 13] Permission denied: '/path'`.
fn py_os_error(e: &std::io::Error, path: &Path) -> String {
    match e.raw_os_error() {
        Some(code) => {
            let text = e.to_string();
            let reason = text.split(" (os error").next().unwrap_or(&text);
            format!("[Errno {code}] {reason}: '{}'", path.display())
        }
        None => e.to_string(),
    }
}

/// Python's `repr(bytes)`, enough for a script's stderr.
fn py_bytes_repr(bytes: &[u8]) -> String {
    let mut out = String::from("b'");
    for &b in bytes {
        match b {
            b'\\' => out.push_str("\\\\"),
            b'\'' => out.push_str("\\'"),
            b'\n' => out.push_str("\\n"),
            b'\r' => out.push_str("\\r"),
            b'\t' => out.push_str("\\t"),
            0x20..=0x7e => out.push(b as char),
            _ => out.push_str(&format!("\\x{b:02x}")),
        }
    }
    out.push('\'');
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    fn opts(ids: &[&str], files: &[&str]) -> SecretOptions {
        SecretOptions {
            vault_ids: ids.iter().map(|s| s.to_string()).collect(),
            password_files: files.iter().map(|s| s.to_string()).collect(),
            ..Default::default()
        }
    }

    #[test]
    fn slugs_in_ansible_order() {
        let mut o = opts(&["dev@a", "b"], &["c"]);
        o.ask_vault_pass = true;
        assert_eq!(
            build_vault_ids(&o),
            ["dev@a", "b", "default@c", "default@prompt_ask_vault_pass"]
        );
        assert_eq!(split_vault_id("x@y@z"), (Some("x"), "y@z"));
        let mut auto = opts(&[], &[]);
        auto.auto_prompt = true;
        assert_eq!(build_vault_ids(&auto), ["default@prompt_ask_vault_pass"]);
    }

    #[test]
    fn files_scripts_and_client_scripts() {
        let dir = tempfile::tempdir().unwrap();
        let write = |name: &str, text: &str, mode: u32| {
            let p = dir.path().join(name);
            std::fs::write(&p, text).unwrap();
            std::fs::set_permissions(&p, std::fs::Permissions::from_mode(mode)).unwrap();
        };
        write("plain", "  pw-file \n\n", 0o600);
        write("script.sh", "#!/bin/sh\necho pw-script\n", 0o700);
        write(
            "keys-client.sh",
            "#!/bin/sh\n[ \"$1 $2\" = '--vault-id prod' ] && echo pw-prod && exit 0\necho unknown >&2; exit 2\n",
            0o700,
        );
        write("empty", "\n", 0o600);
        let mut warnings = Vec::new();
        let o = opts(&["s@script.sh", "prod@keys-client.sh"], &["plain"]);
        let s = load_secrets(&o, dir.path(), &mut |w| warnings.push(w)).unwrap();
        assert!(warnings.is_empty(), "{warnings:?}");
        let got: Vec<(&str, &[u8])> = s
            .ids()
            .zip(["pw-script", "pw-prod", "pw-file"])
            .map(|(id, pw)| (id, pw.as_bytes()))
            .collect();
        assert_eq!(
            got.iter().map(|g| g.0).collect::<Vec<_>>(),
            ["s", "prod", "default"]
        );

        // a missing file warns and, alone, fails with its own message
        let e =
            load_secrets(&opts(&["nope"], &[]), dir.path(), &mut |w| warnings.push(w)).unwrap_err();
        assert!(
            e.to_string().starts_with("The vault password file /"),
            "{e}"
        );
        assert!(warnings[0].starts_with("Error getting vault password file (None): "));
        // an unknown label for a client script, an empty file
        let e =
            load_secrets(&opts(&["qa@keys-client.sh"], &[]), dir.path(), &mut |_| {}).unwrap_err();
        assert!(
            e.to_string()
                .contains("did not find a secret for vault-id=qa: b'unknown\\n'"),
            "{e}"
        );
        let e = load_secrets(&opts(&[], &["empty"]), dir.path(), &mut |_| {}).unwrap_err();
        assert!(
            e.to_string()
                .starts_with("Invalid vault password was provided from file ("),
            "{e}"
        );
        // a bad file next to a good one is only a warning
        assert_eq!(
            load_secrets(&opts(&["nope"], &["plain"]), dir.path(), &mut |_| {})
                .unwrap()
                .len(),
            1
        );
    }

    #[test]
    fn password_file_content_is_used_exactly() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("p"), " a b \r\n").unwrap();
        let s = load_secrets(&opts(&[], &["p"]), dir.path(), &mut |_| {}).unwrap();
        let vault = crate::encrypt(b"v", &Secret::new(b"a b".to_vec()), None).unwrap();
        assert!(s.decrypt(vault.as_bytes(), None).is_ok());
    }
}
