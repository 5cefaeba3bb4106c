//! `reboot`: as ansible-core 2.18's action plugin does it. Read the boot id
//! (`boot_time_command`), run the shutdown command (found in `search_paths`
//! unless given with a path), put up with the connection dropping, wait
//! `post_reboot_delay`, then reconnect until the boot id has changed and
//! `test_command` succeeds, each within `reboot_timeout`. Commands go through
//! the connection without the agent (Ansible's low-level commands); the
//! host's agents are forgotten afterwards, since the reboot ended them.

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use indexmap::IndexMap;
use rsible_templar::{to_json, Value};
use serde_json::{json, Map, Value as Json};

use super::wait_for_connection::int_arg;
use super::{obj, Executor};
use crate::output::default_callback::Sink;
use crate::target::{CallSettings, RawCall, RawOutcome, TargetSpec};
use crate::vars::VarLayers;

const VALID: [&str; 9] = [
    "boot_time_command",
    "connect_timeout",
    "msg",
    "post_reboot_delay",
    "pre_reboot_delay",
    "reboot_command",
    "reboot_timeout",
    "search_paths",
    "test_command",
];

const DEFAULT_SEARCH_PATHS: [&str; 5] =
    ["/sbin", "/bin", "/usr/sbin", "/usr/bin", "/usr/local/sbin"];

/// The task's options, checked as the plugin checks them.
struct RebootOptions {
    boot_time_command: Option<String>,
    connect_timeout: Option<u64>,
    msg: String,
    post_reboot_delay: u64,
    pre_reboot_delay: u64,
    reboot_command: Option<String>,
    reboot_timeout: u64,
    search_paths: Vec<String>,
    test_command: Option<String>,
}

/// A string option that must already be a string (`check_type_str` without conversion).
fn str_arg(args: &IndexMap<String, Value>, key: &str) -> Result<Option<String>, String> {
    match args.get(key).map(to_json) {
        None | Some(Json::Null) => Ok(None),
        Some(Json::String(s)) => Ok(Some(s)),
        Some(other) => Err(format!(
            "Invalid value given for '{key}': '{}' cannot be converted to a str.",
            python_type(&other)
        )),
    }
}

fn python_type(v: &Json) -> &'static str {
    match v {
        Json::Bool(_) => "bool",
        Json::Number(n) if n.is_f64() => "float",
        Json::Number(_) => "int",
        Json::Array(_) => "list",
        Json::Object(_) => "dict",
        _ => "str",
    }
}

/// Python's repr of a list of strings, as the "Unable to find" message prints it.
fn py_list(items: &[String]) -> String {
    let inner: Vec<String> = items
        .iter()
        .map(|s| format!("'{}'", s.replace('\\', "\\\\").replace('\'', "\\'")))
        .collect();
    format!("[{}]", inner.join(", "))
}

/// `search_paths` through `check_type_list`: a string is split on commas,
/// a number becomes one path, a list stays as it is.
fn search_paths(args: &IndexMap<String, Value>) -> Result<Vec<String>, String> {
    let Some(v) = args.get("search_paths") else {
        return Ok(DEFAULT_SEARCH_PATHS.iter().map(|s| s.to_string()).collect());
    };
    match to_json(v) {
        Json::String(s) => Ok(s.split(',').map(str::to_string).collect()),
        Json::Number(n) => Ok(vec![n.to_string()]),
        Json::Array(items) => Ok(items
            .iter()
            .map(|i| match i {
                Json::String(s) => s.clone(),
                other => other.to_string(),
            })
            .collect()),
        other => Err(format!(
            "'search_paths' must be a string or flat list of strings, got {other}"
        )),
    }
}

