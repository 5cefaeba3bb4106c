//! Differential tests for the modules that change the system (hostname, group, user,
//! mount, ...) against ansible-core 2.18, each side inside its own throwaway sandbox:
//! a private mount and UTS namespace (`unshare --mount --uts`) where a copy of /etc
//! and empty /home, /var/log, /var/mail directories are bind-mounted over the real ones
//! and the host name is set to `rsible-sandbox`. Nothing of the machine is changed.
//!
//! The reference runs the steps as one `ansible-playbook` run (json callback); our side
//! re-executes this test binary inside an identical sandbox and calls
//! `rsible_modules::run_module` for each step. Compared: each step's result (timing,
//! invocation and warnings aside; the sandbox root written as `@R@`) and, at the end,
//! the account files, /etc/hostname, /etc/fstab and the tree of /home.
//!
//! Needs root, `unshare` and RSIBLE_REF_BIN; without RSIBLE_REF_BIN the test fails
//! unless RSIBLE_SKIP_DIFFERENTIAL=1.

mod support;
use serde_json::{json, Map, Value};
use std::collections::BTreeMap;
use std::fs;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::Path;
use std::process::Command;
use support::reference::{playbook_argv, with_json_callback, write_localhost_play};
use support::result_view::{
    backup_made, remove_keys, with_placeholder, CONTROLLER_KEYS, TIMING_KEYS,
};
use support::steps::{checked, step, substituted, twice, Step};
use support::{assert_no_differences, reference_bin};

/// The files of the sandbox's /etc compared at the end (with the shadow-utils
/// backups, `passwd-` ..., which Kubespray's end-to-end comparison sees too).
const ETC_FILES: &[&str] = &[
    "passwd", "group", "shadow", "gshadow", "passwd-", "group-", "shadow-", "gshadow-", "hostname",
    "fstab", "subuid", "subgid",
];

/// Directories bind-mounted over the real ones: (inside the sandbox root, target).
const BINDS: &[(&str, &str)] = &[
    ("etc", "/etc"),
    ("home", "/home"),
    ("varlog", "/var/log"),
    ("varmail", "/var/mail"),
];

/// What a test needs of the sandbox beyond /etc: copies of further system
/// directories bind-mounted over the real ones (dpkg's database, apt's lists), paths
/// whose content is compared at the end (files, or directories read recursively), and
/// whether the sandbox gets its own network namespace (`unshare --net`: firewall tests).
///
/// `files` are written into the sandbox before the steps run (a path ending in `/` is a
/// directory); `programs` are scripts (name, text) in a directory put first in the
/// sandbox's PATH, standing in for tools that would change the machine (hwclock) or
/// need a running systemd (timedatectl); `warnings` compares the results' warnings.
#[derive(Default)]
struct Extra {
    copies: &'static [&'static str],
    watched: &'static [&'static str],
    net: bool,
    files: &'static [(&'static str, &'static str)],
    programs: &'static [(&'static str, &'static str)],
    warnings: bool,
}

/// Marks a sandbox root that wants a network namespace.
const NET_MARK: &str = "rsible-net";

/// `/var/lib/dpkg` -> `%var%lib%dpkg`: the copy's name says where it is mounted.
fn encode_copy(real: &str) -> String {
    real.replace('/', "%")
}

/// Where a path of the sandboxed system lives in the sandbox root.
fn in_root(root: &Path, real: &str, extra: &Extra) -> std::path::PathBuf {
    if let Some(rest) = real.strip_prefix("/etc/") {
        return root.join("etc").join(rest);
    }
    for copy in extra.copies {
        if let Some(rest) = real.strip_prefix(copy) {
            let rest = rest.trim_start_matches('/');
            return root.join("copies").join(encode_copy(copy)).join(rest);
        }
    }
    panic!("{real} is not inside the sandbox (add it to Extra::copies)");
}

/// A fresh sandbox root: a copy of `etc` (one snapshot of /etc for both sides, since
/// other processes may change the real one meanwhile) and empty directories for the
/// other binds.
fn make_root(etc: &Path, extra: &Extra) -> tempfile::TempDir {
    let root = tempfile::tempdir().unwrap();
    fs::create_dir(root.path().join("copies")).unwrap();
    for real in extra.copies {
        let status = Command::new("cp")
            .arg("-a")
            .arg(real)
            .arg(root.path().join("copies").join(encode_copy(real)))
            .status()
            .expect("cp a directory into the sandbox");
        assert!(status.success(), "copying {real} into the sandbox failed");
    }
    let status = Command::new("cp")
        .arg("-a")
        .arg(etc)
        .arg(root.path().join("etc"))
        .status()
        .expect("cp /etc");
    assert!(status.success(), "copying /etc into the sandbox failed");
    for (dir, _) in &BINDS[1..] {
        fs::create_dir(root.path().join(dir)).unwrap();
    }
    fs::create_dir(root.path().join("mnt")).unwrap();
    if extra.net {
        fs::write(root.path().join(NET_MARK), "").unwrap();
    }
    if !extra.programs.is_empty() {
        let bin = root.path().join("bin");
        fs::create_dir(&bin).unwrap();
        for (name, script) in extra.programs {
            let path = bin.join(name);
            fs::write(&path, script).unwrap();
            fs::set_permissions(&path, fs::Permissions::from_mode(0o755)).unwrap();
        }
    }
    // A known starting point for the files the modules edit.
    fs::write(root.path().join("etc/hostname"), "rsible-sandbox\n").unwrap();
    fs::write(
        root.path().join("etc/fstab"),
        "# /etc/fstab: static file system information.\n\
         UUID=1234-abcd / ext4 errors=remount-ro 0 1\n\
         /swap.img none swap sw 0 0\n\
         tmpfs /srv/four tmpfs defaults\n\
         LABEL=data /srv/data ext4 defaults 0 2\n",
    )
    .unwrap();
    for (real, content) in extra.files {
        let path = in_root(root.path(), real, extra);
        if real.ends_with('/') {
            fs::create_dir_all(&path).unwrap();
            continue;
        }
        if let Some(parent) = path.parent() {
            fs::create_dir_all(parent).unwrap();
        }
        fs::write(&path, content).unwrap();
    }
    root
}

