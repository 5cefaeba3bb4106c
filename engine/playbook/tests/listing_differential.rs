//! Differential test: the reference ansible-playbook (RSIBLE_REF_BIN, e.g.
//! /tmp/ref/bin) and `rsible_playbook::list` on each fixture, compared
//! byte-for-byte (stdout, exit code, and the error text on failure).
//! Set RSIBLE_SKIP_DIFFERENTIAL=1 to skip when no reference is installed.

use std::path::{Path, PathBuf};
use std::process::Command;

use rsible_playbook::{list, HostSelector, ListOptions, ModuleRegistry};

/// The inventory `-i localhost,` gives: one host, in group all/ungrouped.
struct LocalhostOnly;

impl HostSelector for LocalhostOnly {
    fn select_hosts(&self, patterns: &[String]) -> Vec<String> {
        let wanted = patterns.iter().any(|p| {
            p.split([',', ':'])
                .any(|x| x == "all" || x == "localhost" || x == "*")
        });
        if wanted {
            vec!["localhost".into()]
        } else {
            Vec::new()
        }
    }
}

const CASES: &[(&str, &[&str])] = &[
    ("site.yml", &["--list-tasks"]),
    ("site.yml", &["--list-tags"]),
    ("site.yml", &["--list-hosts"]),
    ("site.yml", &["--syntax-check"]),
    ("site.yml", &["--list-tasks", "--list-tags", "--list-hosts"]),
    ("site.yml", &["--list-tasks", "--tags", "common_tag"]),
    ("site.yml", &["--list-tasks", "--tags", "never"]),
    ("site.yml", &["--list-tasks", "--tags", "debug_only"]),
    ("site.yml", &["--list-tasks", "--tags", "untagged"]),
    ("site.yml", &["--list-tasks", "--tags", "tagged"]),
    (
        "site.yml",
        &["--list-tasks", "--skip-tags", "inner,dep_tag"],
    ),
    (
        "site.yml",
        &["--list-tasks", "--tags", "all", "--skip-tags", "always"],
    ),
    ("site.yml", &["--list-tags", "--skip-tags", "all"]),
    ("imported.yml", &["--list-tasks", "--tags", "one"]),
    ("errors/conflict.yml", &["--list-tasks"]),
    ("errors/no_action.yml", &["--list-tasks"]),
    ("errors/unknown_module.yml", &["--list-tasks"]),
    ("errors/typo_keyword.yml", &["--syntax-check"]),
    ("errors/missing_role.yml", &["--list-tasks"]),
    ("errors/missing_import.yml", &["--list-tasks"]),
    ("errors/bad_play_key.yml", &["--list-tasks"]),
    ("errors/bad_block_key.yml", &["--list-tasks"]),
    ("errors/no_hosts.yml", &["--list-tasks"]),
    ("errors/two_modules.yml", &["--list-tasks"]),
];

fn split_csv(v: &str) -> Vec<String> {
    v.split(',')
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .collect()
}

/// ansible-core's default roles_path when no ansible.cfg sets one.
fn default_roles_path() -> Vec<PathBuf> {
    let home = std::env::var("HOME").unwrap_or_else(|_| "/root".into());
    vec![
        PathBuf::from(home).join(".ansible/roles"),
        PathBuf::from("/usr/share/ansible/roles"),
        PathBuf::from("/etc/ansible/roles"),
    ]
}

fn run_mine(playbook: &str, args: &[&str], modules: &ModuleRegistry) -> (String, String, i32) {
    let hosts = LocalhostOnly;
    let mut opts = ListOptions {
        playbooks: vec![PathBuf::from(playbook)],
        hosts: Some(&hosts),
        roles_path: default_roles_path(),
        modules: Some(modules),
        ..Default::default()
    };
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match *a {
            "--list-tasks" => opts.list_tasks = true,
            "--list-tags" => opts.list_tags = true,
            "--list-hosts" => opts.list_hosts = true,
            "--syntax-check" => opts.syntax_check = true,
            "--tags" => opts.tags.extend(split_csv(it.next().unwrap())),
            "--skip-tags" => opts.skip_tags.extend(split_csv(it.next().unwrap())),
            other => panic!("unknown test flag {other}"),
        }
    }
    match list(&opts) {
        Ok(out) => (out, String::new(), 0),
        Err(e) => {
            // Ansible's display adds a newline only when the text lacks one.
            let mut text = e.render();
            if !text.ends_with('\n') {
                text.push('\n');
            }
            (String::new(), text, e.exit_code)
        }
    }
}

#[test]
fn listings_match_reference() {
    let Some(ref_bin) = std::env::var_os("RSIBLE_REF_BIN") else {
        if std::env::var("RSIBLE_SKIP_DIFFERENTIAL").as_deref() == Ok("1") {
            eprintln!("skipping: RSIBLE_REF_BIN not set");
            return;
        }
        panic!("RSIBLE_REF_BIN is not set (point it at the reference ansible-core 2.18 bin dir, or set RSIBLE_SKIP_DIFFERENTIAL=1)");
    };
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    // Playbook paths are printed as given, so both sides run from the fixtures dir.
    std::env::set_current_dir(&fixtures).unwrap();
    let ref_bin = PathBuf::from(ref_bin);
    let core = ref_bin.parent().and_then(|venv| {
        std::fs::read_dir(venv.join("lib"))
            .ok()?
            .flatten()
            .map(|e| e.path().join("site-packages"))
            .find(|p| p.is_dir())
    });
    let modules = ModuleRegistry::new(
        core.as_ref().map(|sp| sp.join("ansible")).as_deref(),
        core.into_iter().collect(),
    );
    let mut failures = Vec::new();
    for (playbook, args) in CASES {
        let output = Command::new(ref_bin.join("ansible-playbook"))
            .args(["-i", "localhost,", playbook])
            .args(*args)
            .env("ANSIBLE_NOCOLOR", "1")
            .env("ANSIBLE_FORCE_COLOR", "0")
            .output()
            .expect("run reference ansible-playbook");
        let ref_out = String::from_utf8_lossy(&output.stdout).to_string();
        let ref_err = String::from_utf8_lossy(&output.stderr).to_string();
        let ref_code = output.status.code().unwrap_or(-1);
        let (out, err, code) = run_mine(playbook, args, &modules);
        let label = format!("{playbook} {}", args.join(" "));
        if out != ref_out {
            failures.push(format!(
                "{label}: stdout differs\n--- reference\n{ref_out}\n--- rsible\n{out}"
            ));
        }
        if code != ref_code {
            failures.push(format!("{label}: exit code {code}, reference {ref_code}"));
        }
        if code != 0 && err != ref_err {
            failures.push(format!(
                "{label}: stderr differs\n--- reference\n{ref_err}\n--- rsible\n{err}"
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} differences:\n{}",
        failures.len(),
        failures.join("\n\n")
    );
}
