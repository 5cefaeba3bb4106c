//! `apt`'s housekeeping: `clean` (apt-get clean, before anything else the task
//! asks), and `autoclean` / `autoremove` when the task names no packages (the
//! module's `cleanup`: apt-get autoclean / autoremove, changed when apt reports
//! something deleted or removed).

use super::apt::Apt;
use super::{ModuleFail, ModuleOutcome};
use serde_json::{json, Map, Value};

/// What apt-get prints when the operation did something.
fn changed_marker(operation: &str) -> &'static str {
    match operation {
        "autoremove" => "The following packages will be REMOVED",
        // "Del python3-q 2.4-1 [24 kB]"
        _ => "Del ",
    }
}

/// `apt-get clean`: Some(the task's result) when nothing else was asked (no
/// packages, no upgrade, no deb), None when the task goes on. It runs in check
/// mode too, as the module's does; a failure, or anything on stderr, fails.
pub(super) fn clean(apt: &Apt, alone: bool) -> Result<Option<Map<String, Value>>, ModuleFail> {
    let o = apt.run(vec![apt.apt_get.clone(), "clean".into()])?;
    if o.rc != 0 || !o.err.is_empty() {
        let msg = if o.rc != 0 {
            "apt-get clean failed".to_string()
        } else {
            format!("apt-get clean failed: {}", o.err)
        };
        return Err(ModuleFail::msg(msg)
            .with("stdout", json!(o.out))
            .with("rc", json!(o.rc)));
    }
    if !alone {
        return Ok(None);
    }
    let mut r = Map::new();
    r.insert("changed".into(), json!(true));
    r.insert("msg".into(), json!(o.out));
    r.insert("stdout".into(), json!(o.out));
    r.insert("stderr".into(), json!(o.err));
    r.insert("diff".into(), apt.diff(&o.out));
    Ok(Some(r))
}

/// `apt-get autoclean` or `apt-get autoremove` (with `--purge` when purge is set),
/// simulated in check mode.
pub(super) fn cleanup(apt: &Apt, operation: &str) -> ModuleOutcome {
    let mut cmd = vec![apt.apt_get.clone(), "-y".into()];
    cmd.extend(apt.dpkg_options());
    for (on, arg) in [
        (apt.flag("purge"), "--purge"),
        (apt.flag("force"), "--force-yes"),
    ] {
        if on {
            cmd.push(arg.into());
        }
    }
    cmd.push(operation.into());
    if apt.ctx.check_mode {
        cmd.push("--simulate".into());
    }
    let o = apt.run(cmd)?;
    if o.rc != 0 {
        return Err(
            ModuleFail::msg(format!("'apt-get {operation}' failed: {}", o.err))
                .with("stdout", json!(o.out))
                .with("stderr", json!(o.err))
                .with("rc", json!(o.rc)),
        );
    }
    let mut r = Map::new();
    r.insert(
        "changed".into(),
        json!(o.out.contains(changed_marker(operation))),
    );
    r.insert("stdout".into(), json!(o.out));
    r.insert("stderr".into(), json!(o.err));
    r.insert("diff".into(), apt.diff(&o.out));
    Ok(r)
}
