//! Ad hoc output: Ansible's `minimal` callback (the `ansible` command's
//! default) and its `oneline` callback (`-o`). One block or line per host:
//! `host | CHANGED | rc=0 >>` and the output for command-like modules,
//! `host | SUCCESS => {json}` for the others. No banners, no recap.

use serde_json::{Map, Value};

use super::default_callback::{DefaultCallback, ResultView, Sink};

/// Which of the two ad hoc callbacks prints results.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AdhocStyle {
    /// `minimal`: results as indented JSON, command output verbatim.
    Minimal,
    /// `oneline` (`-o`): everything on one line per host.
    OneLine,
}

/// Ansible's `MODULE_NO_JSON`: modules whose result is shown as command output.
const NO_JSON_MODULES: &[&str] = &["command", "shell", "raw", "win_command", "win_shell"];

fn is_no_json(action: &str) -> bool {
    let short = action
        .strip_prefix("ansible.builtin.")
        .or_else(|| action.strip_prefix("ansible.legacy."))
        .or_else(|| action.strip_prefix("ansible.windows."))
        .unwrap_or(action);
    NO_JSON_MODULES.contains(&short)
}

fn text<'a>(result: &'a Map<String, Value>, key: &str) -> &'a str {
    result.get(key).and_then(Value::as_str).unwrap_or("")
}

/// `rc` as Python's `%s` prints it (`-1` when the result has none).
fn rc_text(result: &Map<String, Value>) -> String {
    match result.get("rc") {
        None => "-1".to_string(),
        Some(v) => super::default_callback::python_str(v),
    }
}

/// `minimal`'s `_command_generic_msg`: the caption line, then stdout, stderr
/// and msg run together as Ansible does.
fn minimal_command_msg(host: &str, result: &Map<String, Value>, caption: &str) -> String {
    let mut buf = format!("{host} | {caption} | rc={} >>\n", rc_text(result));
    buf.push_str(text(result, "stdout"));
    buf.push_str(text(result, "stderr"));
    buf.push_str(text(result, "msg"));
    buf
}

/// `oneline`'s `_command_generic_msg`: newlines escaped, stderr only when non-empty.
fn oneline_command_msg(host: &str, result: &Map<String, Value>, caption: &str) -> String {
    let escape = |s: &str| s.replace('\n', "\\n").replace('\r', "\\r");
    let stdout = escape(text(result, "stdout"));
    let stderr = text(result, "stderr");
    if stderr.is_empty() {
        format!(
            "{host} | {caption} | rc={} | (stdout) {stdout}",
            rc_text(result)
        )
    } else {
        format!(
            "{host} | {caption} | rc={} | (stdout) {stdout} (stderr) {}",
            rc_text(result),
            escape(stderr)
        )
    }
}

impl<S: Sink> DefaultCallback<S> {
    /// The result as one line (`oneline`'s `_dump_results(indent=0)` with newlines removed).
    fn oneline_json(&self, result: &Map<String, Value>) -> String {
        self.dump_result_indent(result, Some(0)).replace('\n', "")
    }

    /// Print a block. The sink adds a newline, as Ansible's display does to
    /// a line without one; the command block already ends with the newline
    /// `_command_generic_msg` appends, so it shows its blank line when empty.
    fn emit(&mut self, block: &str) {
        self.sink.out(block);
    }

    pub(super) fn adhoc_on_ok(&mut self, style: AdhocStyle, r: &ResultView) {
        let mut result = r.result.clone();
        let state = if result.get("changed") == Some(&Value::Bool(true)) {
            "CHANGED"
        } else {
            "SUCCESS"
        };
        let command_like = is_no_json(&r.task.action) && !result.contains_key("ansible_job_id");
        let line = match style {
            AdhocStyle::Minimal => {
                self.clean_results(&mut result, &r.task.action);
                self.handle_warnings(&mut result);
                if command_like {
                    minimal_command_msg(r.host, &result, state)
                } else {
                    format!(
                        "{} | {state} => {}",
                        r.host,
                        self.dump_result_indent(&result, Some(4))
                    )
                }
            }
            AdhocStyle::OneLine => {
                if command_like {
                    oneline_command_msg(r.host, &result, state)
                } else {
                    format!("{} | {state} => {}", r.host, self.oneline_json(&result))
                }
            }
        };
        self.emit(&line);
    }

