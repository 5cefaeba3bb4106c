//! `community.general.modprobe`: load or unload a kernel module with `modprobe`, and
//! keep it (with its parameters) in /etc/modules-load.d and /etc/modprobe.d when
//! `persistent` asks for it, following the collection module's file handling.

use super::{Kind, ModuleContext, ModuleFail, ModuleOutcome, Param, ParamDefault};
use crate::util::bin_path::{get_bin_path, missing_message};
use crate::util::fs_attrs::py_os_error;
use crate::util::shlex;
use regex::Regex;
use serde_json::{json, Map, Value};
use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

pub const SPEC: &[Param] = &[
    Param::new("name", Kind::Str).required(),
    Param::new("state", Kind::Str)
        .default(ParamDefault::Str("present"))
        .choices(&["absent", "present"]),
    Param::new("params", Kind::Str).default(ParamDefault::Str("")),
    Param::new("persistent", Kind::Str)
        .default(ParamDefault::Str("disabled"))
        .choices(&["disabled", "present", "absent"]),
];

/// Where the module looks; the real locations except in tests.
pub(crate) struct Locations {
    pub modules_load: PathBuf,
    pub modprobe_d: PathBuf,
    pub proc_modules: PathBuf,
    pub builtin_list: PathBuf,
    /// The modprobe to run; None: looked up as Ansible's get_bin_path does.
    pub modprobe_bin: Option<PathBuf>,
}

impl Locations {
    fn system() -> Locations {
        // SAFETY: uname fills the struct it is given; the fields are NUL-terminated.
        let release = unsafe {
            let mut u: libc::utsname = std::mem::zeroed();
            if libc::uname(&mut u) == 0 {
                std::ffi::CStr::from_ptr(u.release.as_ptr())
                    .to_string_lossy()
                    .into_owned()
            } else {
                String::new()
            }
        };
        Locations {
            modules_load: "/etc/modules-load.d".into(),
            modprobe_d: "/etc/modprobe.d".into(),
            proc_modules: "/proc/modules".into(),
            builtin_list: Path::new("/lib/modules/")
                .join(release)
                .join("modules.builtin"),
            modprobe_bin: None,
        }
    }
}

struct Modprobe<'a> {
    ctx: &'a ModuleContext,
    loc: Locations,
    modprobe: String,
    name: String,
    params: String,
    state: String,
    changed: bool,
    warnings: Vec<String>,
    find_module: Regex,
    find_params: Regex,
    params_and_values: Regex,
}

pub fn run(params: &Map<String, Value>, ctx: &ModuleContext) -> ModuleOutcome {
    run_at(params, ctx, Locations::system())
}

/// Looked up in the PATH the module's process has: the task's `environment` first.
fn find_modprobe(ctx: &ModuleContext) -> Result<String, ModuleFail> {
    get_bin_path("modprobe", &ctx.env)
        .ok_or_else(|| ModuleFail::msg(missing_message("modprobe", &ctx.env)))
}

pub(crate) fn run_at(
    params: &Map<String, Value>,
    ctx: &ModuleContext,
    loc: Locations,
) -> ModuleOutcome {
    let s = |k: &str| {
        params
            .get(k)
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string()
    };
    let name = s("name");
    let modprobe = match &loc.modprobe_bin {
        Some(p) => p.display().to_string(),
        None => find_modprobe(ctx)?,
    };
    // The module builds these patterns from the name as given (no escaping).
    let compile = |p: String| {
        Regex::new(&p).map_err(|e| ModuleFail::msg(format!("rsible agent: bad module name: {e}")))
    };
    let mut m = Modprobe {
        ctx,
        loc,
        modprobe,
        find_module: compile(format!(r"^ *{name} *(?:[#;].*)?\n?\z"))?,
        find_params: compile(format!(r"^options {name} \w+=\S+ *(?:[#;].*)?\n?\z"))?,
        params_and_values: compile(format!(r"^options {name} (\w+=\S+) *(?:[#;].*)?\n?\z"))?,
        name,
        params: s("params"),
        state: s("state"),
        changed: false,
        warnings: Vec::new(),
    };
    let persistent = s("persistent");
    if m.state == "present" && !m.loaded()? {
        m.load()?;
    } else if m.state == "absent" && m.loaded()? {
        m.unload()?;
    }
    if persistent == "present" && !(m.persistently_loaded()? && m.params_set()?) {
        m.load_permanent()?;
    } else if persistent == "absent"
        && (m.persistently_loaded()? || !m.permanent_params()?.is_empty())
    {
        m.unload_permanent()?;
    }
    let mut r = m.result();
    if !m.warnings.is_empty() {
        r.insert("warnings".into(), json!(m.warnings));
    }
    Ok(r)
}

