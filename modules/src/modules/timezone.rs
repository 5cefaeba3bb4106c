//! `community.general.timezone` on Linux: the system time zone (`name`) and whether
//! the hardware clock keeps local time or UTC (`hwclock`), as the collection's module
//! sets them. With a usable `timedatectl` (it answers without error: systemd runs)
//! through `timedatectl set-timezone`/`set-local-rtc`; otherwise by editing
//! /etc/timezone (Debian family, then `ln -sf` + `dpkg-reconfigure tzdata`),
//! /etc/sysconfig/clock (Red Hat, SUSE) or Alpine's `setup-timezone`, and
//! `hwclock --systohc`. Results, `diff`, messages and check mode as the module's.

use super::{Kind, ModuleContext, ModuleFail, ModuleOutcome, Param};
use crate::util::bin_path::get_bin_path;
use crate::util::run::{required_bin, run, Output};
use crate::util::shlex;
use regex::Regex;
use serde_json::{json, Map, Value};
use std::fs;
use std::io::ErrorKind;
use std::path::Path;

pub const SPEC: &[Param] = &[
    Param::new("hwclock", Kind::Str)
        .choices(&["local", "UTC"])
        .aliases(&["rtc"]),
    Param::new("name", Kind::Str),
];

/// The parameters the module manages, in its argument_spec order.
const KEYS: [&str; 2] = ["hwclock", "name"];

/// One managed setting: its planned value and what was read before and after.
struct Setting {
    key: &'static str,
    planned: String,
    before: String,
    after: String,
}

/// The module's running state: its settings and the messages it collects.
struct Run<'a> {
    ctx: &'a ModuleContext,
    settings: Vec<Setting>,
    msg: Vec<String>,
}

impl Run<'_> {
    /// `abort`: the error message, with the messages collected so far.
    fn abort(&self, msg: &str) -> ModuleFail {
        let mut lines = vec!["Error message:".to_string(), msg.to_string()];
        if !self.msg.is_empty() {
            lines.push("Other message(s):".into());
            lines.extend(self.msg.iter().cloned());
        }
        ModuleFail::msg(lines.join("\n"))
    }

    fn planned(&self, key: &str) -> Option<&str> {
        self.settings
            .iter()
            .find(|s| s.key == key)
            .map(|s| s.planned.as_str())
    }

    /// `execute`: the words joined and run as one command line (split again as
    /// run_command splits a string), failing as `check_rc=True` does.
    fn execute(&mut self, words: &[&str], log: bool) -> Result<String, ModuleFail> {
        let command = words.join(" ");
        let argv = shlex::split(&command).map_err(ModuleFail::msg)?;
        let o: Output = run(&argv, self.ctx, None)?;
        if o.rc != 0 {
            return Err(ModuleFail::msg(o.err.trim_end())
                .with("cmd", json!(shlex::join(&argv)))
                .with("rc", json!(o.rc))
                .with("stdout", json!(o.out))
                .with("stderr", json!(o.err)));
        }
        if log {
            self.msg.push(format!("executed `{command}`"));
        }
        Ok(o.out)
    }

    /// `_verify_timezone`: the zone file of the planned name.
    fn verify_timezone(&self) -> Result<String, ModuleFail> {
        let tz = self.planned("name").unwrap_or_default();
        let tzfile = format!("/usr/share/zoneinfo/{tz}");
        if !Path::new(&tzfile).is_file() {
            return Err(self.abort(&format!("given timezone \"{tz}\" is not available")));
        }
        Ok(tzfile)
    }
}

/// `module.boolean`: Ansible's boolean strings, or its failure.
fn module_boolean(value: &str) -> Result<bool, ModuleFail> {
    match value.to_lowercase().as_str() {
        "y" | "yes" | "on" | "1" | "true" | "t" => Ok(true),
        "n" | "no" | "off" | "0" | "false" | "f" => Ok(false),
        _ => Err(ModuleFail::msg(format!(
            "The value '{value}' is not a valid boolean.  Valid booleans include: 0, 1, 'y', '0', 'yes', 'n', 'on', '1', 'false', 'no', 'off', 'true', 't', 'f'"
        ))),
    }
}

/// How the platform reads and writes the settings.
trait Backend {
    fn get(&mut self, run: &mut Run, key: &str, phase: &str) -> Result<String, ModuleFail>;
    fn set(&mut self, run: &mut Run, key: &str, value: &str) -> Result<(), ModuleFail>;
}

