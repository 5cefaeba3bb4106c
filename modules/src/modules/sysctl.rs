//! `ansible.posix.sysctl`: keep a kernel parameter in a sysctl file, optionally set it
//! now (`sysctl -w`) and reload the file (`sysctl -p FILE`), as the collection module
//! does on Linux.

use super::{Kind, ModuleContext, ModuleFail, ModuleOutcome, Param, ParamDefault};
use crate::util::atomic::{write_atomic, NewMode};
use crate::util::fs_attrs::py_os_error;
use serde_json::{json, Map, Value};
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

pub const SPEC: &[Param] = &[
    Param::new("name", Kind::Str).required().aliases(&["key"]),
    Param::new("value", Kind::Str).aliases(&["val"]),
    Param::new("state", Kind::Str)
        .default(ParamDefault::Str("present"))
        .choices(&["present", "absent"]),
    Param::new("reload", Kind::Bool).default(ParamDefault::Bool(true)),
    Param::new("sysctl_set", Kind::Bool).default(ParamDefault::Bool(false)),
    Param::new("ignoreerrors", Kind::Bool).default(ParamDefault::Bool(false)),
    Param::new("sysctl_file", Kind::Path).default(ParamDefault::Str("/etc/sysctl.conf")),
];

/// The module runs sysctl with a C locale so its messages can be recognised.
const LANG_ENV: [(&str, &str); 3] = [("LANG", "C"), ("LC_ALL", "C"), ("LC_MESSAGES", "C")];

/// Booleans in the value are written as 1/0 (the module's `_parse_value`).
fn parse_value(value: &str) -> String {
    match value.to_lowercase().as_str() {
        "y" | "yes" | "on" | "1" | "true" | "t" => "1".into(),
        "n" | "no" | "off" | "0" | "false" | "f" => "0".into(),
        _ => value.trim().to_string(),
    }
}

/// Same whitespace-separated words in the same order.
fn values_equal(a: Option<&str>, b: &str) -> bool {
    a.is_some_and(|a| a.split_whitespace().eq(b.split_whitespace()))
}

/// Python's `str.strip()` whitespace set is wider than ASCII; sysctl files are ASCII.
fn py_strip(s: &str) -> &str {
    s.trim()
}

struct Sysctl<'a> {
    name: String,
    value: String,
    present: bool,
    ignoreerrors: bool,
    file: String,
    ctx: &'a ModuleContext,
}

impl Sysctl<'_> {
    fn run_sysctl(&self, args: &[&str]) -> Result<(i32, String, String), ModuleFail> {
        let sysctl = crate::util::run::required_bin("sysctl", self.ctx)?;
        let out = Command::new(&sysctl)
            .args(args)
            .envs(&self.ctx.env)
            .envs(LANG_ENV)
            .stdin(Stdio::null())
            .output()
            .map_err(|e| {
                ModuleFail::msg(format!(
                    "[Errno {}] {e}: b'{sysctl}'",
                    e.raw_os_error().unwrap_or(0)
                ))
            })?;
        Ok((
            out.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        ))
    }

    /// `sysctl -e -n NAME`; None when sysctl fails (no such key).
    fn current_value(&self) -> Result<Option<String>, ModuleFail> {
        let (rc, out, _) = self.run_sysctl(&["-e", "-n", &self.name])?;
        Ok((rc == 0).then_some(out))
    }

    fn set_value(&self) -> Result<(), ModuleFail> {
        let assignment = format!("{}={}", self.name, self.value);
        let mut args = Vec::new();
        if self.ignoreerrors {
            args.push("-e");
        }
        args.extend(["-w", assignment.as_str()]);
        let (rc, out, err) = self.run_sysctl(&args)?;
        if rc != 0 || stderr_failed(&err) {
            return Err(ModuleFail::msg(format!(
                "setting {} failed: {out}{err}",
                self.name
            )));
        }
        Ok(())
    }

    fn reload(&self) -> Result<(), ModuleFail> {
        let mut args = Vec::new();
        if self.ignoreerrors {
            args.push("-e");
        }
        args.extend(["-p", self.file.as_str()]);
        let (rc, out, err) = self.run_sysctl(&args)?;
        if rc != 0 || stderr_failed(&err) {
            return Err(ModuleFail::msg(format!(
                "Failed to reload sysctl: {out}{err}"
            )));
        }
        Ok(())
    }
}

