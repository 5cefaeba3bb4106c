//! `wait_for_connection`: retry reaching the host (connect, start the agent,
//! run `ping`) until it answers or `timeout` passes, as Ansible's action
//! plugin does after a reboot. The result carries `elapsed` (whole seconds);
//! a timeout fails the task (not unreachable) with Ansible's message.

use std::net::{SocketAddr, TcpStream, ToSocketAddrs};
use std::time::{Duration, Instant};

use indexmap::IndexMap;
use rsible_templar::{to_json, Value};
use serde_json::{json, Map, Value as Json};

use super::{obj, Executor};
use crate::output::default_callback::Sink;
use crate::target::{CallSettings, TargetSpec, Unreachable};
use crate::vars::VarLayers;

/// The options Ansible's plugin accepts, with its defaults.
struct WaitOptions {
    connect_timeout: u64,
    delay: u64,
    sleep: u64,
    timeout: u64,
}

/// Python's `int(value)` on a task argument: ints, integral strings and bools.
pub(super) fn int_arg(
    args: &IndexMap<String, Value>,
    key: &str,
    default: u64,
) -> Result<u64, String> {
    let Some(v) = args.get(key) else {
        return Ok(default);
    };
    let parsed = match to_json(v) {
        Json::Number(n) => n.as_i64().or_else(|| n.as_f64().map(|f| f.trunc() as i64)),
        Json::Bool(b) => Some(i64::from(b)),
        Json::String(s) => s.trim().parse::<i64>().ok(),
        _ => None,
    };
    match parsed {
        Some(n) => Ok(n.max(0) as u64),
        None => Err(format!(
            "Unexpected failure during module execution: invalid literal for int() with base 10: '{}'",
            v.as_str().map_or_else(|| v.to_string(), str::to_string)
        )),
    }
}

/// `action` is the task's action as written (`ansible.builtin.wait_for_connection`),
/// which Ansible names in the invalid-options message.
fn options(action: &str, args: &IndexMap<String, Value>) -> Result<WaitOptions, String> {
    const VALID: [&str; 4] = ["connect_timeout", "delay", "sleep", "timeout"];
    let bad: Vec<&str> = args
        .keys()
        .map(String::as_str)
        .filter(|k| !VALID.contains(k))
        .collect();
    if !bad.is_empty() {
        return Err(format!("Invalid options for {action}: {}", bad.join(",")));
    }
    Ok(WaitOptions {
        connect_timeout: int_arg(args, "connect_timeout", 5)?,
        delay: int_arg(args, "delay", 0)?,
        sleep: int_arg(args, "sleep", 1)?,
        timeout: int_arg(args, "timeout", 600)?,
    })
}

/// Where a plain TCP probe can tell "port not up yet" without asking the
/// connection pool (which remembers a failed host as unreachable): ssh
/// targets reached directly, not through a proxy or an ssh_config alias.
fn direct_ssh_address(target: &TargetSpec) -> Option<Vec<SocketAddr>> {
    if target.connection != "ssh" {
        return None;
    }
    let proxied = [&target.ssh_common_args, &target.ssh_extra_args]
        .iter()
        .any(|a| a.as_deref().is_some_and(|a| a.contains("Proxy")));
    if proxied {
        return None;
    }
    let addrs: Vec<SocketAddr> = (target.address.as_str(), target.port.unwrap_or(22))
        .to_socket_addrs()
        .ok()?
        .collect();
    (!addrs.is_empty()).then_some(addrs)
}

fn port_up(addrs: &[SocketAddr], connect_timeout: u64) -> bool {
    let limit = Duration::from_secs(connect_timeout.max(1));
    addrs
        .iter()
        .any(|a| TcpStream::connect_timeout(a, limit).is_ok())
}

/// One try's outcome.
enum Attempt {
    Answered,
    /// The port did not accept a connection; the pool was not asked.
    PortDown,
    Failed(String),
}

