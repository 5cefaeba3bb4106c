//! What the `service` (non-systemd paths) and `sysvinit` modules share, after
//! ansible-core's `module_utils/service.py` and `AnsibleModule.run_command`:
//! program lookup with extra directories, init script paths, runlevel links, `ps`
//! matching, and running commands the way those modules do — from one command
//! string split like `shlex.split`, reading output until the program has exited
//! and its pipes went quiet (an init script's daemon may keep them open).

use super::{ModuleContext, ModuleFail};
use crate::util::run::required_bin;
use serde_json::json;
use std::collections::BTreeMap;
use std::io::Read;
use std::os::fd::AsRawFd;
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::path::Path;
use std::process::{Child, Command, Stdio};

/// Where both modules look for their tools before PATH.
pub const TOOL_DIRS: &[&str] = &["/sbin", "/usr/sbin", "/bin", "/usr/bin"];

/// `get_bin_path(name, opt_dirs=TOOL_DIRS)`: the extra directories, then PATH (the
/// task's `environment` first, as the Python module's process has it), then the sbin
/// directories; the first existing executable that is not a directory.
pub fn find_tool(name: &str, ctx: &ModuleContext) -> Option<String> {
    crate::util::bin_path::get_bin_path_opt(name, TOOL_DIRS, &ctx.env)
}

/// `get_sysv_script`: a path as given, else the script in /etc/init.d.
pub fn sysv_script(name: &str) -> String {
    if name.starts_with('/') {
        name.to_string()
    } else {
        format!("/etc/init.d/{name}")
    }
}

/// Python's `glob.glob(pattern)` is non-empty (the name is not escaped, as there).
pub fn glob_matches(pattern: &str) -> bool {
    glob::glob(pattern).is_ok_and(|mut found| found.any(|p| p.is_ok()))
}

/// `sysv_is_enabled(name, runlevel)`: a start link in that runlevel's directory (any
/// runlevel without one); /etc/init.d/rcN.d where /etc/rc0.d does not exist.
pub fn sysv_is_enabled(name: &str, runlevel: Option<&str>) -> bool {
    let level = runlevel.unwrap_or("?");
    if Path::new("/etc/rc0.d/").is_dir() {
        glob_matches(&format!("/etc/rc{level}.d/S??{name}"))
    } else {
        glob_matches(&format!("/etc/init.d/rc{level}.d/S??{name}"))
    }
}

/// `get_ps(module, pattern)`: a line of `ps auxww` contains the pattern.
pub fn ps_matches(pattern: &str, ctx: &ModuleContext) -> Result<bool, ModuleFail> {
    let ps = required_bin("ps", ctx)?;
    let o = run_argv(&[ps, "auxww".into()], ctx, &BTreeMap::new(), Launch::Child)?;
    Ok(o.rc == 0 && o.out.lines().any(|l| l.contains(pattern)))
}

/// A finished command: exit code (minus the signal when killed), stdout, stderr.
#[derive(Debug, Clone, PartialEq)]
pub struct CmdOut {
    pub rc: i32,
    pub out: String,
    pub err: String,
}

/// How a command is started.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Launch {
    /// As `run_command`: the module's environment (plus updates).
    Child,
    /// Detached as the modules' `daemonize` does: its own session, working directory
    /// `/`, stdin from /dev/null.
    Detached,
    /// Detached with only the given environment (`service`'s `execute_command(...,
    /// daemonize=True)` passes nothing but the locale variables).
    DetachedCleanEnv,
}

/// `run_command(cmd)` for a command string: split like `shlex.split`.
pub fn run_str(
    cmd: &str,
    ctx: &ModuleContext,
    env_update: &BTreeMap<String, String>,
    launch: Launch,
) -> Result<CmdOut, ModuleFail> {
    let argv = crate::util::shlex::split(cmd).map_err(ModuleFail::msg)?;
    run_argv(&argv, ctx, env_update, launch)
}

/// The locale variables `service` forces on its commands.
pub fn lang_env(ctx: &ModuleContext) -> BTreeMap<String, String> {
    let locale = crate::util::locale::best_parsable_locale(&ctx.env);
    ["LANG", "LC_ALL", "LC_MESSAGES"]
        .into_iter()
        .map(|k| (k.to_string(), locale.clone()))
        .collect()
}