fn options(action: &str, args: &IndexMap<String, Value>) -> Result<RebootOptions, String> {
    let bad: Vec<&str> = args
        .keys()
        .map(String::as_str)
        .filter(|k| !VALID.contains(k))
        .collect();
    if !bad.is_empty() {
        return Err(format!("Invalid options for {action}: {}", bad.join(",")));
    }
    let connect_timeout = match args.get("connect_timeout").map(to_json) {
        None | Some(Json::Null) => None,
        // Ansible only applies a connect_timeout that is truthy.
        Some(_) => Some(int_arg(args, "connect_timeout", 0)?).filter(|t| *t > 0),
    };
    Ok(RebootOptions {
        boot_time_command: str_arg(args, "boot_time_command")?.filter(|c| !c.is_empty()),
        connect_timeout,
        msg: match args.get("msg") {
            Some(v) => v.as_str().map_or_else(|| v.to_string(), str::to_string),
            None => "Reboot initiated by Ansible".into(),
        },
        post_reboot_delay: int_arg(args, "post_reboot_delay", 0)?,
        pre_reboot_delay: int_arg(args, "pre_reboot_delay", 0)?,
        reboot_command: str_arg(args, "reboot_command")?,
        reboot_timeout: int_arg(args, "reboot_timeout", 600)?,
        search_paths: search_paths(args)?,
        test_command: str_arg(args, "test_command")?,
    })
}

/// What the plugin picks per distribution: `ansible_distribution` lowercased,
/// its major version, and `ansible_os_family` lowercased.
#[derive(Default)]
struct Distribution {
    name: String,
    version: String,
    family: String,
}

impl Distribution {
    /// The table entry for name+version, then name, then family.
    fn pick<'t>(&self, table: &[(&str, &'t str)]) -> Option<&'t str> {
        let versioned = format!("{}{}", self.name, self.version);
        [versioned.as_str(), &self.name, &self.family]
            .iter()
            .find_map(|key| table.iter().find(|(k, _)| k == key).map(|(_, v)| *v))
    }

    fn boot_time_command(&self) -> &str {
        const TABLE: [(&str, &str); 7] = [
            ("freebsd", "/sbin/sysctl kern.boottime"),
            ("openbsd", "/sbin/sysctl kern.boottime"),
            ("macosx", "who -b"),
            ("solaris", "who -b"),
            ("sunos", "who -b"),
            (
                "vmkernel",
                "grep booted /var/log/vmksummary.log | tail -n 1",
            ),
            ("aix", "who -b"),
        ];
        self.pick(&TABLE)
            .unwrap_or("cat /proc/sys/kernel/random/boot_id")
    }

    fn shutdown_command(&self) -> &str {
        const TABLE: [(&str, &str); 2] = [("alpine", "reboot"), ("vmkernel", "reboot")];
        self.pick(&TABLE).unwrap_or("shutdown")
    }

    fn shutdown_args(&self) -> &str {
        const TABLE: [(&str, &str); 10] = [
            ("alpine", ""),
            ("void", "-r +{delay_min} \"{message}\""),
            ("freebsd", "-r +{delay_sec}s \"{message}\""),
            ("linux", "-r {delay_min} \"{message}\""),
            ("macosx", "-r +{delay_min} \"{message}\""),
            ("openbsd", "-r +{delay_min} \"{message}\""),
            ("solaris", "-y -g {delay_sec} -i 6 \"{message}\""),
            ("sunos", "-y -g {delay_sec} -i 6 \"{message}\""),
            ("vmkernel", "-d {delay_sec}"),
            ("aix", "-Fr"),
        ];
        self.pick(&TABLE).unwrap_or("-r {delay_min} \"{message}\"")
    }

    fn test_command(&self) -> &str {
        const TABLE: [(&str, &str); 2] = [("solaris", "who"), ("vmkernel", "who")];
        self.pick(&TABLE).unwrap_or("whoami")
    }
}