pub fn run_module(params: &Map<String, Value>, ctx: &ModuleContext) -> ModuleOutcome {
    let mut settings = Vec::new();
    for key in KEYS {
        if let Some(v) = params.get(key).and_then(Value::as_str) {
            settings.push(Setting {
                key,
                planned: v.to_string(),
                before: String::new(),
                after: String::new(),
            });
        }
    }
    if settings.is_empty() {
        return Err(ModuleFail::msg(
            "one of the following is required: hwclock, name",
        ));
    }
    let mut run = Run {
        ctx,
        settings,
        msg: Vec::new(),
    };
    let mut backend: Box<dyn Backend> = if timedatectl_usable(ctx) {
        Box::new(Systemd::new(&run)?)
    } else {
        Box::new(NoSystemd::new(&run)?)
    };

    for j in 0..run.settings.len() {
        let key = run.settings[j].key;
        run.settings[j].before = backend.get(&mut run, key, "before")?;
    }
    let after_of = |run: &Run, check: bool| -> Vec<(&'static str, String)> {
        run.settings
            .iter()
            .map(|s| {
                (
                    s.key,
                    if check {
                        s.planned.clone()
                    } else {
                        s.after.clone()
                    },
                )
            })
            .collect()
    };
    if !ctx.check_mode {
        for j in 0..run.settings.len() {
            let (key, planned, before) = {
                let s = &run.settings[j];
                (s.key, s.planned.clone(), s.before.clone())
            };
            if before != planned {
                backend.set(&mut run, key, &planned)?;
            }
        }
        for j in 0..run.settings.len() {
            let key = run.settings[j].key;
            run.settings[j].after = backend.get(&mut run, key, "after")?;
        }
        if run.settings.iter().any(|s| s.after != s.planned) {
            let planned: Vec<(&str, String)> = run
                .settings
                .iter()
                .map(|s| (s.key, s.planned.clone()))
                .collect();
            let after = after_of(&run, false);
            return Err(run.abort(&format!(
                "still not desired state, though changes have made - planned: {}, after: {}",
                py_dict(&planned),
                py_dict(&after)
            )));
        }
    }
    let before: Map<String, Value> = run
        .settings
        .iter()
        .map(|s| (s.key.to_string(), json!(s.before)))
        .collect();
    let after: Map<String, Value> = after_of(&run, ctx.check_mode)
        .into_iter()
        .map(|(k, v)| (k.to_string(), json!(v)))
        .collect();
    let mut r = Map::new();
    r.insert("changed".into(), json!(before != after));
    r.insert("diff".into(), json!({"before": before, "after": after}));
    if !run.msg.is_empty() {
        r.insert("msg".into(), json!(run.msg.join("\n")));
    }
    Ok(r)
}

/// Python's `str()` of a dict of strings.
fn py_dict(items: &[(&str, String)]) -> String {
    let repr = |s: &str| {
        if s.contains('\'') && !s.contains('"') {
            format!("\"{s}\"")
        } else {
            format!("'{}'", s.replace('\\', "\\\\").replace('\'', "\\'"))
        }
    };
    let inner: Vec<String> = items
        .iter()
        .map(|(k, v)| format!("{}: {}", repr(k), repr(v)))
        .collect();
    format!("{{{}}}", inner.join(", "))
}

/// The module's test for systemd: `timedatectl` exists and runs without error.
fn timedatectl_usable(ctx: &ModuleContext) -> bool {
    let Some(bin) = get_bin_path("timedatectl", &ctx.env) else {
        return false;
    };
    run(&[bin], ctx, None).is_ok_and(|o| o.rc == 0)
}

/// systemd hosts: everything through `timedatectl`.
struct Systemd {
    timedatectl: String,
    /// `timedatectl status` per phase (read once each).
    status: Vec<(String, String)>,
}

impl Systemd {
    fn new(run: &Run) -> Result<Systemd, ModuleFail> {
        let timedatectl = required_bin("timedatectl", run.ctx)?;
        if run.planned("name").is_some() {
            run.verify_timezone()?;
        }
        Ok(Systemd {
            timedatectl,
            status: Vec::new(),
        })
    }
}