/// Errors sysctl reports on stderr while still exiting 0.
fn stderr_failed(err: &str) -> bool {
    err.lines().any(|l| {
        l.strip_prefix("sysctl: setting key \"")
            .and_then(|rest| rest.split_once("\": "))
            .is_some_and(|(key, why)| {
                !key.contains('"') && matches!(why, "Invalid argument" | "Read-only file system")
            })
    })
}

pub fn run(params: &Map<String, Value>, ctx: &ModuleContext) -> ModuleOutcome {
    let s = |k: &str| params.get(k).and_then(Value::as_str).map(str::to_string);
    let b = |k: &str| params.get(k).and_then(Value::as_bool).unwrap_or(false);
    let present = s("state").as_deref() != Some("absent");
    let raw_value = s("value");
    if present && raw_value.is_none() {
        return Err(ModuleFail::msg(
            "state is present but all of the following are missing: value",
        ));
    }
    let name = s("name").unwrap_or_default();
    if name.is_empty() {
        return Err(ModuleFail::msg("name cannot be blank"));
    }
    if present && raw_value.as_deref() == Some("") {
        return Err(ModuleFail::msg("value cannot be blank"));
    }
    let job = Sysctl {
        name: py_strip(&name).to_string(),
        value: raw_value.as_deref().map(parse_value).unwrap_or_default(),
        present,
        ignoreerrors: b("ignoreerrors"),
        file: s("sysctl_file").unwrap_or_else(|| "/etc/sysctl.conf".into()),
        ctx,
    };
    let reload = b("reload");
    let proc_value = job.current_value()?;
    let lines = read_lines(Path::new(&job.file))?;
    let file_value = file_value_of(&lines, &job.name);
    let fixed = fix_lines(&lines, &job);

    let mut changed = false;
    let mut write_file = false;
    let mut set_proc = false;
    match (&file_value, present) {
        (None, true) => {
            changed = true;
            write_file = true;
        }
        (None, false) => {}
        (Some(v), false) if !v.is_empty() => {
            changed = true;
            write_file = true;
        }
        (Some(v), _) if *v != job.value => {
            changed = true;
            write_file = true;
        }
        _ => {
            if reload && !values_equal(proc_value.as_deref(), &job.value) {
                changed = true;
            }
        }
    }
    if b("sysctl_set") && present {
        if proc_value.is_none() {
            changed = true;
        } else if !values_equal(proc_value.as_deref(), &job.value) {
            changed = true;
            set_proc = true;
        }
    }
    if !ctx.check_mode {
        if set_proc {
            job.set_value()?;
        }
        if write_file {
            write_sysctl(&job.file, &fixed)?;
        }
        if changed && reload {
            job.reload()?;
        }
    }
    let mut r = Map::new();
    r.insert("changed".into(), json!(changed));
    Ok(r)
}

/// The file's lines, stripped (an absent file has none).
fn read_lines(path: &Path) -> Result<Vec<String>, ModuleFail> {
    if !path.is_file() {
        return Ok(Vec::new());
    }
    let data = fs::read(path).map_err(|e| {
        ModuleFail::msg(format!(
            "Failed to open {}: {}",
            path.display(),
            py_os_error(&e, path)
        ))
    })?;
    Ok(String::from_utf8_lossy(&data)
        .split_inclusive('\n')
        .map(|l| py_strip(l).to_string())
        .collect())
}

/// `key = value` of a line that is an assignment (not blank, not a comment).
fn assignment(line: &str) -> Option<(&str, &str)> {
    if line.is_empty() || line.starts_with('#') || line.starts_with(';') {
        return None;
    }
    let (k, v) = line.split_once('=')?;
    Some((py_strip(k), py_strip(v)))
}