fn os_fail(e: &std::io::Error, p: &Path) -> ModuleFail {
    ModuleFail::msg(py_os_error(e, p))
}

/// Regular files directly in `dir` (none when it is not a directory).
fn files_in(dir: &Path) -> Vec<PathBuf> {
    let Ok(entries) = fs::read_dir(dir) else {
        return Vec::new();
    };
    entries
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.is_file())
        .collect()
}

/// Python's `readlines()` on a text file.
fn read_lines(p: &Path) -> Result<Vec<String>, ModuleFail> {
    let data = fs::read(p).map_err(|e| os_fail(&e, p))?;
    Ok(String::from_utf8_lossy(&data)
        .split_inclusive('\n')
        .map(str::to_string)
        .collect())
}

impl Modprobe<'_> {
    fn result(&self) -> Map<String, Value> {
        let mut r = Map::new();
        r.insert("changed".into(), json!(self.changed));
        r.insert("name".into(), json!(self.name));
        r.insert("params".into(), json!(self.params));
        r.insert("state".into(), json!(self.state));
        r
    }

    fn fail(&self, msg: String) -> ModuleFail {
        let mut f = ModuleFail::msg(msg);
        for (k, v) in self.result() {
            f = f.with(&k, v);
        }
        f
    }

    fn command(&self, args: &[String]) -> Result<(i32, String, String), ModuleFail> {
        let out = Command::new(&self.modprobe)
            .args(args)
            .envs(&self.ctx.env)
            .stdin(Stdio::null())
            .output()
            .map_err(|e| self.fail(format!("[Errno {}] {e}", e.raw_os_error().unwrap_or(0))))?;
        Ok((
            out.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        ))
    }

    fn split_params(&self) -> Result<Vec<String>, ModuleFail> {
        shlex::split(&self.params).map_err(|e| self.fail(e))
    }

    /// In /proc/modules, or built into the kernel (modules.builtin).
    fn loaded(&self) -> Result<bool, ModuleFail> {
        let prefix = format!("{} ", self.name.replace('-', "_"));
        let text = fs::read_to_string(&self.loc.proc_modules).map_err(|e| {
            self.fail(py_os_error(&e, &self.loc.proc_modules))
                .with("exception", json!(e.to_string()))
        })?;
        if text.lines().any(|l| l.starts_with(&prefix)) {
            return Ok(true);
        }
        let ko = format!("/{}.ko", self.name);
        let builtins = fs::read_to_string(&self.loc.builtin_list).map_err(|e| {
            self.fail(py_os_error(&e, &self.loc.builtin_list))
                .with("exception", json!(e.to_string()))
        })?;
        Ok(builtins.lines().any(|l| l.trim_end().ends_with(&ko)))
    }

    fn load(&mut self) -> Result<(), ModuleFail> {
        let mut args = Vec::new();
        if self.ctx.check_mode {
            args.push("-n".to_string());
        }
        args.push(self.name.clone());
        args.extend(self.split_params()?);
        let (rc, out, err) = self.command(&args)?;
        if rc != 0 {
            return Err(self
                .fail(err.clone())
                .with("rc", json!(rc))
                .with("stdout", json!(out))
                .with("stderr", json!(err)));
        }
        if self.ctx.check_mode || self.loaded()? {
            self.changed = true;
        } else {
            let mut args = vec![
                "-n".to_string(),
                "--first-time".to_string(),
                self.name.clone(),
            ];
            args.extend(self.split_params()?);
            let (rc, _, stderr) = self.command(&args)?;
            if rc != 0 {
                self.warnings.push(stderr);
            }
        }
        Ok(())
    }

    fn unload(&mut self) -> Result<(), ModuleFail> {
        let mut args = vec!["-r".to_string(), self.name.clone()];
        if self.ctx.check_mode {
            args.push("-n".into());
        }
        let (rc, out, err) = self.command(&args)?;
        if rc != 0 {
            return Err(self
                .fail(err.clone())
                .with("rc", json!(rc))
                .with("stdout", json!(out))
                .with("stderr", json!(err)));
        }
        self.changed = true;
        Ok(())
    }

    fn persistently_loaded(&self) -> Result<bool, ModuleFail> {
        for f in files_in(&self.loc.modules_load) {
            if read_lines(&f)?.iter().any(|l| self.find_module.is_match(l)) {
                return Ok(true);
            }
        }
        Ok(false)
    }

    fn permanent_params(&self) -> Result<BTreeSet<String>, ModuleFail> {
        let mut set = BTreeSet::new();
        for f in files_in(&self.loc.modprobe_d) {
            for line in read_lines(&f)? {
                if let Some(c) = self.params_and_values.captures(&line) {
                    set.insert(c[1].to_string());
                }
            }
        }
        Ok(set)
    }

    fn params_set(&self) -> Result<bool, ModuleFail> {
        let wanted: BTreeSet<String> = self.params.split_whitespace().map(str::to_string).collect();
        Ok(wanted == self.permanent_params()?)
    }

    fn write(&self, p: &Path, text: &str) -> Result<(), ModuleFail> {
        if self.ctx.check_mode {
            return Ok(());
        }
        fs::write(p, text).map_err(|e| os_fail(&e, p))
    }

    /// Comment out matching lines; the module writes the lines back joined with a
    /// newline although each still ends in one (so blank lines appear), kept as is.
    fn comment_out(&self, files: Vec<PathBuf>, re: &Regex) -> Result<(), ModuleFail> {
        for f in files {
            let mut lines = read_lines(&f)?;
            let mut changed = false;
            for line in lines.iter_mut() {
                if re.is_match(line) {
                    line.insert(0, '#');
                    changed = true;
                }
            }
            if changed {
                self.write(&f, &lines.join("\n"))?;
            }
        }
        Ok(())
    }

    fn load_permanent(&mut self) -> Result<(), ModuleFail> {
        if !self.persistently_loaded()? {
            let p = self.loc.modules_load.join(format!("{}.conf", self.name));
            self.write(&p, &format!("{}\n", self.name))?;
            self.changed = true;
        }
        if !self.params_set()? {
            self.comment_out(files_in(&self.loc.modprobe_d), &self.find_params)?;
            let content: Vec<String> = self
                .params
                .split_whitespace()
                .map(|p| format!("options {} {p}", self.name))
                .collect();
            let p = self.loc.modprobe_d.join(format!("{}.conf", self.name));
            self.write(&p, &format!("{}\n", content.join("\n")))?;
            self.changed = true;
        }
        Ok(())
    }

    fn unload_permanent(&mut self) -> Result<(), ModuleFail> {
        if self.persistently_loaded()? {
            self.comment_out(files_in(&self.loc.modules_load), &self.find_module)?;
            self.changed = true;
        }
        if !self.permanent_params()?.is_empty() {
            self.comment_out(files_in(&self.loc.modprobe_d), &self.find_params)?;
            self.changed = true;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A fake system: module `loaded_mod` is loaded, `builtin_mod` is built in; a
    /// `modprobe` script that records its arguments stands in for the real one.
    fn fake_system(dir: &Path) -> Locations {
        for sub in ["load", "probe"] {
            fs::create_dir(dir.join(sub)).unwrap();
        }
        fs::write(dir.join("modules"), "loaded_mod 16384 0 - Live 0x0\n").unwrap();
        fs::write(dir.join("builtin"), "kernel/net/builtin_mod.ko\n").unwrap();
        let bin = dir.join("modprobe");
        let log = dir.join("calls");
        fs::write(
            &bin,
            format!("#!/bin/sh\necho \"$*\" >> {}\n", log.display()),
        )
        .unwrap();
        use std::os::unix::fs::PermissionsExt;
        fs::set_permissions(&bin, fs::Permissions::from_mode(0o755)).unwrap();
        Locations {
            modules_load: dir.join("load"),
            modprobe_d: dir.join("probe"),
            proc_modules: dir.join("modules"),
            builtin_list: dir.join("builtin"),
            modprobe_bin: Some(bin),
        }
    }

    fn call(dir: &Path, v: Value, check_mode: bool) -> ModuleOutcome {
        let ctx = ModuleContext {
            check_mode,
            ..Default::default()
        };
        run_at(&args(v), &ctx, locations_under(dir))
    }

    fn locations_under(dir: &Path) -> Locations {
        let mut l = Locations::system();
        l.modules_load = dir.join("load");
        l.modprobe_d = dir.join("probe");
        l.proc_modules = dir.join("modules");
        l.builtin_list = dir.join("builtin");
        l.modprobe_bin = Some(dir.join("modprobe"));
        l
    }

    #[test]
    fn persistent_files_are_written_and_commented_out() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        let loc = fake_system(d);
        let (load, probe) = (loc.modules_load.clone(), loc.modprobe_d.clone());
        fs::write(probe.join("old.conf"), "options loaded_mod x=1\nkeep\n").unwrap();
        let a = json!({"name": "loaded_mod", "params": "y=2", "persistent": "present"});
        // Check mode reports the change and writes nothing.
        assert_eq!(call(d, a.clone(), true).unwrap()["changed"], json!(true));
        assert!(!load.join("loaded_mod.conf").exists());
        let r = call(d, a.clone(), false).unwrap();
        assert_eq!(r["changed"], json!(true));
        assert_eq!(r["params"], json!("y=2"));
        assert_eq!(
            fs::read_to_string(load.join("loaded_mod.conf")).unwrap(),
            "loaded_mod\n"
        );
        assert_eq!(
            fs::read_to_string(probe.join("loaded_mod.conf")).unwrap(),
            "options loaded_mod y=2\n"
        );
        // The module's own quirk: lines rejoined with an extra newline.
        assert_eq!(
            fs::read_to_string(probe.join("old.conf")).unwrap(),
            "#options loaded_mod x=1\n\nkeep\n"
        );
        assert_eq!(call(d, a, false).unwrap()["changed"], json!(false));
        // Loaded already: modprobe never ran.
        assert!(!d.join("calls").exists());
        let r = call(
            d,
            json!({"name": "loaded_mod", "persistent": "absent"}),
            false,
        )
        .unwrap();
        assert_eq!(r["changed"], json!(true));
        assert_eq!(
            fs::read_to_string(load.join("loaded_mod.conf")).unwrap(),
            "#loaded_mod\n"
        );
        let r = call(
            d,
            json!({"name": "builtin_mod", "persistent": "absent"}),
            false,
        )
        .unwrap();
        assert_eq!(r["changed"], json!(false));
    }

    #[test]
    fn loading_and_unloading_run_modprobe() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        fake_system(d);
        // Not loaded: modprobe NAME PARAMS; the fake does not load it, so the module
        // asks again with --first-time and reports no change (as Ansible's would).
        let r = call(
            d,
            json!({"name": "br_netfilter", "params": "a=1 'b=2 3'"}),
            false,
        )
        .unwrap();
        assert_eq!(r["changed"], json!(false));
        let r = call(d, json!({"name": "br_netfilter"}), true).unwrap();
        assert_eq!(r["changed"], json!(true));
        let r = call(d, json!({"name": "loaded_mod", "state": "absent"}), false).unwrap();
        assert_eq!(r["changed"], json!(true));
        assert_eq!(
            fs::read_to_string(d.join("calls")).unwrap(),
            "br_netfilter a=1 b=2 3\n-n --first-time br_netfilter a=1 b=2 3\n-n br_netfilter\n-r loaded_mod\n"
        );
    }

    #[test]
    fn missing_proc_modules_fails_like_the_module() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        fake_system(d);
        fs::remove_file(d.join("modules")).unwrap();
        let f = call(d, json!({"name": "x"}), false).unwrap_err();
        assert_eq!(
            f.0["msg"],
            json!(format!(
                "[Errno 2] No such file or directory: '{}'",
                d.join("modules").display()
            ))
        );
        assert_eq!(f.0["name"], json!("x"));
    }

    fn args(v: Value) -> Map<String, Value> {
        let (p, _) = super::super::validate(
            "community.general.modprobe",
            SPEC,
            v.as_object().unwrap(),
            &Default::default(),
        )
        .unwrap();
        p
    }
}