impl Backend for Systemd {
    fn get(&mut self, run: &mut Run, key: &str, phase: &str) -> Result<String, ModuleFail> {
        let status = match self.status.iter().find(|(p, _)| p == phase) {
            Some((_, s)) => s.clone(),
            None => {
                let s = run.execute(&[&self.timedatectl, "status"], false)?;
                self.status.push((phase.to_string(), s.clone()));
                s
            }
        };
        let pattern = if key == "hwclock" {
            r"(?m)^\s*RTC in local TZ\s*:\s*(\S+)"
        } else {
            r"(?m)^\s*Time ?zone\s*:\s*(\S+)"
        };
        let value = Regex::new(pattern)
            .ok()
            .and_then(|re| re.captures(&status))
            .and_then(|c| c.get(1))
            .map(|m| m.as_str().to_string())
            .ok_or_else(|| {
                ModuleFail::msg(format!(
                    "rsible agent: `timedatectl status` shows no {key} setting"
                ))
                .with("stdout", json!(status))
            })?;
        if key == "hwclock" {
            return Ok(if module_boolean(&value)? {
                "local"
            } else {
                "UTC"
            }
            .to_string());
        }
        Ok(value)
    }

    fn set(&mut self, run: &mut Run, key: &str, value: &str) -> Result<(), ModuleFail> {
        let (subcommand, value) = if key == "hwclock" {
            ("set-local-rtc", if value == "local" { "yes" } else { "no" })
        } else {
            ("set-timezone", value)
        };
        run.execute(&[&self.timedatectl, subcommand, value], true)?;
        Ok(())
    }
}

/// Hosts without systemd: configuration files and commands per distribution.
struct NoSystemd {
    /// The file holding the zone name, its pattern and its line format.
    name_file: String,
    name_re: Regex,
    name_line: fn(&str) -> String,
    /// The file holding `UTC=yes|no`, if the distribution has one.
    hwclock_file: Option<String>,
    update_timezone: Vec<String>,
    hwclock_bin: String,
}

const ADJTIME: &str = "/etc/adjtime";

fn rx(pattern: &str) -> Regex {
    // The patterns are constants of this file, tested below.
    Regex::new(pattern).unwrap_or_else(|_| Regex::new("$^").expect("empty pattern"))
}

/// `get_distribution()`: os-release's ID, capitalised as Python's str.capitalize.
fn distribution() -> String {
    let text = fs::read_to_string("/etc/os-release")
        .or_else(|_| fs::read_to_string("/usr/lib/os-release"))
        .unwrap_or_default();
    let id = text
        .lines()
        .find_map(|l| l.strip_prefix("ID="))
        .map(|v| v.trim().trim_matches(|c| c == '"' || c == '\'').to_string())
        .unwrap_or_default();
    let mut chars = id.chars();
    match chars.next() {
        None => "OtherLinux".into(),
        Some(first) => {
            let name = first.to_uppercase().collect::<String>() + &chars.as_str().to_lowercase();
            match name.as_str() {
                "Amzn" => "Amazon".into(),
                "Rhel" => "Redhat".into(),
                _ => name,
            }
        }
    }
}

