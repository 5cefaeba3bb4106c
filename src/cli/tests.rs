//! Option parsing checked against ansible-playbook / ansible /
//! ansible-inventory 2.18 spellings (from their `--help`, /tmp/ref).

use super::common::flatten_tags;
use super::unsupported::{self, check};
use super::*;

fn playbook(args: &[&str]) -> PlaybookArgs {
    let argv = std::iter::once("rsible-playbook").chain(args.iter().copied());
    parse_from::<PlaybookArgs, _, _>(argv).unwrap_or_else(|(_, e)| panic!("{args:?}: {e}"))
}

fn playbook_err(args: &[&str]) -> i32 {
    let argv = std::iter::once("rsible-playbook").chain(args.iter().copied());
    parse_from::<PlaybookArgs, _, _>(argv)
        .map(|_| ())
        .expect_err("should fail")
        .0
}

#[test]
fn playbook_long_short_and_aliases() {
    let a = playbook(&[
        "-i",
        "inv/a.ini",
        "--inventory",
        "h1,h2,",
        "--inventory-file",
        "x",
        "-l",
        "first",
        "--limit",
        "kube_node",
        "-e",
        "a=1",
        "--extra-vars",
        "@v.yml",
        "-t",
        "a,b",
        "--tags",
        " c ",
        "--skip-tags",
        "x",
        "--skip-tags",
        "y,z",
        "-C",
        "-D",
        "-b",
        "--become-user",
        "admin",
        "--become-method",
        "su",
        "-u",
        "ubuntu",
        "--private-key",
        "/k",
        "-c",
        "local",
        "-T",
        "30",
        "-f",
        "20",
        "-vvv",
        "-v",
        "-M",
        "/m1",
        "--module-path",
        "/m2",
        "--ssh-common-args",
        "-o ProxyJump=bastion",
        "--ssh-extra-args",
        "-R 1:2",
        "--scp-extra-args",
        "-O",
        "--sftp-extra-args",
        "-l 10",
        "--force-handlers",
        "--syntax-check",
        "--list-hosts",
        "--list-tasks",
        "--list-tags",
        "cluster.yml",
        "reset.yml",
    ]);
    assert_eq!(a.inventory.inventory, vec!["inv/a.ini", "h1,h2,", "x"]);
    assert_eq!(
        a.inventory.limit.as_deref(),
        Some("kube_node"),
        "last -l wins, as in argparse"
    );
    assert_eq!(a.extra_vars.extra_vars, vec!["a=1", "@v.yml"]);
    assert_eq!(a.run_tags(), vec!["a", "b", "c"]);
    assert_eq!(a.skip_tags(), vec!["x", "y", "z"]);
    assert!(a.check_diff.check && a.check_diff.diff && a.become_args.become_);
    assert_eq!(a.become_args.become_user.as_deref(), Some("admin"));
    assert_eq!(a.become_args.become_method.as_deref(), Some("su"));
    assert_eq!(a.connection.remote_user.as_deref(), Some("ubuntu"));
    assert_eq!(a.connection.private_key_file.as_deref(), Some("/k"));
    assert_eq!(a.connection.connection.as_deref(), Some("local"));
    assert_eq!(a.connection.timeout, Some(30));
    assert_eq!(a.runner.forks, Some(20));
    assert_eq!(a.verbosity.verbosity, 4);
    assert_eq!(a.runner.module_path, vec!["/m1", "/m2"]);
    assert_eq!(
        a.connection.ssh_common_args.as_deref(),
        Some("-o ProxyJump=bastion")
    );
    assert_eq!(a.connection.ssh_extra_args.as_deref(), Some("-R 1:2"));
    assert_eq!(a.connection.scp_extra_args.as_deref(), Some("-O"));
    assert!(
        a.force_handlers
            && a.syntax_check
            && a.list_hosts.list_hosts
            && a.list_tasks
            && a.list_tags
    );
    assert_eq!(a.playbooks, vec!["cluster.yml", "reset.yml"]);
}

#[test]
fn playbook_password_and_vault_options() {
    let a = playbook(&[
        "-k",
        "-K",
        "-J",
        "--vault-id",
        "dev@f",
        "--vault-id",
        "prod@prompt",
        "--key-file",
        "/k",
        "p.yml",
    ]);
    assert!(a.connection.ask_pass && a.become_args.ask_become_pass && a.vault.ask_vault_pass);
    assert_eq!(a.vault.vault_ids, vec!["dev@f", "prod@prompt"]);
    assert_eq!(a.connection.private_key_file.as_deref(), Some("/k"));
    let a = playbook(&[
        "--vault-pass-file",
        "a",
        "--vault-password-file",
        "b",
        "--conn-pass-file",
        "c",
        "--become-pass-file",
        "d",
        "p.yml",
    ]);
    assert_eq!(a.vault.vault_password_files, vec!["a", "b"]);
    assert_eq!(a.connection.connection_password_file.as_deref(), Some("c"));
    assert_eq!(a.become_args.become_password_file.as_deref(), Some("d"));
    let a = playbook(&[
        "--ask-vault-pass",
        "--step",
        "--start-at-task",
        "Install x",
        "p.yml",
    ]);
    assert!(a.vault.ask_vault_pass && a.step);
    assert_eq!(a.start_at_task.as_deref(), Some("Install x"));
}

