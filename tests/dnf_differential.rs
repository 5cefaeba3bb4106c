//! Differential test of the `dnf` action and module (and `yum`, `package` on dnf)
//! against ansible-core 2.18, without touching this machine: test rpms are built
//! now (`rpmbuild`, no network), served from a file:// repository (`createrepo_c`),
//! and each engine installs into its own throwaway `installroot` with its own
//! dnf.conf. The reference's module drives dnf's Python API (Debian's python3-dnf
//! under /usr/bin/python3); rsible's native module drives the dnf CLI.
//!
//! Compared: every task's registered result (the installroot written as `@ROOT@`;
//! `results` are compared sorted, as the module builds them from sets), and at
//! the end the rpm database of each installroot (`rpm --root <dir> -qa`).
//! Needs root, rpmbuild, createrepo_c, dnf and python3-dnf
//! (scripts/setup-test-env.sh installs them) and RSIBLE_REF_BIN.

use serde_json::Value;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

/// name, version, Requires
const PACKAGES: &[(&str, &str, &str)] = &[
    ("rsible-hello", "1.0", ""),
    ("rsible-hello", "2.0", ""),
    ("rsible-lib", "1.0", ""),
    ("rsible-app", "1.0", "rsible-lib"),
];

const PLAYBOOK: &str = r#"
- hosts: localhost
  gather_facts: false
  vars:
    common: &c
      installroot: "{{ root }}"
      conf_file: "{{ conf }}"
      releasever: "1"
      disable_gpg_check: true
      use_backend: dnf4
  tasks:
    - name: a missing package fails the task and installs nothing
      dnf: {name: [nosuch, rsible-hello], <<: *c}
      ignore_errors: true
    - name: install in check mode (comma-separated names, a version, a dependency)
      dnf: {name: "rsible-hello-1.0,rsible-app", <<: *c}
      check_mode: true
    - dnf: {name: "rsible-hello-1.0,rsible-app", <<: *c}
    - name: second run changes nothing
      dnf: {name: "rsible-hello-1.0,rsible-app", <<: *c}
    - dnf: {name: "rsible-hello >= 1.0", <<: *c}
    - dnf: {name: rsible-hello, state: latest, <<: *c}
      check_mode: true
    - dnf: {name: rsible-hello, state: latest, <<: *c}
    - dnf: {name: rsible-hello, state: latest, <<: *c}
    - name: an older version is not a downgrade without allow_downgrade
      dnf: {name: rsible-hello-1.0, <<: *c}
    - dnf: {name: rsible-hello-1.0, allow_downgrade: true, <<: *c}
    - dnf: {name: [rsible-lib, nosuch], state: absent, <<: *c}
      check_mode: true
    - dnf: {name: [rsible-lib, nosuch], state: absent, <<: *c}
    - dnf: {name: [nosuch], state: removed, <<: *c}
    - name: package on dnf
      package: {name: rsible-app, use: dnf, <<: *c}
    - name: yum is dnf
      yum: {name: rsible-app, state: absent, <<: *c}
    - name: autoremove takes the dependency left behind (and means state=absent)
      dnf: {name: nosuch, autoremove: true, <<: *c}
      check_mode: true
    - dnf: {name: nosuch, autoremove: true, <<: *c}
    - dnf: {name: nosuch, autoremove: true, <<: *c}
    - name: autoremove alone is not enough (name, list or update_cache is required)
      dnf: {autoremove: true, <<: *c}
      ignore_errors: true
    - name: excluded packages are not available
      dnf: {name: rsible-app, exclude: [rsible-app], <<: *c}
      ignore_errors: true
    - dnf: {name: rsible-app, disablerepo: "*", enablerepo: local, update_cache: true, install_weak_deps: false, <<: *c}
    - dnf: {name: "*", state: latest, <<: *c}
    - dnf: {name: "a b", <<: *c}
      ignore_errors: true
    - dnf: {name: a, autoremove: true, state: present, <<: *c}
      ignore_errors: true
    - dnf: {update_cache: true, <<: *c}
    - name: use and use_backend together
      dnf: {name: a, use: dnf, use_backend: dnf}
      ignore_errors: true
    - name: without use_backend the pkg_mgr fact decides (apt here)
      dnf: {name: rsible-hello, installroot: "{{ root }}", conf_file: "{{ conf }}"}
      ignore_errors: true
    - name: list is left to the Python module (the fallback)
      dnf: {list: rsible-hello, <<: *c}
    - name: without releasever in an installroot with no release package
      dnf: {name: rsible-hello, use_backend: dnf, installroot: "{{ root }}-bare", conf_file: "{{ conf }}", disable_gpg_check: true}
"#;

const TASKS: usize = 29;

