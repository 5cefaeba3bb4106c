//! The bundled example (cluster.yml on inventory/sandbox) run by the
//! reference ansible-playbook and by rsible-playbook on copies of the
//! repository: the same output and the same node files on a first run, and a
//! second run that changes nothing, again with the same output.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

fn copy_tree(from: &Path, to: &Path) {
    fs::create_dir_all(to).unwrap();
    for entry in fs::read_dir(from).unwrap().flatten() {
        let target = to.join(entry.file_name());
        if entry.path().is_dir() {
            copy_tree(&entry.path(), &target);
        } else {
            fs::copy(entry.path(), &target).unwrap();
        }
    }
}

/// A copy of the example's files in a fresh directory.
fn example_copy() -> tempfile::TempDir {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let dir = tempfile::tempdir().unwrap();
    for name in ["cluster.yml", "upgrade-cluster.yml", "ansible.cfg"] {
        fs::copy(root.join(name), dir.path().join(name)).unwrap();
    }
    for name in ["playbooks", "roles", "inventory"] {
        copy_tree(&root.join(name), &dir.path().join(name));
    }
    dir
}

fn run(program: &Path, dir: &Path, args: &[&str]) -> (String, Option<i32>) {
    let out = Command::new(program)
        .args(["-f", "1", "-i", "inventory/sandbox/inventory.ini"])
        .args(args)
        .current_dir(dir)
        .env("ANSIBLE_CONFIG", dir.join("ansible.cfg"))
        .env("ANSIBLE_NOCOLOR", "1")
        .output()
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", program.display()));
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        out.status.code(),
    )
}

fn files(root: &Path) -> Vec<(String, Vec<u8>, u32)> {
    use std::os::unix::fs::PermissionsExt;
    let mut out = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        let Ok(entries) = fs::read_dir(&dir) else {
            continue;
        };
        for e in entries.flatten() {
            let p = e.path();
            let meta = fs::symlink_metadata(&p).unwrap();
            if meta.is_dir() {
                stack.push(p);
            } else {
                let rel = p.strip_prefix(root).unwrap().display().to_string();
                out.push((
                    rel,
                    fs::read(&p).unwrap_or_default(),
                    meta.permissions().mode() & 0o7777,
                ));
            }
        }
    }
    out.sort();
    out
}

const CHECK_DIFF: &[&str] = &[
    "upgrade-cluster.yml",
    "-e",
    "kube_version=v1.32.0",
    "--check",
    "--diff",
];

/// A template's diff names the temporary file Ansible rendered it to (rsible:
/// the template itself); only that header line is masked.
fn mask_template_header(text: &str) -> String {
    let re = regex::Regex::new(r"(?m)^\+\+\+ after: .*\.j2$").unwrap();
    re.replace_all(text, "+++ after: <rendered template>")
        .into_owned()
}

fn reference() -> Option<PathBuf> {
    rsible_testsupport::reference_bin_dir().map(|dir| dir.join("ansible-playbook"))
}

#[test]
fn bundled_example_matches_ansible_and_is_idempotent() {
    let rsible = PathBuf::from(env!("CARGO_BIN_EXE_rsible-playbook"));
    let ours = example_copy();
    let first = run(&rsible, ours.path(), &["cluster.yml"]);
    assert_eq!(first.1, Some(0), "first run failed:\n{}", first.0);
    let second = run(&rsible, ours.path(), &["cluster.yml"]);
    assert_eq!(second.1, Some(0), "second run failed:\n{}", second.0);
    for line in second.0.lines().filter(|l| l.contains(" : ok=")) {
        assert!(
            line.contains("changed=0 "),
            "second run changed something: {line}"
        );
    }
    // `--check --diff` shows the upgrade's changes and changes nothing.
    let before_check = files(&ours.path().join(".sandbox"));
    let check_diff = run(&rsible, ours.path(), CHECK_DIFF);
    assert!(
        check_diff.0.contains("+    version: \"v1.32.0\""),
        "--check --diff shows the manifest change:\n{}",
        check_diff.0
    );
    assert_eq!(
        before_check,
        files(&ours.path().join(".sandbox")),
        "--check changed files"
    );
    let upgrade = run(
        &rsible,
        ours.path(),
        &["upgrade-cluster.yml", "-e", "kube_version=v1.32.0"],
    );
    assert_eq!(upgrade.1, Some(0), "upgrade failed:\n{}", upgrade.0);

    let Some(ansible) = reference() else { return };
    let theirs = example_copy();
    let ref_first = run(&ansible, theirs.path(), &["cluster.yml"]);
    let ref_second = run(&ansible, theirs.path(), &["cluster.yml"]);
    let ref_check_diff = run(&ansible, theirs.path(), CHECK_DIFF);
    let ref_upgrade = run(
        &ansible,
        theirs.path(),
        &["upgrade-cluster.yml", "-e", "kube_version=v1.32.0"],
    );
    let mask = |s: &str, dir: &Path| s.replace(&dir.display().to_string(), "<ROOT>");
    assert_eq!(
        mask(&ref_first.0, theirs.path()),
        mask(&first.0, ours.path()),
        "first run output differs"
    );
    assert_eq!(
        mask(&ref_second.0, theirs.path()),
        mask(&second.0, ours.path()),
        "second run output differs"
    );
    assert_eq!(
        mask_template_header(&mask(&ref_check_diff.0, theirs.path())),
        mask_template_header(&mask(&check_diff.0, ours.path())),
        "--check --diff output differs"
    );
    assert_eq!(ref_check_diff.1, check_diff.1);
    assert_eq!(
        mask(&ref_upgrade.0, theirs.path()),
        mask(&upgrade.0, ours.path()),
        "upgrade output differs"
    );
    assert_eq!(
        files(&theirs.path().join(".sandbox")),
        files(&ours.path().join(".sandbox")),
        "the nodes' files differ"
    );
}