pub fn run_argv(
    argv: &[String],
    ctx: &ModuleContext,
    env_update: &BTreeMap<String, String>,
    launch: Launch,
) -> Result<CmdOut, ModuleFail> {
    let Some((program, args)) = argv.split_first() else {
        return Err(ModuleFail::msg("rsible: empty command"));
    };
    let mut cmd = Command::new(program);
    cmd.args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    if launch == Launch::DetachedCleanEnv {
        cmd.env_clear();
    } else {
        cmd.envs(&ctx.env);
    }
    cmd.envs(env_update);
    if launch != Launch::Child {
        cmd.current_dir("/");
        // SAFETY: setsid is async-signal-safe and touches no memory of the parent.
        unsafe {
            cmd.pre_exec(|| {
                libc::setsid();
                Ok(())
            });
        }
    }
    let child = cmd.spawn().map_err(|e| {
        let errno = e.raw_os_error().unwrap_or(1);
        let text = e.to_string();
        // io::Error's text ends in "(os error N)"; Python prints "[Errno N] text".
        let text = text
            .rsplit_once(" (os error")
            .map_or(text.as_str(), |(t, _)| t)
            .to_string();
        ModuleFail::msg(format!("[Errno {errno}] {text}: b'{program}'"))
            .with("cmd", json!(argv.join(" ")))
            .with("rc", json!(errno))
            .with("stdout", json!(""))
            .with("stderr", json!(""))
    })?;
    collect(child, program)
}

/// Read both pipes until they close, or until a second passes without output after
/// the program exited (run_command's loop: a daemon that inherited the pipes must not
/// hold the module forever).
fn collect(mut child: Child, program: &str) -> Result<CmdOut, ModuleFail> {
    let mut pipes: Vec<(Box<dyn Read>, i32, Vec<u8>)> = Vec::new();
    if let Some(o) = child.stdout.take() {
        let fd = o.as_raw_fd();
        pipes.push((Box::new(o), fd, Vec::new()));
    }
    if let Some(e) = child.stderr.take() {
        let fd = e.as_raw_fd();
        pipes.push((Box::new(e), fd, Vec::new()));
    }
    let mut open = vec![true; pipes.len()];
    let mut status = None;
    loop {
        let mut fds: Vec<libc::pollfd> = pipes
            .iter()
            .zip(&open)
            .filter(|(_, o)| **o)
            .map(|((_, fd, _), _)| libc::pollfd {
                fd: *fd,
                events: libc::POLLIN,
                revents: 0,
            })
            .collect();
        if fds.is_empty() {
            break;
        }
        // SAFETY: fds is a valid array of pollfd for its length.
        let n = unsafe { libc::poll(fds.as_mut_ptr(), fds.len() as libc::nfds_t, 1000) };
        if n < 0 {
            if std::io::Error::last_os_error().kind() == std::io::ErrorKind::Interrupted {
                continue;
            }
            break;
        }
        if n == 0 {
            if let Ok(Some(s)) = child.try_wait() {
                status = Some(s);
                break;
            }
            continue;
        }
        for pfd in fds.iter().filter(|p| p.revents != 0) {
            let Some(idx) = pipes.iter().position(|(_, fd, _)| *fd == pfd.fd) else {
                continue;
            };
            let mut buf = [0u8; 4096];
            match pipes[idx].0.read(&mut buf) {
                Ok(0) | Err(_) => open[idx] = false,
                Ok(k) => pipes[idx].2.extend_from_slice(&buf[..k]),
            }
        }
    }
    let status = match status {
        Some(s) => s,
        None => child
            .wait()
            .map_err(|e| ModuleFail::msg(format!("failed to wait for {program}: {e}")))?,
    };
    let rc = status
        .code()
        .unwrap_or_else(|| -status.signal().unwrap_or(1));
    let mut texts = pipes
        .into_iter()
        .map(|(_, _, b)| String::from_utf8_lossy(&b).into_owned());
    Ok(CmdOut {
        rc,
        out: texts.next().unwrap_or_default(),
        err: texts.next().unwrap_or_default(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn a_daemon_holding_the_pipes_does_not_hold_the_command() {
        let ctx = ModuleContext::default();
        let start = std::time::Instant::now();
        // The background sleep keeps stdout open after the shell exits.
        let o = run_str(
            "sh -c 'echo up; sleep 30 & exit 3'",
            &ctx,
            &BTreeMap::new(),
            Launch::Detached,
        )
        .unwrap();
        assert_eq!((o.rc, o.out.as_str()), (3, "up\n"));
        assert!(start.elapsed() < Duration::from_secs(20));
    }

    #[test]
    fn clean_env_keeps_only_the_given_variables() {
        let ctx = ModuleContext {
            env: [("RSIBLE_X".to_string(), "1".to_string())].into(),
            ..Default::default()
        };
        let env: BTreeMap<String, String> = [("LANG".to_string(), "C".to_string())].into();
        let o = run_argv(
            &["/usr/bin/env".to_string()],
            &ctx,
            &env,
            Launch::DetachedCleanEnv,
        )
        .unwrap();
        assert_eq!(o.out, "LANG=C\n");
        let o = run_argv(&["/usr/bin/env".to_string()], &ctx, &env, Launch::Child).unwrap();
        assert!(o.out.contains("RSIBLE_X=1"));
    }

    #[test]
    fn missing_program_fails_like_python() {
        let e = run_str(
            "/nonexistent/rsible-x status",
            &ModuleContext::default(),
            &BTreeMap::new(),
            Launch::Child,
        )
        .unwrap_err();
        assert_eq!(
            e.0["msg"],
            json!("[Errno 2] No such file or directory: b'/nonexistent/rsible-x'")
        );
    }
}