fn build_repo(dir: &Path) -> PathBuf {
    let repo = dir.join("repo");
    let top = dir.join("rpmbuild");
    fs::create_dir_all(&repo).expect("repo dir");
    for (name, version, requires) in PACKAGES {
        let requires = if requires.is_empty() {
            String::new()
        } else {
            format!("Requires: {requires}\n")
        };
        let spec = format!(
            "Name: {name}\nVersion: {version}\nRelease: 1\nSummary: rsible test\nLicense: MIT\n\
             BuildArch: noarch\n{requires}%description\nrsible test package\n%install\n\
             mkdir -p %{{buildroot}}/usr/share/{name}\n\
             echo {version} > %{{buildroot}}/usr/share/{name}/version\n\
             %files\n/usr/share/{name}/version\n"
        );
        let spec_path = dir.join(format!("{name}-{version}.spec"));
        fs::write(&spec_path, spec).expect("write spec");
        let out = Command::new("rpmbuild")
            .arg("-bb")
            .arg("--quiet")
            .arg("--define")
            .arg(format!("_topdir {}", top.display()))
            .arg("--define")
            .arg(format!("_rpmdir {}", repo.display()))
            .arg(&spec_path)
            .output()
            .expect("run rpmbuild");
        assert!(
            out.status.success(),
            "rpmbuild failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let out = Command::new("createrepo_c")
        .arg("-q")
        .arg(&repo)
        .output()
        .expect("run createrepo_c");
    assert!(
        out.status.success(),
        "createrepo_c failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    repo
}

/// Runs one engine; returns each task's localhost result.
fn run_engine(program: &Path, ref_bin: &Path, dir: &Path, root: &Path, conf: &Path) -> Vec<Value> {
    // As a user runs it: the reference's ansible-core on PATH, where rsible finds the
    // Python modules it falls back to.
    let path = format!(
        "{}:{}",
        ref_bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let out = Command::new(program)
        .env("PATH", path)
        .current_dir(dir)
        .arg("-i")
        .arg("inventory")
        .arg("playbook.yml")
        .arg("-e")
        .arg(format!("root={} conf={}", root.display(), conf.display()))
        .envs(rsible_testsupport::JSON_RESULTS_ENV.iter().copied())
        .output()
        .expect("run the playbook");
    rsible_testsupport::json_task_results(program, &out, "localhost", TASKS)
}

/// A result in comparable form, as `register` keeps it (without the internal
/// `_ansible_*` keys): the installroot masked, `results` sorted.
fn normalized(result: &Value, root: &Path) -> String {
    let mut r = result.clone();
    if let Some(map) = r.as_object_mut() {
        map.retain(|k, _| !k.starts_with("_ansible_"));
    }
    if let Some(Value::Array(items)) = r.get_mut("results") {
        items.sort_by_key(|v| v.to_string());
    }
    serde_json::to_string_pretty(&r)
        .expect("json")
        .replace(&root.display().to_string(), "@ROOT@")
}

fn rpm_db(root: &Path) -> Vec<String> {
    let out = Command::new("rpm")
        .arg("--root")
        .arg(root)
        .arg("-qa")
        .output()
        .expect("run rpm");
    let mut pkgs: Vec<String> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(str::to_string)
        .collect();
    pkgs.sort();
    pkgs
}

#[test]
fn dnf_matches_ansible_in_an_installroot() {
    let Some(ref_bin) = rsible_testsupport::reference_bin_dir() else {
        eprintln!("RSIBLE_SKIP_DIFFERENTIAL set: skipping the dnf differential test");
        return;
    };
    rsible_testsupport::require_root(
        "the dnf differential test (dnf refuses to install otherwise)",
    );
    rsible_testsupport::require_tools(&["rpmbuild", "createrepo_c", "dnf", "rpm"]);
    let python_dnf = Command::new("/usr/bin/python3")
        .args(["-c", "import dnf"])
        .status()
        .is_ok_and(|s| s.success());
    assert!(
        python_dnf,
        "python3-dnf is missing: scripts/setup-test-env.sh installs it"
    );

    let dir = tempfile::tempdir().expect("tempdir");
    let repo = build_repo(dir.path());
    let conf = dir.path().join("dnf.conf");
    fs::write(
        &conf,
        format!(
            "[main]\ngpgcheck=0\nreposdir=/dev/null\n\n[local]\nname=local\nbaseurl=file://{}\ngpgcheck=0\n",
            repo.display()
        ),
    )
    .expect("write dnf.conf");
    fs::write(dir.path().join("playbook.yml"), PLAYBOOK).expect("write playbook");
    fs::write(
        dir.path().join("inventory"),
        "localhost ansible_connection=local ansible_python_interpreter=/usr/bin/python3\n",
    )
    .expect("write inventory");

    let ref_root = dir.path().join("ref-root");
    let our_root = dir.path().join("our-root");
    let reference = ref_bin.join("ansible-playbook");
    let ours = PathBuf::from(env!("CARGO_BIN_EXE_rsible-playbook"));
    // Both engines at once: dnf's own work is most of the time.
    let (theirs, mine) = rsible_testsupport::side_by_side(
        || run_engine(&reference, &ref_bin, dir.path(), &ref_root, &conf),
        || run_engine(&ours, &ref_bin, dir.path(), &our_root, &conf),
    );
    let mut differences = Vec::new();
    for (i, (t, m)) in theirs.iter().zip(&mine).enumerate() {
        let (t, m) = (normalized(t, &ref_root), normalized(m, &our_root));
        if t != m {
            differences.push(format!("task {}:\nansible: {t}\nrsible:  {m}", i + 1));
        }
    }
    assert!(differences.is_empty(), "{}", differences.join("\n\n"));
    let (ref_db, our_db) = (rpm_db(&ref_root), rpm_db(&our_root));
    assert!(!ref_db.is_empty(), "the reference installed nothing");
    assert_eq!(ref_db, our_db, "the installroots' rpm databases differ");
}