/// The arguments after the shutdown binary: those of `reboot_command`, or
/// the distribution's with the delay and message filled in.
fn shutdown_args(opts: &RebootOptions, dist: &Distribution) -> String {
    match &opts.reboot_command {
        Some(cmd) => cmd.split_once(' ').map_or("", |(_, rest)| rest).to_string(),
        None => dist
            .shutdown_args()
            .replace("{delay_sec}", &opts.pre_reboot_delay.to_string())
            .replace("{delay_min}", &(opts.pre_reboot_delay / 60).to_string())
            .replace("{message}", &opts.msg),
    }
}

/// The plugin's backoff after the n-th failure: 2^n seconds, at most 12,
/// plus up to a second of jitter.
pub(super) fn backoff(fail_count: u32) -> Duration {
    let jitter_ms = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::from(d.subsec_nanos()) % 1000);
    let base = 2u64.saturating_pow(fail_count).min(12);
    Duration::from_millis(base * 1000 + jitter_ms)
}

/// A raw command's outcome as the plugin sees `_low_level_execute_command`.
enum Low {
    Ran {
        rc: i32,
        stdout: String,
        stderr: String,
    },
    /// The connection failed (AnsibleConnectionFailure).
    ConnectionFailed(String),
    /// rsible could not run it at all.
    Error(String),
}

/// Why the run stopped early: a failed task result to return.
type Stop = Map<String, Json>;

fn failed(msg: String) -> Stop {
    obj(json!({"failed": true, "msg": msg}))
}

pub(super) const BOOT_CHECK: &str = "last boot time check";
pub(super) const TEST_CHECK: &str = "post-reboot test command";

pub(super) fn rebooted() -> Stop {
    obj(json!({"rebooted": true, "changed": true}))
}

pub(super) fn rebooted_but(msg: String) -> Stop {
    obj(json!({"failed": true, "rebooted": true, "msg": msg}))
}

/// Ansible's timeout message of a wait.
pub(super) fn timed_out(desc: &str, timeout: u64) -> String {
    format!("Timed out waiting for {desc} (timeout={timeout})")
}

/// A host whose shutdown command ran: what the waits after it need.
pub(super) struct Issued {
    pub(super) target: TargetSpec,
    /// The target with `connect_timeout` for the boot id checks.
    pub(super) probe: TargetSpec,
    previous: String,
    boot_cmd: String,
    test_cmd: String,
    pub(super) timeout: u64,
    pub(super) post_reboot_delay: u64,
    pub(super) start: Instant,
}

impl<'a, S: Sink> Executor<'a, S> {
    pub(super) fn reboot_action(
        &mut self,
        action: &str,
        host: &str,
        scope: &VarLayers,
        delegate: Option<&str>,
        args: &IndexMap<String, Value>,
    ) -> Map<String, Json> {
        let target = self.target_spec(host, scope, delegate);
        if target.connection == "local" {
            return obj(json!({
                "changed": false, "elapsed": 0, "rebooted": false, "failed": true,
                "msg": format!("Running {action} with local connection would reboot the control node."),
            }));
        }
        if self.ctl.call_settings.check_mode {
            return obj(json!({"changed": true, "elapsed": 0, "rebooted": true}));
        }
        let opts = match options(action, args) {
            Ok(o) => o,
            Err(msg) => return failed(msg),
        };
        // Hosts rebooted side by side (reboot_batch.rs): the first walk only
        // issues the reboot, the wait for all of them comes after it.
        if self.prefetch.reboots.issuing() {
            let issued = self.reboot_issue(action, &target, &opts);
            self.prefetch.reboots.record(host, action, issued);
            return obj(json!({"failed": true, "msg": "(reboot issued, waiting)"}));
        }
        if let Some(result) = self.prefetch.reboots.take_result(host) {
            self.runner.forget_host(&target.host);
            return result;
        }
        match self.reboot_and_wait(action, &target, &opts) {
            Ok(result) | Err(result) => {
                // The reboot ended the host's agents: later tasks connect anew.
                self.runner.forget_host(&target.host);
                result
            }
        }
    }

