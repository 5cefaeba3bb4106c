//! `edit` and `create`: the plaintext goes to a private temporary file, the
//! editor (`ANSIBLE_EDITOR`, `EDITOR`, else `vi`) runs on it, and the result
//! is encrypted back over the vault. The temporary file is overwritten
//! before it is removed.

use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;

use rsible_vault::Secret;

use super::files::{mode_of, write_data};

/// Opens `existing` plaintext (or nothing, for `create`) in the editor and
/// saves the vault at `target` when the text changed (always for `create`).
pub fn edit_in_editor(
    target: &str,
    existing: Option<&[u8]>,
    secret: &Secret,
    vault_id: Option<&str>,
) -> Result<(), String> {
    let tmp_dir = private_tmp_dir()?;
    let ext = Path::new(target)
        .extension()
        .map(|e| format!(".{}", e.to_string_lossy()))
        .unwrap_or_default();
    let tmp_path = tmp_dir.path().join(format!("vault{ext}"));
    let result = edit_file(&tmp_path, target, existing, secret, vault_id);
    shred(&tmp_path);
    result
}

fn edit_file(
    tmp_path: &Path,
    target: &str,
    existing: Option<&[u8]>,
    secret: &Secret,
    vault_id: Option<&str>,
) -> Result<(), String> {
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(tmp_path)
        .map_err(|e| format!("Problem creating temporary vault file: {e}"))?;
    if let Some(data) = existing {
        f.write_all(data)
            .map_err(|e| format!("Unable to write to temporary vault file: {e}"))?;
    }
    drop(f);
    let mut cmd = editor_command();
    cmd.push(tmp_path.to_string_lossy().into_owned());
    let status = Command::new(&cmd[0]).args(&cmd[1..]).status();
    if let Err(e) = status {
        return Err(format!(
            "Unable to execute the command \"{}\": {e}",
            cmd.join(" ")
        ));
    }
    let edited = std::fs::read(tmp_path)
        .map_err(|e| format!("Unable to read source file ({}): {e}", tmp_path.display()))?;
    if existing == Some(edited.as_slice()) {
        return Ok(());
    }
    let vault = rsible_vault::encrypt(&edited, secret, vault_id).map_err(|e| e.to_string())?;
    let mode = mode_of(target).unwrap_or(0o600);
    write_data(vault.as_bytes(), target, mode)
}

/// The editor as a word list (`shlex.split` of the setting).
fn editor_command() -> Vec<String> {
    let setting = std::env::var("ANSIBLE_EDITOR")
        .or_else(|_| std::env::var("EDITOR"))
        .unwrap_or_else(|_| "vi".to_string());
    let words = shell_words(&setting);
    if words.is_empty() {
        vec!["vi".to_string()]
    } else {
        words
    }
}

/// POSIX-shell-like word splitting: whitespace separates, quotes group,
/// backslash escapes outside single quotes.
fn shell_words(s: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut cur = String::new();
    let mut in_word = false;
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        match c {
            '\'' => {
                in_word = true;
                for d in chars.by_ref() {
                    if d == '\'' {
                        break;
                    }
                    cur.push(d);
                }
            }
            '"' => {
                in_word = true;
                while let Some(d) = chars.next() {
                    match d {
                        '"' => break,
                        '\\' => {
                            if let Some(e) = chars.next() {
                                cur.push(e);
                            }
                        }
                        _ => cur.push(d),
                    }
                }
            }
            '\\' => {
                in_word = true;
                if let Some(e) = chars.next() {
                    cur.push(e);
                }
            }
            c if c.is_whitespace() => {
                if in_word {
                    words.push(std::mem::take(&mut cur));
                    in_word = false;
                }
            }
            _ => {
                in_word = true;
                cur.push(c);
            }
        }
    }
    if in_word {
        words.push(cur);
    }
    words
}

/// A 0700 directory under `~/.ansible/tmp` (Ansible's local tmp), else the
/// system temporary directory.
fn private_tmp_dir() -> Result<tempfile::TempDir, String> {
    let base: Option<PathBuf> =
        std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".ansible").join("tmp"));
    if let Some(base) = base {
        if std::fs::create_dir_all(&base).is_ok() {
            if let Ok(d) = tempfile::Builder::new()
                .prefix("rsible-local-")
                .tempdir_in(&base)
            {
                return Ok(d);
            }
        }
    }
    tempfile::Builder::new()
        .prefix("rsible-local-")
        .tempdir()
        .map_err(|e| format!("Problem creating temporary vault file: {e}"))
}

/// Overwrites a file with zeros, then removes it.
fn shred(path: &Path) {
    if let Ok(meta) = std::fs::metadata(path) {
        if let Ok(mut f) = std::fs::OpenOptions::new().write(true).open(path) {
            let zeros = vec![0u8; meta.len() as usize];
            let _ = f.write_all(&zeros).and_then(|_| f.sync_all());
        }
    }
    let _ = std::fs::remove_file(path);
}

#[cfg(test)]
mod tests {
    use super::shell_words;

    #[test]
    fn editor_words() {
        assert_eq!(shell_words("vim -n"), ["vim", "-n"]);
        assert_eq!(
            shell_words("'my editor' \"-c x\" a\\ b"),
            ["my editor", "-c x", "a b"]
        );
    }
}
