use super::*;
use std::cell::Cell;

/// A home with ~/.ssh/config, a system configuration directory, an `ssh` program
/// and a memo directory, all under one temporary directory.
struct Setup {
    _tmp: tempfile::TempDir,
    places: Places,
    program: String,
    memo_dir: PathBuf,
}

impl Setup {
    fn new(user_config: &str, system_config: &str) -> Setup {
        let tmp = tempfile::tempdir().unwrap();
        let home = tmp.path().join("home");
        let etc = tmp.path().join("etc");
        std::fs::create_dir_all(home.join(".ssh")).unwrap();
        std::fs::create_dir_all(&etc).unwrap();
        std::fs::write(home.join(".ssh/config"), user_config).unwrap();
        std::fs::write(etc.join("ssh_config"), system_config).unwrap();
        let program = tmp.path().join("ssh");
        std::fs::write(&program, "#!/bin/sh\n").unwrap();
        Setup {
            places: Places {
                uid: unsafe { libc::getuid() },
                user_name: "tester".into(),
                home,
                system_config: etc.join("ssh_config"),
                system_dir: etc,
            },
            program: program.display().to_string(),
            memo_dir: tmp.path().join("memo"),
            _tmp: tmp,
        }
    }

    fn home(&self, rel: &str) -> PathBuf {
        self.places.home.join(rel)
    }

    fn etc(&self, rel: &str) -> PathBuf {
        self.places.system_dir.join(rel)
    }

    /// The answer for `options`, counting the times ssh was asked; the clock is
    /// `late` seconds ahead so that the files count as settled.
    fn ask(&self, options: &[&str], asked: &Cell<u32>, late: u64) -> Option<String> {
        let read = vec![self.home(".ssh/config"), self.places.system_config.clone()];
        self.ask_reading(options, asked, late, Some(read))
    }

    /// As `ask`, with ssh saying it read `read`.
    fn ask_reading(
        &self,
        options: &[&str],
        asked: &Cell<u32>,
        late: u64,
        read: Option<Vec<PathBuf>>,
    ) -> Option<String> {
        let options: Vec<String> = options.iter().map(|s| s.to_string()).collect();
        let now = SystemTime::now() + Duration::from_secs(late);
        answer_in(
            &self.memo_dir,
            &self.program,
            &options,
            &self.places,
            now,
            || {
                asked.set(asked.get() + 1);
                Some(SshAnswer {
                    config: format!("controlpath /c/{}\n", asked.get()),
                    files_read: read,
                })
            },
        )
    }

    fn fingerprint(&self, options: &[&str]) -> Option<Fingerprint> {
        let options: Vec<String> = options.iter().map(|s| s.to_string()).collect();
        Fingerprint::of(&self.program, &options, &self.places)
    }
}

const OPTS: &[&str] = &["-o", "ControlPersist=60s", "-p", "2222", "host1"];

#[test]
fn a_settled_answer_is_used_while_its_inputs_are_unchanged() {
    let s = Setup::new("Host *\n  User deploy\n", "Host *\n  SendEnv LANG\n");
    let asked = Cell::new(0);
    assert_eq!(
        s.ask(OPTS, &asked, 10).as_deref(),
        Some("controlpath /c/1\n")
    );
    assert_eq!(
        s.ask(OPTS, &asked, 10).as_deref(),
        Some("controlpath /c/1\n")
    );
    assert_eq!(asked.get(), 1, "the second run reads the memo");
    let memo = std::fs::read_dir(&s.memo_dir)
        .unwrap()
        .next()
        .unwrap()
        .unwrap();
    assert_eq!(memo.metadata().unwrap().mode() & 0o777, 0o600);
}

#[test]
fn any_changed_input_asks_ssh_again() {
    let s = Setup::new(
        "Include conf.d/*.conf\nHost *\n  User deploy\n",
        "Include ssh_config.d/*.conf\n",
    );
    std::fs::create_dir_all(s.home(".ssh/conf.d")).unwrap();
    std::fs::write(s.home(".ssh/conf.d/a.conf"), "Host a\n  Port 1\n").unwrap();
    std::fs::create_dir_all(s.etc("ssh_config.d")).unwrap();
    let asked = Cell::new(0);
    let mut expected = 1;
    s.ask(OPTS, &asked, 10);
    type Change<'a> = (&'a str, Box<dyn Fn() + 'a>);
    let changes: Vec<Change> = vec![
        (
            "the user configuration",
            Box::new(|| std::fs::write(s.home(".ssh/config"), "Include conf.d/*.conf\n").unwrap()),
        ),
        (
            "an included file",
            Box::new(|| std::fs::write(s.home(".ssh/conf.d/a.conf"), "Host a\n").unwrap()),
        ),
        (
            "a new file an Include glob matches",
            Box::new(|| std::fs::write(s.etc("ssh_config.d/new.conf"), "").unwrap()),
        ),
        (
            "the system configuration",
            Box::new(|| std::fs::write(&s.places.system_config, "Host *\n").unwrap()),
        ),
        (
            "the ssh binary",
            Box::new(|| std::fs::write(&s.program, "#!/bin/sh\n# upgraded\n").unwrap()),
        ),
    ];
    for (what, change) in changes {
        change();
        s.ask(OPTS, &asked, 10);
        expected += 1;
        assert_eq!(asked.get(), expected, "after changing {what}");
        s.ask(OPTS, &asked, 10);
        assert_eq!(asked.get(), expected, "remembered again after {what}");
    }
    s.ask(&["-p", "2223", "host1"], &asked, 10);
    assert_eq!(asked.get(), expected + 1, "other options");
}