impl NoSystemd {
    fn new(run: &Run) -> Result<NoSystemd, ModuleFail> {
        let planned_tz = run.planned("name").map(str::to_string);
        let mut update_timezone = Vec::new();
        let mut tzfile = String::new();
        if planned_tz.is_some() {
            tzfile = run.verify_timezone()?;
            update_timezone = vec![format!(
                "{} --remove-destination {tzfile} /etc/localtime",
                required_bin("cp", run.ctx)?
            )];
        }
        let hwclock_bin = required_bin("hwclock", run.ctx)?;
        let distribution = distribution();
        let mut tz = NoSystemd {
            name_file: "/etc/timezone".into(),
            name_re: rx(r"(?m)^(\S+)"),
            name_line: |v| format!("{v}\n"),
            hwclock_file: None,
            update_timezone,
            hwclock_bin,
        };
        if get_bin_path("dpkg-reconfigure", &run.ctx.env).is_some() {
            if planned_tz.is_some() {
                tz.update_timezone = vec![
                    format!(
                        "{} -sf {tzfile} /etc/localtime",
                        required_bin("ln", run.ctx)?
                    ),
                    format!(
                        "{} --frontend noninteractive tzdata",
                        required_bin("dpkg-reconfigure", run.ctx)?
                    ),
                ];
            }
            tz.hwclock_file = Some("/etc/default/rcS".into());
        } else if distribution == "Alpine" || distribution == "Gentoo" {
            tz.hwclock_file = Some("/etc/conf.d/hwclock".into());
            if distribution == "Alpine" {
                tz.update_timezone = vec![format!(
                    "{} -z {}",
                    required_bin("setup-timezone", run.ctx)?,
                    planned_tz.unwrap_or_default()
                )];
            }
        } else {
            if get_bin_path("tzdata-update", &run.ctx.env).is_some()
                && !is_symlink("/etc/localtime")
            {
                tz.update_timezone = vec![required_bin("tzdata-update", run.ctx)?];
            }
            tz.name_file = "/etc/sysconfig/clock".into();
            tz.hwclock_file = Some("/etc/sysconfig/clock".into());
            let suse = match fs::read(&tz.name_file) {
                Ok(bytes) => rx(r"(?m)^TIMEZONE\s*=").is_match(&String::from_utf8_lossy(&bytes)),
                Err(e) if e.kind() == ErrorKind::NotFound => distribution == "SuSE",
                Err(_) => {
                    return Err(run.abort(&format!(
                        "could not read configuration file \"{}\"",
                        tz.name_file
                    )))
                }
            };
            if suse {
                tz.name_re = rx(r#"(?m)^TIMEZONE\s*=\s*"?([^"\s]+)"?"#);
                tz.name_line = |v| format!("TIMEZONE=\"{v}\"\n");
            } else {
                tz.name_re = rx(r#"(?m)^ZONE\s*=\s*"?([^"\s]+)"?"#);
                tz.name_line = |v| format!("ZONE=\"{v}\"\n");
            }
        }
        Ok(tz)
    }

    fn file_of(&self, key: &str) -> Option<String> {
        match key {
            "name" => Some(self.name_file.clone()),
            "hwclock" => self.hwclock_file.clone(),
            _ => Some(ADJTIME.into()),
        }
    }

    fn regex_of(&self, key: &str) -> Regex {
        match key {
            "name" => self.name_re.clone(),
            "hwclock" => rx(r"(?m)^UTC\s*=\s*(\S+)"),
            _ => rx(r"(?m)^(UTC|LOCAL)$"),
        }
    }

    /// `_get_value_from_config`.
    fn value_from_config(&self, run: &Run, key: &str, phase: &str) -> Result<String, ModuleFail> {
        let missing = || match key {
            "adjtime" => "UTC".to_string(),
            _ => "n/a".to_string(),
        };
        let Some(file) = self.file_of(key) else {
            return Ok(missing());
        };
        let text = match read_text(&file) {
            Ok(t) => t,
            Err(e) if e.kind() == ErrorKind::NotFound => return Ok(missing()),
            Err(_) => {
                return Err(run.abort(&format!(
                    "tried to configure {key} using a file \"{file}\", but could not read it"
                )))
            }
        };
        let Some(value) = self
            .regex_of(key)
            .captures(&text)
            .and_then(|c| c.get(1))
            .map(|m| m.as_str().to_string())
        else {
            if key == "name" && phase != "before" {
                return Err(run.abort(&format!(
                    "tried to configure {key} using a file \"{file}\", but could not find a valid value in it"
                )));
            }
            return Ok(missing());
        };
        Ok(match key {
            "hwclock" => if module_boolean(&value)? {
                "UTC"
            } else {
                "local"
            }
            .to_string(),
            "adjtime" if value != "UTC" => value.to_lowercase(),
            _ => value,
        })
    }

    /// `_edit_file`: the first line matching `re` replaced by `line`, the other
    /// matches removed (the line goes first when none matched).
    fn edit_file(
        &self,
        run: &mut Run,
        file: &str,
        re: &Regex,
        line: &str,
        key: &str,
    ) -> Result<(), ModuleFail> {
        let text = match read_text(file) {
            Ok(t) => t,
            Err(e) if e.kind() == ErrorKind::NotFound => String::new(),
            Err(_) => {
                return Err(run.abort(&format!(
                    "tried to configure {key} using a file \"{file}\", but could not read it"
                )))
            }
        };
        let mut lines: Vec<&str> = text.split_inclusive('\n').collect();
        let matched: Vec<usize> = (0..lines.len())
            .filter(|&i| re.is_match(lines[i]))
            .collect();
        let insert_at = matched.first().copied().unwrap_or(0);
        for &i in matched.iter().rev() {
            lines.remove(i);
        }
        lines.insert(insert_at, line);
        if fs::write(file, lines.concat()).is_err() {
            return Err(run.abort(&format!(
                "tried to configure {key} using a file \"{file}\", but could not write to it"
            )));
        }
        run.msg.push(format!(
            "Added 1 line and deleted {} line(s) on {file}",
            matched.len()
        ));
        Ok(())
    }

    /// The zone /etc/localtime points at, when the configured name is the planned one.
    fn localtime_zone(configured: String, planned: &str) -> String {
        let localtime = Path::new("/etc/localtime");
        if is_symlink("/etc/localtime") {
            if !localtime.exists() {
                return "n/a".into();
            }
            let target = fs::read_link(localtime)
                .map(|p| p.to_string_lossy().into_owned())
                .unwrap_or_default();
            let zone = rx(r"(?:/(?:usr/share|etc)/zoneinfo/)(.*)")
                .captures(&target)
                .and_then(|c| c.get(1))
                .map(|m| m.as_str().to_string());
            return match zone {
                Some(z) if z != planned => z,
                Some(_) => configured,
                None => "n/a".into(),
            };
        }
        if same_regular_files(localtime, &Path::new("/usr/share/zoneinfo").join(planned)) {
            configured
        } else {
            "n/a".into()
        }
    }
}

impl Backend for NoSystemd {
    fn get(&mut self, run: &mut Run, key: &str, phase: &str) -> Result<String, ModuleFail> {
        let planned = run.planned(key).unwrap_or_default().to_string();
        let value = self.value_from_config(run, key, phase)?;
        if value != planned {
            return Ok(value);
        }
        if key == "hwclock" {
            return self.value_from_config(run, "adjtime", phase);
        }
        Ok(NoSystemd::localtime_zone(value, &planned))
    }

    fn set(&mut self, run: &mut Run, key: &str, value: &str) -> Result<(), ModuleFail> {
        if key == "name" {
            let (file, re) = (self.name_file.clone(), self.name_re.clone());
            self.edit_file(run, &file, &re, &(self.name_line)(value), "name")?;
            for cmd in self.update_timezone.clone() {
                run.execute(&[&cmd], false)?;
            }
            return Ok(());
        }
        let (option, utc) = if value == "local" {
            ("--localtime", "no")
        } else {
            ("--utc", "yes")
        };
        if let Some(file) = self.hwclock_file.clone() {
            let re = self.regex_of("hwclock");
            self.edit_file(run, &file, &re, &format!("UTC={utc}\n"), "hwclock")?;
        }
        let bin = self.hwclock_bin.clone();
        run.execute(&[&bin, "--systohc", option], true)?;
        Ok(())
    }
}

fn is_symlink(path: &str) -> bool {
    fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_symlink())
}

/// A text file read as Python's text mode reads it (universal newlines).
fn read_text(path: &str) -> std::io::Result<String> {
    let bytes = fs::read(path)?;
    let text = String::from_utf8_lossy(&bytes);
    Ok(text.replace("\r\n", "\n").replace('\r', "\n"))
}

/// `filecmp.cmp`: two regular files (symlinks followed) with the same content.
fn same_regular_files(a: &Path, b: &Path) -> bool {
    let regular = |p: &Path| fs::metadata(p).is_ok_and(|m| m.is_file());
    if !regular(a) || !regular(b) {
        return false;
    }
    matches!((fs::read(a), fs::read(b)), (Ok(x), Ok(y)) if x == y)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dicts_are_shown_as_python_shows_them() {
        assert_eq!(
            py_dict(&[("hwclock", "UTC".into()), ("name", "Asia/Tokyo".into())]),
            "{'hwclock': 'UTC', 'name': 'Asia/Tokyo'}"
        );
        assert_eq!(py_dict(&[("name", "n/a".into())]), "{'name': 'n/a'}");
    }

    #[test]
    fn the_patterns_compile() {
        for p in [
            r"(?m)^(\S+)",
            r"(?m)^UTC\s*=\s*(\S+)",
            r"(?m)^(UTC|LOCAL)$",
            r#"(?m)^ZONE\s*=\s*"?([^"\s]+)"?"#,
            r#"(?m)^TIMEZONE\s*=\s*"?([^"\s]+)"?"#,
            r"(?:/(?:usr/share|etc)/zoneinfo/)(.*)",
        ] {
            assert!(Regex::new(p).is_ok(), "{p}");
        }
    }

    #[test]
    fn neither_name_nor_hwclock_is_an_error() {
        let e = run_module(&Map::new(), &ModuleContext::default()).unwrap_err();
        assert_eq!(
            e.0["msg"],
            json!("one of the following is required: hwclock, name")
        );
    }

    #[test]
    fn booleans_read_as_the_module_reads_them() {
        assert_eq!(module_boolean("yes").ok(), Some(true));
        assert_eq!(module_boolean("NO").ok(), Some(false));
        assert!(module_boolean("maybe").is_err());
    }
}