/// The value the file gives `name` (the last assignment wins, as in the module).
fn file_value_of(lines: &[String], name: &str) -> Option<String> {
    lines
        .iter()
        .rev()
        .filter_map(|l| assignment(l))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.to_string())
}

/// The new file: assignments normalised to `k=v`, later duplicates dropped, the
/// parameter set (or removed) where it first appears, else appended.
fn fix_lines(lines: &[String], job: &Sysctl) -> Vec<String> {
    let mut seen: Vec<&str> = Vec::new();
    let mut out = Vec::new();
    for line in lines {
        let Some((k, v)) = assignment(line) else {
            out.push(line.clone());
            continue;
        };
        if seen.contains(&k) {
            continue;
        }
        seen.push(k);
        if k == job.name {
            if job.present {
                out.push(format!("{k}={}", job.value));
            }
        } else {
            out.push(format!("{k}={v}"));
        }
    }
    if job.present && !seen.contains(&job.name.as_str()) {
        out.push(format!("{}={}", job.name, job.value));
    }
    out
}

/// Python's `os.path.realpath` for a file that may not exist yet.
fn real_path(path: &Path) -> PathBuf {
    if let Ok(p) = fs::canonicalize(path) {
        return p;
    }
    match (path.parent(), path.file_name()) {
        (Some(parent), Some(name)) if !parent.as_os_str().is_empty() => fs::canonicalize(parent)
            .map(|p| p.join(name))
            .unwrap_or_else(|_| path.to_path_buf()),
        _ => path.to_path_buf(),
    }
}

fn write_sysctl(file: &str, lines: &[String]) -> Result<(), ModuleFail> {
    let text: String = lines.iter().map(|l| format!("{}\n", py_strip(l))).collect();
    let real = real_path(Path::new(file));
    write_atomic(&real, &mut text.as_bytes(), NewMode::KeepExisting)
        .map(|_| ())
        .map_err(|e| {
            ModuleFail::msg(format!(
                "Failed to write to file {}: {}",
                real.display(),
                py_os_error(&e, &real)
            ))
        })
}

#[cfg(test)]
mod tests {
    use super::super::run_module;
    use super::*;

    fn call(args: Value, check: bool) -> Value {
        let ctx = ModuleContext {
            check_mode: check,
            ..Default::default()
        };
        run_module("ansible.posix.sysctl", args.as_object().unwrap(), &ctx)
    }

    #[test]
    fn file_only_changes_and_is_idempotent() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("99-k8s.conf");
        fs::write(&f, "# keep\nnet.ipv4.ip_forward = 0\nvm.x=1\nvm.x=2\n").unwrap();
        let args = json!({"name": "net.ipv4.ip_forward", "value": "yes", "sysctl_file": f, "reload": false});
        assert_eq!(call(args.clone(), true)["changed"], json!(true));
        assert!(fs::read_to_string(&f).unwrap().contains("ip_forward = 0"));
        assert_eq!(call(args.clone(), false)["changed"], json!(true));
        assert_eq!(
            fs::read_to_string(&f).unwrap(),
            "# keep\nnet.ipv4.ip_forward=1\nvm.x=1\n"
        );
        assert_eq!(call(args, false)["changed"], json!(false));
        let r = call(
            json!({"name": "vm.x", "state": "absent", "sysctl_file": f, "reload": false}),
            false,
        );
        assert_eq!(r["changed"], json!(true));
        assert_eq!(
            fs::read_to_string(&f).unwrap(),
            "# keep\nnet.ipv4.ip_forward=1\n"
        );
    }

    #[test]
    fn bad_input_fails_with_the_module_messages() {
        let r = call(json!({"name": "a.b"}), false);
        assert_eq!(
            r["msg"],
            json!("state is present but all of the following are missing: value")
        );
        let r = call(json!({"name": "", "value": "1"}), false);
        assert_eq!(r["msg"], json!("name cannot be blank"));
        assert!(stderr_failed(
            "x\nsysctl: setting key \"a.b\": Invalid argument\n"
        ));
        assert!(!stderr_failed("sysctl: cannot stat /proc/sys/a/b"));
    }
}