/// `argv` run inside a sandbox made of `root`.
fn sandboxed(root: &Path, argv: &[String]) -> Command {
    let net = root.join(NET_MARK).exists();
    let mut script = String::from("set -e\n");
    for (dir, target) in BINDS {
        script += &format!("mount --bind \"$SANDBOX/{dir}\" {target}\n");
    }
    // Copies of further system directories (see `Extra`), named by their path.
    script += "for d in \"$SANDBOX\"/copies/*; do [ -e \"$d\" ] || continue; \
               mount --bind \"$d\" \"$(basename \"$d\" | tr % /)\"; done\n";
    if net {
        // A fresh network namespace: only a loopback interface, its own firewall tables.
        script += "ip link set lo up 2>/dev/null || true\n";
    }
    // Stand-in programs (see `Extra::programs`) come first in PATH, for both sides.
    script += "if [ -d \"$SANDBOX/bin\" ]; then PATH=\"$SANDBOX/bin:$PATH\"; export PATH; fi\n";
    script += "hostname rsible-sandbox\nexec \"$@\"\n";
    let mut cmd = Command::new("unshare");
    cmd.args(["--mount", "--uts"]);
    if net {
        cmd.arg("--net");
    }
    cmd.args(["--propagation", "private", "--", "sh", "-c"])
        .arg(script)
        .arg("sh")
        .args(argv)
        .env("SANDBOX", root);
    cmd
}

/// The base URL (`http://127.0.0.1:PORT`) of the key server a test started; the
/// re-executed test process reads it from the environment.
static HTTP_BASE: std::sync::OnceLock<String> = std::sync::OnceLock::new();
const HTTP_BASE_ENV: &str = "RSIBLE_TEST_HTTP_BASE";

fn http_base() -> String {
    HTTP_BASE
        .get()
        .cloned()
        .or_else(|| std::env::var(HTTP_BASE_ENV).ok())
        .unwrap_or_default()
}

fn args_for(root: &Path, s: &Step) -> Map<String, Value> {
    substituted(
        &s.args,
        &[("@R@", &root.display().to_string()), ("@U@", &http_base())],
    )
}

fn run_reference(bin: &str, root: &Path, steps: &[Step]) -> Vec<Value> {
    let tasks: Vec<Value> = steps
        .iter()
        .enumerate()
        .map(|(j, s)| s.reference_task(format!("step {j}"), args_for(root, s), true))
        .collect();
    let playbook = write_localhost_play(root, tasks);
    let out = with_json_callback(&mut sandboxed(root, &playbook_argv(bin, &playbook)))
        .output()
        .expect("run reference ansible-playbook");
    let _ = fs::remove_file(&playbook);
    support::localhost_results(&out, steps.len())
}

/// Set in the re-executed test process: the sandbox root our side runs in.
const CHILD_ROOT: &str = "RSIBLE_TEST_SANDBOX_ROOT";

fn run_ours_here(root: &Path, steps: &[Step]) {
    let results: Vec<Value> = steps
        .iter()
        .map(|s| s.run_ours(&args_for(root, s), true))
        .collect();
    fs::write(root.join("results.json"), json!(results).to_string()).unwrap();
}

fn run_ours(test_name: &str, root: &Path) -> Vec<Value> {
    let exe = std::env::current_exe().unwrap().display().to_string();
    let argv = vec![
        exe,
        "--exact".into(),
        test_name.into(),
        "--nocapture".into(),
    ];
    let child = sandboxed(root, &argv)
        .env(CHILD_ROOT, root)
        .env(HTTP_BASE_ENV, http_base())
        .output()
        .expect("run our side in the sandbox");
    assert!(
        child.status.success(),
        "our side in the sandbox failed: {}{}",
        String::from_utf8_lossy(&child.stdout),
        String::from_utf8_lossy(&child.stderr)
    );
    let path = root.join("results.json");
    let results = serde_json::from_slice(&fs::read(&path).unwrap()).unwrap();
    let _ = fs::remove_file(path);
    results
}

/// What is compared of a result.
fn view(result: &Value, root: &Path, extra: &Extra) -> Value {
    let mut v = with_placeholder(result, root, "@R@");
    // Compared only where the test asks (`Extra::warnings`).
    let warnings = v.remove("warnings");
    remove_keys(&mut v, &["invocation"]);
    remove_keys(&mut v, &CONTROLLER_KEYS);
    remove_keys(&mut v, &TIMING_KEYS);
    backup_made(&mut v, &["backup_file"]);
    if let Some(w) = warnings.filter(|_| extra.warnings) {
        v.insert("warnings".into(), w);
    }
    Value::Object(v)
}

/// The state a sandbox ends in: /etc files, and /home's tree with owners and modes.
fn state(root: &Path, extra: &Extra) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    for real in extra.watched {
        watch(root, real, &in_root(root, real, extra), &mut out);
    }
    for f in ETC_FILES {
        let content = fs::read(root.join("etc").join(f)).unwrap_or_default();
        let text = String::from_utf8_lossy(&content).replace(&root.display().to_string(), "@R@");
        out.insert(format!("/etc/{f}"), text);
    }
    let mut stack = vec![root.join("home")];
    while let Some(d) = stack.pop() {
        let Ok(entries) = fs::read_dir(&d) else {
            continue;
        };
        for e in entries.flatten() {
            let p = e.path();
            let Ok(meta) = fs::symlink_metadata(&p) else {
                continue;
            };
            let rel = p.strip_prefix(root).unwrap().display().to_string();
            let mode = meta.permissions().mode() & 0o7777;
            out.insert(
                rel,
                format!(
                    "{mode:o} {}:{} dir={}",
                    meta.uid(),
                    meta.gid(),
                    meta.is_dir()
                ),
            );
            if meta.is_dir() {
                stack.push(p);
            }
        }
    }
    out
}

/// A watched path's state: a file's mode and content, a directory's files (recursively).
fn watch(root: &Path, name: &str, path: &Path, out: &mut BTreeMap<String, String>) {
    let Ok(meta) = fs::symlink_metadata(path) else {
        out.insert(name.to_string(), "absent".into());
        return;
    };
    if meta.is_dir() {
        let mut entries: Vec<_> = fs::read_dir(path)
            .map(|d| d.flatten().map(|e| e.file_name()).collect())
            .unwrap_or_default();
        entries.sort();
        for e in entries {
            let child = format!("{}/{}", name.trim_end_matches('/'), e.to_string_lossy());
            watch(root, &child, &path.join(&e), out);
        }
        return;
    }
    let content = fs::read(path).unwrap_or_default();
    let text = String::from_utf8_lossy(&content).replace(&root.display().to_string(), "@R@");
    let mode = meta.permissions().mode() & 0o7777;
    out.insert(name.to_string(), format!("{mode:o}\n{text}"));
}

