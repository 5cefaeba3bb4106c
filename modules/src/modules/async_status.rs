//! `async_status`: reads (or, `mode: cleanup`, removes) the job file of a
//! background job, as ansible-core's module does. `_async_dir` comes from
//! the controller (its action plugin passes the shell's `async_dir`).

use super::{Kind, ModuleContext, ModuleFail, ModuleOutcome, Param, ParamDefault};
use serde_json::{json, Map, Value};

pub const SPEC: &[Param] = &[
    Param::new("jid", Kind::Str).required(),
    Param::new("mode", Kind::Str)
        .default(ParamDefault::Str("status"))
        .choices(&["cleanup", "status"]),
    Param::new("_async_dir", Kind::Str).required(),
];

pub fn run(params: &Map<String, Value>, _ctx: &ModuleContext) -> ModuleOutcome {
    let text = |k: &str| params.get(k).and_then(Value::as_str).unwrap_or_default();
    let jid = text("jid");
    let dir = crate::agent::async_job::expand_home(text("_async_dir"));
    let log_path = dir.join(jid);
    let shown = log_path.to_string_lossy().into_owned();
    // Ansible's action plugin puts the path in every result; the module
    // knows it expanded.
    let path_key = if text("mode") == "cleanup" {
        "erased"
    } else {
        "results_file"
    };
    if !log_path.exists() {
        return Err(ModuleFail::msg("could not find job")
            .with("ansible_job_id", json!(jid))
            .with("started", json!(1))
            .with("finished", json!(1))
            .with(path_key, json!(shown)));
    }
    if text("mode") == "cleanup" {
        std::fs::remove_file(&log_path)
            .map_err(|e| ModuleFail::msg(format!("cannot remove {shown}: {e}")))?;
        let mut out = Map::new();
        out.insert("ansible_job_id".into(), json!(jid));
        out.insert("erased".into(), json!(shown));
        return Ok(out);
    }
    let content = std::fs::read_to_string(&log_path).unwrap_or_default();
    let mut data = match serde_json::from_str::<Value>(&content) {
        Ok(Value::Object(map)) => map,
        // Not written yet (or being replaced): the job is running.
        _ if content.trim().is_empty() => {
            let mut out = Map::new();
            out.insert("results_file".into(), json!(shown));
            out.insert("ansible_job_id".into(), json!(jid));
            out.insert("started".into(), json!(1));
            out.insert("finished".into(), json!(0));
            return Ok(out);
        }
        _ => {
            return Err(
                ModuleFail::msg(format!("Could not parse job output: {content}"))
                    .with("ansible_job_id", json!(jid))
                    .with("results_file", json!(shown))
                    .with("started", json!(1))
                    .with("finished", json!(1)),
            )
        }
    };
    if !data.contains_key("started") {
        data.insert("finished".into(), json!(1));
        data.insert("ansible_job_id".into(), json!(jid));
    } else if !data.contains_key("finished") {
        data.insert("finished".into(), json!(0));
    }
    // The module's own invocation gives way to async_status's (exit_json).
    data.remove("invocation");
    data.insert("results_file".into(), json!(shown));
    Ok(data)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::modules::run_module;

    fn status(dir: &std::path::Path, jid: &str, mode: &str) -> Value {
        let args = json!({"jid": jid, "mode": mode, "_async_dir": dir.to_string_lossy()});
        run_module(
            "async_status",
            args.as_object().unwrap(),
            &ModuleContext::default(),
        )
    }

    #[test]
    fn running_finished_missing_and_cleanup() {
        let dir = tempfile::tempdir().unwrap();
        let job = dir.path().join("j1.5");
        std::fs::write(
            &job,
            r#"{"started": 1, "finished": 0, "ansible_job_id": "j1.5"}"#,
        )
        .unwrap();
        let r = status(dir.path(), "j1.5", "status");
        assert_eq!(
            (r["started"].clone(), r["finished"].clone()),
            (json!(1), json!(0))
        );
        std::fs::write(&job, r#"{"rc": 0, "changed": true, "stdout": "a\nb"}"#).unwrap();
        let r = status(dir.path(), "j1.5", "status");
        assert_eq!(r["finished"], json!(1));
        assert_eq!(r["ansible_job_id"], json!("j1.5"));
        assert_eq!(r["stdout_lines"], json!(["a", "b"]));
        assert_eq!(r["changed"], json!(true));
        let r = status(dir.path(), "j1.5", "cleanup");
        assert_eq!(r["erased"], json!(job.to_string_lossy()));
        assert!(!job.exists());
        let r = status(dir.path(), "j1.5", "status");
        assert_eq!(r["failed"], json!(true));
        assert_eq!(r["msg"], json!("could not find job"));
    }

    #[test]
    fn a_timed_out_job_reads_as_failed() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("j2.6"),
            r#"{"msg": "Timeout exceeded", "failed": true, "child_pid": 7}"#,
        )
        .unwrap();
        let r = status(dir.path(), "j2.6", "status");
        assert_eq!(r["failed"], json!(true));
        assert_eq!(r["finished"], json!(1));
        assert_eq!(r["child_pid"], json!(7));
    }
}
