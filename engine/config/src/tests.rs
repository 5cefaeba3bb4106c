//! Loading tests: lookup order, precedence, conversions end to end, and
//! Kubespray's ansible.cfg compared with what the reference Ansible prints.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use crate::{Config, ConfigError, Origin, Value};

/// A fresh, empty directory for one test, removed when the test ends (also
/// when it fails); used as the `Path` it holds.
struct Scratch(tempfile::TempDir);

impl std::ops::Deref for Scratch {
    type Target = Path;
    fn deref(&self) -> &Path {
        self.0.path()
    }
}

fn scratch(name: &str) -> Scratch {
    let dir = tempfile::Builder::new()
        .prefix(&format!("rsible-config-{name}-"))
        .tempdir()
        .expect("create scratch dir");
    // Not world-writable, so ./ansible.cfg is honoured.
    set_mode(dir.path(), 0o755);
    Scratch(dir)
}

fn set_mode(path: &Path, mode: u32) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).expect("chmod");
}

fn write(path: &Path, text: &str) {
    std::fs::write(path, text).expect("write");
}

/// An environment holding only `vars` (HOME points into the scratch dir so
/// the real ~/.ansible.cfg never leaks in).
fn env_of(vars: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
    let map: HashMap<String, String> = vars
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    move |k: &str| map.get(k).cloned()
}

fn load(cwd: &Path, vars: &[(&str, &str)]) -> Result<Config, ConfigError> {
    Config::load(cwd, &env_of(vars))
}

#[test]
fn defaults_without_any_file() {
    let dir = scratch("defaults");
    let home = dir.join("home");
    let cfg = load(&dir, &[("HOME", home.to_str().unwrap())]).expect("loads");
    // /etc/ansible/ansible.cfg is absent on the test machine.
    assert_eq!(cfg.file, None);
    assert_eq!(cfg.forks, 5);
    assert_eq!(cfg.timeout, 10);
    assert!(
        cfg.retry_files_enabled,
        "rsible writes retry files by default"
    );
    assert!(cfg.host_key_checking);
    assert_eq!(cfg.become_user, "root");
    assert_eq!(cfg.remote_user, None);
    assert_eq!(cfg.gathering, "implicit");
    assert_eq!(cfg.inventory, vec![PathBuf::from("/etc/ansible/hosts")]);
    assert_eq!(
        cfg.roles_path,
        vec![
            home.join(".ansible/roles"),
            "/usr/share/ansible/roles".into(),
            "/etc/ansible/roles".into()
        ]
    );
    assert_eq!(cfg.local_tmp, home.join(".ansible/tmp"));
    assert_eq!(
        cfg.ssh_args,
        "-C -o ControlMaster=auto -o ControlPersist=60s"
    );
    assert_eq!(cfg.origin("forks"), Some(&Origin::Default));
    assert!(cfg.dump_changed().is_empty());
}