/// Run `steps` on both sides in separate sandboxes and fail with every difference.
/// `test_name` is the calling test (re-executed for our side).
fn assert_steps_match(test_name: &str, steps: Vec<Step>) {
    assert_steps_match_in(test_name, steps, &Extra::default());
}

/// `assert_steps_match` in a sandbox with `extra`'s copies, watched paths and network.
fn assert_steps_match_in(test_name: &str, steps: Vec<Step>, extra: &Extra) {
    if let Ok(root) = std::env::var(CHILD_ROOT) {
        run_ours_here(Path::new(&root), &steps);
        return;
    }
    let Some(bin) = reference_bin() else { return };
    let snapshot = tempfile::tempdir().unwrap();
    let etc = snapshot.path().join("etc");
    let status = Command::new("cp")
        .args(["-a", "/etc"])
        .arg(&etc)
        .status()
        .unwrap();
    assert!(status.success(), "snapshot of /etc failed");
    let ref_root = make_root(&etc, extra);
    let our_root = make_root(&etc, extra);
    let reference = run_reference(&bin, ref_root.path(), &steps);
    let ours = run_ours(test_name, our_root.path());
    if std::env::var_os("RSIBLE_TEST_SHOW").is_some() {
        for (j, r) in reference.iter().enumerate() {
            eprintln!("step {j} reference: {}", view(r, ref_root.path(), extra));
        }
    }
    let mut mismatches = Vec::new();
    for (j, s) in steps.iter().enumerate() {
        let want = view(&reference[j], ref_root.path(), extra);
        let got = view(&ours[j], our_root.path(), extra);
        if want != got {
            mismatches.push(format!(
                "step {j} ({} {}{}):\n  reference: {want}\n  rsible:    {got}",
                s.module,
                s.args,
                if s.check_mode { ", check mode" } else { "" }
            ));
        }
    }
    let (want, got) = (state(ref_root.path(), extra), state(our_root.path(), extra));
    for key in want
        .keys()
        .chain(got.keys())
        .collect::<std::collections::BTreeSet<_>>()
    {
        if want.get(key) != got.get(key) {
            mismatches.push(format!(
                "{key}:\n  reference: {:?}\n  rsible:    {:?}",
                want.get(key),
                got.get(key)
            ));
        }
    }
    assert_no_differences(&mismatches);
}

fn show(argv: &[&str]) -> Step {
    step("command", json!({ "argv": argv }))
}

#[test]
fn hostname_matches_the_reference() {
    let h = "hostname";
    let steps = [
        vec![checked(h, json!({"name": "node1"}))],
        twice(h, json!({"name": "node1"})),
        vec![show(&["hostname"])],
        twice(h, json!({"name": "node2.example.com"})),
        vec![step(h, json!({"name": "node2", "use": "debian"}))],
        vec![
            step(h, json!({"name": "node3", "use": "systemd"})),
            step(h, json!({})),
            step(h, json!({"name": "x", "bogus": 1})),
            step(h, json!({"name": "x", "use": "nosuch"})),
        ],
    ]
    .concat();
    assert_steps_match("hostname_matches_the_reference", steps);
}

#[test]
fn group_matches_the_reference() {
    let g = "group";
    let steps = [
        vec![checked(g, json!({"name": "kube-cert", "system": true}))],
        twice(g, json!({"name": "kube-cert", "system": true})),
        twice(g, json!({"name": "rsible-g1", "gid": 4242})),
        vec![checked(g, json!({"name": "rsible-g1", "gid": 4243}))],
        twice(g, json!({"name": "rsible-g1", "gid": 4243})),
        vec![step(g, json!({"name": "rsible-g2", "gid": 4243}))],
        twice(
            g,
            json!({"name": "rsible-g2", "gid": 4243, "non_unique": true}),
        ),
        vec![
            step(g, json!({"name": "rsible-g3", "non_unique": true})),
            step(
                g,
                json!({"name": "rsible-g3", "force": true, "local": true}),
            ),
            step(g, json!({"name": "rsible-g3", "gid": "abc"})),
            checked(g, json!({"name": "rsible-g1", "state": "absent"})),
        ],
        twice(g, json!({"name": "rsible-g1", "state": "absent"})),
        twice(
            g,
            json!({"name": "rsible-g2", "state": "absent", "force": true}),
        ),
    ]
    .concat();
    assert_steps_match("group_matches_the_reference", steps);
}

#[test]
fn user_matches_the_reference() {
    let u = "user";
    // Kubespray's adduser role: a group, then system users without homes.
    let kube = json!({"name": "kube", "comment": "Kubernetes user", "create_home": false,
        "system": true, "shell": "/sbin/nologin", "group": "kube-cert"});
    let etcd = json!({"name": "etcd", "comment": "Etcd user", "createhome": false,
        "system": true, "shell": "/sbin/nologin", "group": "etcd"});
    let steps = [
        twice("group", json!({"name": "kube-cert", "system": true})),
        twice("group", json!({"name": "etcd", "system": true})),
        vec![checked(u, kube.clone())],
        twice(u, kube),
        twice(u, etcd),
        // A regular user with a home from /etc/skel, then changes to it.
        twice(u, json!({"name": "alice", "uid": 3001, "groups": ["kube-cert", "etcd"]})),
        vec![checked(u, json!({"name": "alice", "shell": "/bin/sh", "comment": "Alice"}))],
        twice(u, json!({"name": "alice", "shell": "/bin/sh", "comment": "Alice"})),
        twice(u, json!({"name": "alice", "groups": "kube-cert"})),
        twice(u, json!({"name": "alice", "groups": ["etcd"], "append": true})),
        twice(u, json!({"name": "alice", "groups": []})),
        twice(u, json!({"name": "alice", "home": "/home/alice2", "move_home": true})),
        twice(u, json!({"name": "alice", "password": "$6$rounds=5000$abcdefgh$7y0nXrY1jnbKqHwM7C3DX0oiCaUwdbH/5DFvZuVEBg5S9t3vqs1UosY6WbaGckFPwCTMrJdGc0nQwzIl.cYEZ/", "password_lock": true})),
        twice(u, json!({"name": "alice", "password_expire_max": 90, "password_expire_min": 1})),
        twice(u, json!({"name": "alice", "expires": 1893456000})),
        twice(u, json!({"name": "bob", "home": "/home/deep/er/bob", "group": "etcd"})),
        vec![
            step(u, json!({"name": "carol", "group": "nosuchgroup"})),
            step(u, json!({"name": "carol", "groups": ["nosuchgroup"]})),
            step(u, json!({"name": "carol", "uid": "x"})),
            step(u, json!({"user": "carol", "bogus": true})),
            checked(u, json!({"name": "bob", "state": "absent"})),
        ],
        twice(u, json!({"name": "bob", "state": "absent", "remove": true})),
        twice(u, json!({"name": "kube", "state": "absent"})),
        vec![show(&["getent", "passwd", "alice"])],
    ]
    .concat();
    assert_steps_match("user_matches_the_reference", steps);
}