#[test]
fn playbook_usage_errors_exit_2() {
    // ansible-playbook: `--bogus`, no playbook, `-f x` all exit 2 (argparse).
    assert_eq!(playbook_err(&["--bogus", "p.yml"]), 2);
    assert_eq!(playbook_err(&[]), 2);
    assert_eq!(playbook_err(&["-f", "x", "p.yml"]), 2);
    // Mutually exclusive groups, as in Ansible.
    assert_eq!(
        playbook_err(&["-k", "--connection-password-file", "f", "p.yml"]),
        2
    );
    assert_eq!(
        playbook_err(&["-J", "--vault-password-file", "f", "p.yml"]),
        2
    );
    // --version needs no playbook.
    assert!(playbook(&["--version"]).version);
}

#[test]
fn default_tags() {
    assert_eq!(playbook(&["p.yml"]).run_tags(), vec!["all"]);
    assert_eq!(
        playbook(&["--list-tags", "p.yml"]).run_tags(),
        vec!["never", "all"]
    );
    assert_eq!(flatten_tags(&["a, b".into(), "a".into()]), vec!["a", "b"]);
}

#[test]
fn inventory_sources_resolve_paths_but_keep_host_lists() {
    let a = playbook(&["-i", "inv/hosts.ini", "-i", "h1,h2", "-i", "/abs", "p.yml"]);
    let got = a.inventory.sources(std::path::Path::new("/work")).unwrap();
    assert_eq!(got, vec!["/work/inv/hosts.ini", "h1,h2", "/abs"]);
    assert_eq!(
        playbook(&["p.yml"])
            .inventory
            .sources(std::path::Path::new("/")),
        None
    );
}

#[test]
fn inventory_cli() {
    let parse = |args: &[&str]| {
        let argv = std::iter::once("rsible-inventory").chain(args.iter().copied());
        parse_from::<InventoryCliArgs, _, _>(argv)
    };
    let a = parse(&[
        "-i",
        "inv",
        "--graph",
        "kube_node",
        "--vars",
        "-y",
        "--playbook-dir",
        "pb",
        "-e",
        "x=1",
        "-vv",
    ])
    .unwrap();
    assert_eq!(
        a.action(),
        Ok(InventoryAction::Graph(Some("kube_node".into())))
    );
    assert!(a.show_vars && a.yaml);
    assert_eq!(a.playbook_dir.playbook_dir.as_deref(), Some("pb"));
    let a = parse(&["--host", "node1"]).unwrap();
    assert_eq!(a.action(), Ok(InventoryAction::Host("node1".into())));
    let a = parse(&["--list", "--export", "--output", "out.json"]).unwrap();
    assert_eq!(a.action(), Ok(InventoryAction::List));
    assert_eq!(a.output_file.as_deref(), Some("out.json"));
    // Recorded from ansible-inventory -i localhost, (exit 5).
    assert_eq!(
        parse(&[]).unwrap().action(),
        Err(
            "No action selected, at least one of --host, --graph or --list needs to be specified."
                .into()
        )
    );
    assert!(parse(&["--list", "--graph"]).is_err(), "only one action");
    let toml = parse(&["--list", "--toml"]).unwrap();
    assert_eq!(
        check(unsupported::INVENTORY, &toml).fatal.as_deref(),
        Some("rsible does not support --toml yet")
    );
}

#[test]
fn adhoc_cli() {
    let parse = |args: &[&str]| {
        let argv = std::iter::once("rsible").chain(args.iter().copied());
        parse_from::<AdhocArgs, _, _>(argv)
    };
    let a = parse(&[
        "all", "-m", "shell", "-a", "echo hi", "-o", "-B", "10", "-P", "2", "-t", "/tree", "-b",
        "-i", "h,",
    ])
    .unwrap();
    assert_eq!(a.pattern.as_deref(), Some("all"));
    assert_eq!(a.module("command"), "shell");
    assert_eq!(a.module_args.as_deref(), Some("echo hi"));
    assert!(a.one_line && a.become_args.become_);
    assert_eq!((a.background, a.poll_interval), (Some(10), Some(2)));
    assert_eq!(a.tree.as_deref(), Some("/tree"));
    let a = parse(&["web", "--args", "-la /tmp"]).unwrap();
    assert_eq!(a.module("command"), "command");
    assert_eq!(a.module_args.as_deref(), Some("-la /tmp"));
    assert!(parse(&[]).is_err(), "pattern is required");
}

#[test]
fn unsupported_options_fail_or_warn() {
    let v = check(unsupported::PLAYBOOK, &playbook(&["--ask-pass", "p.yml"]));
    assert_eq!(
        v.fatal.as_deref(),
        Some("rsible does not support --ask-pass yet")
    );
    // --diff is implemented for playbooks.
    let v = check(unsupported::PLAYBOOK, &playbook(&["-D", "p.yml"]));
    assert_eq!(v, unsupported::Verdict::default());
    let v = check(unsupported::PLAYBOOK, &playbook(&["-i", "x", "p.yml"]));
    assert_eq!(v, unsupported::Verdict::default());
}
