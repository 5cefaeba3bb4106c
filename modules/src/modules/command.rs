//! `command` and `shell`: run a program and report rc/stdout/stderr with Ansible's keys.

use super::{Kind, ModuleContext, ModuleFail, ModuleOutcome, Param, ParamDefault};
use crate::util::expand::expand_path;
use crate::util::pytime::{format_datetime, format_delta};
use crate::util::shlex;
use serde_json::{json, Map, Value};
use std::io::{Read, Write};
use std::process::{Command, Stdio};
use std::time::{Instant, SystemTime};

pub const SPEC: &[Param] = &[
    Param::new("_raw_params", Kind::Str),
    Param::new("_uses_shell", Kind::Bool).default(ParamDefault::Bool(false)),
    Param::new("argv", Kind::List),
    Param::new("chdir", Kind::Path),
    Param::new("executable", Kind::Str),
    Param::new("expand_argument_vars", Kind::Bool).default(ParamDefault::Bool(true)),
    Param::new("creates", Kind::Path),
    Param::new("removes", Kind::Path),
    Param::new("stdin", Kind::Str),
    Param::new("stdin_add_newline", Kind::Bool).default(ParamDefault::Bool(true)),
    Param::new("strip_empty_ends", Kind::Bool).default(ParamDefault::Bool(true)),
];

/// `shell` is `command` with `_uses_shell=true` (set by the dispatcher).
pub fn run_shell(params: &Map<String, Value>, ctx: &ModuleContext) -> ModuleOutcome {
    run(params, ctx)
}

fn s<'a>(params: &'a Map<String, Value>, k: &str) -> Option<&'a str> {
    params.get(k).and_then(Value::as_str)
}

fn b(params: &Map<String, Value>, k: &str) -> bool {
    params.get(k).and_then(Value::as_bool).unwrap_or(false)
}

fn base_result() -> Map<String, Value> {
    let mut r = Map::new();
    for (k, v) in [
        ("changed", json!(false)),
        ("stdout", json!("")),
        ("stderr", json!("")),
        ("rc", Value::Null),
        ("cmd", Value::Null),
        ("start", Value::Null),
        ("end", Value::Null),
        ("delta", Value::Null),
        ("msg", json!("")),
    ] {
        r.insert(k.into(), v);
    }
    r
}