#[test]
fn mount_matches_the_reference() {
    let m = "ansible.posix.mount";
    let tmpfs = |path: &str, state: &str| json!({"path": path, "src": "tmpfs", "fstype": "tmpfs", "opts": "size=1m", "state": state});
    let findmnt = |p: &str| show(&["findmnt", "-n", "-o", "FSTYPE,OPTIONS", p]);
    let steps = [
        // Kubespray's swap removal: by name, both spellings.
        vec![checked(m, json!({"name": "none", "fstype": "swap", "state": "absent"}))],
        twice(m, json!({"name": "swap", "fstype": "swap", "state": "absent"})),
        twice(m, json!({"name": "none", "fstype": "swap", "state": "absent"})),
        // fstab entries only.
        vec![checked(m, tmpfs("@R@/mnt/a", "present"))],
        twice(m, tmpfs("@R@/mnt/a", "present")),
        twice(m, json!({"path": "@R@/mnt/a", "src": "tmpfs", "fstype": "tmpfs", "opts": "size=2m", "state": "present", "backup": true})),
        twice(m, json!({"path": "/srv/four", "src": "tmpfs", "fstype": "tmpfs", "state": "present"})),
        twice(m, json!({"path": "/srv/data", "state": "absent_from_fstab"})),
        twice(m, json!({"path": "/srv/alt", "src": "/dev/x", "fstype": "xfs", "boot": false, "state": "present", "fstab": "@R@/mnt/alt/fstab"})),
        // Real mounts (inside the sandbox's mount namespace).
        vec![checked(m, tmpfs("@R@/mnt/b", "mounted"))],
        twice(m, tmpfs("@R@/mnt/b", "mounted")),
        vec![findmnt("@R@/mnt/b")],
        vec![step(m, json!({"path": "@R@/mnt/b", "src": "tmpfs", "fstype": "tmpfs", "opts": "size=2m", "state": "remounted"}))],
        vec![findmnt("@R@/mnt/b")],
        twice(m, json!({"path": "@R@/mnt/b", "src": "tmpfs", "fstype": "tmpfs", "opts": "size=3m", "state": "mounted"})),
        vec![findmnt("@R@/mnt/b")],
        vec![checked(m, json!({"path": "@R@/mnt/b", "state": "unmounted"}))],
        twice(m, json!({"path": "@R@/mnt/b", "state": "unmounted"})),
        twice(m, json!({"path": "@R@/mnt/b", "state": "absent"})),
        vec![
            step(m, json!({"path": "@R@/mnt/e", "state": "mounted"})),
            step(m, json!({"path": "@R@/mnt/e", "src": "/dev/rsible-none", "fstype": "ext4", "state": "mounted"})),
            step(m, json!({"state": "present"})),
            step(m, json!({"path": "@R@/mnt/e", "state": "bogus"})),
            show(&["ls", "@R@/mnt"]),
        ],
    ]
    .concat();
    assert_steps_match("mount_matches_the_reference", steps);
}

/// apt without changing the machine: installed packages (no change), check mode
/// (apt-get --simulate), a cache that is still valid, and bad input. Installing or
/// removing for real needs the sandbox hosts of bench/sandbox (not in CI). Few steps:
/// each reference step opens the apt cache through python-apt (seconds on a busy host).
#[test]
fn apt_without_changes_matches_the_reference() {
    let a = "apt";
    let steps = vec![
        step(
            a,
            json!({"name": ["coreutils", "bash>=5.0", "coreutils=9.1*"], "state": "present"}),
        ),
        checked(
            a,
            json!({"name": ["hello", "curl"], "install_recommends": false}),
        ),
        checked(a, json!({"name": "bash", "state": "latest"})),
        checked(a, json!({"name": "curl", "state": "absent", "purge": true})),
        step(a, json!({"name": "hello", "state": "absent"})),
        step(a, json!({"name": ["coreutils", "rsible-no-such-package"]})),
        step(a, json!({"name": "bash=9.9"})),
        step(a, json!({"name": "a=1=2"})),
        checked(a, json!({"update_cache": true})),
        step(
            a,
            json!({"name": "coreutils", "update_cache": true, "cache_valid_time": 999_999_999}),
        ),
        step(a, json!({"name": "coreutils", "state": "bogus"})),
        // The manager is named: the reference's interpreter (the venv's Python)
        // has no python-apt, and with `auto` its module turns to rpm where the
        // test setup installed rpm (for the dnf tests): an empty package list.
        step("package_facts", json!({"manager": "apt"})),
        step(
            "package_facts",
            json!({"manager": "apt", "strategy": "bogus"}),
        ),
    ];
    assert_steps_match("apt_without_changes_matches_the_reference", steps);
}