#[test]
fn answers_from_files_changed_seconds_ago_are_not_remembered() {
    let s = Setup::new("Host *\n", "");
    let asked = Cell::new(0);
    s.ask(OPTS, &asked, 0);
    s.ask(OPTS, &asked, 0);
    assert_eq!(asked.get(), 2);
    assert!(!s.memo_dir.exists());
}

#[test]
fn match_and_canonicalization_are_asked_every_time() {
    for config in [
        "Host *\nMatch exec \"test -f /x\"\n  User other\n",
        "  match host x\n",
        "CanonicalizeHostname yes\n",
        "CanonicalizeHostname=always\n",
    ] {
        let s = Setup::new(config, "");
        assert!(s.fingerprint(OPTS).is_none(), "{config:?}");
        let asked = Cell::new(0);
        s.ask(OPTS, &asked, 10);
        s.ask(OPTS, &asked, 10);
        assert_eq!(asked.get(), 2, "{config:?}");
    }
    // In an included file, or in the system configuration, alike.
    let s = Setup::new("Include extra\n", "");
    std::fs::write(s.home(".ssh/extra"), "Match all\n").unwrap();
    assert!(s.fingerprint(OPTS).is_none());
    let s = Setup::new("", "Match localnetwork 10.0.0.0/8\n");
    assert!(s.fingerprint(OPTS).is_none());
    let s = Setup::new("CanonicalizeHostname no\n# Match in a comment\n", "");
    assert!(s.fingerprint(OPTS).is_some());
}

#[test]
fn relative_includes_resolve_as_ssh_resolves_them() {
    // User configuration: under ~/.ssh; system configuration: under its directory.
    let s = Setup::new("Include \"user part\"\n", "Include=sys-part\n");
    let before = s.fingerprint(OPTS).unwrap();
    std::fs::write(s.home(".ssh/user part"), "Host *\n").unwrap();
    let after_user = s.fingerprint(OPTS).unwrap();
    assert_ne!(before, after_user);
    std::fs::write(s.etc("sys-part"), "Host *\n").unwrap();
    assert_ne!(after_user, s.fingerprint(OPTS).unwrap());
    // `-F` files count as user configuration.
    let f = s.home("other_config");
    std::fs::write(&f, "Include ~/.ssh/from-f\n").unwrap();
    let f = f.display().to_string();
    let with_f = s.fingerprint(&["-F", &f, "host1"]).unwrap();
    std::fs::write(s.home(".ssh/from-f"), "Match all\n").unwrap();
    assert!(s.fingerprint(&["-F", &f, "host1"]).is_none());
    assert!(s.fingerprint(&[&format!("-F{f}"), "host1"]).is_none());
    drop(with_f);
}

#[test]
fn includes_it_cannot_follow_are_asked_every_time() {
    for include in [
        "Include %d/x\n",
        "Include ${HOME}/x\n",
        "Include */config\n",
        "Include ~other/config\n",
    ] {
        let s = Setup::new(include, "");
        assert!(s.fingerprint(OPTS).is_none(), "{include:?}");
    }
    // An Include of itself ends at ssh's depth limit.
    let s = Setup::new("Include config\n", "");
    assert!(s.fingerprint(OPTS).is_none());
}

#[test]
fn the_environment_counts_only_where_it_is_expanded() {
    let has_env = |f: &Fingerprint| f.text.windows(9).any(|w| w == b"\0env PATH");
    let s = Setup::new("Host *\n  User deploy\n", "");
    assert!(!has_env(&s.fingerprint(OPTS).unwrap()));
    let s = Setup::new("Host *\n  ControlPath ${XDG_RUNTIME_DIR}/%C\n", "");
    assert!(has_env(&s.fingerprint(OPTS).unwrap()));
    let s = Setup::new("", "");
    assert!(has_env(
        &s.fingerprint(&["-o", "IdentityAgent=${SOCK}", "host1"])
            .unwrap()
    ));
}

