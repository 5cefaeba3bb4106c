//! Cases: each a directory of its own with starting files, and the steps run in it.
//! All steps of all cases go through the reference in one playbook (a reference run
//! costs seconds) and through our modules one by one; then results and files compare.

use super::file_tree::tree;
use super::steps::Step;
use serde_json::{Map, Value};
use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

#[derive(Clone)]
pub struct Case {
    pub files: Vec<(&'static str, Vec<u8>)>,
    pub steps: Vec<Step>,
}

pub fn case(files: &[(&'static str, &str)], steps: Vec<Step>) -> Case {
    Case {
        files: files
            .iter()
            .map(|(n, c)| (*n, c.as_bytes().to_vec()))
            .collect(),
        steps,
    }
}

pub fn case_dir(root: &Path, i: usize) -> PathBuf {
    root.join(format!("case{i}"))
}

/// Every case's directory under `root` with its starting files (mode 0644).
pub fn prepare(root: &Path, cases: &[Case]) {
    for (i, c) in cases.iter().enumerate() {
        let d = case_dir(root, i);
        fs::create_dir_all(&d).expect("create case dir");
        for (name, content) in &c.files {
            let p = d.join(name);
            fs::create_dir_all(p.parent().unwrap_or(&d)).expect("create parent dir");
            fs::write(&p, content).expect("write case file");
            fs::set_permissions(&p, fs::Permissions::from_mode(0o644)).expect("chmod");
        }
    }
}

/// The reference's tasks: one per step of every case, named `case I step J`;
/// `args_for(i, step)` fills in the arguments for case `i`.
pub fn reference_tasks(
    cases: &[Case],
    diff: bool,
    args_for: impl Fn(usize, &Step) -> Map<String, Value>,
) -> Vec<Value> {
    let mut tasks = Vec::new();
    for (i, c) in cases.iter().enumerate() {
        for (j, s) in c.steps.iter().enumerate() {
            tasks.push(s.reference_task(format!("case {i} step {j}"), args_for(i, s), diff));
        }
    }
    tasks
}

/// Our results for every step of every case, in order.
pub fn run_ours(
    cases: &[Case],
    diff: bool,
    args_for: impl Fn(usize, &Step) -> Map<String, Value>,
) -> Vec<Value> {
    let mut out = Vec::new();
    for (i, c) in cases.iter().enumerate() {
        for s in &c.steps {
            out.push(s.run_ours(&args_for(i, s), diff));
        }
    }
    out
}

/// Every difference between the two sides: each step's result as `view(result, root,
/// step)` sees it, and each case directory's files at the end.
pub fn compare(
    cases: &[Case],
    ref_root: &Path,
    reference: &[Value],
    our_root: &Path,
    ours: &[Value],
    view: impl Fn(&Value, &Path, &Step) -> Value,
) -> Vec<String> {
    let mut mismatches = Vec::new();
    let mut n = 0;
    for (i, c) in cases.iter().enumerate() {
        for (j, s) in c.steps.iter().enumerate() {
            let want = view(&reference[n], ref_root, s);
            let got = view(&ours[n], our_root, s);
            n += 1;
            if want != got {
                mismatches.push(format!(
                    "case {i} step {j} ({} {}):\n  reference: {want}\n  rsible:    {got}",
                    s.module, s.args
                ));
            }
        }
        let (want, got) = (tree(&case_dir(ref_root, i)), tree(&case_dir(our_root, i)));
        if want != got {
            mismatches.push(format!(
                "case {i} files:\n  reference: {want:?}\n  rsible:    {got:?}"
            ));
        }
    }
    mismatches
}