/// systemd_service against the machine's systemctl with no systemd running (as in the
/// test machine and the bench sandbox): `systemctl show` fails, so the module falls back
/// to `is-enabled`/`list-unit-files`; enabling, disabling and masking work offline on the
/// unit files of the sandbox's /etc copy. Starting and stopping cannot be tested here.
#[test]
fn systemd_offline_matches_the_reference() {
    let s = "systemd_service";
    let steps = [
        vec![checked(s, json!({"name": "ssh", "enabled": false}))],
        twice(s, json!({"name": "ssh", "enabled": false})),
        twice(s, json!({"name": "ssh.service", "enabled": true})),
        vec![checked(s, json!({"name": "ssh", "masked": true}))],
        twice("systemd", json!({"name": "ssh", "masked": true})),
        twice(s, json!({"unit": "ssh", "masked": false})),
        vec![
            step(s, json!({"name": "ssh", "state": "started"})),
            checked(s, json!({"name": "ssh", "state": "restarted"})),
            step(s, json!({"name": "rsible-no-such", "enabled": true})),
            step(s, json!({"name": "rsible-no-such", "state": "stopped"})),
            step(s, json!({"name": "ssh*", "state": "started"})),
            step(s, json!({"state": "started"})),
            step(s, json!({"daemon_reload": true})),
            checked(s, json!({"daemon_reload": true})),
            step(s, json!({"name": "ssh", "state": "bogus"})),
            step(s, json!({"name": "ssh", "scope": "user", "enabled": true})),
            show(&["sh", "-c", "ls -R /etc/systemd/system | sort"]),
            // SysV scripts here (no systemd running): `service --status-all`.
            step("service_facts", json!({})),
            step("service_facts", json!({"bogus": 1})),
        ],
    ]
    .concat();
    assert_steps_match("systemd_offline_matches_the_reference", steps);
}

/// dpkg_selections on a copy of dpkg's database: hold, unhold, check mode, bad input.
#[test]
fn dpkg_selections_matches_the_reference() {
    let d = "dpkg_selections";
    let selections = || show(&["dpkg", "--get-selections", "bash", "coreutils", "hello"]);
    let steps = [
        vec![checked(d, json!({"name": "bash", "selection": "hold"}))],
        twice(d, json!({"name": "bash", "selection": "hold"})),
        vec![selections()],
        twice(d, json!({"name": "bash", "selection": "install"})),
        twice(d, json!({"name": "coreutils", "selection": "deinstall"})),
        vec![checked(
            d,
            json!({"name": "coreutils", "selection": "install"}),
        )],
        twice(d, json!({"name": "coreutils", "selection": "install"})),
        vec![
            step(
                d,
                json!({"name": "rsible-no-such-package", "selection": "hold"}),
            ),
            step(d, json!({"name": "bash", "selection": "bogus"})),
            step(d, json!({"name": "bash"})),
            step(d, json!({"name": "bash", "selection": "hold", "bogus": 1})),
            selections(),
        ],
    ]
    .concat();
    let extra = Extra {
        copies: &["/var/lib/dpkg"],
        watched: &["/var/lib/dpkg/status"],
        ..Extra::default()
    };
    assert_steps_match_in("dpkg_selections_matches_the_reference", steps, &extra);
}

/// apt_repository on a sandboxed /etc/apt: new files named from the repo line or
/// `filename`, re-enabling a commented-out source, removal (the emptied file deleted),
/// `mode`, bad input, and an `update_cache` that fails (no network in the sandbox:
/// the new file is reverted). apt's lists are copies, so `apt-get update` changes
/// nothing of the machine.
#[test]
fn apt_repository_matches_the_reference() {
    let a = "apt_repository";
    let docker = "deb [arch=amd64 signed-by=/etc/apt/keyrings/docker.asc] https://download.docker.com/linux/debian bookworm stable";
    let example = "deb http://example.com/debian bookworm main";
    let seed = "printf '#deb  http://a.example  b c # note\\n\\n## header\\ndeb http://example.com/debian bookworm main\\n' > /etc/apt/sources.list.d/pre.list; : > /etc/apt/sources.list.d/empty.list";
    let no_update = |repo: &str| json!({"repo": repo, "update_cache": false});
    let steps = [
        vec![show(&["sh", "-c", seed])],
        vec![checked(a, no_update(docker))],
        twice(a, no_update(docker)),
        twice(
            a,
            json!({"repo": "deb http://user:pw@mirror.example.org/x y z", "filename": "mirror", "mode": "0600", "update_cache": false}),
        ),
        twice(a, no_update("#deb http://a.example b c")),
        twice(a, no_update("deb  http://a.example   b c")),
        twice(
            a,
            json!({"repo": example, "state": "absent", "update_cache": false}),
        ),
        vec![checked(
            a,
            json!({"repo": docker, "state": "absent", "update_cache": false}),
        )],
        twice(
            a,
            json!({"repo": docker, "state": "absent", "update_cache": false}),
        ),
        vec![
            step(a, no_update("")),
            step(a, no_update("foo bar")),
            step(a, json!({"repo": "deb http://x y", "state": "bogus"})),
            step(a, json!({"state": "present"})),
            step(a, json!({"repo": "deb http://x y", "bogus": 1})),
            step(
                a,
                json!({"repo": "deb file:///rsible-none bookworm main", "update_cache_retries": 1}),
            ),
            show(&["sh", "-c", "ls -l /etc/apt/sources.list.d | tail -n +2 | awk '{print $1, $NF}'"]),
        ],
    ]
    .concat();
    let extra = Extra {
        copies: &["/var/lib/apt", "/var/cache/apt"],
        watched: &["/etc/apt/sources.list.d", "/etc/apt/sources.list"],
        net: true,
        ..Extra::default()
    };
    assert_steps_match_in("apt_repository_matches_the_reference", steps, &extra);
}

/// apt_key with apt-key on a sandboxed /etc/apt, into a keyring of its own: keys from a
/// file and from inline armored data, by id, removal, and bad input. (Keys by `url`:
/// `apt_key_url_matches_the_reference`.)
#[test]
fn apt_key_matches_the_reference() {
    let k = "apt_key";
    let ring = "/etc/apt/keyrings/rsible-test.gpg";
    let file = "/usr/share/keyrings/debian-archive-bookworm-stable.gpg";
    let data = fs::read_to_string("/etc/apt/trusted.gpg.d/debian-archive-trixie-stable.asc")
        .expect("the Debian archive keys (debian-archive-keyring)");
    let steps = [
        vec![checked(k, json!({"file": file, "keyring": ring}))],
        twice(k, json!({"file": file, "keyring": ring})),
        twice(k, json!({"data": data, "keyring": ring})),
        twice(k, json!({"id": "762F67A0B2C39DE4", "keyring": ring})),
        vec![checked(
            k,
            json!({"id": "0xF8D2585B8783D481", "keyring": ring, "state": "absent"}),
        )],
        twice(
            k,
            json!({"id": "0xF8D2585B8783D481", "keyring": ring, "state": "absent"}),
        ),
        twice(
            k,
            json!({"id": "B2C39DE4", "keyring": ring, "state": "absent"}),
        ),
        vec![
            step(k, json!({"id": "12345", "keyring": ring})),
            step(k, json!({"id": "xyz", "keyring": ring})),
            step(
                k,
                json!({"keyserver": "hkp://keyserver.invalid", "keyring": ring}),
            ),
            step(k, json!({"file": file, "data": "x"})),
            step(k, json!({"file": "/rsible/none.gpg", "keyring": ring})),
            step(k, json!({"state": "absent", "keyring": ring})),
            step(k, json!({"id": "B2C39DE4", "bogus": 1})),
        ],
    ]
    .concat();
    let extra = Extra {
        watched: &["/etc/apt/sources.list.d"],
        ..Extra::default()
    };
    assert_steps_match_in("apt_key_matches_the_reference", steps, &extra);
}

