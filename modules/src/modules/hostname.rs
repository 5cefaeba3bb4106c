//! `hostname`: the current (kernel) and permanent host name, through the strategy
//! Ansible's module picks: systemd's hostnamectl when systemd runs the machine,
//! otherwise by distribution (Debian/Ubuntu and kin: /etc/hostname only; the Red Hat
//! family: /etc/sysconfig/network; Alpine; Gentoo's OpenRC file), or as `use` says.

use super::setup::{distribution::distribution_name, platform::fqdn};
use super::{Kind, ModuleContext, ModuleFail, ModuleOutcome, Param};
use crate::util::bin_path::get_bin_path;
use crate::util::run::{argv, required_bin, run as run_cmd};
use serde_json::{json, Map, Value};
use std::path::Path;

pub const SPEC: &[Param] = &[
    Param::new("name", Kind::Str).required(),
    Param::new("use", Kind::Str).choices(&[
        "alpine", "debian", "freebsd", "generic", "macos", "macosx", "darwin", "openbsd", "openrc",
        "redhat", "sles", "solaris", "systemd",
    ]),
];

/// Distributions whose Ansible subclass keeps the name in /etc/hostname only.
const FILE_DISTRIBUTIONS: &[&str] = &[
    "Cumulus-linux",
    "Debian",
    "Deepin",
    "Devuan",
    "Kali",
    "Kylin",
    "Linaro",
    "Linuxmint",
    "Neon",
    "Parrot",
    "Pop",
    "Raspbian",
    "Ubuntu",
    "Uos",
    "Void",
];

/// Distributions whose Ansible subclass edits /etc/sysconfig/network.
const REDHAT_DISTRIBUTIONS: &[&str] = &[
    "Alinux",
    "Altlinux",
    "Amazon",
    "Anolis",
    "Centos",
    "Cloudlinux",
    "Cloudlinuxserver",
    "Eurolinux",
    "Oracle",
    "Redhat",
    "Scientific",
    "Virtuozzo",
];

#[derive(Debug, Clone, Copy, PartialEq)]
enum Strategy {
    Systemd,
    /// A file holding just the name (`/etc/hostname`, or SLES's `/etc/HOSTNAME`).
    File(&'static str),
    RedHat,
    /// The file strategy plus `hostname -F /etc/hostname` for the current name.
    Alpine,
    OpenRc,
}

struct Hostname<'a> {
    strategy: Strategy,
    ctx: &'a ModuleContext,
    name: String,
    changed: bool,
}

pub fn run(params: &Map<String, Value>, ctx: &ModuleContext) -> ModuleOutcome {
    let name = params
        .get("name")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string();
    let strategy = pick_strategy(params.get("use").and_then(Value::as_str), ctx)?;
    let mut h = Hostname {
        strategy,
        ctx,
        name: name.clone(),
        changed: false,
    };
    let current = h.current()?;
    let permanent = h.permanent()?;
    // systemd sets the permanent name first, every other strategy the current one.
    if strategy == Strategy::Systemd {
        h.update_permanent(&permanent)?;
        h.update_current(&current)?;
    } else {
        h.update_current(&current)?;
        h.update_permanent(&permanent)?;
    }
    let before = if name != current { current } else { permanent };
    let fq = fqdn(&kernel_hostname());
    let domain = fq.split('.').skip(1).collect::<Vec<_>>().join(".");
    let mut r = Map::new();
    r.insert("changed".into(), json!(h.changed));
    r.insert("name".into(), json!(name));
    r.insert(
        "ansible_facts".into(),
        json!({
            "ansible_hostname": name.split('.').next().unwrap_or_default(),
            "ansible_nodename": name,
            "ansible_fqdn": fq,
            "ansible_domain": domain,
        }),
    );
    if h.changed {
        r.insert(
            "diff".into(),
            json!({"after": format!("hostname = {name}\n"), "before": format!("hostname = {before}\n")}),
        );
    }
    Ok(r)
}