    pub(super) fn adhoc_on_failed(&mut self, style: AdhocStyle, r: &ResultView) {
        let mut result = r.result.clone();
        let command_like = is_no_json(&r.task.action) && !result.contains_key("module_stderr");
        match style {
            AdhocStyle::Minimal => {
                self.handle_exception(&result);
                self.handle_warnings(&mut result);
                let line = if command_like {
                    minimal_command_msg(r.host, &result, "FAILED")
                } else {
                    format!(
                        "{} | FAILED! => {}",
                        r.host,
                        self.dump_result_indent(&result, Some(4))
                    )
                };
                self.emit(&line);
            }
            AdhocStyle::OneLine => {
                if let Some(exception) = result.get("exception").and_then(Value::as_str) {
                    if command_like {
                        let line = oneline_command_msg(r.host, &result, "FAILED");
                        self.emit(&line);
                    } else if self.options.verbosity < 3 {
                        let last = exception.trim().lines().last().unwrap_or("");
                        self.emit(&format!("An exception occurred during task execution. To see the full traceback, use -vvv. The error was: {last}"));
                    } else {
                        self.emit(&format!(
                            "An exception occurred during task execution. The full traceback is:\n{}",
                            exception.replace('\n', "")
                        ));
                    }
                }
                let line = format!("{} | FAILED! => {}", r.host, self.oneline_json(&result));
                self.emit(&line);
            }
        }
    }

    pub(super) fn adhoc_on_skipped(&mut self, r: &ResultView) {
        self.emit(&format!("{} | SKIPPED", r.host));
    }

    pub(super) fn adhoc_on_unreachable(&mut self, style: AdhocStyle, r: &ResultView) {
        let line = match style {
            AdhocStyle::Minimal => format!(
                "{} | UNREACHABLE! => {}",
                r.host,
                self.dump_result_indent(r.result, Some(4))
            ),
            AdhocStyle::OneLine => format!("{} | UNREACHABLE!: {}", r.host, text(r.result, "msg")),
        };
        self.emit(&line);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::output::default_callback::{CallbackOptions, Captured, TaskView};
    use serde_json::json;

    fn task(action: &str) -> TaskView {
        TaskView {
            id: 1,
            prefix: "TASK",
            name: action.into(),
            action: action.into(),
            path: String::new(),
            is_include: false,
            delegate_to: None,
        }
    }

    fn callback(style: AdhocStyle) -> DefaultCallback<Captured> {
        DefaultCallback::new(
            CallbackOptions {
                adhoc: Some(style),
                ..CallbackOptions::default()
            },
            Captured::default(),
        )
    }

    fn obj(v: Value) -> Map<String, Value> {
        v.as_object().cloned().unwrap_or_default()
    }

    #[test]
    fn minimal_command_output_runs_stdout_stderr_and_msg_together() {
        let mut cb = callback(AdhocStyle::Minimal);
        let t = task("command");
        let r = obj(
            json!({"changed": true, "rc": 3, "stdout": "", "stderr": "err", "msg": "non-zero return code", "failed": true}),
        );
        cb.runner_on_failed(
            &ResultView {
                host: "h1",
                task: &t,
                result: &r,
            },
            false,
        );
        assert_eq!(
            cb.sink.stdout,
            "h1 | FAILED | rc=3 >>\nerrnon-zero return code\n"
        );
    }

    #[test]
    fn minimal_json_is_indented_and_sorted() {
        let mut cb = callback(AdhocStyle::Minimal);
        let t = task("ping");
        let r = obj(json!({"ping": "pong", "changed": false, "_ansible_no_log": false}));
        cb.runner_on_ok(&ResultView {
            host: "h1",
            task: &t,
            result: &r,
        });
        assert_eq!(
            cb.sink.stdout,
            "h1 | SUCCESS => {\n    \"changed\": false,\n    \"ping\": \"pong\"\n}\n"
        );
    }

    #[test]
    fn oneline_squeezes_json_and_escapes_command_output() {
        let mut cb = callback(AdhocStyle::OneLine);
        let ping = task("ping");
        let r = obj(json!({"ping": "pong", "changed": false}));
        cb.runner_on_ok(&ResultView {
            host: "h1",
            task: &ping,
            result: &r,
        });
        let shell = task("ansible.builtin.shell");
        let r = obj(json!({"changed": true, "rc": 0, "stdout": "a\nb", "stderr": ""}));
        cb.runner_on_ok(&ResultView {
            host: "h2",
            task: &shell,
            result: &r,
        });
        let r = obj(json!({"unreachable": true, "msg": "ssh: refused", "changed": false}));
        cb.runner_on_unreachable(
            &ResultView {
                host: "h3",
                task: &ping,
                result: &r,
            },
            false,
        );
        assert_eq!(
            cb.sink.stdout,
            "h1 | SUCCESS => {\"changed\": false,\"ping\": \"pong\"}\n\
             h2 | CHANGED | rc=0 | (stdout) a\\nb\n\
             h3 | UNREACHABLE!: ssh: refused\n"
        );
    }

    #[test]
    fn no_banners_or_recap() {
        let mut cb = callback(AdhocStyle::Minimal);
        cb.play_start("Ansible Ad-Hoc");
        cb.task_start(&task("ping"));
        cb.stats(&Default::default());
        assert_eq!(cb.sink.stdout, "");
    }
}