impl<'a, S: Sink> Executor<'a, S> {
    pub(super) fn wait_for_connection_action(
        &mut self,
        action: &str,
        host: &str,
        scope: &VarLayers,
        delegate: Option<&str>,
        args: &IndexMap<String, Value>,
    ) -> Map<String, Json> {
        // Ansible checks check mode before validating the options.
        if self.ctl.call_settings.check_mode {
            return obj(json!({"skipped": true}));
        }
        let opts = match options(action, args) {
            Ok(o) => o,
            // Raised as AnsibleActionFail outside an except block: Ansible's
            // result carries an empty traceback, which the callback announces.
            Err(msg) => {
                return obj(json!({"failed": true, "msg": msg, "exception": "NoneType: None"}))
            }
        };
        let target = self.target_spec(host, scope, delegate);
        let start = Instant::now();
        std::thread::sleep(Duration::from_secs(opts.delay));
        let end = Instant::now() + Duration::from_secs(opts.timeout);
        let probe = direct_ssh_address(&target);
        let mut last = Attempt::PortDown;
        while Instant::now() < end {
            last = self.try_once(&target, probe.as_deref(), opts.connect_timeout);
            if matches!(last, Attempt::Answered) {
                return obj(json!({"changed": false, "elapsed": start.elapsed().as_secs()}));
            }
            std::thread::sleep(Duration::from_secs(opts.sleep));
        }
        // The probe only says the port is down; the connection's own error is
        // what Ansible reports, so ask once for it.
        if matches!(last, Attempt::PortDown) {
            last = self.try_once(&target, None, opts.connect_timeout);
        }
        let error = match last {
            Attempt::Answered => {
                return obj(json!({"changed": false, "elapsed": start.elapsed().as_secs()}))
            }
            Attempt::PortDown => String::new(),
            Attempt::Failed(e) => e,
        };
        obj(json!({
            "failed": true,
            "msg": format!("timed out waiting for ping module test: {error}"),
            "elapsed": start.elapsed().as_secs(),
        }))
    }

    /// Reset the connection, then connect and run `ping`, as Ansible's
    /// `ping_module_test` does on each try.
    fn try_once(
        &mut self,
        target: &TargetSpec,
        probe: Option<&[SocketAddr]>,
        connect_timeout: u64,
    ) -> Attempt {
        if let Some(addrs) = probe {
            if !port_up(addrs, connect_timeout) {
                return Attempt::PortDown;
            }
        }
        self.runner.forget(target);
        let settings = CallSettings::default();
        match self
            .runner
            .run_module(target, "ping", &json!({}), &settings)
        {
            Ok(r) if r.get("ping") == Some(&json!("pong")) => Attempt::Answered,
            Ok(_) => Attempt::Failed("ping test failed".into()),
            Err(Unreachable(msg)) => Attempt::Failed(msg),
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
    fn options_have_ansibles_defaults_and_checks() {
        let o = options("wait_for_connection", &IndexMap::new()).unwrap();
        assert_eq!(
            (o.connect_timeout, o.delay, o.sleep, o.timeout),
            (5, 0, 1, 600)
        );
        let o = options(
            "wait_for_connection",
            &args(&[("timeout", Value::from("30")), ("delay", Value::from(2))]),
        )
        .unwrap();
        assert_eq!((o.timeout, o.delay), (30, 2));
        let e = options(
            "ansible.builtin.wait_for_connection",
            &args(&[("port", Value::from(22))]),
        )
        .err()
        .unwrap();
        assert_eq!(
            e,
            "Invalid options for ansible.builtin.wait_for_connection: port"
        );
        assert!(
            options("wait_for_connection", &args(&[("sleep", Value::from("x"))]))
                .err()
                .unwrap()
                .ends_with("invalid literal for int() with base 10: 'x'")
        );
    }

    #[test]
    fn proxied_and_local_targets_are_not_probed() {
        let mut t = TargetSpec {
            host: "h".into(),
            connection: "ssh".into(),
            address: "127.0.0.1".into(),
            port: Some(2222),
            user: None,
            private_key_file: None,
            ssh_common_args: None,
            ssh_extra_args: None,
            become_user: None,
            become_method: None,
            become_password: None,
            become_flags: None,
            timeout: None,
            retries: None,
            python_interpreter: None,
        };
        assert_eq!(direct_ssh_address(&t).map(|a| a[0].port()), Some(2222));
        t.ssh_common_args = Some("-o ProxyCommand=\"ssh -W %h:%p bastion\"".into());
        assert!(direct_ssh_address(&t).is_none());
        t.ssh_common_args = None;
        t.connection = "local".into();
        assert!(direct_ssh_address(&t).is_none());
    }
}
