//! Differential test for ini_file, sysctl (without reload), find, tempfile and unarchive
//! against ansible-core 2.18 (with its collections).
//!
//! Each case has a directory with the same starting files on both sides and a list of
//! steps (module calls, `@D@` in arguments standing for the case directory). All steps
//! of all cases run through the reference in one `ansible-playbook` run (a task per
//! step, `diff: true`, json callback) and through `rsible_modules::run_module`.
//! Compared: every result key except timing and the `invocation` (paths written as
//! `@D@`), and at the end each case directory's files (content and mode).
//!
//! Needs RSIBLE_REF_BIN; without it the test fails unless RSIBLE_SKIP_DIFFERENTIAL=1.

mod support;
use serde_json::{json, Map, Value};
use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::Command;
use support::cases::{case, case_dir, compare, prepare, reference_tasks, run_ours, Case};
use support::reference::{playbook_command, write_localhost_play};
use support::result_view::{
    backup_made, mark_volatile, remove_keys, with_placeholder, CONTROLLER_KEYS, TIMING_KEYS,
};
use support::steps::{checked, step, substituted, twice, Step};
use support::{assert_no_differences, reference_bin};

fn ini_cases() -> Vec<Case> {
    let ini = "community.general.ini_file";
    let f = "@D@/f.ini";
    let existing = "; top comment\nglobal=1\n\n[main]\nname = x\n# gpgcheck = 0\nenabled=1\n\n[other]\na = b\na = c\n";
    vec![
        case(
            &[],
            [
                vec![checked(
                    ini,
                    json!({"path": f, "section": "s", "option": "k", "value": "v", "mode": "0640"}),
                )],
                twice(
                    ini,
                    json!({"path": f, "section": "s", "option": "k", "value": "v", "mode": "0640"}),
                ),
            ]
            .concat(),
        ),
        case(
            &[("f.ini", existing)],
            [
                twice(
                    ini,
                    json!({"dest": f, "section": "main", "option": "gpgcheck", "value": "1", "no_extra_spaces": true}),
                ),
                twice(
                    ini,
                    json!({"path": f, "section": "main", "option": "name", "value": "y"}),
                ),
                twice(
                    ini,
                    json!({"path": f, "section": "other", "option": "a", "state": "absent"}),
                ),
                twice(
                    ini,
                    json!({"path": f, "section": null, "option": "global", "value": "2"}),
                ),
                twice(
                    ini,
                    json!({"path": f, "section": "new", "option": "k", "values": ["1", "2"]}),
                ),
                vec![step(
                    ini,
                    json!({"path": f, "section": "main", "state": "absent", "backup": true}),
                )],
                twice(
                    ini,
                    json!({"path": f, "section": "ws", "option": "x", "value": "1", "ignore_spaces": true}),
                ),
            ]
            .concat(),
        ),
        case(
            &[("f.ini", "[a]\nk=1\nk=2\nk=3\n[b]\n# k=9\n")],
            [
                twice(
                    ini,
                    json!({"path": f, "section": "a", "option": "k", "values": ["3", "4"]}),
                ),
                twice(
                    ini,
                    json!({"path": f, "section": "a", "option": "k", "value": "5", "exclusive": false}),
                ),
                twice(
                    ini,
                    json!({"path": f, "section": "b", "option": "k", "value": "8", "modify_inactive_option": false}),
                ),
                twice(
                    ini,
                    json!({"path": f, "section": "b", "option": "flag", "allow_no_value": true}),
                ),
            ]
            .concat(),
        ),
        case(
            &[("f.ini", "no newline=1")],
            vec![
                step(ini, json!({"path": f, "option": "no newline", "value": "1"})),
                step(ini, json!({"path": "@D@/missing.ini", "section": "s", "option": "k", "value": "v", "create": false})),
                step(ini, json!({"path": f, "section": "s", "option": "k"})),
                step(ini, json!({"path": f, "section": "s", "option": "k", "value": "v", "values": ["w"]})),
                step(ini, json!({"path": f, "section": "s", "bogus": 1})),
            ],
        ),
    ]
}

