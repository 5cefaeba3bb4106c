//! The `ansible.posix.synchronize` action: rsync between the controller (or
//! a delegate) and the host, as the collection's action plugin arranges it.
//!
//! The module only runs `rsync`; the plugin decides where it runs and what
//! the two ends are called. Without `delegate_to` on an ssh host the module
//! runs on the controller through the local connection, with
//! `user@host:path` for the remote end, the host's key, port and (with
//! `use_ssh_args`) ssh arguments, and become turned into `--rsync-path=sudo
//! rsync`. Delegated to the host itself it runs there as a local copy; to
//! another host, it runs on that host. Relative local paths are looked up
//! in the role's or playbook's `files/`. The Python module then runs
//! unchanged with the arguments the plugin adds (`_local_rsync_path`,
//! `_ssh_args`, `private_key`, `dest_port`, `rsync_path`, ...).

use std::path::Path;

use indexmap::IndexMap;
use rsible_playbook::Task;
use rsible_templar::{Value, VarSource};
use serde_json::{json, Map, Value as Json};

use super::python_fallback::ModuleCallCtx;
use super::{json_truthy, obj, Executor, PlayCtx};
use crate::frame::Frame;
use crate::output::default_callback::Sink;

/// The collection's module, run after the plugin prepared its arguments.
pub(super) const SYNCHRONIZE: &str = "ansible.posix.synchronize";

/// Ansible's `C.LOCALHOST`: the names that mean the controller.
const LOCALHOST: [&str; 3] = ["127.0.0.1", "localhost", "::1"];

/// ssh settings of the run (ansible.cfg and command line) that action
/// plugins read from the connection: synchronize hands them to rsync.
#[derive(Clone, Debug, Default)]
pub struct SshCommandDefaults {
    /// ansible.cfg `ssh_args` (its default when unset).
    pub ssh_args: Option<String>,
    pub ssh_common_args: Option<String>,
    pub ssh_extra_args: Option<String>,
    /// `--private-key` / ansible.cfg `private_key_file`.
    pub private_key_file: Option<String>,
    /// `-u` / ansible.cfg `remote_user`.
    pub remote_user: Option<String>,
}

/// Where the module runs and with which become, as the plugin decides.
enum Runner {
    /// On the controller, through the local connection, without become.
    Controller,
    /// Where the task would run anyway (the host or its delegate).
    AsTask { keep_become: bool },
}