#[test]
fn lookup_order_env_then_cwd_then_home() {
    let dir = scratch("order");
    let home = dir.join("home");
    let work = dir.join("work");
    let elsewhere = dir.join("elsewhere");
    for d in [&home, &work, &elsewhere] {
        std::fs::create_dir_all(d).unwrap();
        set_mode(d, 0o755);
    }
    write(&home.join(".ansible.cfg"), "[defaults]\nforks = 1\n");
    let h = home.to_str().unwrap();

    // Only ~/.ansible.cfg.
    let cfg = load(&work, &[("HOME", h)]).unwrap();
    assert_eq!(
        cfg.file.as_deref(),
        Some(home.join(".ansible.cfg").as_path())
    );
    assert_eq!(cfg.forks, 1);

    // ./ansible.cfg beats ~/.ansible.cfg; only one file is read.
    write(&work.join("ansible.cfg"), "[defaults]\ntimeout = 3\n");
    let cfg = load(&work, &[("HOME", h)]).unwrap();
    assert_eq!(
        cfg.file.as_deref(),
        Some(work.join("ansible.cfg").as_path())
    );
    assert_eq!(cfg.timeout, 3);
    assert_eq!(cfg.forks, 5, "values of other files are not merged in");

    // $ANSIBLE_CONFIG beats both; a directory means <dir>/ansible.cfg.
    write(&elsewhere.join("ansible.cfg"), "[defaults]\nforks = 9\n");
    let cfg = load(
        &work,
        &[("HOME", h), ("ANSIBLE_CONFIG", elsewhere.to_str().unwrap())],
    )
    .unwrap();
    assert_eq!(
        cfg.file.as_deref(),
        Some(elsewhere.join("ansible.cfg").as_path())
    );
    assert_eq!(cfg.forks, 9);

    // $ANSIBLE_CONFIG naming a missing file falls through to the next candidate.
    let cfg = load(
        &work,
        &[("HOME", h), ("ANSIBLE_CONFIG", "/nonexistent/x.cfg")],
    )
    .unwrap();
    assert_eq!(
        cfg.file.as_deref(),
        Some(work.join("ansible.cfg").as_path())
    );

    // A relative $ANSIBLE_CONFIG is taken from the working directory.
    let cfg = load(
        &dir,
        &[("HOME", h), ("ANSIBLE_CONFIG", "elsewhere/ansible.cfg")],
    )
    .unwrap();
    assert_eq!(cfg.forks, 9);
}

#[test]
fn world_writable_cwd_is_skipped_with_warning() {
    let dir = scratch("public");
    let home = dir.join("home");
    std::fs::create_dir_all(&home).unwrap();
    write(&dir.join("ansible.cfg"), "[defaults]\nforks = 2\n");
    set_mode(&dir, 0o777);
    let cfg = load(&dir, &[("HOME", home.to_str().unwrap())]).unwrap();
    set_mode(&dir, 0o755);
    assert_eq!(cfg.file, None);
    assert_eq!(cfg.forks, 5);
    assert_eq!(cfg.warnings.len(), 1);
    assert!(cfg.warnings[0].starts_with(&format!(
        "Ansible is being run in a world writable directory ({}), ignoring it as an ansible.cfg source.",
        dir.display()
    )));
}

#[test]
fn env_beats_file_and_empty_env_means_default() {
    let dir = scratch("env");
    write(
        &dir.join("ansible.cfg"),
        "[defaults]\nforks = 3\ntimeout = 30\n",
    );
    let cfg = load(
        &dir,
        &[
            ("HOME", "/nohome"),
            ("ANSIBLE_FORKS", "11"),
            ("ANSIBLE_TIMEOUT", ""),
        ],
    )
    .unwrap();
    assert_eq!(cfg.forks, 11);
    assert_eq!(
        cfg.origin("DEFAULT_FORKS"),
        Some(&Origin::Env("ANSIBLE_FORKS".into()))
    );
    // Ansible: an empty env value that fails conversion falls back to the default
    // (not to the file).
    assert_eq!(cfg.timeout, 10);
    assert_eq!(cfg.origin("timeout"), Some(&Origin::Default));
}

#[test]
fn later_entries_win() {
    let dir = scratch("later");
    write(
        &dir.join("ansible.cfg"),
        "[defaults]\ninventory_ignore_patterns = a\n[inventory]\nignore_patterns = b, c\n[ssh_connection]\npipelining = true\n",
    );
    let cfg = load(&dir, &[("HOME", "/nohome")]).unwrap();
    assert_eq!(cfg.inventory_ignore_patterns, vec!["b", "c"]);
    assert!(cfg.ssh_pipelining);
    assert!(
        !cfg.pipelining,
        "the global setting ignores [ssh_connection]"
    );
    let cfg = load(
        &dir,
        &[
            ("HOME", "/nohome"),
            ("ANSIBLE_COLLECTIONS_PATHS", "/one"),
            ("ANSIBLE_COLLECTIONS_PATH", "/two"),
        ],
    )
    .unwrap();
    assert_eq!(cfg.collections_path, vec![PathBuf::from("/two")]);
}