    fn reboot_and_wait(
        &mut self,
        action: &str,
        target: &TargetSpec,
        opts: &RebootOptions,
    ) -> Result<Stop, Stop> {
        let issued = self.reboot_issue(action, target, opts)?;
        std::thread::sleep(Duration::from_secs(issued.post_reboot_delay));
        let timeout = issued.timeout;
        let boot_changed = |ex: &mut Self| ex.reboot_boot_changed(action, &issued);
        let mut result = match self.until_success(&issued.probe, timeout, BOOT_CHECK, boot_changed)
        {
            Ok(()) => {
                let test_passes = |ex: &mut Self| ex.reboot_test_passes(&issued);
                match self.until_success(target, timeout, TEST_CHECK, test_passes) {
                    Ok(()) => rebooted(),
                    Err(msg) => rebooted_but(msg),
                }
            }
            Err(msg) => rebooted_but(msg),
        };
        result.insert("elapsed".into(), json!(issued.start.elapsed().as_secs()));
        Ok(result)
    }

    /// The reboot up to the shutdown command: the distribution, the boot id
    /// before, the shutdown binary, and the command run. `Err` is the task's
    /// result when it ends there.
    fn reboot_issue(
        &mut self,
        action: &str,
        target: &TargetSpec,
        opts: &RebootOptions,
    ) -> Result<Issued, Stop> {
        let dist = self.distribution(target)?;
        let boot_cmd = opts
            .boot_time_command
            .clone()
            .unwrap_or_else(|| dist.boot_time_command().to_string());
        let previous = match self.boot_time(action, target, &boot_cmd) {
            Ok(id) => id,
            Err(msg) => {
                let mut r = failed(msg);
                r.insert("reboot".into(), Json::Bool(false));
                return Err(r);
            }
        };
        let shutdown = self.shutdown_path(target, opts, &dist)?;
        let command = format!("{shutdown} {}", shutdown_args(opts, &dist));
        let outcome = self.low_level(target, &command);
        let start = Instant::now();
        // The plugin's `start` (a UTC datetime) shows in a failed result.
        let started_at =
            rsible_modules::util::pytime::iso_utc(std::time::SystemTime::now(), "+00:00");
        match outcome {
            // A connection closed by the going-down host is what a reboot looks like.
            Low::ConnectionFailed(_) | Low::Ran { rc: 0, .. } => {}
            Low::Ran { stdout, stderr, .. } => {
                return Err(obj(json!({
                    "failed": true,
                    "rebooted": false,
                    "msg": format!(
                        "Reboot command failed. Error was: '{}, {}'",
                        stdout.trim(),
                        stderr.trim()
                    ),
                    "elapsed": start.elapsed().as_secs(),
                    "start": started_at,
                })))
            }
            Low::Error(msg) => return Err(failed(msg)),
        }
        Ok(Issued {
            probe: TargetSpec {
                timeout: opts.connect_timeout.or(target.timeout),
                ..target.clone()
            },
            target: target.clone(),
            previous,
            boot_cmd,
            test_cmd: opts
                .test_command
                .clone()
                .unwrap_or_else(|| dist.test_command().to_string()),
            timeout: opts.reboot_timeout,
            post_reboot_delay: opts.post_reboot_delay,
            start,
        })
    }

    /// One try of the first wait: the boot id differs from the one before.
    pub(super) fn reboot_boot_changed(
        &mut self,
        action: &str,
        issued: &Issued,
    ) -> Result<(), String> {
        let now = self.boot_time(action, &issued.probe, &issued.boot_cmd)?;
        if now.is_empty() || now == issued.previous {
            return Err("boot time has not changed".into());
        }
        Ok(())
    }

    /// One try of the second wait: `test_command` succeeds.
    pub(super) fn reboot_test_passes(&mut self, issued: &Issued) -> Result<(), String> {
        match self.low_level(&issued.target, &issued.test_cmd) {
            Low::Ran { rc: 0, .. } => Ok(()),
            Low::Ran { stdout, stderr, .. } => {
                Err(format!("Test command failed: {stderr} {stdout}"))
            }
            Low::ConnectionFailed(m) | Low::Error(m) => Err(m),
        }
    }

