//! Ansible's `AnsibleModule.run_command` for the system modules: a program started
//! without a shell, the task's environment applied, output captured as text.

use crate::modules::{ModuleContext, ModuleFail};
use crate::util::bin_path::{get_bin_path, missing_message};
use serde_json::json;
use std::io::Write;
use std::process::{Command, Stdio};

/// What a finished command reports: exit code (-1 when killed by a signal), stdout, stderr.
#[derive(Debug, Clone, PartialEq)]
pub struct Output {
    pub rc: i32,
    pub out: String,
    pub err: String,
}

/// Run `argv` (argv[0] a path or a name looked up in PATH), feeding `data` on stdin
/// (with a trailing newline added, as run_command's `binary_data=False` does).
pub fn run(argv: &[String], ctx: &ModuleContext, data: Option<&str>) -> Result<Output, ModuleFail> {
    let Some((program, args)) = argv.split_first() else {
        return Err(ModuleFail::msg("rsible: empty command"));
    };
    let mut cmd = Command::new(program);
    cmd.args(args)
        .envs(&ctx.env)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .stdin(if data.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        });
    let mut child = cmd.spawn().map_err(|e| {
        ModuleFail::msg(format!(
            "[Errno {}] {e}: b'{program}'",
            e.raw_os_error().unwrap_or(0)
        ))
        .with("cmd", json!(argv.join(" ")))
        .with("rc", json!(e.raw_os_error().unwrap_or(1)))
    })?;
    if let (Some(text), Some(mut stdin)) = (data, child.stdin.take()) {
        let mut text = text.to_string();
        if !text.ends_with('\n') {
            text.push('\n');
        }
        // A program that exits without reading its input is not an error here.
        let _ = stdin.write_all(text.as_bytes());
    }
    let out = child
        .wait_with_output()
        .map_err(|e| ModuleFail::msg(format!("failed to wait for {program}: {e}")))?;
    Ok(Output {
        rc: out.status.code().unwrap_or(-1),
        out: String::from_utf8_lossy(&out.stdout).into_owned(),
        err: String::from_utf8_lossy(&out.stderr).into_owned(),
    })
}

/// `run_command(..., check_rc=True)`'s failure for a command that exited non-zero:
/// the result keys and the message (stderr, stripped) Ansible's fail_json reports.
pub fn check_rc(argv: &[String], o: &Output) -> Result<(), ModuleFail> {
    if o.rc == 0 {
        return Ok(());
    }
    Err(ModuleFail::msg(o.err.trim_end())
        .with("cmd", json!(argv.join(" ")))
        .with("rc", json!(o.rc))
        .with("stdout", json!(o.out))
        .with("stderr", json!(o.err)))
}

/// `get_bin_path(name, required=True)`: the program's full path or Ansible's failure,
/// looked up in the PATH the module's process has (the task's `environment` first).
pub fn required_bin(name: &str, ctx: &ModuleContext) -> Result<String, ModuleFail> {
    get_bin_path(name, &ctx.env).ok_or_else(|| ModuleFail::msg(missing_message(name, &ctx.env)))
}

/// Build an argv from string-likes.
pub fn argv<I, S>(parts: I) -> Vec<String>
where
    I: IntoIterator<Item = S>,
    S: Into<String>,
{
    parts.into_iter().map(Into::into).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn captures_output_and_feeds_stdin() {
        let ctx = ModuleContext::default();
        let o = run(&argv(["cat"]), &ctx, Some("hello")).unwrap();
        assert_eq!(
            o,
            Output {
                rc: 0,
                out: "hello\n".into(),
                err: String::new()
            }
        );
        let o = run(&argv(["sh", "-c", "echo e >&2; exit 3"]), &ctx, None).unwrap();
        assert_eq!((o.rc, o.err.as_str()), (3, "e\n"));
    }

    #[test]
    fn missing_program_is_a_failure() {
        let e = run(
            &argv(["/nonexistent/rsible-x"]),
            &ModuleContext::default(),
            None,
        );
        assert!(e.is_err());
        assert!(required_bin("rsible-no-such-program", &ModuleContext::default()).is_err());
    }
}