#[test]
fn paths_relative_to_cfg_dir_and_vars_expanded() {
    let dir = scratch("paths");
    let cfgdir = dir.join("project");
    std::fs::create_dir_all(&cfgdir).unwrap();
    write(
        &cfgdir.join("ansible.cfg"),
        "[defaults]\nlibrary = ./library\nroles_path = roles:$VENV/r:${UNSET}/x:~/y\nlog_path = ~/%%x.log\ninventory = inv/hosts, /abs\nprivate_key_file = $HOME/.ssh/id\n",
    );
    let cfg = load(
        &dir,
        &[
            ("HOME", "/home/u"),
            ("VENV", "/opt/v"),
            ("ANSIBLE_CONFIG", cfgdir.to_str().unwrap()),
        ],
    )
    .unwrap();
    assert_eq!(cfg.library, vec![cfgdir.join("library")]);
    assert_eq!(
        cfg.roles_path,
        vec![
            cfgdir.join("roles"),
            "/opt/v/r".into(),
            cfgdir.join("${UNSET}/x"),
            "/home/u/y".into()
        ]
    );
    assert_eq!(cfg.log_path, Some(PathBuf::from("/home/u/%%x.log")));
    assert_eq!(
        cfg.inventory,
        vec![cfgdir.join("inv/hosts"), PathBuf::from("/abs")]
    );
    assert_eq!(cfg.private_key_file, Some(PathBuf::from("/home/u/.ssh/id")));

    // Relative paths from the environment resolve against the cwd instead.
    let cfg = load(&dir, &[("HOME", "/home/u"), ("ANSIBLE_LIBRARY", "lib:/x")]).unwrap();
    assert_eq!(cfg.library, vec![dir.join("lib"), PathBuf::from("/x")]);
}

#[test]
fn type_errors_and_choices_in_ansible_wording() {
    let dir = scratch("errors");
    let cfg_path = dir.join("ansible.cfg");
    write(&cfg_path, "[defaults]\nforks = abc\n");
    let err = load(&dir, &[("HOME", "/nohome")]).unwrap_err();
    // Recorded from ansible-config dump with the same file.
    assert_eq!(
        err.to_string(),
        format!(
            "Invalid type for configuration option setting: DEFAULT_FORKS (from {}): ",
            cfg_path.display()
        )
    );
    write(&cfg_path, "[defaults]\nhash_behaviour = deep\n");
    let err = load(&dir, &[("HOME", "/nohome")]).unwrap_err();
    assert_eq!(
        err.to_string(),
        "Invalid value \"deep\" for configuration option \"setting: DEFAULT_HASH_BEHAVIOUR \", valid values are: replace, merge"
    );
    write(&cfg_path, "[defaults]\nforks = 1\nforks = 2\n");
    let err = load(&dir, &[("HOME", "/nohome")]).unwrap_err();
    assert_eq!(
        err.to_string(),
        format!(
            "Error reading config file ({}): While reading from '<string>' [line  3]: option 'forks' in section 'defaults' already exists",
            cfg_path.display()
        )
    );
    write(&cfg_path, "[defaults]\njinja2_native = yes\n");
    let err = load(&dir, &[("HOME", "/nohome")]).unwrap_err();
    assert!(err.to_string().contains("jinja2_native"), "{err}");
}

#[test]
fn unknown_keys_ignored_and_strings_unquoted() {
    let dir = scratch("unknown");
    write(
        &dir.join("ansible.cfg"),
        "[defaults]\nno_such_key = 1\nstdout_callback = \"yaml\"\nremote_user = bob ; who\ncallbacks_enabled = profile_tasks, 'timer'\n[privilege_escalation]\nbecome = YES\n",
    );
    let cfg = load(&dir, &[("HOME", "/nohome")]).unwrap();
    assert_eq!(cfg.stdout_callback, "yaml");
    assert_eq!(cfg.remote_user.as_deref(), Some("bob"));
    assert_eq!(cfg.callbacks_enabled, vec!["profile_tasks", "timer"]);
    assert!(cfg.become_);
}