/// iptables inside the sandbox's own network namespace (`unshare --net`): rules
/// appended, inserted and removed, policies, flushes (Kubespray's reset), user chains,
/// LOG options, ip6tables, and bad input. The machine's tables are never touched.
#[test]
fn iptables_matches_the_reference() {
    let i = "iptables";
    let ssh = json!({"chain": "INPUT", "protocol": "tcp", "destination_port": "22",
        "ctstate": ["NEW", "ESTABLISHED"], "jump": "ACCEPT", "comment": "ssh in"});
    let drop = json!({"chain": "INPUT", "action": "insert", "rule_num": "1",
        "source": "10.0.0.0/8", "jump": "DROP"});
    let web = json!({"chain": "INPUT", "protocol": "tcp", "match": ["conntrack"],
        "ctstate": "NEW", "destination_ports": ["80", "443:445"], "jump": "ACCEPT",
        "in_interface": "!lo"});
    let rules = || show(&["sh", "-c", "iptables -S; iptables -t nat -S; ip6tables -S"]);
    let steps = [
        vec![checked(i, ssh.clone())],
        twice(i, ssh.clone()),
        twice(i, drop.clone()),
        twice(i, web),
        twice(i, json!({"chain": "INPUT", "log_prefix": "rsible: ", "log_level": "4", "limit": "5/min"})),
        twice(i, json!({"chain": "INPUT", "ip_version": "ipv6", "protocol": "ipv6-icmp", "icmp_type": "echo-request", "jump": "ACCEPT"})),
        twice(i, json!({"chain": "POSTROUTING", "table": "nat", "out_interface": "lo", "jump": "MASQUERADE"})),
        vec![rules()],
        vec![checked(i, json!({"chain": "INPUT", "source": "10.0.0.0/8", "jump": "DROP", "state": "absent"}))],
        twice(i, json!({"chain": "INPUT", "source": "10.0.0.0/8", "jump": "DROP", "state": "absent"})),
        vec![checked(i, json!({"chain": "FORWARD", "policy": "DROP"}))],
        twice(i, json!({"chain": "FORWARD", "policy": "DROP"})),
        twice(i, json!({"chain": "RSIBLE", "chain_management": true})),
        twice(i, json!({"chain": "RSIBLE2"})),
        vec![rules()],
        twice(i, json!({"chain": "RSIBLE", "chain_management": true, "state": "absent"})),
        // Kubespray's reset: flush tables, then open the policies.
        vec![checked(i, json!({"table": "filter", "flush": true}))],
        twice(i, json!({"table": "filter", "flush": true})),
        twice(i, json!({"table": "nat", "flush": true, "ip_version": "ipv4"})),
        twice(i, json!({"chain": "FORWARD", "policy": "ACCEPT", "ip_version": "ipv6"})),
        twice(i, json!({"chain": "FORWARD", "policy": "ACCEPT"})),
        vec![
            rules(),
            step(i, json!({"chain": "INPUT", "flush": true, "policy": "DROP"})),
            step(i, json!({"table": "filter"})),
            step(i, json!({"chain": "INPUT", "jump": "TEE"})),
            step(i, json!({"chain": "INPUT", "set_dscp_mark": "1"})),
            step(i, json!({"chain": "INPUT", "log_prefix": "x", "jump": "ACCEPT"})),
            step(i, json!({"chain": "INPUT", "table": "bogus"})),
            step(i, json!({"chain": "INPUT", "bogus": 1})),
            step(i, json!({"chain": "NOSUCH", "protocol": "tcp", "jump": "ACCEPT"})),
            step(i, json!({"chain": "NOSUCH", "policy": "DROP"})),
        ],
    ]
    .concat();
    let extra = Extra {
        net: true,
        ..Extra::default()
    };
    assert_steps_match_in("iptables_matches_the_reference", steps, &extra);
}

/// yum_repository on a sandboxed /etc/yum.repos.d (made by the first step: Debian has
/// none): Kubespray's repositories, changes, a second section in one file, removal (the
/// emptied file deleted), mode, check mode and bad input.
#[test]
fn yum_repository_matches_the_reference() {
    let y = "yum_repository";
    let crio = json!({"name": "devel_kubic_libcontainers_stable", "description": "Stable Releases of Upstream github.com/containers packages",
        "baseurl": "http://download.opensuse.org/repositories/devel:/kubic:/libcontainers:/stable/CentOS_8/",
        "gpgcheck": true, "gpgkey": "http://download.opensuse.org/repositories/devel:/kubic:/libcontainers:/stable/CentOS_8/repodata/repomd.xml.key",
        "keepcache": "0"});
    let docker = json!({"name": "docker-ce", "description": "Docker CE", "file": "docker",
        "baseurl": ["https://download.docker.com/linux/centos/8/x86_64/stable", "https://mirror.example/docker"],
        "enabled": "yes", "gpgcheck": 1, "repo_gpgcheck": false, "skip_if_unavailable": true,
        "exclude": ["docker-ce-1*", "containerd"], "mode": "0600"});
    let steps = [
        vec![
            step(y, json!({"name": "x", "description": "x", "baseurl": "http://x"})),
            show(&["sh", "-c", "mkdir -p /etc/yum.repos.d && printf '[existing]\\n# kept?\\nName=Old\\nbaseurl=http://old/\\n  http://old2/\\n' > /etc/yum.repos.d/docker.repo"]),
        ],
        vec![checked(y, crio.clone())],
        twice(y, crio),
        twice(y, docker.clone()),
        twice(y, json!({"name": "docker-ce", "description": "Docker CE (changed)", "file": "docker", "baseurl": "https://download.docker.com/linux/centos/8/x86_64/stable", "enabled": false})),
        vec![checked(y, json!({"name": "existing", "file": "docker", "state": "absent"}))],
        twice(y, json!({"name": "existing", "file": "docker", "state": "absent"})),
        twice(y, json!({"name": "docker-ce", "file": "docker", "state": "absent"})),
        twice(y, json!({"name": "devel_kubic_libcontainers_stable", "state": "absent"})),
        vec![
            step(y, json!({"name": "r", "baseurl": "http://x"})),
            step(y, json!({"name": "r", "description": "r"})),
            step(y, json!({"description": "r", "baseurl": "http://x"})),
            step(y, json!({"name": "r", "description": "r", "baseurl": "http://x", "bogus": 1})),
            step(y, json!({"name": "r", "description": "r", "baseurl": "http://x", "failovermethod": "bogus"})),
            step(y, json!({"name": "r", "description": "r", "baseurl": "http://x", "reposdir": "/rsible/none"})),
        ],
    ]
    .concat();
    let extra = Extra {
        watched: &["/etc/yum.repos.d"],
        ..Extra::default()
    };
    assert_steps_match_in("yum_repository_matches_the_reference", steps, &extra);
}