    /// Runs `attempt` until it succeeds or `timeout` seconds pass, with the
    /// plugin's backoff; the connection is made afresh for every try. The
    /// error is Ansible's timeout message.
    fn until_success(
        &mut self,
        target: &TargetSpec,
        timeout: u64,
        desc: &str,
        mut attempt: impl FnMut(&mut Self) -> Result<(), String>,
    ) -> Result<(), String> {
        let end = Instant::now() + Duration::from_secs(timeout);
        let mut fails = 0;
        while Instant::now() < end {
            self.runner.forget(target);
            if attempt(self).is_ok() {
                return Ok(());
            }
            std::thread::sleep(backoff(fails));
            fails += 1;
        }
        Err(timed_out(desc, timeout))
    }

    /// `setup` with `gather_subset: min`, for the distribution tables.
    fn distribution(&mut self, target: &TargetSpec) -> Result<Distribution, Stop> {
        let result = match self.runner.run_module(
            target,
            "setup",
            &json!({"gather_subset": ["min"]}),
            &CallSettings::default(),
        ) {
            Ok(r) => r,
            Err(unreachable) => {
                return Err(obj(
                    json!({"unreachable": true, "changed": false, "msg": unreachable.0}),
                ))
            }
        };
        if result.get("failed").is_some_and(super::json_truthy) {
            let text = |k: &str| {
                result
                    .get(k)
                    .and_then(Json::as_str)
                    .unwrap_or("")
                    .trim()
                    .to_string()
            };
            let msg = result.get("msg").and_then(Json::as_str).unwrap_or("");
            return Err(failed(format!(
                "Failed to determine system distribution. {}, {}",
                if text("module_stdout").is_empty() {
                    msg.to_string()
                } else {
                    text("module_stdout")
                },
                text("module_stderr")
            )));
        }
        let facts = result.get("ansible_facts").and_then(Json::as_object);
        let fact = |name: &str| -> Result<String, Stop> {
            facts
                .and_then(|f| f.get(name))
                .and_then(Json::as_str)
                .map(str::to_string)
                .ok_or_else(|| {
                    failed(format!(
                        "Failed to get distribution information. Missing \"{name}\" in output."
                    ))
                })
        };
        Ok(Distribution {
            name: fact("ansible_distribution")?.to_lowercase(),
            version: fact("ansible_distribution_version")?
                .split('.')
                .next()
                .unwrap_or("")
                .to_string(),
            family: fact("ansible_os_family")?.to_lowercase(),
        })
    }

    /// The boot id now, or the plugin's error text.
    fn boot_time(
        &mut self,
        action: &str,
        target: &TargetSpec,
        command: &str,
    ) -> Result<String, String> {
        match self.low_level(target, command) {
            Low::Ran { rc: 0, stdout, .. } => Ok(stdout.trim().to_string()),
            Low::Ran { rc, stdout, stderr } => Err(format!(
                "{action}: failed to get host boot time info, rc: {rc}, stdout: {stdout}, stderr: {stderr}"
            )),
            Low::ConnectionFailed(m) | Low::Error(m) => Err(m),
        }
    }