pub fn run(params: &Map<String, Value>, ctx: &ModuleContext) -> ModuleOutcome {
    let shell = b(params, "_uses_shell");
    let raw = s(params, "_raw_params").filter(|r| !r.trim().is_empty());
    let argv: Option<Vec<String>> = params.get("argv").and_then(Value::as_array).map(|a| {
        a.iter()
            .map(|v| v.as_str().unwrap_or_default().to_string())
            .collect()
    });
    let argv = argv.filter(|a| !a.is_empty());
    let mut r = base_result();
    let mut warnings = Vec::new();
    let mut executable = s(params, "executable").map(str::to_string);
    if !shell && executable.is_some() {
        warnings.push(format!(
            "As of Ansible 2.4, the parameter 'executable' is no longer supported with the 'command' module. Not using '{}'.",
            executable.take().unwrap_or_default()
        ));
    }
    let fail = |mut r: Map<String, Value>, msg: &str| {
        r.insert("msg".into(), json!(msg));
        Err(ModuleFail(r))
    };
    if raw.is_none() && argv.is_none() {
        r.insert("rc".into(), json!(256));
        return fail(r, "no command given");
    }
    if raw.is_some() && argv.is_some() {
        r.insert("rc".into(), json!(256));
        return fail(r, "only command or argv can be given, not both");
    }
    // What runs: a shell string, or an argv list.
    let cmd_value: Value;
    let program: Vec<String>;
    if shell {
        let script = match (raw, &argv) {
            (Some(raw), _) => raw.to_string(),
            (None, Some(a)) => a.join(" "),
            (None, None) => String::new(),
        };
        cmd_value = match &argv {
            Some(a) if raw.is_none() => json!(a),
            _ => json!(script),
        };
        program = vec![
            executable.clone().unwrap_or_else(|| "/bin/sh".to_string()),
            "-c".into(),
            script,
        ];
    } else {
        let words = match (raw, &argv) {
            (Some(raw), _) => match shlex::split(raw) {
                Ok(w) => w,
                Err(e) => {
                    r.insert("rc".into(), json!(256));
                    return fail(r, &format!("Unable to parse command: {e}"));
                }
            },
            (None, Some(a)) => a.clone(),
            (None, None) => Vec::new(),
        };
        cmd_value = json!(words);
        program = if b(params, "expand_argument_vars") {
            words.iter().map(|w| expand_path(w, &ctx.env)).collect()
        } else {
            words
        };
    }
    r.insert("cmd".into(), cmd_value);

    let chdir = s(params, "chdir");
    if let Some(dir) = chdir {
        if let Err(e) = std::fs::read_dir(dir) {
            let text = crate::util::fs_attrs::py_os_error_bytes(&e, std::path::Path::new(dir));
            return fail(
                r,
                &format!("Unable to change directory before execution: {text}"),
            );
        }
    }
    let verb = if ctx.check_mode { "Would" } else { "Did" };
    let base_dir = chdir.map(std::path::PathBuf::from);
    let exists = |pattern: &str| glob_matches(pattern, base_dir.as_deref());
    if let Some(creates) = s(params, "creates") {
        if exists(creates) {
            r.insert(
                "msg".into(),
                json!(format!("{verb} not run command since '{creates}' exists")),
            );
            r.insert(
                "stdout".into(),
                json!(format!("skipped, since {creates} exists")),
            );
            r.insert("rc".into(), json!(0));
        }
    }
    if r["msg"] == json!("") {
        if let Some(removes) = s(params, "removes") {
            if !exists(removes) {
                r.insert(
                    "msg".into(),
                    json!(format!(
                        "{verb} not run command since '{removes}' does not exist"
                    )),
                );
                r.insert(
                    "stdout".into(),
                    json!(format!("skipped, since {removes} does not exist")),
                );
                r.insert("rc".into(), json!(0));
            }
        }
    }
    if r["msg"] != json!("") {
        add_warnings(&mut r, warnings);
        return Ok(r);
    }
    r.insert("changed".into(), json!(true));
    if ctx.check_mode {
        r.insert("rc".into(), json!(0));
        r.insert(
            "msg".into(),
            json!("Command would have run if not in check mode"),
        );
        if s(params, "creates").is_none() && s(params, "removes").is_none() {
            r.insert("skipped".into(), json!(true));
            r.insert("changed".into(), json!(false));
        }
        add_warnings(&mut r, warnings);
        return Ok(r);
    }
    let stdin = s(params, "stdin").map(|d| {
        let mut d = d.as_bytes().to_vec();
        if b(params, "stdin_add_newline") {
            d.push(b'\n');
        }
        d
    });
    let start = SystemTime::now();
    let t0 = Instant::now();
    let outcome = run_process(&program, chdir, stdin, ctx);
    let delta = t0.elapsed();
    let end = start + delta;
    let (rc, stdout, stderr) = match outcome {
        Ok(v) => v,
        Err(msg) => {
            // Ansible's run_command failure: cmd joined, no timing keys.
            let mut f = Map::new();
            f.insert("cmd".into(), json!(join_for_display(&program, shell)));
            f.insert("msg".into(), json!(msg));
            f.insert("rc".into(), json!(2));
            f.insert("stdout".into(), json!(""));
            f.insert("stderr".into(), json!(""));
            return Err(ModuleFail(f));
        }
    };
    r.insert("start".into(), json!(format_datetime(start)));
    r.insert("end".into(), json!(format_datetime(end)));
    r.insert("delta".into(), json!(format_delta(delta)));
    r.insert("rc".into(), json!(rc));
    let (mut out, mut err) = (stdout, stderr);
    if b(params, "strip_empty_ends") {
        out = out.trim_end_matches(['\r', '\n']).to_string();
        err = err.trim_end_matches(['\r', '\n']).to_string();
    }
    r.insert("stdout".into(), json!(out));
    r.insert("stderr".into(), json!(err));
    add_warnings(&mut r, warnings);
    if rc != 0 {
        r.insert("msg".into(), json!("non-zero return code"));
        return Err(ModuleFail(r));
    }
    Ok(r)
}

