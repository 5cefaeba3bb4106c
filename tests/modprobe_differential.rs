//! Differential test of `community.general.modprobe` against ansible-core 2.18 (the
//! collection's module), with a fake kernel-module backend: the test machine and CI
//! cannot load kernel modules (here the kernel has no module support at all: no
//! /proc/modules, no /lib/modules).
//!
//! Each engine runs the same playbook inside its own throwaway namespaces
//! (`unshare --mount --pid --fork --mount-proc`, private propagation). Before the
//! engine starts, the namespace's setup script puts in place, from the test's temp
//! directory only:
//! - /etc/modules-load.d and /etc/modprobe.d: empty-but-seeded directories of the
//!   test, bind-mounted (where a directory or file is missing on the machine, an
//!   overlay whose upper layer is in the test's directory is mounted over its nearest
//!   existing parent first, so nothing is ever created on the machine);
//! - /lib/modules/$(uname -r)/modules.builtin: a test file naming one built-in module;
//! - /proc/modules: a test file; the namespace's own procfs is mounted aside and /proc
//!   becomes a directory of symlinks into it plus that file;
//! - `modprobe`: a recording stand-in (shell script) in a directory the play's
//!   `environment: PATH` puts first. It logs its arguments, adds or removes the module
//!   in the fake /proc/modules, and answers unknown names, built-ins and
//!   `--first-time` with kmod's messages. Any real modprobe on the machine is covered
//!   by a guard script that fails loudly, so no engine can reach the kernel.
//!
//! Compared: every task's registered result (load/unload, check mode, second runs,
//! persistent present/absent with pre-existing files, errors of modprobe, argument
//! errors, `diff: true` which the module does not answer with a diff), and at the end
//! the files of both directories, the fake /proc/modules and modprobe's call log.
//! Needs root, unshare and RSIBLE_REF_BIN (with community.general).

use serde_json::Value;
use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;

/// kmod's modprobe as far as the module uses it: `[-n] [--first-time] NAME [PARAMS]`
/// and `-r NAME [-n]`. Known modules: rsible_dummy, rsible-dash (listed as
/// rsible_dash), rsible_quoted; rsible-alias is an alias that loads rsible_dummy;
/// built-ins come from modules.builtin.
const FAKE_MODPROBE: &str = r#"#!/bin/sh
echo "$*" >> @ROOT@/modprobe.log
dry=0; remove=0; first=0; name=
for a in "$@"; do
  case "$a" in
    -n|--dry-run) dry=1 ;;
    -r|--remove) remove=1 ;;
    --first-time) first=1 ;;
    -*) ;;
    *) [ -n "$name" ] || name=$a ;;
  esac
done
rel=$(uname -r)
kname=$(echo "$name" | tr - _)
case "$kname" in
  rsible_dummy|rsible_dash|rsible_quoted) real=$kname ;;
  rsible_alias) real=rsible_dummy ;;
  *) real= ;;
esac
if grep -q "/$kname.ko\$" /lib/modules/$rel/modules.builtin; then
  if [ $remove = 1 ]; then echo "modprobe: FATAL: Module $kname is builtin." >&2; exit 1; fi
  if [ $first = 1 ]; then echo "modprobe: ERROR: could not insert '$kname': Module already in kernel" >&2; exit 1; fi
  exit 0
fi
if [ -z "$real" ]; then
  echo "modprobe: FATAL: Module $name not found in directory /lib/modules/$rel" >&2; exit 1
fi
loaded=0
grep -q "^$real " /proc/modules && loaded=1
if [ $remove = 1 ]; then
  if [ $loaded = 0 ]; then echo "modprobe: FATAL: Module $real is not in kernel." >&2; exit 1; fi
  [ $dry = 1 ] || { grep -v "^$real " /proc/modules > /proc/modules.new; cat /proc/modules.new > /proc/modules; rm /proc/modules.new; }
  exit 0
fi
if [ $loaded = 1 ]; then
  if [ $first = 1 ]; then echo "modprobe: ERROR: could not insert '$real': Module already in kernel" >&2; exit 1; fi
  exit 0
fi
[ $dry = 1 ] || echo "$real 16384 0 - Live 0x0000000000000000" >> /proc/modules
exit 0
"#;

