//! Hosts that cannot run the agent (another architecture, too old a C
//! library): every module runs there as Ansible runs it with pipelining —
//! one ssh session per module (through the same ControlMaster), ansible-core's
//! own Python module of that name (or the collection's) packed with its
//! module_utils and fed to the target's Python on stdin. rsible's native
//! twins are not used there: the agent is what runs them.
//!
//! `copy`/`template` arrive here as the native copy with `content`: the bytes
//! go to a private temporary file first (as Ansible's action plugins transfer
//! then call the module), the module copies from it, and the file is removed.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use rsible_connection::agentless::run_piped;
use rsible_connection::{ConnError, ConnSpec};
use rsible_pymodule::interpreter::{choose, discovery_command, DEFAULT_FALLBACK};
use rsible_pymodule::module_args::{document, ModuleRunSettings};
use rsible_pymodule::result::{parse, RawRun};
use rsible_pymodule::{PayloadCache, SearchRoots};
use serde_json::{Map, Value};

use super::failure;
use crate::target::{CallOutcome, CallSettings, PythonCall, PythonOutput, TargetSpec, Unreachable};

/// Where the controller's ansible-core and collections are: the modules
/// agentless hosts run come from there.
#[derive(Clone, Debug, Default)]
pub struct ModuleSources {
    /// The installed `ansible` package directory (`.../site-packages/ansible`).
    pub ansible_core_dir: Option<PathBuf>,
    /// Directories holding an `ansible_collections/` tree, in search order.
    pub collection_roots: Vec<PathBuf>,
}

/// What agentless calls share across hosts and threads.
#[derive(Clone, Default)]
pub(super) struct Shared {
    pub sources: Arc<ModuleSources>,
    pub payloads: Arc<Mutex<PayloadCache>>,
}

/// One agentless (host, user, become user).
pub(super) struct AgentlessHost {
    /// The inventory name, for messages.
    host: String,
    spec: ConnSpec,
    /// Why the agent cannot run there.
    reason: String,
    /// The interpreter discovery found on this host, once it ran.
    discovered: Option<String>,
}

/// The per-host warning, printed once when the host is found agentless.
pub(super) fn warning_text(host: &str, reason: &str) -> String {
    format!(
        "The rsible agent cannot run on host {host} ({reason}): its modules run through \
         Python as Ansible runs them, one ssh session per module."
    )
}

/// Reads exactly `n` bytes of the zip from stdin (the rest is the module's
/// input), stores it in a private directory, runs it with this Python and
/// removes the directory. Written for rsible.
const LAUNCHER: &str = r#"import os, shutil, subprocess, sys, tempfile
def take(n):
    got = b""
    while len(got) < n:
        chunk = os.read(0, n - len(got))
        if not chunk:
            break
        got += chunk
    return got
size = int(take(16))
scratch = tempfile.mkdtemp(prefix="rsible-")
try:
    path = os.path.join(scratch, "payload.zip")
    with open(path, "wb") as f:
        f.write(take(size))
    os.environ["RSIBLE_MODULE_TMPDIR"] = scratch
    rc = subprocess.call([sys.executable, path])
finally:
    shutil.rmtree(scratch, ignore_errors=True)
sys.exit(rc if rc >= 0 else 128 - rc)
"#;

impl AgentlessHost {
    pub fn new(host: String, spec: ConnSpec, reason: String) -> Self {
        AgentlessHost {
            host,
            spec,
            reason,
            discovered: None,
        }
    }

