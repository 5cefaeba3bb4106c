//! `validate=`: run a check command on the new content before it replaces
//! the destination. The content is written to a temporary file beside the
//! destination, `%s` in the command names it, and the file is removed after.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Output;

use crate::util::atomic::temp_path_for;
use crate::util::shlex;

/// Why validation could not say yes.
pub enum ValidateError {
    /// The command has no `%s` or the temporary file could not be written.
    Setup(String),
    /// The command ran and failed.
    Failed(Output),
    /// The command could not be run (Ansible's run_command reports rc 2).
    NotRun(String),
}

/// Writes `data` beside `dest`, lets `prepare` adjust the temporary file
/// (owner, mode), runs `validate` on it and removes it again.
pub fn run(
    validate: &str,
    dest: &Path,
    data: &[u8],
    prepare: impl FnOnce(&Path),
) -> Result<(), ValidateError> {
    if !validate.contains("%s") {
        return Err(ValidateError::Setup(format!(
            "validate must contain %s: {validate}"
        )));
    }
    let tmp: PathBuf = temp_path_for(dest);
    fs::write(&tmp, data)
        .map_err(|e| ValidateError::Setup(format!("cannot write temp file for validate: {e}")))?;
    prepare(&tmp);
    let cmdline = validate.replace("%s", &tmp.display().to_string());
    let outcome = shlex::split(&cmdline)
        .map_err(|e| e.to_string())
        .and_then(|argv| {
            let (exe, rest) = argv.split_first().ok_or("empty validate command")?;
            std::process::Command::new(exe)
                .args(rest)
                .stdin(std::process::Stdio::null())
                .output()
                .map_err(|e| e.to_string())
        });
    let _ = fs::remove_file(&tmp);
    match outcome {
        Ok(out) if out.status.success() => Ok(()),
        Ok(out) => Err(ValidateError::Failed(out)),
        Err(e) => Err(ValidateError::NotRun(e)),
    }
}