/// Mounted over any real modprobe inside the sandbox.
const GUARD: &str =
    "#!/bin/sh\necho \"rsible test: the real modprobe was reached: $*\" >&2\nexit 99\n";

/// The namespace's setup, then the engine ("$@"). Only paths under $ROOT are written:
/// a missing path is made inside an overlay of its nearest existing parent whose upper
/// layer is under $ROOT.
const SETUP: &str = r#"R=$ROOT
n=0
ovl() {
  n=$((n+1)); mkdir -p "$R/ovl/$n/up" "$R/ovl/$n/work"
  mount -t overlay overlay -o "lowerdir=$1,upperdir=$R/ovl/$n/up,workdir=$R/ovl/$n/work" "$1"
}
need() {
  [ -e "$1" ] && return 0
  p=$(dirname "$1")
  while [ ! -d "$p" ]; do p=$(dirname "$p"); done
  ovl "$p"
  if [ "$2" = dir ]; then mkdir -p "$1"; else mkdir -p "$(dirname "$1")"; : > "$1"; fi
}
rel=$(uname -r)
# Overlays first: one over /etc would hide a bind mount made before it.
need /etc/modules-load.d dir
need /etc/modprobe.d dir
need "/lib/modules/$rel/modules.builtin" file
mount --bind "$R/modules-load.d" /etc/modules-load.d
mount --bind "$R/modprobe.d" /etc/modprobe.d
mount --bind "$R/modules.builtin" "/lib/modules/$rel/modules.builtin"
for p in /sbin/modprobe /usr/sbin/modprobe /bin/modprobe /usr/bin/modprobe /usr/local/sbin/modprobe /usr/local/bin/modprobe; do
  if [ -e "$p" ]; then mount --bind "$R/guard" "$p"; fi