fn pick_strategy(use_: Option<&str>, ctx: &ModuleContext) -> Result<Strategy, ModuleFail> {
    if let Some(u) = use_ {
        return match u {
            // Ansible maps `use: debian` to the systemd strategy too.
            "systemd" | "debian" => Ok(Strategy::Systemd),
            "sles" => Ok(Strategy::File("/etc/HOSTNAME")),
            "redhat" => Ok(Strategy::RedHat),
            "alpine" => Ok(Strategy::Alpine),
            "openrc" => Ok(Strategy::OpenRc),
            other => Err(ModuleFail::msg(format!(
                "rsible agent: hostname strategy '{other}' is not implemented natively"
            ))),
        };
    }
    if systemd_managed(ctx) {
        return Ok(Strategy::Systemd);
    }
    let distribution = distribution_name(Path::new("/"));
    let d = distribution.as_str();
    if FILE_DISTRIBUTIONS.contains(&d) {
        Ok(Strategy::File("/etc/hostname"))
    } else if REDHAT_DISTRIBUTIONS.contains(&d) {
        Ok(Strategy::RedHat)
    } else if d == "Alpine" {
        Ok(Strategy::Alpine)
    } else if d == "Gentoo" {
        Ok(Strategy::OpenRc)
    } else {
        Err(ModuleFail::msg(format!(
            "hostname module cannot be used on platform Linux ({distribution})"
        )))
    }
}

/// Ansible's `is_systemd_managed`: systemctl installed and one of sd_booted's canaries.
pub(crate) fn systemd_managed(ctx: &ModuleContext) -> bool {
    get_bin_path("systemctl", &ctx.env).is_some() && crate::util::systemd_canary::canary_exists()
}

/// The kernel's host name (`socket.gethostname()`).
pub(crate) fn kernel_hostname() -> String {
    let mut buf = [0u8; 256];
    // SAFETY: the buffer is ours and its length is passed; the result is NUL-terminated
    // within it (we reserve the last byte).
    let rc = unsafe { libc::gethostname(buf.as_mut_ptr().cast(), buf.len() - 1) };
    if rc != 0 {
        return String::new();
    }
    let end = buf.iter().position(|&b| b == 0).unwrap_or(buf.len());
    String::from_utf8_lossy(&buf[..end]).into_owned()
}

fn command_failed(o: &crate::util::run::Output) -> ModuleFail {
    ModuleFail::msg(format!(
        "Command failed rc={}, out={}, err={}",
        o.rc, o.out, o.err
    ))
}

/// Python's `str.strip()` on file content.
fn read_stripped(path: &str) -> Result<String, ModuleFail> {
    if !Path::new(path).is_file() {
        return Ok(String::new());
    }
    std::fs::read(path)
        .map(|b| String::from_utf8_lossy(&b).trim().to_string())
        .map_err(|e| ModuleFail::msg(format!("failed to read hostname: {e}")))
}

impl Hostname<'_> {
    fn update_current(&mut self, current: &str) -> Result<(), ModuleFail> {
        if current != self.name {
            if !self.ctx.check_mode {
                self.set_current()?;
            }
            self.changed = true;
        }
        Ok(())
    }

    fn update_permanent(&mut self, permanent: &str) -> Result<(), ModuleFail> {
        if permanent != self.name {
            if !self.ctx.check_mode {
                self.set_permanent()?;
            }
            self.changed = true;
        }
        Ok(())
    }

    fn hostnamectl(&self, args: &[&str]) -> Result<String, ModuleFail> {
        let bin = required_bin("hostnamectl", self.ctx)?;
        let mut cmd = vec![bin];
        cmd.extend(args.iter().map(|a| a.to_string()));
        let o = run_cmd(&cmd, self.ctx, None)?;
        if o.rc != 0 {
            return Err(command_failed(&o));
        }
        Ok(o.out.trim().to_string())
    }

    fn check_systemd_length(&self) -> Result<(), ModuleFail> {
        if self.name.chars().count() > 64 {
            return Err(ModuleFail::msg(
                "name cannot be longer than 64 characters on systemd servers, try a shorter name",
            ));
        }
        Ok(())
    }

    fn current(&self) -> Result<String, ModuleFail> {
        match self.strategy {
            Strategy::Systemd => self.hostnamectl(&["--transient", "status"]),
            // The file strategies have no separate current name: Ansible reads the file.
            _ => self.permanent(),
        }
    }

    fn set_current(&self) -> Result<(), ModuleFail> {
        match self.strategy {
            Strategy::Systemd => {
                self.check_systemd_length()?;
                self.hostnamectl(&["--transient", "set-hostname", &self.name])
                    .map(drop)
            }
            Strategy::Alpine => {
                let bin = required_bin("hostname", self.ctx)?;
                let o = run_cmd(&argv([bin.as_str(), "-F", "/etc/hostname"]), self.ctx, None)?;
                if o.rc != 0 {
                    return Err(command_failed(&o));
                }
                Ok(())
            }
            // The file strategies leave the running kernel's name alone.
            Strategy::File(_) | Strategy::RedHat | Strategy::OpenRc => Ok(()),
        }
    }

    fn permanent(&self) -> Result<String, ModuleFail> {
        match self.strategy {
            Strategy::Systemd => self.hostnamectl(&["--static", "status"]),
            Strategy::File(path) => read_stripped(path),
            Strategy::Alpine => read_stripped("/etc/hostname"),
            Strategy::RedHat => redhat_permanent(),
            Strategy::OpenRc => openrc_permanent(),
        }
    }

    fn set_permanent(&self) -> Result<(), ModuleFail> {
        let write = |path: &str, text: String| {
            std::fs::write(path, text)
                .map_err(|e| ModuleFail::msg(format!("failed to update hostname: {e}")))
        };
        match self.strategy {
            Strategy::Systemd => {
                self.check_systemd_length()?;
                self.hostnamectl(&["--pretty", "--static", "set-hostname", &self.name])
                    .map(drop)
            }
            Strategy::File(path) => write(path, format!("{}\n", self.name)),
            Strategy::Alpine => write("/etc/hostname", format!("{}\n", self.name)),
            Strategy::RedHat => {
                let content = std::fs::read_to_string(REDHAT_NETWORK).unwrap_or_default();
                let mut out = String::new();
                let mut found = false;
                for line in content.split_inclusive('\n') {
                    if line.trim().starts_with("HOSTNAME") {
                        out.push_str(&format!("HOSTNAME={}\n", self.name));
                        found = true;
                    } else {
                        out.push_str(line);
                    }
                }
                if !found {
                    out.push_str(&format!("HOSTNAME={}\n", self.name));
                }
                write(REDHAT_NETWORK, out)
            }
            Strategy::OpenRc => {
                let content = std::fs::read_to_string(OPENRC_FILE)
                    .map_err(|e| ModuleFail::msg(format!("failed to update hostname: {e}")))?;
                let mut lines: Vec<String> =
                    content.lines().map(|l| l.trim().to_string()).collect();
                if let Some(l) = lines.iter_mut().find(|l| l.starts_with("hostname=")) {
                    *l = format!("hostname=\"{}\"", self.name);
                }
                write(OPENRC_FILE, lines.join("\n") + "\n")
            }
        }
    }
}

