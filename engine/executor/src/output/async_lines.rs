//! The default callback's lines for tasks run with `async` and `poll` > 0
//! (`v2_runner_on_async_poll`/`_ok`/`_failed`): printed at any verbosity,
//! while the task runs, before the host's (or the loop item's) result.

use serde_json::{Map, Value};

use super::default_callback::{python_str, DefaultCallback, Sink};

fn field(result: &Map<String, Value>, key: &str) -> String {
    python_str(result.get(key).unwrap_or(&Value::Null))
}

/// A poll that found the job still running.
pub fn async_poll_line(host: &str, status: &Map<String, Value>) -> String {
    format!(
        "ASYNC POLL on {host}: jid={} started={} finished={}",
        field(status, "ansible_job_id"),
        field(status, "started"),
        field(status, "finished"),
    )
}

pub fn async_ok_line(host: &str, result: &Map<String, Value>) -> String {
    format!(
        "ASYNC OK on {host}: jid={}",
        field(result, "ansible_job_id")
    )
}

/// The job id comes from the last status when the task timed out.
pub fn async_failed_line(host: &str, result: &Map<String, Value>) -> String {
    let jid = match result.get("ansible_job_id") {
        Some(Value::String(s)) if !s.is_empty() => s.clone(),
        _ => match result.get("async_result") {
            Some(Value::Object(status)) => field(status, "ansible_job_id"),
            _ => "None".to_string(),
        },
    };
    format!("ASYNC FAILED on {host}: jid={jid}")
}

impl<S: Sink> DefaultCallback<S> {
    /// One of the lines above (ad hoc runs' minimal and oneline callbacks
    /// print none).
    pub fn async_line(&mut self, line: &str) {
        if self.options.adhoc.is_none() {
            self.sink.out(line);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn lines_as_ansible_prints_them() {
        let status = json!({"ansible_job_id": "j1.2", "started": 1, "finished": 0});
        let status = status.as_object().unwrap();
        assert_eq!(
            async_poll_line("web1", status),
            "ASYNC POLL on web1: jid=j1.2 started=1 finished=0"
        );
        assert_eq!(async_ok_line("web1", status), "ASYNC OK on web1: jid=j1.2");
        let timed_out = json!({"failed": true, "async_result": status});
        assert_eq!(
            async_failed_line("web1", timed_out.as_object().unwrap()),
            "ASYNC FAILED on web1: jid=j1.2"
        );
    }
}