fn add_warnings(r: &mut Map<String, Value>, warnings: Vec<String>) {
    if !warnings.is_empty() {
        r.insert("warnings".into(), json!(warnings));
    }
}

/// `glob.glob(pattern)` is non-empty (relative patterns resolve against chdir, since
/// Ansible has changed directory by then).
fn glob_matches(pattern: &str, base: Option<&std::path::Path>) -> bool {
    let full = match base {
        Some(b) if !pattern.starts_with('/') => b.join(pattern).display().to_string(),
        _ => pattern.to_string(),
    };
    match glob::glob(&full) {
        Ok(mut paths) => paths.any(|p| p.is_ok()),
        Err(_) => std::path::Path::new(&full).exists(),
    }
}

fn join_for_display(program: &[String], shell: bool) -> String {
    if shell {
        return program.last().cloned().unwrap_or_default();
    }
    program
        .iter()
        .map(|w| {
            if !w.is_empty()
                && w.chars()
                    .all(|c| c.is_ascii_alphanumeric() || "@%+=:,./-_".contains(c))
            {
                w.clone()
            } else {
                format!("'{}'", w.replace('\'', "'\"'\"'"))
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// Run `program` with piped output; stdin is the given data or /dev/null (never the
/// agent's own stdin, which carries the protocol).
fn run_process(
    program: &[String],
    chdir: Option<&str>,
    stdin: Option<Vec<u8>>,
    ctx: &ModuleContext,
) -> Result<(i32, String, String), String> {
    let Some((exe, rest)) = program.split_first() else {
        return Err("no command given".into());
    };
    let mut cmd = Command::new(exe);
    cmd.args(rest)
        .envs(&ctx.env)
        .stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    if let Some(dir) = chdir {
        cmd.current_dir(dir);
    }
    crate::util::child_guard::end_with_agent(&mut cmd);
    let mut child = cmd.spawn().map_err(|e| match e.raw_os_error() {
        Some(code) => {
            let text = std::io::Error::from_raw_os_error(code).to_string();
            let text = text.split(" (os error").next().unwrap_or(&text).to_string();
            format!("[Errno {code}] {text}: b'{exe}'")
        }
        None => e.to_string(),
    })?;
    let writer = match (child.stdin.take(), stdin) {
        (Some(mut pipe), Some(data)) => Some(std::thread::spawn(move || {
            // The child may exit without reading; a broken pipe is not our failure.
            let _ = pipe.write_all(&data);
        })),
        _ => None,
    };
    let mut err_pipe = child.stderr.take();
    let err_reader = std::thread::spawn(move || {
        let mut buf = Vec::new();
        if let Some(p) = err_pipe.as_mut() {
            let _ = p.read_to_end(&mut buf);
        }
        buf
    });
    let mut out = Vec::new();
    if let Some(mut p) = child.stdout.take() {
        let _ = p.read_to_end(&mut out);
    }
    let err = err_reader.join().unwrap_or_default();
    if let Some(w) = writer {
        let _ = w.join();
    }
    let status = child.wait().map_err(|e| e.to_string())?;
    let rc = match status.code() {
        Some(c) => c,
        None => {
            use std::os::unix::process::ExitStatusExt;
            -status.signal().unwrap_or(0)
        }
    };
    Ok((
        rc,
        String::from_utf8_lossy(&out).into_owned(),
        String::from_utf8_lossy(&err).into_owned(),
    ))
}

#[cfg(test)]
mod tests {
    use super::super::run_module;
    use super::*;

    fn call(module: &str, args: Value) -> Value {
        run_module(module, args.as_object().unwrap(), &ModuleContext::default())
    }

    #[test]
    fn free_form_command_runs_and_reports() {
        let r = call("command", json!({"_raw_params": "echo 'hello world'"}));
        assert_eq!(r["rc"], json!(0));
        assert_eq!(r["stdout"], json!("hello world"));
        assert_eq!(r["stdout_lines"], json!(["hello world"]));
        assert_eq!(r["cmd"], json!(["echo", "hello world"]));
        assert_eq!(r["changed"], json!(true));
        assert_eq!(r["msg"], json!(""));
        assert!(r["delta"].as_str().unwrap().starts_with("0:00:"));
        assert!(r.get("failed").is_none());
    }

    #[test]
    fn nonzero_rc_fails() {
        let r = call(
            "shell",
            json!({"_raw_params": "echo out; echo err >&2; exit 3"}),
        );
        assert_eq!(r["failed"], json!(true));
        assert_eq!(r["msg"], json!("non-zero return code"));
        assert_eq!(r["rc"], json!(3));
        assert_eq!(r["stderr"], json!("err"));
        assert_eq!(r["cmd"], json!("echo out; echo err >&2; exit 3"));
    }

    #[test]
    fn argv_stdin_and_chdir() {
        let dir = tempfile::tempdir().unwrap();
        let r = call(
            "command",
            json!({"argv": ["cat"], "stdin": "abc", "chdir": dir.path()}),
        );
        assert_eq!(r["stdout"], json!("abc"));
        let r = call("command", json!({"argv": ["pwd"], "chdir": dir.path()}));
        assert_eq!(r["stdout"], json!(dir.path().canonicalize().unwrap()));
        let r = call(
            "command",
            json!({"argv": ["od", "-c"], "stdin": "x", "stdin_add_newline": false, "strip_empty_ends": false}),
        );
        assert!(!r["stdout"].as_str().unwrap().contains("\\n"));
    }

    #[test]
    fn creates_and_removes_skip() {
        let dir = tempfile::tempdir().unwrap();
        let r = call(
            "command",
            json!({"_raw_params": "false", "creates": dir.path()}),
        );
        assert_eq!(r["changed"], json!(false));
        assert_eq!(
            r["msg"],
            json!(format!(
                "Did not run command since '{}' exists",
                dir.path().display()
            ))
        );
        assert_eq!(r["rc"], json!(0));
        assert!(r["start"].is_null());
        let r = call(
            "command",
            json!({"_raw_params": "false", "removes": "/nonexistent/rsible*"}),
        );
        assert_eq!(
            r["stdout"],
            json!("skipped, since /nonexistent/rsible* does not exist")
        );
    }

    #[test]
    fn missing_program_fails_like_ansible() {
        // Reference: command 'nonexistent-cmd a'
        let r = call("command", json!({"_raw_params": "nonexistent-cmd a"}));
        assert_eq!(r["failed"], json!(true));
        assert_eq!(r["rc"], json!(2));
        assert_eq!(r["cmd"], json!("nonexistent-cmd a"));
        assert_eq!(
            r["msg"],
            json!("[Errno 2] No such file or directory: b'nonexistent-cmd'")
        );
    }

    #[test]
    fn empty_and_conflicting_input() {
        let r = call("command", json!({}));
        assert_eq!(r["msg"], json!("no command given"));
        assert_eq!(r["rc"], json!(256));
        let r = call("command", json!({"_raw_params": "a", "argv": ["b"]}));
        assert_eq!(
            r["msg"],
            json!("only command or argv can be given, not both")
        );
    }

    #[test]
    fn shell_executable_and_env() {
        let ctx = ModuleContext {
            env: [("RSIBLE_X".to_string(), "42".to_string())].into(),
            ..Default::default()
        };
        let args = json!({"_raw_params": "echo $RSIBLE_X", "executable": "/bin/bash"});
        let r = run_module("shell", args.as_object().unwrap(), &ctx);
        assert_eq!(r["stdout"], json!("42"));
    }

    #[test]
    fn check_mode_does_not_run() {
        let ctx = ModuleContext {
            check_mode: true,
            ..Default::default()
        };
        // A path of this test's own: a fixed /tmp name may be left by anyone.
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("should-not-exist");
        let args = json!({"_raw_params": format!("touch {}", target.display())});
        let r = run_module("command", args.as_object().unwrap(), &ctx);
        assert_eq!(r["skipped"], json!(true));
        assert_eq!(r["changed"], json!(false));
        assert!(!target.exists());
    }
}