const REDHAT_NETWORK: &str = "/etc/sysconfig/network";
const OPENRC_FILE: &str = "/etc/conf.d/hostname";

fn redhat_permanent() -> Result<String, ModuleFail> {
    let content = std::fs::read_to_string(REDHAT_NETWORK)
        .map_err(|e| ModuleFail::msg(format!("failed to read hostname: {e}")))?;
    for line in content.lines() {
        let line = line.trim();
        if line.starts_with("HOSTNAME") {
            let mut parts = line.split('=');
            return match (parts.next(), parts.next(), parts.next()) {
                (Some(_), Some(v), None) => Ok(v.trim().to_string()),
                _ => Err(ModuleFail::msg(
                    "failed to read hostname: too many values to unpack (expected 2)",
                )),
            };
        }
    }
    Err(ModuleFail::msg(format!(
        "Unable to locate HOSTNAME entry in {REDHAT_NETWORK}"
    )))
}

fn openrc_permanent() -> Result<String, ModuleFail> {
    if !Path::new(OPENRC_FILE).is_file() {
        return Ok(String::new());
    }
    let content = std::fs::read_to_string(OPENRC_FILE)
        .map_err(|e| ModuleFail::msg(format!("failed to read hostname: {e}")))?;
    Ok(content
        .lines()
        .map(str::trim)
        .find_map(|l| l.strip_prefix("hostname="))
        .map(|v| v.trim_matches('"').to_string())
        // Python returns None here, which never equals the wanted name.
        .unwrap_or_else(|| "None".to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn explicit_strategies_are_picked_or_refused() {
        assert_eq!(
            pick_strategy(Some("debian"), &ModuleContext::default()),
            Ok(Strategy::Systemd)
        );
        assert_eq!(
            pick_strategy(Some("sles"), &ModuleContext::default()),
            Ok(Strategy::File("/etc/HOSTNAME"))
        );
        assert_eq!(
            pick_strategy(Some("systemd"), &ModuleContext::default()),
            Ok(Strategy::Systemd)
        );
        let e = pick_strategy(Some("freebsd"), &ModuleContext::default()).unwrap_err();
        assert!(e.0["msg"]
            .as_str()
            .unwrap()
            .contains("not implemented natively"));
    }

    #[test]
    fn kernel_hostname_is_not_empty() {
        assert!(!kernel_hostname().is_empty());
    }
}