    /// The shutdown binary: as given when it has a path, else found with
    /// the `find` module in `search_paths`.
    fn shutdown_path(
        &mut self,
        target: &TargetSpec,
        opts: &RebootOptions,
        dist: &Distribution,
    ) -> Result<String, Stop> {
        let bin = match &opts.reboot_command {
            Some(cmd) => cmd.split(' ').next().unwrap_or("").to_string(),
            None => dist.shutdown_command().to_string(),
        };
        if bin.starts_with('/') {
            return Ok(bin);
        }
        let args = json!({"paths": opts.search_paths, "patterns": [bin], "file_type": "any"});
        let found = match self
            .runner
            .run_module(target, "find", &args, &CallSettings::default())
        {
            Ok(r) => r,
            Err(u) => {
                return Err(obj(
                    json!({"unreachable": true, "changed": false, "msg": u.0}),
                ))
            }
        };
        found
            .get("files")
            .and_then(Json::as_array)
            .and_then(|files| files.first())
            .and_then(|f| f.get("path"))
            .and_then(Json::as_str)
            .map(str::to_string)
            .ok_or_else(|| {
                failed(format!(
                    "Unable to find command \"{bin}\" in search paths: {}",
                    py_list(&opts.search_paths)
                ))
            })
    }

    /// A command through the connection, without the agent, with the task's become.
    fn low_level(&mut self, target: &TargetSpec, command: &str) -> Low {
        match self.runner.run_raw(target, command, &RawCall::default()) {
            RawOutcome::Done { rc, stdout, stderr } => Low::Ran { rc, stdout, stderr },
            RawOutcome::Unreachable(m) => Low::ConnectionFailed(m),
            RawOutcome::Failed(m) => Low::Error(m),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(pairs: &[(&str, Value)]) -> IndexMap<String, Value> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.clone()))
            .collect()
    }

    #[test]
    fn options_check_names_and_types() {
        let o = options("reboot", &IndexMap::new()).unwrap();
        assert_eq!(
            (o.reboot_timeout, o.post_reboot_delay, o.connect_timeout),
            (600, 0, None)
        );
        assert_eq!(o.msg, "Reboot initiated by Ansible");
        assert_eq!(o.search_paths[0], "/sbin");
        let e = options(
            "ansible.builtin.reboot",
            &args(&[("delay", Value::from(1))]),
        )
        .err()
        .unwrap();
        assert_eq!(e, "Invalid options for ansible.builtin.reboot: delay");
        let e = options("reboot", &args(&[("reboot_command", Value::from(3))]))
            .err()
            .unwrap();
        assert!(
            e.starts_with("Invalid value given for 'reboot_command'"),
            "{e}"
        );
        let o = options("reboot", &args(&[("search_paths", Value::from("/a,/b"))])).unwrap();
        assert_eq!(o.search_paths, ["/a", "/b"]);
    }

    #[test]
    fn shutdown_arguments_follow_the_distribution() {
        let mut o = options(
            "reboot",
            &args(&[
                ("pre_reboot_delay", Value::from(150)),
                ("msg", Value::from("bye")),
            ]),
        )
        .unwrap();
        let linux = Distribution {
            name: "ubuntu".into(),
            version: "22".into(),
            family: "debian".into(),
        };
        assert_eq!(shutdown_args(&o, &linux), "-r 2 \"bye\"");
        let freebsd = Distribution {
            name: "freebsd".into(),
            version: "14".into(),
            family: "freebsd".into(),
        };
        assert_eq!(shutdown_args(&o, &freebsd), "-r +150s \"bye\"");
        assert_eq!(freebsd.boot_time_command(), "/sbin/sysctl kern.boottime");
        assert_eq!(
            linux.boot_time_command(),
            "cat /proc/sys/kernel/random/boot_id"
        );
        o.reboot_command = Some("/usr/bin/systemctl reboot --now".into());
        assert_eq!(shutdown_args(&o, &linux), "reboot --now");
        o.reboot_command = Some("myreboot".into());
        assert_eq!(shutdown_args(&o, &linux), "");
    }

    #[test]
    fn backoff_grows_to_twelve_seconds() {
        assert!(backoff(0) >= Duration::from_secs(1) && backoff(0) < Duration::from_secs(2));
        assert!(backoff(3) >= Duration::from_secs(8));
        assert!(backoff(10) < Duration::from_secs(13));
        assert_eq!(py_list(&["/a".into(), "b'c".into()]), "['/a', 'b\\'c']");
    }
}