/// A loopback HTTP server for the keys `apt_key` fetches by url: `path -> body`,
/// 404 for anything else, one request per connection. It lives as long as the test.
fn serve_keys(files: Vec<(&'static str, Vec<u8>)>) -> String {
    use std::io::{BufRead, BufReader, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind a loopback port");
    let base = format!("http://{}", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let mut reader = BufReader::new(&stream);
            let mut request_line = String::new();
            let _ = reader.read_line(&mut request_line);
            let mut header = String::new();
            while reader.read_line(&mut header).is_ok_and(|n| n > 2) {
                header.clear();
            }
            let path = request_line.split(' ').nth(1).unwrap_or("").to_string();
            let (status, body) = match files.iter().find(|(p, _)| *p == path) {
                Some((_, body)) => ("200 OK", body.clone()),
                None => ("404 Not Found", b"no such key\n".to_vec()),
            };
            let mut out = &stream;
            let _ = write!(
                out,
                "HTTP/1.0 {status}\r\nContent-Type: application/octet-stream\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                body.len()
            );
            let _ = out.write_all(&body);
        }
    });
    base
}

/// apt_key with `url`: armored and binary keys fetched over HTTP (with and without an
/// id, check mode, the second run), a missing key (404), a refused connection and a
/// body that is no key. The keyring is the sandbox's.
#[test]
fn apt_key_url_matches_the_reference() {
    if std::env::var(CHILD_ROOT).is_err() && reference_bin().is_some() {
        let armored = fs::read("/etc/apt/trusted.gpg.d/debian-archive-trixie-stable.asc")
            .expect("the Debian archive keys (debian-archive-keyring)");
        let binary = fs::read("/usr/share/keyrings/debian-archive-bookworm-stable.gpg")
            .expect("the Debian archive keys (debian-archive-keyring)");
        let base = serve_keys(vec![
            ("/trixie.asc", armored),
            ("/bookworm.gpg", binary),
            ("/garbage", b"this is not a key\n".to_vec()),
        ]);
        let _ = HTTP_BASE.set(base);
    }
    let k = "apt_key";
    let ring = "/etc/apt/keyrings/rsible-url.gpg";
    let steps = [
        vec![checked(
            k,
            json!({"url": "@U@/trixie.asc", "keyring": ring}),
        )],
        twice(k, json!({"url": "@U@/trixie.asc", "keyring": ring})),
        vec![checked(
            k,
            json!({"url": "@U@/bookworm.gpg", "id": "F8D2585B8783D481", "keyring": ring}),
        )],
        twice(
            k,
            json!({"url": "@U@/bookworm.gpg", "id": "F8D2585B8783D481", "keyring": ring}),
        ),
        vec![
            step(k, json!({"url": "@U@/missing.asc", "keyring": ring})),
            step(
                k,
                json!({"url": "@U@/missing.asc", "id": "0EBFCD88", "keyring": ring}),
            ),
            step(
                k,
                json!({"url": "http://127.0.0.1:9/k.asc", "keyring": ring}),
            ),
            step(k, json!({"url": "@U@/garbage", "keyring": ring})),
            step(k, json!({"url": "@U@/trixie.asc", "file": "/x.gpg"})),
        ],
    ]
    .concat();
    assert_steps_match_in(
        "apt_key_url_matches_the_reference",
        steps,
        &Extra::default(),
    );
}

/// The SELinux configuration in the sandbox's /etc/selinux (no selinuxfs here: the
/// running system counts as disabled, as libselinux sees it): state and policy
/// changes in the default and in another `configfile`, check mode, second runs, the
/// reboot warnings, and bad input.
#[test]
fn selinux_matches_the_reference() {
    let k = "ansible.posix.selinux";
    let other = "/etc/selinux/other.conf";
    let steps = [
        vec![checked(
            k,
            json!({"policy": "targeted", "state": "permissive"}),
        )],
        twice(k, json!({"policy": "targeted", "state": "permissive"})),
        twice(k, json!({"state": "disabled"})),
        vec![checked(k, json!({"policy": "mls", "state": "enforcing"}))],
        vec![step(k, json!({"policy": "mls", "state": "enforcing"}))],
        vec![checked(
            k,
            json!({"policy": "targeted", "state": "enforcing", "configfile": other}),
        )],
        twice(
            k,
            json!({"policy": "targeted", "state": "enforcing", "conf": other}),
        ),
        // Kernel command lines through the grubby stand-in: inconsistent at first.
        vec![checked(
            k,
            json!({"policy": "targeted", "state": "permissive", "update_kernel_param": true}),
        )],
        twice(
            k,
            json!({"policy": "targeted", "state": "permissive", "update_kernel_param": true}),
        ),
        twice(k, json!({"state": "disabled", "update_kernel_param": true})),
        vec![
            step(k, json!({"state": "enforcing"})),
            step(k, json!({"state": "disabled", "file": "/etc/selinux/none"})),
            step(k, json!({"policy": "targeted", "state": "on"})),
            step(k, json!({"policy": "targeted"})),
        ],
    ]
    .concat();
    let extra = Extra {
        files: &[
            (
                "/etc/selinux/config",
                "# This file controls the state of SELinux on the system.\n\
                 SELINUX=enforcing\n\
                 # SELINUXTYPE= can take one of these values\n\
                 SELINUXTYPE=targeted\n",
            ),
            ("/etc/selinux/other.conf", "SELINUX=disabled\n\n# end"),
            ("/etc/selinux/targeted/policy/", ""),
        ],
        watched: &[
            "/etc/selinux/config",
            "/etc/selinux/other.conf",
            "/etc/rsible-grubby",
        ],
        programs: &[("grubby", FAKE_GRUBBY)],
        warnings: true,
        ..Extra::default()
    };
    assert_steps_match_in("selinux_matches_the_reference", steps, &extra);
}

