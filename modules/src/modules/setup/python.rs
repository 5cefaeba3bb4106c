//! `python`: the target's Python as Ansible's interpreter discovery finds it.
//!
//! Ansible describes the interpreter the module ran under. rsible's modules run
//! in the agent, so it reports the interpreter Ansible would have discovered
//! (the first of its fallback list present on the target), asking it once.

use super::{Facts, Gather};
use serde_json::{json, Value};
use std::path::Path;
use std::sync::OnceLock;

/// Ansible 2.18's INTERPRETER_PYTHON_FALLBACK order (after discovery's
/// platform default /usr/bin/python3, which comes first on Linux).
const CANDIDATES: &[&str] = &[
    "/usr/bin/python3",
    "python3.13",
    "python3.12",
    "python3.11",
    "python3.10",
    "python3.9",
    "python3.8",
    "/usr/libexec/platform-python",
    "/usr/bin/python3",
    "python3",
];

/// What the interpreter says about itself.
#[derive(Clone, Debug)]
pub struct PythonInfo {
    pub executable: String,
    pub version: (i64, i64, i64, String, i64),
    pub has_sslcontext: bool,
    pub implementation: Option<String>,
}

impl PythonInfo {
    /// `platform.python_version()`.
    pub fn version_string(&self) -> String {
        format!("{}.{}.{}", self.version.0, self.version.1, self.version.2)
    }
}

const SCRIPT: &str = "import sys,json\ntry:\n import ssl; s=hasattr(ssl,'SSLContext')\nexcept Exception:\n s=False\nv=sys.version_info\nprint(json.dumps([sys.executable,[v[0],v[1],v[2],v[3],v[4]],s,getattr(getattr(sys,'implementation',None),'name',None)]))";

/// The discovered interpreter, asked once per agent.
pub fn probe() -> Option<PythonInfo> {
    static CACHE: OnceLock<Option<PythonInfo>> = OnceLock::new();
    CACHE.get_or_init(ask).clone()
}

fn ask() -> Option<PythonInfo> {
    let path = CANDIDATES.iter().find_map(|c| {
        if c.starts_with('/') {
            Path::new(c).exists().then(|| Path::new(c).to_path_buf())
        } else {
            // Discovery runs without the task's environment.
            crate::util::bin_path::get_bin_path(c, &Default::default()).map(Into::into)
        }
    })?;
    // Starting the interpreter is most of setup's cost: its answer is kept on the
    // target, keyed by the interpreter file (an upgrade replaces it).
    let inputs = super::helper_cache::Inputs {
        files: &[],
        touched_by_reads: &[],
        extra: "",
    };
    let no_task_env = Default::default();
    let (rc, out, _) =
        super::helper_cache::run_cached(&path, &["-c", SCRIPT], &no_task_env, &inputs);
    if rc != 0 {
        return None;
    }
    let v: Value = serde_json::from_str(out.trim()).ok()?;
    let ver = v.get(1)?;
    Some(PythonInfo {
        executable: v.get(0)?.as_str()?.to_string(),
        version: (
            ver.get(0)?.as_i64()?,
            ver.get(1)?.as_i64()?,
            ver.get(2)?.as_i64()?,
            ver.get(3)?.as_str()?.to_string(),
            ver.get(4)?.as_i64()?,
        ),
        has_sslcontext: v.get(2)?.as_bool()?,
        implementation: v.get(3).and_then(Value::as_str).map(str::to_string),
    })
}

pub fn collect(_g: &Gather) -> Facts {
    let mut f = Facts::new();
    let Some(p) = probe() else {
        return f;
    };
    let (major, minor, micro, level, serial) = p.version.clone();
    f.insert(
        "python".into(),
        json!({
            "version": {"major": major, "minor": minor, "micro": micro,
                        "releaselevel": level, "serial": serial},
            "version_info": [major, minor, micro, level, serial],
            "executable": p.executable,
            "has_sslcontext": p.has_sslcontext,
            "type": p.implementation,
        }),
    );
    f
}
