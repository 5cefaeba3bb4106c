//! The `raw` action: the command goes through the connection as it is, with
//! no agent (and so no Python or agent needed on the target), as Ansible's
//! raw action plugin runs it.

use serde_json::{json, Map, Value as Json};

use super::{obj, Executor, PlayCtx};
use crate::output::default_callback::Sink;
use crate::target::{RawCall, RawOutcome};
use crate::vars::VarLayers;

impl<'a, S: Sink> Executor<'a, S> {
    pub(super) fn raw_action(
        &mut self,
        ctx: &PlayCtx,
        host: &str,
        scope: &VarLayers,
        delegate: Option<&str>,
        args: &Map<String, Json>,
    ) -> Map<String, Json> {
        if !self.ctl.call_settings.env.is_empty() {
            let line = crate::output::display::warning(
                "raw module does not support the environment keyword",
                crate::output::display::DEFAULT_COLUMNS,
            );
            self.callback.sink.err(&line);
        }
        // Ansible skips raw in check mode (a task's `check_mode: false` runs it).
        if self.ctl.call_settings.check_mode {
            return obj(json!({"skipped": true}));
        }
        let command = match args.get("_raw_params") {
            Some(Json::String(s)) => s.clone(),
            Some(other) if !other.is_null() => other.to_string(),
            _ => return obj(json!({"failed": true, "msg": "no command given to raw"})),
        };
        let executable = match args.get("executable") {
            Some(Json::String(s)) if !s.is_empty() => Some(s.clone()),
            _ => None,
        };
        let call = RawCall {
            executable,
            cwd: Some(ctx.play.basedir.clone()),
        };
        let spec = self.target_spec(host, scope, delegate);
        match self.runner.run_raw(&spec, &command, &call) {
            RawOutcome::Done { rc, stdout, stderr } => {
                let mut result = obj(json!({
                    "rc": rc,
                    "stdout_lines": rsible_pytext::splitlines(&stdout),
                    "stdout": stdout,
                    "stderr_lines": rsible_pytext::splitlines(&stderr),
                    "stderr": stderr,
                    "changed": true,
                }));
                if rc != 0 {
                    result.insert("failed".into(), Json::Bool(true));
                    result.insert("msg".into(), Json::String("non-zero return code".into()));
                }
                result
            }
            RawOutcome::Failed(msg) => obj(json!({"failed": true, "msg": msg})),
            RawOutcome::Unreachable(msg) => {
                obj(json!({"unreachable": true, "msg": msg, "changed": false}))
            }
        }
    }
}