#[test]
fn a_memo_others_could_write_is_not_read() {
    let s = Setup::new("Host *\n", "");
    let asked = Cell::new(0);
    s.ask(OPTS, &asked, 10);
    let memo = std::fs::read_dir(&s.memo_dir)
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    std::fs::set_permissions(&memo, std::os::unix::fs::PermissionsExt::from_mode(0o620)).unwrap();
    s.ask(OPTS, &asked, 10);
    assert_eq!(asked.get(), 2);
}

#[test]
fn a_failed_ssh_is_not_remembered() {
    let s = Setup::new("Host *\n", "");
    let options: Vec<String> = OPTS.iter().map(|s| s.to_string()).collect();
    let now = SystemTime::now() + Duration::from_secs(10);
    let none = answer_in(&s.memo_dir, &s.program, &options, &s.places, now, || {
        None::<SshAnswer>
    });
    assert_eq!(none, None);
    assert!(!s.memo_dir.exists());
}

#[test]
fn directives_and_words_as_ssh_splits_them() {
    assert_eq!(
        directive("  Include = a b"),
        Some(("include".into(), "a b"))
    );
    assert_eq!(directive("MATCH=all"), Some(("match".into(), "all")));
    assert_eq!(directive("   # Match all"), None);
    assert_eq!(directive(""), None);
    assert_eq!(words(r#"a "b c"  d"#), vec!["a", "b c", "d"]);
    assert_eq!(words(r#""""#), vec![""]);
    assert_eq!(
        config_options(&[
            "-F".into(),
            "x".into(),
            "-Fy".into(),
            "-o".into(),
            "F=z".into()
        ]),
        vec!["x", "y"]
    );
}

#[test]
fn memos_older_than_a_week_go_when_another_is_written() {
    let dir = tempfile::tempdir().unwrap();
    for name in ["ssh-G-old", "ssh-G-new", "sha256-1-2"] {
        std::fs::write(dir.path().join(name), "x").unwrap();
    }
    prune(dir.path(), SystemTime::now() + Duration::from_secs(3600));
    assert_eq!(
        std::fs::read_dir(dir.path()).unwrap().count(),
        3,
        "an hour old: kept"
    );
    prune(
        dir.path(),
        SystemTime::now() + PRUNE_AFTER + Duration::from_secs(60),
    );
    let left: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    assert_eq!(left, vec!["sha256-1-2"], "only memos of ssh -G are pruned");
}

#[test]
fn a_file_ssh_read_that_is_not_stamped_keeps_it_asking() {
    // An ssh built with its system configuration elsewhere.
    let s = Setup::new("Host *\n", "");
    let asked = Cell::new(0);
    let elsewhere = s.places.home.join("usr-local-etc-ssh_config");
    std::fs::write(&elsewhere, "Host *\n").unwrap();
    for _ in 0..2 {
        s.ask_reading(OPTS, &asked, 10, Some(vec![elsewhere.clone()]));
    }
    assert_eq!(asked.get(), 2);
    // The same file named through a symbolic link is the stamped one.
    let link = s.places.home.join("link-to-config");
    std::os::unix::fs::symlink(s.home(".ssh/config"), &link).unwrap();
    for _ in 0..2 {
        s.ask_reading(OPTS, &asked, 10, Some(vec![link.clone()]));
    }
    assert_eq!(asked.get(), 3);
    // No debug output (`-q`): ssh did not say what it read.
    let s = Setup::new("Host *\n", "");
    let asked = Cell::new(0);
    for _ in 0..2 {
        s.ask_reading(OPTS, &asked, 10, None);
    }
    assert_eq!(asked.get(), 2);
}

#[test]
fn the_files_ssh_reports_reading() {
    let stderr = b"OpenSSH_9.2p1 Debian-2+deb12u10, OpenSSL 3.0.19 27 Jan 2026\n\
debug1: Reading configuration data /root/.ssh/config\n\
debug1: Reading configuration data /etc/ssh/ssh_config\n\
debug1: /etc/ssh/ssh_config line 19: include /etc/ssh/ssh_config.d/*.conf matched no files\n";
    let a = SshAnswer::parse(b"user root\n", stderr);
    assert_eq!(a.config, "user root\n");
    assert_eq!(
        a.files_read,
        Some(vec![
            PathBuf::from("/root/.ssh/config"),
            PathBuf::from("/etc/ssh/ssh_config")
        ])
    );
    assert_eq!(SshAnswer::parse(b"user root\n", b"").files_read, None);
}

#[test]
fn include_globs_skip_dot_files_as_ssh_does() {
    let s = Setup::new("Include conf.d/*\n", "");
    std::fs::create_dir_all(s.home(".ssh/conf.d")).unwrap();
    std::fs::write(s.home(".ssh/conf.d/a"), "Host a\n").unwrap();
    let before = s.fingerprint(OPTS).unwrap();
    // An editor's swap file is not read by ssh, so it changes nothing.
    std::fs::write(s.home(".ssh/conf.d/.a.swp"), "Match all\n").unwrap();
    assert_eq!(s.fingerprint(OPTS), Some(before));
}