/// Kubespray's ansible.cfg (fixture copied from the Kubespray checkout), checked
/// against the lines recorded from
/// `ANSIBLE_CONFIG=<DIR>/ansible.cfg ansible-config dump --only-changed -t all`
/// (ansible-core 2.18, VIRTUAL_ENV unset), base-settings section.
#[test]
fn kubespray_cfg_matches_reference_dump() {
    let dir = scratch("kubespray");
    let cfg_path = dir.join("ansible.cfg");
    write(
        &cfg_path,
        include_str!("../tests/fixtures/kubespray-ansible.cfg"),
    );
    let cfg = load(
        Path::new("/"),
        &[
            ("HOME", "/root"),
            ("ANSIBLE_CONFIG", cfg_path.to_str().unwrap()),
        ],
    )
    .unwrap();
    let expected = r#"CACHE_PLUGIN(<DIR>/ansible.cfg) = jsonfile
CACHE_PLUGIN_CONNECTION(<DIR>/ansible.cfg) = /tmp
CACHE_PLUGIN_TIMEOUT(<DIR>/ansible.cfg) = 86400
CALLBACKS_ENABLED(<DIR>/ansible.cfg) = ['profile_tasks']
DEFAULT_GATHERING(<DIR>/ansible.cfg) = smart
DEFAULT_MODULE_PATH(<DIR>/ansible.cfg) = ['<DIR>/library']
DEFAULT_ROLES_PATH(<DIR>/ansible.cfg) = ['<DIR>/roles', '<DIR>/$VIRTUAL_ENV/usr/local/share/kubespray/roles', '<DIR>/$VIRTUAL_ENV/usr/local/share/ansible/roles', '/usr/share/kubespray/roles']
DEFAULT_STDOUT_CALLBACK(<DIR>/ansible.cfg) = default
DEFAULT_TIMEOUT(<DIR>/ansible.cfg) = 300
DEPRECATION_WARNINGS(<DIR>/ansible.cfg) = False
DISPLAY_SKIPPED_HOSTS(<DIR>/ansible.cfg) = False
HOST_KEY_CHECKING(<DIR>/ansible.cfg) = False
INVENTORY_IGNORE_EXTS(<DIR>/ansible.cfg) = ['~', '.orig', '.bak', '.ini', '.cfg', '.retry', '.pyc', '.pyo', '.creds', '.gpg']
INVENTORY_IGNORE_PATTERNS(<DIR>/ansible.cfg) = ['artifacts', 'credentials']
TRANSFORM_INVALID_GROUP_CHARS(<DIR>/ansible.cfg) = ignore"#
        .replace("<DIR>", dir.to_str().unwrap());
    let base_lines: Vec<String> = cfg
        .dump_changed()
        .into_iter()
        .filter(|l| !l.split('(').next().unwrap_or("").contains('.'))
        .collect();
    assert_eq!(base_lines.join("\n"), expected);

    // The CONNECTION / ssh section of the same dump.
    let ssh = |name: &str| cfg.resolved(name).map(|r| r.value.clone());
    assert_eq!(ssh("ssh.pipelining"), Some(Value::Bool(true)));
    assert_eq!(
        ssh("ssh.ssh_args"),
        Some(Value::Str(
            "-o ControlMaster=auto -o ControlPersist=30m -o ConnectionAttempts=100 -o UserKnownHostsFile=/dev/null".into()
        ))
    );
    assert_eq!(ssh("ssh.timeout"), Some(Value::Int(300)));
    assert_eq!(ssh("ssh.host_key_checking"), Some(Value::Bool(false)));
    // The commented-out control_path stays unset.
    assert_eq!(cfg.control_path, None);
    assert!(!cfg.pipelining, "ANSIBLE_PIPELINING stays False globally");
}