    /// Runs the module a native call names, as ansible-core's Python module.
    pub fn call(
        &mut self,
        target: &TargetSpec,
        module: &str,
        args: &Value,
        settings: &CallSettings,
        shared: &Shared,
    ) -> CallOutcome {
        let short = rsible_modules::modules::short_name(module);
        if settings.async_job.is_some() || short == "async_status" {
            return Ok(self.agent_only(target, "async tasks"));
        }
        let mut args = args.as_object().cloned().unwrap_or_default();
        let (fqcn, called_as) = match short {
            // ansible-core's shell action runs the command module in a shell.
            "shell" => {
                args.insert("_uses_shell".into(), Value::Bool(true));
                (
                    "ansible.builtin.command".to_string(),
                    "ansible.legacy.shell",
                )
            }
            name if name.contains('.') => (name.to_string(), name),
            name => (format!("ansible.builtin.{name}"), module),
        };
        let payload = match self.payload(&fqcn, shared) {
            Ok(p) => p,
            Err(msg) => return Ok(failure(msg)),
        };
        let (interpreter, warnings) = self.interpreter(target)?;
        // copy/template content: transferred to a temporary file first.
        let mut cleanup = None;
        if short == "copy" {
            let encoded = match args.remove("_content_base64") {
                Some(Value::String(b64)) => {
                    use base64::Engine as _;
                    match base64::engine::general_purpose::STANDARD.decode(b64) {
                        Ok(bytes) => Some(bytes),
                        Err(e) => return Ok(failure(format!("_content_base64: {e}"))),
                    }
                }
                _ => None,
            };
            let content = match args.remove("content") {
                Some(Value::String(text)) => Some(text.into_bytes()),
                _ => None,
            };
            if let Some(content) = encoded.or(content) {
                let tmp = match self.transfer(&content) {
                    Ok(t) => t,
                    Err(ConnError::Unreachable(m)) => return Err(Unreachable(m)),
                    Err(e) => return Ok(failure(e.to_string())),
                };
                let base = tmp.rsplit('/').next().unwrap_or("source").to_string();
                args.insert("src".into(), Value::String(tmp.clone()));
                args.entry("_original_basename")
                    .or_insert(Value::String(base));
                cleanup = Some(tmp);
            }
        }
        let run_settings = ModuleRunSettings {
            check_mode: settings.check_mode,
            diff: settings.diff,
            no_log: false,
            verbosity: 0,
            module_name: called_as.to_string(),
            ansible_version: crate::magic::ANSIBLE_VERSION.to_string(),
            remote_tmp: "~/.ansible/tmp".to_string(),
        };
        let stdin = document(&args, &run_settings);
        let out = self.run_payload(
            &payload.bytes,
            &interpreter,
            &stdin,
            &settings.env,
            cleanup.as_deref(),
        );
        let out = match out {
            Ok(o) => o,
            Err(ConnError::Unreachable(m)) => return Err(Unreachable(m)),
            Err(e) => return Ok(failure(e.to_string())),
        };
        let mut result = parse(
            &RawRun {
                stdout: out.stdout,
                stderr: out.stderr,
                rc: out.rc,
            },
            &interpreter,
        );
        if let Some(found) = warnings {
            let facts = result
                .entry("ansible_facts")
                .or_insert_with(|| Value::Object(Map::new()));
            if let Value::Object(f) = facts {
                f.insert(
                    "discovered_interpreter_python".into(),
                    Value::String(interpreter.clone()),
                );
            }
            add_warnings(&mut result, found);
        }
        Ok(result)
    }

    /// A planned call: its Python payload when it has one, else the module
    /// its native call names.
    pub fn call_planned(
        &mut self,
        call: &crate::target::PlannedCall,
        shared: &Shared,
    ) -> CallOutcome {
        match &call.python {
            Some(py) => crate::target::python_outcome_as_call(self.run_python(&py.as_call())),
            None => self.call(
                &call.target,
                &call.module,
                &call.args,
                &call.settings,
                shared,
            ),
        }
    }

    /// A Python-module payload the executor packed (the fallback), run in
    /// its own session.
    pub fn run_python(
        &mut self,
        call: &PythonCall,
    ) -> Result<Result<PythonOutput, String>, Unreachable> {
        if call.async_job.is_some() {
            let msg = self.agent_only_msg(&self.host, "async tasks");
            return Ok(Err(msg));
        }
        match self.run_payload(call.payload, call.interpreter, call.stdin, call.env, None) {
            Ok(out) => Ok(Ok(PythonOutput {
                rc: out.rc,
                stdout: out.stdout,
                stderr: out.stderr,
            })),
            Err(ConnError::Unreachable(m)) => Err(Unreachable(m)),
            Err(e) => Ok(Err(e.to_string())),
        }
    }

    fn agent_only(&self, target: &TargetSpec, feature: &str) -> Map<String, Value> {
        failure(self.agent_only_msg(&target.host, feature))
    }

    fn agent_only_msg(&self, host: &str, feature: &str) -> String {
        format!(
            "rsible: {feature} need the rsible agent, which cannot run on host {host} ({})",
            self.reason
        )
    }