fn sysctl_file_cases() -> Vec<Case> {
    let sc = "ansible.posix.sysctl";
    let f = "@D@/99-test.conf";
    vec![
        case(
            &[("99-test.conf", "# comment\n; other\nvm.a = 1\nvm.b=2\nvm.a=3\n\n")],
            [
                vec![checked(sc, json!({"name": "vm.c", "value": "4", "sysctl_file": f, "reload": false}))],
                twice(sc, json!({"name": "vm.c", "value": "4", "sysctl_file": f, "reload": false})),
                twice(sc, json!({"name": " vm.a ", "value": "yes", "sysctl_file": f, "reload": "no"})),
                twice(sc, json!({"key": "vm.b", "state": "absent", "sysctl_file": f, "reload": false})),
                twice(sc, json!({"name": "vm.d", "val": "1 2  3", "sysctl_file": "@D@/new.conf", "reload": false})),
            ]
            .concat(),
        ),
        case(
            &[],
            vec![
                step(sc, json!({"name": "vm.a", "sysctl_file": f, "reload": false})),
                step(sc, json!({"name": "vm.a", "value": "", "sysctl_file": f, "reload": false})),
                step(sc, json!({"value": "1"})),
            ],
        ),
    ]
}

fn find_cases() -> Vec<Case> {
    let files = [
        ("a.conf", "key=1\nother\n"),
        ("b.txt", "nothing here\n"),
        (".h.conf", "key=2\n"),
        ("sub/c.conf", "x\nkey=3\n"),
        (
            "sub/deep/d.conf",
            "0123456789012345678901234567890123456789",
        ),
        ("sub/e.log", ""),
    ];
    let d = "@D@";
    let find = |args: Value| step("find", args);
    vec![case(
        &files,
        vec![
            find(json!({"paths": d, "patterns": "*.conf"})),
            find(
                json!({"paths": [d], "patterns": ["*.conf", "*.log"], "recurse": true, "hidden": true}),
            ),
            find(json!({"paths": d, "recurse": true, "depth": 2})),
            find(json!({"paths": d, "recurse": true, "file_type": "directory"})),
            find(
                json!({"paths": d, "recurse": true, "file_type": "any", "use_regex": true, "patterns": ["^[abs]", "^d\\."], "excludes": ["^b"]}),
            ),
            find(json!({"paths": d, "recurse": true, "contains": "key="})),
            find(
                json!({"paths": d, "recurse": true, "contains": "key=3", "read_whole_file": true}),
            ),
            find(json!({"paths": d, "recurse": true, "size": "20"})),
            find(json!({"paths": d, "recurse": true, "size": "-1k"})),
            find(json!({"paths": d, "recurse": true, "age": "-1d"})),
            find(json!({"paths": d, "recurse": true, "age": "2w", "age_stamp": "ctime"})),
            find(json!({"paths": d, "get_checksum": true, "patterns": "a.*"})),
            find(json!({"paths": d, "recurse": true, "mode": "0644"})),
            find(
                json!({"paths": d, "recurse": true, "mode": "u+x", "exact_mode": false, "file_type": "directory"}),
            ),
            find(json!({"paths": d, "recurse": true, "limit": 1})),
            find(json!({"paths": ["@D@/missing", "@D@/a.conf", d], "patterns": "a*"})),
            find(json!({"paths": d, "age": "abc"})),
            find(json!({"paths": d, "size": "1q"})),
            find(json!({"paths": d, "limit": 0})),
            find(json!({"patterns": "*"})),
            find(json!({"paths": d, "file_type": "socket"})),
        ],
    )]
}

/// A tar archive (`tar` with `flags`) of a small tree, as bytes.
fn archive(flags: &str) -> Vec<u8> {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    fs::create_dir_all(d.join("tree/app/bin")).unwrap();
    fs::write(d.join("tree/app/bin/tool"), "#!/bin/sh\n").unwrap();
    fs::write(d.join("tree/app/README"), "read me\n").unwrap();
    fs::set_permissions(
        d.join("tree/app/bin/tool"),
        fs::Permissions::from_mode(0o755),
    )
    .unwrap();
    let st = Command::new("tar")
        .args([flags, "x.archive", "-C", "tree", "app"])
        .current_dir(d)
        .status()
        .expect("run tar");
    assert!(st.success());
    fs::read(d.join("x.archive")).unwrap()
}