impl<S: Sink> Executor<'_, S> {
    pub(super) fn synchronize_action(
        &mut self,
        ctx: &PlayCtx,
        call: &ModuleCallCtx,
        mut args: Map<String, Json>,
    ) -> Map<String, Json> {
        let &ModuleCallCtx {
            task,
            frame,
            host,
            scope,
            delegate,
        } = call;
        // Runs in the real walk only: its module may run on the controller.
        if self.prefetch.refuse_while_recording(host) {
            return failed("(prefetch placeholder)".into());
        }
        // The connection the task would use: the delegate's when delegating.
        let conn = self.target_spec(host, scope, delegate);
        let transport = conn.connection.clone();
        let remote_transport = transport != "local";
        let use_ssh_args = args.remove("use_ssh_args").is_some_and(|v| json_truthy(&v));
        if use_ssh_args && transport == "ssh" {
            let defaults = &self.options.ssh;
            let parts = [
                defaults.ssh_args.clone(),
                conn.ssh_common_args
                    .clone()
                    .or_else(|| defaults.ssh_common_args.clone()),
                conn.ssh_extra_args
                    .clone()
                    .or_else(|| defaults.ssh_extra_args.clone()),
            ];
            let joined: Vec<String> = parts
                .into_iter()
                .flatten()
                .filter(|a| !a.is_empty())
                .collect();
            args.insert("_ssh_args".into(), Json::String(joined.join(" ")));
        }
        if delegate.is_none() && !["ssh", "paramiko", "local"].contains(&transport.as_str()) {
            return failed(format!(
                "synchronize uses rsync to function. rsync needs to connect to the remote host via ssh, docker client or a direct filesystem copy. This remote host is being accessed via {transport} instead so it cannot work."
            ));
        }
        let localhost_ports = self.localhost_ports(ctx, frame, task);
        let var = |name: &str| self.var_text(scope, name).ok().flatten();
        args.insert(
            "_local_rsync_path".into(),
            Json::String(
                var("ansible_rsync_path")
                    .filter(|p| !p.is_empty())
                    .unwrap_or_else(|| "rsync".into()),
            ),
        );

        let mut src_host = "127.0.0.1".to_string();
        let host_address = var("ansible_host");
        let mut dest_host = host_address.clone().unwrap_or_else(|| host.to_string());
        let dest_host_ids: Vec<&str> = std::iter::once(host)
            .chain(host_address.as_deref())
            .collect();
        let inv_port = var("ansible_port");
        let port_matches_localhost_port = localhost_ports.contains(&inv_port);
        if args.get("dest_port").is_none_or(Json::is_null) {
            if let Some(port) = &inv_port {
                args.insert("dest_port".into(), number_or_text(port));
            }
        }
        let delegated_to_host = delegate.is_some_and(|d| dest_host_ids.contains(&d));
        let dest_is_local = (delegate.is_none() && !remote_transport) || delegated_to_host;
        let use_delegate = if delegated_to_host {
            // rsync runs on the host itself and targets its own localhost.
            dest_host = "127.0.0.1".into();
            true
        } else {
            delegate.is_some() && remote_transport
        };
        let runner = if !use_delegate && remote_transport {
            Runner::Controller
        } else {
            Runner::AsTask {
                keep_become: dest_is_local,
            }
        };
        // The transport the module's own connection has: the plugin swaps
        // in the local one when rsync runs on the controller.
        let module_transport = match runner {
            Runner::Controller => "local",
            Runner::AsTask { .. } => transport.as_str(),
        };
        let pull = args.get("mode").and_then(Json::as_str) == Some("pull");
        if pull {
            std::mem::swap(&mut dest_host, &mut src_host);
        }
        let (Some(src), Some(dest)) = (text_arg(&args, "src"), text_arg(&args, "dest")) else {
            return failed("synchronize requires both src and dest parameters are set".into());
        };
        let absolute = |path: &str| absolute_local_path(ctx, frame, path);
        // The host's own password, for rsync's ssh (the module feeds sshpass on a pipe).
        let password = var("ansible_ssh_pass").or_else(|| var("ansible_password"));
        let remote_user = var("ansible_user");
        let (src, dest) = if !dest_is_local {
            let set_remote_user = super::loose_boolean(args.get("set_remote_user"), true);
            let user = if set_remote_user {
                remote_user
                    .or_else(|| conn.user.clone())
                    .or_else(|| self.options.ssh.remote_user.clone())
            } else {
                None
            };
            if args.get("private_key").is_none_or(Json::is_null) {
                let key = conn
                    .private_key_file
                    .clone()
                    .or_else(|| self.options.ssh.private_key_file.clone());
                args.insert(
                    "private_key".into(),
                    key.map(Json::String).unwrap_or(Json::Null),
                );
            }
            let remote = |args: &mut Map<String, Json>, end_host: &str, path: &str| {
                let is_localhost = LOCALHOST.contains(&end_host);
                if !is_localhost || module_transport != "local" || !port_matches_localhost_port {
                    if port_matches_localhost_port && is_localhost {
                        args.insert("_substitute_controller".into(), Json::Bool(true));
                    }
                    return rsh_target(end_host, path, user.as_deref());
                }
                absolute(path)
            };
            let origin = |end_host: &str, path: &str| {
                if LOCALHOST.contains(&end_host) {
                    absolute(path)
                } else {
                    rsh_target(end_host, path, user.as_deref())
                }
            };
            if pull {
                let s = remote(&mut args, &src_host, &src);
                (s, origin(&dest_host, &dest))
            } else {
                let d = remote(&mut args, &dest_host, &dest);
                (origin(&src_host, &src), d)
            }
        } else {
            (absolute(&src), absolute(&dest))
        };
        args.insert(
            "_local_rsync_password".into(),
            password.map(Json::String).unwrap_or(Json::Null),
        );
        args.insert("src".into(), Json::String(src));
        args.insert("dest".into(), Json::String(dest));

        let saved_become = self.current_become.clone();
        let mut rsync_path = text_arg(&args, "rsync_path");
        if !dest_is_local {
            // Escalation moves to the far end of rsync's connection.
            if let (Some((method, user)), None) = (&saved_become, &rsync_path) {
                if method == "sudo" {
                    rsync_path = Some(if user.is_empty() {
                        "sudo rsync".into()
                    } else {
                        format!("sudo -u {user} rsync")
                    });
                }
            }
        }
        args.insert(
            "rsync_path".into(),
            rsync_path.map(Json::String).unwrap_or(Json::Null),
        );

        let called_as = task.action.clone();
        let result = match runner {
            Runner::Controller => {
                self.current_become = None;
                self.synchronize_on_controller(ctx, call, &called_as, args)
            }
            Runner::AsTask { keep_become } => {
                if !keep_become {
                    self.current_become = None;
                }
                self.python_module_of_action(call, SYNCHRONIZE, &called_as, args)
            }
        };
        self.current_become = saved_become;
        result
    }

    /// Runs the module on the controller through the local connection, with
    /// the interpreter variables of `localhost` in place of the host's (as
    /// the plugin's `_override_module_replaced_vars`).
    fn synchronize_on_controller(
        &mut self,
        ctx: &PlayCtx,
        call: &ModuleCallCtx,
        called_as: &str,
        args: Map<String, Json>,
    ) -> Map<String, Json> {
        let &ModuleCallCtx {
            task,
            frame,
            host,
            scope,
            ..
        } = call;
        let mut local = self.scope_for(ctx, "localhost", frame, Some(task));
        let mut forced = IndexMap::new();
        forced.insert("ansible_connection".to_string(), Value::from("local"));
        forced.insert("inventory_hostname".to_string(), Value::from(host));
        local.push_map("synchronize local connection", forced);
        let mut interpreter = IndexMap::new();
        interpreter.insert(
            "ansible_python_interpreter".to_string(),
            local
                .get("ansible_python_interpreter")
                .unwrap_or(Value::from(())),
        );
        let mut module_scope = scope.clone();
        module_scope.push_map("localhost interpreter", interpreter);

        let saved_conn = std::mem::replace(
            &mut self.conn_ctx,
            super::delegation::ConnContext::on_controller(local),
        );
        let call = ModuleCallCtx {
            task,
            frame,
            host,
            scope: &module_scope,
            delegate: Some("localhost"),
        };
        let result = self.python_module_of_action(&call, SYNCHRONIZE, called_as, args);
        self.conn_ctx = saved_conn;
        result
    }

    /// `ansible_port` (or `ansible_ssh_port`) of each name that means the
    /// controller; None where it sets none (Ansible's DEFAULT_REMOTE_PORT).
    fn localhost_ports(
        &mut self,
        ctx: &PlayCtx,
        frame: &Frame,
        task: &Task,
    ) -> Vec<Option<String>> {
        let mut ports = Vec::new();
        for name in LOCALHOST {
            let port = if self.inventory.hosts.contains_key(name) {
                let vars = self.scope_for(ctx, name, frame, Some(task));
                ["ansible_ssh_port", "ansible_port"]
                    .iter()
                    .find_map(|v| self.var_text(&vars, v).ok().flatten())
            } else {
                None
            };
            if !ports.contains(&port) {
                ports.push(port);
            }
        }
        ports
    }
}