    /// ansible-core's (or the collection's) module, packed once per run.
    fn payload(
        &self,
        fqcn: &str,
        shared: &Shared,
    ) -> Result<Arc<rsible_pymodule::Payload>, String> {
        let sources = &shared.sources;
        let mut parts = fqcn.splitn(3, '.');
        let (ns, coll, name) = match (parts.next(), parts.next(), parts.next()) {
            (Some(ns), Some(coll), Some(name)) => (ns, coll, name),
            _ => return Err(format!("rsible: cannot name the Python module for {fqcn}")),
        };
        let path = if ns == "ansible" && coll == "builtin" {
            let Some(core) = &sources.ansible_core_dir else {
                return Err(format!(
                    "rsible: host {} cannot run the rsible agent ({}), so {fqcn} must run as \
                     ansible-core's Python module, but no ansible-core is installed on the \
                     controller (install ansible-core 2.18 for the Python that rsible finds)",
                    self.host, self.reason
                ));
            };
            core.join("modules").join(format!("{name}.py"))
        } else {
            let found = sources.collection_roots.iter().find_map(|root| {
                let p = root
                    .join("ansible_collections")
                    .join(ns)
                    .join(coll)
                    .join("plugins/modules")
                    .join(format!("{name}.py"));
                p.is_file().then_some(p)
            });
            match found {
                Some(p) => p,
                None => {
                    return Err(format!(
                        "rsible: host {} cannot run the rsible agent ({}), so {fqcn} must run as \
                         a Python module, but the collection {ns}.{coll} is not installed on the \
                         controller",
                        self.host, self.reason
                    ))
                }
            }
        };
        if !path.is_file() {
            return Err(format!(
                "rsible: host {} cannot run the rsible agent ({}), and ansible-core's module file \
                 {} was not found",
                self.host,
                self.reason,
                path.display()
            ));
        }
        let roots = SearchRoots {
            ansible_core_parent: sources
                .ansible_core_dir
                .as_deref()
                .and_then(|d| d.parent())
                .map(|d| d.to_path_buf()),
            collection_roots: sources.collection_roots.clone(),
        };
        let mut cache = shared.payloads.lock().unwrap_or_else(|p| p.into_inner());
        cache
            .get(fqcn, &path, &roots)
            .map_err(|e| format!("rsible: {e}"))
    }

    /// `ansible_python_interpreter`, else the one found before, else
    /// discovery as Ansible's `auto` (its warnings go into this result).
    fn interpreter(
        &mut self,
        target: &TargetSpec,
    ) -> Result<(String, Option<Vec<String>>), Unreachable> {
        if let Some(set) = &target.python_interpreter {
            return Ok((set.clone(), None));
        }
        if let Some(found) = &self.discovered {
            return Ok((found.clone(), None));
        }
        let candidates: Vec<String> = DEFAULT_FALLBACK.iter().map(|s| s.to_string()).collect();
        let mut plain = self.spec.clone();
        plain.become_ = None;
        let out = match run_piped(&plain, &discovery_command(&candidates), b"") {
            Ok(o) => o,
            Err(ConnError::Unreachable(m)) => return Err(Unreachable(m)),
            Err(_) => Default::default(),
        };
        let found = choose(&out.stdout, "auto", &target.host, &candidates);
        self.discovered = Some(found.interpreter.clone());
        Ok((found.interpreter, Some(found.warnings)))
    }

    /// Sends `bytes` to a new private temporary file on the target (as the
    /// user the module will run as) and returns its path.
    fn transfer(&self, bytes: &[u8]) -> Result<String, ConnError> {
        let cmd = "umask 077 && t=$(mktemp \"${TMPDIR:-/tmp}/rsible-copy.XXXXXXXX\") && cat > \"$t\" && echo \"$t\"";
        let out = run_piped(&self.spec, cmd, bytes)?;
        let path = out.stdout.lines().last().unwrap_or("").trim().to_string();
        if out.rc != 0 || !path.starts_with('/') {
            return Err(ConnError::Local(format!(
                "rsible: cannot transfer the file's content to {} (exit status {}): {}",
                self.host, out.rc, out.stderr
            )));
        }
        Ok(path)
    }

    /// Writes `data` to `path` (`put_file` of the runner): through `cat` in
    /// one session, private to the user until `mode` is set.
    pub fn put_file(
        &self,
        data: &[u8],
        path: &str,
        mode: Option<u32>,
    ) -> Result<Result<u64, String>, Unreachable> {
        use rsible_connection::ssh_command::shell_quote;
        let quoted = shell_quote(path);
        let mut cmd = format!("umask 077 && cat > {quoted}");
        if let Some(m) = mode {
            cmd.push_str(&format!(" && chmod {:o} {quoted}", m & 0o7777));
        }
        match run_piped(&self.spec, &cmd, data) {
            Ok(out) if out.rc == 0 => Ok(Ok(data.len() as u64)),
            Ok(out) => Ok(Err(format!(
                "rsible: cannot write {path} on {} (exit status {}): {}",
                self.host, out.rc, out.stderr
            ))),
            Err(ConnError::Unreachable(m)) => Err(Unreachable(m)),
            Err(e) => Ok(Err(e.to_string())),
        }
    }