fn unarchive_cases() -> Vec<Case> {
    let un = "unarchive";
    let files = vec![
        ("a.tgz", archive("-czf")),
        ("a.tar.xz", archive("-cJf")),
        ("empty", Vec::new()),
        ("out/.keep", Vec::new()),
        ("out2/.keep", Vec::new()),
        ("out3/.keep", Vec::new()),
    ];
    let steps = [
        twice(un, json!({"src": "@D@/a.tgz", "dest": "@D@/out", "remote_src": true, "list_files": true})),
        twice(un, json!({"src": "@D@/a.tgz", "dest": "@D@/out", "remote_src": true, "mode": "u=rwX,g=rX,o="})),
        twice(un, json!({"src": "@D@/a.tar.xz", "dest": "@D@/out2", "remote_src": true, "extra_opts": ["--strip-components=1"]})),
        twice(un, json!({"src": "@D@/a.tgz", "dest": "@D@/out3", "remote_src": true, "exclude": ["app/README"], "owner": "root"})),
        vec![
            step(un, json!({"src": "@D@/a.tgz", "dest": "@D@/new", "remote_src": true, "creates": "@D@/out"})),
            checked(un, json!({"src": "@D@/a.tgz", "dest": "@D@/out", "remote_src": true})),
            step(un, json!({"src": "@D@/missing.tgz", "dest": "@D@/out", "remote_src": true})),
            step(un, json!({"src": "@D@/empty", "dest": "@D@/out", "remote_src": true})),
            step(un, json!({"src": "@D@/a.tgz", "dest": "@D@/a.tar.xz", "remote_src": true})),
            step(un, json!({"src": "@D@/a.tgz", "remote_src": true})),
            step(un, json!({"src": "@D@/a.tgz", "dest": "@D@/out", "copy": false, "list_files": true})),
            step(un, json!({"src": "@D@/a.tgz", "dest": "@D@/out", "copy": false, "remote_src": true})),
        ],
    ]
    .concat();
    vec![Case { files, steps }]
}

/// Random names: only the result keys and the path's presence are compared; the
/// files go to the root above the case directories (outside the compared trees).
fn tempfile_cases() -> Vec<Case> {
    let t = |args: Value| Step {
        volatile: &["path"],
        ..step("tempfile", args)
    };
    vec![case(
        &[],
        vec![
            t(json!({"path": "@D@/.."})),
            t(json!({"path": "@D@/..", "state": "directory", "prefix": "k8s-", "suffix": ".d"})),
            // The message names the random file: only its presence is compared here.
            Step {
                volatile: &["path", "msg"],
                ..t(json!({"path": "@D@/missing"}))
            },
            Step {
                check_mode: true,
                ..t(json!({"path": "@D@/.."}))
            },
        ],
    )]
}

/// The step's arguments with `@D@` replaced by the case directory.
fn args_for(root: &Path, i: usize, s: &Step) -> Map<String, Value> {
    substituted(
        &s.args,
        &[("@D@", &case_dir(root, i).display().to_string())],
    )
}

/// All steps through the reference in one run (`wrapper` in front of it, when any).
fn run_reference(bin: &str, root: &Path, cases: &[Case], wrapper: &[&str]) -> Vec<Value> {
    let tasks = reference_tasks(cases, true, |i, s| args_for(root, i, s));
    let expected = tasks.len();
    let playbook = write_localhost_play(root, tasks);
    let out = playbook_command(bin, &playbook, wrapper)
        .output()
        .expect("run reference ansible-playbook");
    support::localhost_results(&out, expected)
}

/// Our results for every step of every case, in order.
fn run_ours_in(root: &Path, cases: &[Case]) -> Vec<Value> {
    run_ours(cases, true, |i, s| args_for(root, i, s))
}

/// What is compared of a result: paths as `@R@`, backup names reduced to whether one
/// was made, controller-added and timing keys dropped.
fn view(result: &Value, root: &Path, s: &Step) -> Value {
    let mut v = with_placeholder(result, root, "@R@");
    remove_keys(&mut v, &["invocation"]);
    remove_keys(&mut v, &CONTROLLER_KEYS);
    remove_keys(&mut v, &TIMING_KEYS);
    backup_made(&mut v, &["backup_file", "backup"]);
    // Per-file stat values that differ between two copies of a tree.
    if let Some(Value::Array(files)) = v.get_mut("files") {
        for f in files.iter_mut().filter_map(Value::as_object_mut) {
            remove_keys(f, &["inode", "dev", "atime", "mtime", "ctime"]);
        }
    }
    mark_volatile(&mut v, s.volatile);
    Value::Object(v)
}