/// `[user@]host:path` for rsync's remote end, as the plugin writes it
/// (IPv6 addresses bracketed; a path naming its own host kept).
fn rsh_target(host: &str, path: &str, user: Option<&str>) -> String {
    if path.starts_with("rsync://") {
        return path.to_string();
    }
    let prefix = user
        .filter(|u| !u.is_empty())
        .map(|u| format!("{u}@"))
        .unwrap_or_default();
    if host.contains(':') {
        return format!("[{prefix}{host}]:{path}");
    }
    if !path.contains(':') {
        format!("{prefix}{host}:{path}")
    } else if !path.contains('@') {
        format!("{prefix}{path}")
    } else {
        path.to_string()
    }
}

/// A local path as the plugin's `_get_absolute_path`: remote paths, URLs
/// and absolute paths as written; a relative one looked up as Ansible's
/// `path_dwim_relative` under `files/` (the first that exists, else the
/// last candidate), keeping a trailing `/`.
fn absolute_local_path(ctx: &PlayCtx, frame: &Frame, path: &str) -> String {
    if path.contains(':') || path.starts_with('/') {
        return path.to_string();
    }
    let playbook_dir = ctx.play.basedir.as_path();
    let (base, is_role) = match &frame.role {
        Some(role) => (role.path.as_path(), true),
        None => (playbook_dir, false),
    };
    let mut candidates = vec![base.join("files").join(path)];
    if is_role && !path.ends_with("files") {
        candidates.push(base.join("tasks").join(path));
    }
    let cwd = std::env::current_dir().unwrap_or_else(|_| playbook_dir.to_path_buf());
    candidates.push(cwd.join("files").join(path));
    candidates.push(base.join(path));
    candidates.push(playbook_dir.join("files").join(path));
    candidates.push(playbook_dir.join(path));
    let found = candidates
        .iter()
        .find(|c| c.exists())
        .or(candidates.last())
        .map(|p| normalize(p))
        .unwrap_or_else(|| path.to_string());
    if path.ends_with('/') && !found.ends_with('/') {
        format!("{found}/")
    } else {
        found
    }
}

/// The path with `.` and `..` resolved lexically, as `unfrackpath` without
/// following links.
fn normalize(path: &Path) -> String {
    crate::lexical_path::normalize(path).display().to_string()
}

fn text_arg(args: &Map<String, Json>, name: &str) -> Option<String> {
    match args.get(name)? {
        Json::Null => None,
        Json::String(s) => Some(s.clone()),
        other => Some(other.to_string()),
    }
}

fn number_or_text(s: &str) -> Json {
    s.trim()
        .parse::<i64>()
        .map(Json::from)
        .unwrap_or_else(|_| Json::String(s.to_string()))
}

fn failed(msg: String) -> Map<String, Json> {
    obj(json!({"failed": true, "msg": msg}))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rsh_targets_as_the_plugin_writes_them() {
        assert_eq!(
            rsh_target("10.0.0.1", "/srv", Some("root")),
            "root@10.0.0.1:/srv"
        );
        assert_eq!(rsh_target("10.0.0.1", "/srv", None), "10.0.0.1:/srv");
        assert_eq!(rsh_target("fe80::1", "/srv", Some("u")), "[u@fe80::1]:/srv");
        assert_eq!(rsh_target("h", "other:/srv", Some("u")), "u@other:/srv");
        assert_eq!(rsh_target("h", "v@other:/srv", Some("u")), "v@other:/srv");
        assert_eq!(rsh_target("h", "rsync://m/x", Some("u")), "rsync://m/x");
    }
}