    /// One session: the launcher reads the zip then the module's input.
    fn run_payload(
        &self,
        zip: &[u8],
        interpreter: &str,
        stdin: &str,
        env: &std::collections::BTreeMap<String, String>,
        remove_after: Option<&str>,
    ) -> Result<rsible_connection::RawOutput, ConnError> {
        use rsible_connection::ssh_command::shell_quote;
        let mut cmd = String::new();
        for (k, v) in env {
            if is_env_name(k) {
                cmd.push_str(&format!("{k}={} ", shell_quote(v)));
            }
        }
        cmd.push_str(&format!("{interpreter} -c {}", shell_quote(LAUNCHER)));
        if let Some(path) = remove_after {
            cmd = format!("{cmd}; rc=$?; rm -f {}; exit $rc", shell_quote(path));
        }
        let mut input = format!("{:016}", zip.len()).into_bytes();
        input.extend_from_slice(zip);
        input.extend_from_slice(stdin.as_bytes());
        run_piped(&self.spec, &cmd, &input)
    }
}

fn is_env_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

fn add_warnings(result: &mut Map<String, Value>, warnings: Vec<String>) {
    if warnings.is_empty() {
        return;
    }
    let list = result
        .entry("warnings")
        .or_insert_with(|| Value::Array(Vec::new()));
    if let Value::Array(items) = list {
        items.extend(warnings.into_iter().map(Value::String));
    }
}

/// A host's calls to run (indexes into the planned calls).
pub(super) type Unit = (TargetSpec, AgentlessHost, Vec<usize>);
/// A host after its calls, with their outcomes.
pub(super) type UnitDone = (TargetSpec, AgentlessHost, Vec<(usize, CallOutcome)>);

/// Runs agentless hosts' calls, one thread per host (at most `forks` at a
/// time), each host's calls in order, stopping at an unreachable outcome.
pub(super) fn run_units(
    units: Vec<Unit>,
    calls: &[crate::target::PlannedCall],
    forks: usize,
    shared: &Shared,
) -> Vec<UnitDone> {
    let queue = Mutex::new(units);
    let done = Mutex::new(Vec::new());
    std::thread::scope(|s| {
        for _ in 0..forks.max(1) {
            s.spawn(|| loop {
                let next = queue.lock().unwrap_or_else(|p| p.into_inner()).pop();
                let Some((target, mut host, indexes)) = next else {
                    break;
                };
                let mut results = Vec::new();
                for i in indexes {
                    let outcome = host.call_planned(&calls[i], shared);
                    let lost = outcome.is_err();
                    results.push((i, outcome));
                    if lost {
                        break;
                    }
                }
                done.lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .push((target, host, results));
            });
        }
    });
    done.into_inner().unwrap_or_else(|p| p.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn env_names_are_checked_before_reaching_a_shell() {
        assert!(is_env_name("HTTP_PROXY"));
        assert!(is_env_name("_x1"));
        assert!(!is_env_name("1X"));
        assert!(!is_env_name("A;rm"));
        assert!(!is_env_name(""));
    }

    #[test]
    fn launcher_runs_the_zip_with_the_rest_of_stdin() {
        // A zip whose __main__ echoes its stdin proves the split of the
        // input between the payload and the module.
        let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
        zip.start_file("__main__.py", zip::write::SimpleFileOptions::default())
            .unwrap();
        std::io::Write::write_all(
            &mut zip,
            b"import os,sys\nsys.stdout.write('got:' + sys.stdin.read() + ':' + str(os.path.isdir(os.environ['RSIBLE_MODULE_TMPDIR'])))\nsys.exit(4)\n",
        )
        .unwrap();
        let bytes = zip.finish().unwrap().into_inner();
        let mut spec = ConnSpec::new("localhost", "/nonexistent");
        spec.connection = rsible_connection::ConnKind::Local;
        let host = AgentlessHost::new("h".into(), spec, "test".into());
        let out = host
            .run_payload(&bytes, "python3", "{\"a\": 1}", &Default::default(), None)
            .unwrap();
        assert_eq!(out.stdout, "got:{\"a\": 1}:True");
        assert_eq!(out.rc, 4);
    }
}