/// Run `cases` on both sides and fail with every difference.
fn assert_cases_match(cases: Vec<Case>) {
    let Some(bin) = reference_bin() else { return };
    let ref_root = tempfile::tempdir().unwrap();
    let our_root = tempfile::tempdir().unwrap();
    prepare(ref_root.path(), &cases);
    prepare(our_root.path(), &cases);
    let reference = run_reference(&bin, ref_root.path(), &cases, &[]);
    let ours = run_ours_in(our_root.path(), &cases);
    assert_no_differences(&compare(
        &cases,
        ref_root.path(),
        &reference,
        our_root.path(),
        &ours,
        view,
    ));
}

// One test per module so that the reference runs of each proceed in parallel.

#[test]
fn ini_file_matches_the_reference() {
    assert_cases_match(ini_cases());
}

#[test]
fn sysctl_file_edits_match_the_reference() {
    assert_cases_match(sysctl_file_cases());
}

#[test]
fn unarchive_matches_the_reference() {
    assert_cases_match(unarchive_cases());
}

#[test]
fn tempfile_matches_the_reference() {
    assert_cases_match(tempfile_cases());
}

#[test]
fn find_matches_the_reference() {
    assert_cases_match(find_cases());
}

/// Steps that set kernel parameters now (`sysctl_set`, `reload`). Only network
/// parameters are used: each side runs in its own fresh network namespace, so the
/// machine's own settings are never touched.
fn netns_cases() -> Vec<Case> {
    let sc = "ansible.posix.sysctl";
    let f = "@D@/sysctl.conf";
    let show = |key: &str| step("command", json!({"argv": ["sysctl", "-n", key]}));
    vec![case(
        &[("sysctl.conf", "net.ipv4.ip_forward=0\n")],
        [
            twice(sc, json!({"name": "net.ipv4.ip_forward", "value": "1", "sysctl_file": f})),
            vec![show("net.ipv4.ip_forward")],
            twice(sc, json!({"name": "net.ipv4.ip_default_ttl", "value": "99", "sysctl_set": true, "reload": false, "sysctl_file": "@D@/other.conf"})),
            vec![show("net.ipv4.ip_default_ttl")],
            vec![checked(sc, json!({"name": "net.ipv4.ip_default_ttl", "value": "98", "sysctl_set": true, "sysctl_file": f}))],
            vec![show("net.ipv4.ip_default_ttl")],
            vec![step(sc, json!({"name": "net.rsible.missing", "value": "1", "ignoreerrors": true, "sysctl_file": f}))],
            vec![step(sc, json!({"name": "net.rsible.other", "value": "1", "sysctl_file": f}))],
        ]
        .concat(),
    )]
}

/// Set in the re-executed test process: run our side here and write the results there.
const NETNS_CHILD: &str = "RSIBLE_TEST_NETNS_RESULTS";

#[test]
fn sysctl_set_and_reload_match_the_reference_in_private_net_namespaces() {
    let cases = netns_cases();
    if let Ok(root) = std::env::var(NETNS_CHILD) {
        let ours = run_ours_in(Path::new(&root), &cases);
        fs::write(
            Path::new(&root).join("results.json"),
            json!(ours).to_string(),
        )
        .unwrap();
        return;
    }
    let Some(bin) = reference_bin() else { return };
    let ref_root = tempfile::tempdir().unwrap();
    let our_root = tempfile::tempdir().unwrap();
    prepare(ref_root.path(), &cases);
    prepare(our_root.path(), &cases);
    let reference = run_reference(&bin, ref_root.path(), &cases, &["unshare", "--net"]);
    let exe = std::env::current_exe().unwrap();
    let child = Command::new("unshare")
        .arg("--net")
        .arg(exe)
        .args([
            "--exact",
            "sysctl_set_and_reload_match_the_reference_in_private_net_namespaces",
        ])
        .env(NETNS_CHILD, our_root.path())
        .output()
        .expect("run unshare");
    assert!(
        child.status.success(),
        "our side in a network namespace failed: {}{}",
        String::from_utf8_lossy(&child.stdout),
        String::from_utf8_lossy(&child.stderr)
    );
    let ours: Vec<Value> =
        serde_json::from_slice(&fs::read(our_root.path().join("results.json")).unwrap()).unwrap();
    let _ = fs::remove_file(our_root.path().join("results.json"));
    let _ = fs::remove_file(ref_root.path().join("play.yml"));
    assert_no_differences(&compare(
        &cases,
        ref_root.path(),
        &reference,
        our_root.path(),
        &ours,
        view,
    ));
}