/// grubby stand-in: the kernels' command lines, one a line, in /etc/rsible-grubby
/// (two kernels, only one with selinux=0 at first).
const FAKE_GRUBBY: &str = r#"#!/bin/sh
state=/etc/rsible-grubby
[ -f $state ] || printf 'ro quiet\nro quiet selinux=0\n' > $state
case "$1" in
  --info=ALL)
    i=0
    while read -r line; do
      printf 'index=%s\nkernel="/boot/vmlinuz-%s"\nargs="%s"\n' $i $i "$line"
      i=$((i+1))
    done < $state ;;
  --update-kernel=ALL)
    sed -i 's/ selinux=0//g' $state
    [ "$2" = --args ] && sed -i 's/$/ selinux=0/' $state
    exit 0 ;;
  *) exit 1 ;;
esac
"#;

/// hwclock stand-in: records its arguments and writes /etc/adjtime as
/// `hwclock --systohc` does (the real one would set the machine's clock).
const FAKE_HWCLOCK: &str = "#!/bin/sh\n\
echo \"$*\" >> /etc/rsible-hwclock.log\n\
case \"$*\" in *--localtime*) m=LOCAL ;; *) m=UTC ;; esac\n\
printf '0.0 0 0.0\\n0\\n%s\\n' \"$m\" > /etc/adjtime\n";

/// The files the timezone tests compare at the end.
const TIMEZONE_FILES: &[&str] = &[
    "/etc/timezone",
    "/etc/localtime",
    "/etc/default/rcS",
    "/etc/adjtime",
    "/etc/rsible-hwclock.log",
    "/etc/rsible-timedatectl",
];

/// timezone on a Debian host without systemd (timedatectl fails here): /etc/timezone,
/// the /etc/localtime link and `dpkg-reconfigure tzdata` on a copy of debconf's
/// database, hwclock through /etc/default/rcS and /etc/adjtime (hwclock itself a
/// stand-in); check mode, diff, second runs and bad input.
#[test]
fn timezone_matches_the_reference() {
    let k = "community.general.timezone";
    let steps = [
        vec![checked(k, json!({"name": "Asia/Tokyo"}))],
        twice(k, json!({"name": "Asia/Tokyo"})),
        vec![checked(k, json!({"hwclock": "local"}))],
        twice(k, json!({"rtc": "local"})),
        twice(k, json!({"name": "Europe/Paris", "hwclock": "UTC"})),
        // /etc/localtime as a copy of the zone file instead of a link.
        vec![show(&[
            "cp",
            "--remove-destination",
            "/usr/share/zoneinfo/Europe/Paris",
            "/etc/localtime",
        ])],
        vec![checked(k, json!({"name": "Europe/Paris"}))],
        vec![show(&[
            "cp",
            "--remove-destination",
            "/usr/share/zoneinfo/Asia/Tokyo",
            "/etc/localtime",
        ])],
        twice(k, json!({"name": "Europe/Paris"})),
        vec![
            step(k, json!({"name": "Not/AZone"})),
            step(k, json!({})),
            step(k, json!({"hwclock": "bogus"})),
        ],
    ]
    .concat();
    let extra = Extra {
        copies: &["/var/cache/debconf"],
        watched: TIMEZONE_FILES,
        programs: &[("hwclock", FAKE_HWCLOCK)],
        ..Extra::default()
    };
    assert_steps_match_in("timezone_matches_the_reference", steps, &extra);
}

/// timedatectl stand-in for a host with systemd: `status` shows the zone and RTC
/// setting kept in /etc/rsible-timedatectl; set-timezone checks the zone file.
const FAKE_TIMEDATECTL: &str = r#"#!/bin/sh
state=/etc/rsible-timedatectl
[ -f $state ] || printf 'Etc/UTC no\n' > $state
read zone rtc < $state
case "$1" in
  ""|status)
    printf '               Local time: Thu 2026-01-01 00:00:00 UTC\n'
    printf '           Universal time: Thu 2026-01-01 00:00:00 UTC\n'
    printf '                Time zone: %s (UTC, +0000)\n' "$zone"
    printf 'System clock synchronized: yes\n'
    printf '          RTC in local TZ: %s\n' "$rtc" ;;
  set-timezone)
    [ "$2" = Etc/GMT+5 ] && { echo "Failed to set time zone: Access denied" >&2; exit 1; }
    [ -f "/usr/share/zoneinfo/$2" ] || { echo "Failed to set time zone: Invalid or not installed time zone '$2'" >&2; exit 1; }
    printf '%s %s\n' "$2" "$rtc" > $state ;;
  set-local-rtc)
    printf '%s %s\n' "$zone" "$2" > $state ;;
  *) echo "Unknown command verb $1." >&2; exit 1 ;;
esac
"#;

/// timezone on a systemd host, through a timedatectl stand-in: the status parsing,
/// set-timezone/set-local-rtc, check mode, diff, messages and a failing command.
#[test]
fn timezone_with_timedatectl_matches_the_reference() {
    let k = "community.general.timezone";
    let steps = [
        vec![checked(
            k,
            json!({"name": "America/New_York", "hwclock": "local"}),
        )],
        twice(k, json!({"name": "America/New_York", "hwclock": "local"})),
        twice(k, json!({"hwclock": "UTC"})),
        vec![step(k, json!({"name": "Nowhere/Atlantis"}))],
        vec![step(k, json!({"name": "Etc/GMT+5", "hwclock": "local"}))],
    ]
    .concat();
    let extra = Extra {
        watched: TIMEZONE_FILES,
        programs: &[("timedatectl", FAKE_TIMEDATECTL)],
        ..Extra::default()
    };
    assert_steps_match_in(
        "timezone_with_timedatectl_matches_the_reference",
        steps,
        &extra,
    );
}