done
mount --bind /proc "$R/realproc"
for e in "$R"/realproc/*; do
  [ "${e##*/}" = modules ] || ln -s "$e" "$R/fakeproc/${e##*/}"
done
cp "$R/proc-modules" "$R/fakeproc/modules"
mount --bind "$R/fakeproc" /proc
"#;

const PLAYBOOK: &str = r#"
- hosts: localhost
  gather_facts: false
  environment:
    PATH: "@ROOT@/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
  tasks:
    # Loading: check mode, then a first and a second run.
    - community.general.modprobe: {name: rsible_dummy, params: numdummies=2}
      check_mode: true
    - community.general.modprobe: {name: rsible_dummy, params: numdummies=2}
    - community.general.modprobe: {name: rsible_dummy, params: numdummies=2}
    # A dash in the name: /proc/modules lists it with an underscore.
    - community.general.modprobe: {name: rsible-dash}
    - community.general.modprobe: {name: rsible-dash, state: present}
    # Built into the kernel: nothing to load; modprobe cannot remove it.
    - community.general.modprobe: {name: rsible_builtin}
    - community.general.modprobe: {name: rsible_builtin, state: absent}
      ignore_errors: true
    # Unknown to modprobe, with and without check mode.
    - community.general.modprobe: {name: rsible_nosuch}
      ignore_errors: true
    - community.general.modprobe: {name: rsible_nosuch}
      check_mode: true
      ignore_errors: true
    # An alias: loaded under another name, so the module asks with --first-time
    # and warns with modprobe's answer.
    - community.general.modprobe: {name: rsible-alias}
    # Parameters split as a shell would.
    - community.general.modprobe: {name: rsible_quoted, params: "a=1 'b=2 3'"}
    # Persistent: check mode, first and second run (an old option of the module in
    # another file gets commented out).
    - community.general.modprobe: {name: rsible_dummy, params: numdummies=2 dbg=1, persistent: present}
      check_mode: true
    - community.general.modprobe: {name: rsible_dummy, params: numdummies=2 dbg=1, persistent: present}
    - community.general.modprobe: {name: rsible_dummy, params: numdummies=2 dbg=1, persistent: present}
    - community.general.modprobe: {name: rsible_dummy, params: numdummies=4, persistent: present}
    # Listed already (with a comment on its line) and no parameters: unchanged.
    - community.general.modprobe: {name: rsible-dash, persistent: present}
    - community.general.modprobe: {name: rsible_dummy, persistent: absent}
      check_mode: true
    - community.general.modprobe: {name: rsible_dummy, persistent: absent}
    - community.general.modprobe: {name: rsible_dummy, persistent: absent}
    # Unloading: check mode, first and second run.
    - community.general.modprobe: {name: rsible_dummy, state: absent}
      check_mode: true
    - community.general.modprobe: {name: rsible_dummy, state: absent}
    - community.general.modprobe: {name: rsible_dummy, state: absent}
    # Both at once; --diff asked (the module answers no diff).
    - community.general.modprobe: {name: rsible-dash, state: absent, persistent: absent}
      diff: true
    - community.general.modprobe: {name: rsible_other, state: absent, persistent: absent}
    # Bad input.
    - community.general.modprobe: {state: present}
      ignore_errors: true
    - community.general.modprobe: {name: rsible_dummy, state: loaded}
      ignore_errors: true
    - community.general.modprobe: {name: rsible_dummy, persistent: yes}
      ignore_errors: true
    - community.general.modprobe: {name: rsible_dummy, bogus: 1}
      ignore_errors: true
"#;

const TASKS: usize = 28;

/// Files the sandbox starts with (relative to its root).
const SEED: &[(&str, &str)] = &[
    (
        "modules-load.d/rsible.conf",
        "# rsible test modules\nrsible-dash # at boot\nrsible_other_x\n",
    ),
    (
        "modprobe.d/rsible-old.conf",
        "options rsible_dummy numdummies=1\nblacklist rsible_evil\n",
    ),
    (
        "modules.builtin",
        "kernel/drivers/rsible/rsible_builtin.ko\n",
    ),
    (
        "proc-modules",
        "rsible_base 16384 0 - Live 0x0000000000000000\n",
    ),
];

fn make_root(dir: &Path) -> PathBuf {
    let root = dir.to_path_buf();
    for sub in [
        "modules-load.d",
        "modprobe.d",
        "bin",
        "realproc",
        "fakeproc",
        "ovl",
    ] {
        fs::create_dir_all(root.join(sub)).expect("sandbox dir");
    }
    for (name, text) in SEED {
        fs::write(root.join(name), text).expect("seed file");
    }
    let root_text = root.display().to_string();
    for (path, text) in [
        (
            root.join("bin/modprobe"),
            FAKE_MODPROBE.replace("@ROOT@", &root_text),
        ),
        (root.join("guard"), GUARD.to_string()),
    ] {
        fs::write(&path, text).expect("write script");
        fs::set_permissions(&path, fs::Permissions::from_mode(0o755)).expect("chmod");
    }
    root
}

/// Runs one engine in its sandbox; returns each task's localhost result.
fn run_engine(program: &Path, ref_bin: &Path, dir: &Path, root: &Path) -> Vec<Value> {
    fs::write(
        dir.join(format!(
            "playbook-{}.yml",
            root.file_name().unwrap().to_string_lossy()
        )),
        PLAYBOOK.replace("@ROOT@", &root.display().to_string()),
    )
    .expect("write playbook");
    let path = format!(
        "{}:{}",
        ref_bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let out = rsible_testsupport::sandboxed(Path::new("/bin/sh"), SETUP, "")
        .arg(program)
        .args(["-i", "inventory"])
        .arg(format!(
            "playbook-{}.yml",
            root.file_name().unwrap().to_string_lossy()
        ))
        .env("ROOT", root)
        .env("PATH", path)
        .current_dir(dir)
        .envs(rsible_testsupport::JSON_RESULTS_ENV.iter().copied())
        .output()
        .expect("run the playbook in its sandbox");
    rsible_testsupport::json_task_results(program, &out, "localhost", TASKS)
}

/// A result as `register` keeps it, the sandbox root masked.
fn normalized(result: &Value, root: &Path) -> String {
    let mut r = result.clone();
    if let Some(map) = r.as_object_mut() {
        rsible_testsupport::drop_engine_specific_keys(map);
    }
    serde_json::to_string_pretty(&r)
        .expect("json")
        .replace(&root.display().to_string(), "@ROOT@")
}

/// Every file of both directories (name and content), /proc/modules and the log.
fn end_state(root: &Path) -> Vec<String> {
    let mut out = Vec::new();
    for dir in ["modules-load.d", "modprobe.d"] {
        let mut files: Vec<String> = fs::read_dir(root.join(dir))
            .expect("sandbox dir")
            .flatten()
            .map(|e| {
                let text = fs::read_to_string(e.path()).unwrap_or_else(|e| format!("<{e}>"));
                format!("{dir}/{}:\n{text}", e.file_name().to_string_lossy())
            })
            .collect();
        files.sort();
        out.extend(files);
    }
    for file in ["fakeproc/modules", "modprobe.log"] {
        let text = fs::read_to_string(root.join(file)).unwrap_or_else(|_| "absent".into());
        out.push(format!("{file}:\n{text}"));
    }
    out
}

/// What the machine's own module state looks like, to show the test left it alone.
fn machine_state() -> Vec<String> {
    let rel = String::from_utf8(
        Command::new("uname")
            .arg("-r")
            .output()
            .expect("uname")
            .stdout,
    )
    .expect("utf-8");
    let mut out = Vec::new();
    for p in [
        "/etc/modules-load.d".to_string(),
        "/etc/modprobe.d".to_string(),
        format!("/lib/modules/{}", rel.trim()),
    ] {
        let listing = fs::read_dir(&p).map(|d| {
            let mut v: Vec<String> = d
                .flatten()
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect();
            v.sort();
            v
        });
        out.push(format!("{p}: {listing:?}"));
    }
    out.push(format!(
        "/proc/modules: {:?}",
        fs::read_to_string("/proc/modules").map_err(|e| e.kind())
    ));
    out
}

#[test]
fn modprobe_matches_ansible_on_a_fake_backend() {
    let Some(ref_bin) = rsible_testsupport::reference_bin_dir() else {
        eprintln!("RSIBLE_SKIP_DIFFERENTIAL set: skipping the modprobe differential test");
        return;
    };
    rsible_testsupport::require_root("the modprobe differential test (mount namespaces)");
    rsible_testsupport::require_tools(&["unshare"]);
    let machine_before = machine_state();
    let dir = tempfile::tempdir().expect("tempdir");
    fs::write(
        dir.path().join("inventory"),
        "localhost ansible_connection=local ansible_python_interpreter=/usr/bin/python3\n",
    )
    .expect("write inventory");
    let ref_root = make_root(&dir.path().join("ref-root"));
    let our_root = make_root(&dir.path().join("our-root"));
    let reference = ref_bin.join("ansible-playbook");
    let ours = PathBuf::from(env!("CARGO_BIN_EXE_rsible-playbook"));
    let (theirs, mine) = rsible_testsupport::side_by_side(
        || run_engine(&reference, &ref_bin, dir.path(), &ref_root),
        || run_engine(&ours, &ref_bin, dir.path(), &our_root),
    );
    if std::env::var_os("RSIBLE_TEST_SHOW").is_some() {
        for (i, t) in theirs.iter().enumerate() {
            eprintln!("task {} reference: {}", i + 1, normalized(t, &ref_root));
        }
        eprintln!("end state: {:#?}", end_state(&ref_root));
    }
    let mut differences = Vec::new();
    for (i, (t, m)) in theirs.iter().zip(&mine).enumerate() {
        let (t, m) = (normalized(t, &ref_root), normalized(m, &our_root));
        if t != m {
            differences.push(format!("task {}:\nansible: {t}\nrsible:  {m}", i + 1));
        }
    }
    let (want, got) = (end_state(&ref_root), end_state(&our_root));
    if want != got {
        differences.push(format!("end state:\nansible: {want:#?}\nrsible:  {got:#?}"));
    }
    assert!(differences.is_empty(), "{}", differences.join("\n\n"));
    assert_eq!(
        machine_before,
        machine_state(),
        "the machine's module directories changed"
    );
    // The fake backend was used for real: loads and unloads reached it, and the
    // second runs changed nothing (1-based task numbers).
    let log = fs::read_to_string(ref_root.join("modprobe.log")).expect("modprobe log");
    assert!(
        log.lines().any(|l| l == "rsible_dummy numdummies=2")
            && log.lines().any(|l| l == "-r rsible_dummy"),
        "the fake modprobe was not called as expected:\n{log}"
    );
    for task in [2, 4, 13, 18, 21] {
        assert_eq!(
            theirs[task - 1]["changed"],
            Value::Bool(true),
            "task {task}"
        );
    }
    for task in [3, 5, 14, 16, 19, 22] {
        assert_eq!(
            theirs[task - 1]["changed"],
            Value::Bool(false),
            "task {task} should be a no-change second run"
        );
    }
}
