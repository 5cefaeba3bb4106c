//! Vault, differentially: what rsible-vault writes, ansible-vault (ansible-core
//! 2.18, from RSIBLE_REF_BIN) reads, and the other way round, for formats 1.1
//! (a password file) and 1.2 (a labelled vault id); both tools fail alike on
//! a wrong password; and a playbook with inline `!vault` values, a vaulted
//! group_vars file and vaulted copy/template sources runs identically under
//! ansible-playbook and rsible-playbook.
//!
//! Every vault here is made live by one tool or the other in a fresh
//! directory: no ciphertext is checked in.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

fn reference_bin() -> Option<PathBuf> {
    rsible_testsupport::reference_bin_dir()
}

const PASSWORD: &str = "correct horse";
const LABELLED_PASSWORD: &str = "battery staple";

/// A scratch directory with the two password files and an ansible.cfg.
struct Fixture {
    dir: tempfile::TempDir,
    ref_bin: PathBuf,
}

impl Fixture {
    fn new(ref_bin: PathBuf) -> Fixture {
        let dir = tempfile::tempdir().expect("tempdir");
        let f = Fixture { dir, ref_bin };
        f.write("pw", &format!("{PASSWORD}\n"));
        f.write("prod-pw", LABELLED_PASSWORD);
        f.write("wrong-pw", "not it\n");
        f.write(
            "ansible.cfg",
            "[defaults]\nretry_files_enabled = False\nhost_key_checking = False\n",
        );
        f
    }
    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }
    fn write(&self, name: &str, text: &str) {
        let p = self.path(name);
        if let Some(parent) = p.parent() {
            std::fs::create_dir_all(parent).expect("mkdir");
        }
        std::fs::write(p, text).expect("write fixture");
    }
    fn read(&self, name: &str) -> String {
        std::fs::read_to_string(self.path(name)).unwrap_or_else(|e| panic!("read {name}: {e}"))
    }
    fn ansible(&self, tool: &str) -> PathBuf {
        self.ref_bin.join(tool)
    }
    /// Runs a tool in the fixture directory with `stdin` fed.
    fn run(&self, program: &Path, args: &[&str], stdin: &str) -> Output {
        let mut child = Command::new(program)
            .args(args)
            .current_dir(self.dir.path())
            .env("ANSIBLE_CONFIG", self.path("ansible.cfg"))
            .env("ANSIBLE_NOCOLOR", "1")
            .env_remove("ANSIBLE_FORCE_COLOR")
            .env_remove("ANSIBLE_VAULT_PASSWORD_FILE")
            .env_remove("ANSIBLE_VAULT_IDENTITY_LIST")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot run {}: {e}", program.display()));
        if let Some(mut input) = child.stdin.take() {
            std::io::Write::write_all(&mut input, stdin.as_bytes()).expect("feed stdin");
        }
        child.wait_with_output().expect("wait")
    }
}

fn rsible(name: &str) -> PathBuf {
    match name {
        "rsible-vault" => PathBuf::from(env!("CARGO_BIN_EXE_rsible-vault")),
        _ => PathBuf::from(env!("CARGO_BIN_EXE_rsible-playbook")),
    }
}

fn ok(out: &Output, what: &str) -> String {
    assert!(
        out.status.success(),
        "{what} failed ({:?}):\n{}",
        out.status.code(),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// (password option, header the vault must carry)
const FORMATS: [(&[&str], &str); 2] = [
    (
        &["--vault-password-file", "pw"],
        "$ANSIBLE_VAULT;1.1;AES256",
    ),
    (
        &["--vault-id", "prod@prod-pw"],
        "$ANSIBLE_VAULT;1.2;AES256;prod",
    ),
];

fn with(opts: &[&str], rest: &[&str]) -> Vec<String> {
    rest.iter()
        .chain(opts.iter())
        .map(|s| s.to_string())
        .collect()
}

fn refs(v: &[String]) -> Vec<&str> {
    v.iter().map(String::as_str).collect()
}

#[test]
fn files_encrypted_by_either_tool_open_in_the_other() {
    let Some(ref_bin) = reference_bin() else {
        return;
    };
    let f = Fixture::new(ref_bin);
    // long enough for several 80-column lines, with non-ASCII and no final newline
    let plaintext =
        "user: admin\npassword: \"s3cr3t ünïcödé\"\nlist: [1, 2, 3]\n".repeat(5) + "end";
    for (opts, header) in FORMATS {
        // rsible-vault encrypts, ansible-vault views and decrypts
        f.write("by-rsible.yml", &plaintext);
        ok(
            &f.run(
                &rsible("rsible-vault"),
                &refs(&with(opts, &["encrypt", "by-rsible.yml"])),
                "",
            ),
            "rsible-vault encrypt",
        );
        let vault = f.read("by-rsible.yml");
        let mut lines = vault.lines();
        assert_eq!(lines.next(), Some(header));
        assert!(vault.ends_with('\n'));
        let body: Vec<&str> = lines.collect();
        assert!(
            body.len() > 2 && body[..body.len() - 1].iter().all(|l| l.len() == 80),
            "{vault}"
        );
        let viewed = ok(
            &f.run(
                &f.ansible("ansible-vault"),
                &refs(&with(opts, &["view", "by-rsible.yml"])),
                "",
            ),
            "ansible-vault view",
        );
        assert_eq!(
            viewed,
            format!("{plaintext}\n"),
            "ansible-vault view adds the newline"
        );
        ok(
            &f.run(
                &f.ansible("ansible-vault"),
                &refs(&with(opts, &["decrypt", "by-rsible.yml"])),
                "",
            ),
            "ansible-vault decrypt",
        );
        assert_eq!(f.read("by-rsible.yml"), plaintext);

        // ansible-vault encrypts, rsible-vault views, rekeys and decrypts
        f.write("by-ansible.yml", &plaintext);
        ok(
            &f.run(
                &f.ansible("ansible-vault"),
                &refs(&with(opts, &["encrypt", "by-ansible.yml"])),
                "",
            ),
            "ansible-vault encrypt",
        );
        assert!(f.read("by-ansible.yml").starts_with(&format!("{header}\n")));
        let viewed = ok(
            &f.run(
                &rsible("rsible-vault"),
                &refs(&with(opts, &["view", "by-ansible.yml"])),
                "",
            ),
            "rsible-vault view",
        );
        assert_eq!(viewed, format!("{plaintext}\n"));
        ok(
            &f.run(
                &rsible("rsible-vault"),
                &refs(&with(opts, &["decrypt", "by-ansible.yml", "--output", "-"])),
                "",
            ),
            "rsible-vault decrypt to stdout",
        );
        assert!(
            f.read("by-ansible.yml").starts_with("$ANSIBLE_VAULT"),
            "--output - leaves the file"
        );
        ok(
            &f.run(
                &rsible("rsible-vault"),
                &refs(&with(opts, &["decrypt", "by-ansible.yml"])),
                "",
            ),
            "rsible-vault decrypt",
        );
        assert_eq!(f.read("by-ansible.yml"), plaintext);
    }

    // rekey by rsible-vault (1.1 -> 1.2), read by ansible-vault with the new secret only
    f.write("rekeyed.yml", &plaintext);
    ok(
        &f.run(
            &f.ansible("ansible-vault"),
            &["encrypt", "rekeyed.yml", "--vault-password-file", "pw"],
            "",
        ),
        "encrypt",
    );
    ok(
        &f.run(
            &rsible("rsible-vault"),
            &[
                "rekey",
                "rekeyed.yml",
                "--vault-password-file",
                "pw",
                "--new-vault-id",
                "prod@prod-pw",
            ],
            "",
        ),
        "rsible-vault rekey",
    );
    assert!(f
        .read("rekeyed.yml")
        .starts_with("$ANSIBLE_VAULT;1.2;AES256;prod\n"));
    let viewed = ok(
        &f.run(
            &f.ansible("ansible-vault"),
            &["view", "rekeyed.yml", "--vault-id", "prod@prod-pw"],
            "",
        ),
        "view rekeyed",
    );
    assert_eq!(viewed, format!("{plaintext}\n"));
}

#[test]
fn wrong_passwords_and_bad_input_fail_alike() {
    let Some(ref_bin) = reference_bin() else {
        return;
    };
    let f = Fixture::new(ref_bin);
    f.write("v.yml", "a: 1\n");
    ok(
        &f.run(
            &f.ansible("ansible-vault"),
            &["encrypt", "v.yml", "--vault-password-file", "pw"],
            "",
        ),
        "encrypt",
    );
    f.write("plain.yml", "a: 1\n");
    let cases: [&[&str]; 6] = [
        &["view", "v.yml", "--vault-password-file", "wrong-pw"],
        &["decrypt", "v.yml", "--vault-password-file", "wrong-pw"],
        &[
            "view",
            "v.yml",
            "--vault-id",
            "prod@wrong-pw",
            "--vault-id",
            "dev@wrong-pw",
        ],
        &["decrypt", "plain.yml", "--vault-password-file", "pw"],
        &["encrypt", "v.yml", "--vault-password-file", "pw"],
        &["view", "v.yml", "--vault-password-file", "missing-pw"],
    ];
    for args in cases {
        let a = f.run(&f.ansible("ansible-vault"), args, "");
        let r = f.run(&rsible("rsible-vault"), args, "");
        let (a_err, r_err) = (
            String::from_utf8_lossy(&a.stderr),
            String::from_utf8_lossy(&r.stderr),
        );
        assert_eq!(
            r.status.code(),
            a.status.code(),
            "exit code of {args:?}: {r_err}"
        );
        assert_ne!(a.status.code(), Some(0), "{args:?} should fail");
        assert_eq!(r_err, a_err, "stderr of {args:?}");
        assert!(
            r.stdout.is_empty(),
            "{args:?} printed {:?}",
            String::from_utf8_lossy(&r.stdout)
        );
    }
    // the vault is untouched by the failed attempts
    let viewed = ok(
        &f.run(
            &rsible("rsible-vault"),
            &["view", "v.yml", "--vault-password-file", "pw"],
            "",
        ),
        "view",
    );
    assert_eq!(viewed, "a: 1\n");
}

#[test]
fn password_scripts_get_no_password_on_their_command_line() {
    let Some(ref_bin) = reference_bin() else {
        return;
    };
    let f = Fixture::new(ref_bin);
    // a plain script prints the password; a client script answers for its label
    f.write(
        "pass.sh",
        &format!("#!/bin/sh\necho \"$@\" > argv.txt\necho '{PASSWORD}'\n"),
    );
    f.write(
        "keys-client.sh",
        &format!("#!/bin/sh\necho \"$@\" > client-argv.txt\n[ \"$2\" = prod ] && echo '{LABELLED_PASSWORD}' && exit 0\nexit 2\n"),
    );
    for s in ["pass.sh", "keys-client.sh"] {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(f.path(s), std::fs::Permissions::from_mode(0o700)).expect("chmod");
    }
    f.write("v.yml", "k: v\n");
    ok(
        &f.run(
            &f.ansible("ansible-vault"),
            &["encrypt", "v.yml", "--vault-id", "prod@prod-pw"],
            "",
        ),
        "encrypt",
    );
    let out = ok(
        &f.run(
            &rsible("rsible-vault"),
            &[
                "view",
                "v.yml",
                "--vault-password-file",
                "pass.sh",
                "--vault-id",
                "prod@keys-client.sh",
            ],
            "",
        ),
        "view with scripts",
    );
    assert_eq!(out, "k: v\n");
    assert_eq!(
        f.read("argv.txt"),
        "\n",
        "the plain script gets no arguments"
    );
    assert_eq!(f.read("client-argv.txt"), "--vault-id prod\n");
    // the encrypt_string password comes from stdin, never from argv
    let yaml = ok(
        &f.run(
            &rsible("rsible-vault"),
            &[
                "encrypt_string",
                "--vault-password-file",
                "pass.sh",
                "--stdin-name",
                "token",
            ],
            "from stdin",
        ),
        "encrypt_string from stdin",
    );
    assert!(
        yaml.starts_with("token: !vault |\n          $ANSIBLE_VAULT;1.1;AES256\n"),
        "{yaml}"
    );
    assert!(!yaml.contains(PASSWORD) && !yaml.contains("from stdin"));
}

/// The playbook under test: inline values from both tools' encrypt_string,
/// a vaulted group_vars file, vaulted copy, template and script sources.
fn playbook_fixture(f: &Fixture) {
    let by_rsible = ok(
        &f.run(
            &rsible("rsible-vault"),
            &[
                "encrypt_string",
                "--vault-password-file",
                "pw",
                "--name",
                "db_password",
                "hunter2",
            ],
            "",
        ),
        "rsible-vault encrypt_string",
    );
    let by_ansible = ok(
        &f.run(
            &f.ansible("ansible-vault"),
            &[
                "encrypt_string",
                "--vault-id",
                "prod@prod-pw",
                "--name",
                "api_token",
                "{{ not templated }}",
            ],
            "",
        ),
        "ansible-vault encrypt_string",
    );
    let indent = |yaml: &str| {
        yaml.lines()
            .map(|l| format!("    {l}\n"))
            .collect::<String>()
    };
    f.write(
        "inventory.ini",
        "[web]\nweb1\n\n[all:vars]\nansible_connection=local\nansible_python_interpreter=\"{{ ansible_playbook_python }}\"\n",
    );
    f.write(
        "group_vars/web.yml",
        "group_secret: from-group-vars\nnested:\n  key: nested-value\n",
    );
    f.write("files/secret.txt", "copied secret\n");
    f.write(
        "files/secret.sh",
        "#!/bin/sh\necho \"vaulted script: $1\"\n",
    );
    f.write(
        "templates/secret.j2",
        "token={{ api_token }} db={{ db_password }}\n",
    );
    f.write(
        "site.yml",
        &format!(
            "- hosts: web\n  gather_facts: false\n  vars:\n{}{}    combined: \"{{{{ db_password }}}}/{{{{ group_secret }}}}\"\n  tasks:\n\
             \x20   - debug: var=db_password\n\
             \x20   - debug: var=api_token\n\
             \x20   - debug: msg=\"{{{{ combined }}}} {{{{ nested.key }}}} {{{{ db_password | length }}}}\"\n\
             \x20   - set_fact: copied=\"{{{{ api_token }}}}\"\n\
             \x20   - assert:\n        that: [\"copied == api_token\", \"db_password == 'hunter2'\"]\n\
             \x20   - copy: src=secret.txt dest=\"{{{{ playbook_dir }}}}/out/copied.txt\"\n\
             \x20   - template: src=secret.j2 dest=\"{{{{ playbook_dir }}}}/out/rendered.txt\"\n\
             \x20   - script: secret.sh \"two words\"\n      register: ran\n\
             \x20   - debug: var=ran.stdout_lines\n",
            indent(&by_rsible),
            indent(&by_ansible)
        ),
    );
    for (file, opts) in [
        ("group_vars/web.yml", ["--vault-id", "prod@prod-pw"]),
        ("files/secret.txt", ["--vault-password-file", "pw"]),
        ("files/secret.sh", ["--vault-password-file", "pw"]),
        ("templates/secret.j2", ["--vault-password-file", "pw"]),
    ] {
        let mut args = vec!["encrypt", file];
        args.extend(opts);
        ok(
            &f.run(&f.ansible("ansible-vault"), &args, ""),
            "ansible-vault encrypt",
        );
    }
}

fn run_playbook(
    f: &Fixture,
    program: &Path,
    extra: &[&str],
) -> (String, Option<i32>, String, String) {
    let _ = std::fs::remove_dir_all(f.path("out"));
    std::fs::create_dir_all(f.path("out")).expect("mkdir out");
    let mut args = vec!["-f", "1", "-i", "inventory.ini", "site.yml"];
    args.extend(extra);
    let out = f.run(program, &args, "");
    let file = |n: &str| std::fs::read_to_string(f.path("out").join(n)).unwrap_or_default();
    (
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr),
        out.status.code(),
        file("copied.txt"),
        file("rendered.txt"),
    )
}

#[test]
fn playbook_with_vaulted_values_and_files_runs_identically() {
    let Some(ref_bin) = reference_bin() else {
        return;
    };
    let f = Fixture::new(ref_bin);
    playbook_fixture(&f);
    let secrets = ["--vault-password-file", "pw", "--vault-id", "prod@prod-pw"];
    let a = run_playbook(&f, &f.ansible("ansible-playbook"), &secrets);
    let r = run_playbook(&f, &rsible("rsible-playbook"), &secrets);
    assert_eq!(a.1, Some(0), "ansible-playbook failed:\n{}", a.0);
    assert_eq!(r.0, a.0, "output differs");
    assert_eq!(r.1, a.1);
    assert!(
        r.0.contains("\"vaulted script: two words\""),
        "the vaulted script ran decrypted:\n{}",
        r.0
    );
    assert_eq!(
        (r.2.as_str(), r.3.as_str()),
        ("copied secret\n", "token={{ not templated }} db=hunter2\n")
    );
    assert_eq!((&r.2, &r.3), (&a.2, &a.3), "written files differ");
}

#[test]
fn a_vault_no_task_reads_needs_no_password_and_a_wrong_one_fails_the_task() {
    let Some(ref_bin) = reference_bin() else {
        return;
    };
    let f = Fixture::new(ref_bin);
    let inline = ok(
        &f.run(
            &rsible("rsible-vault"),
            &[
                "encrypt_string",
                "--vault-password-file",
                "pw",
                "--name",
                "unused",
                "value",
            ],
            "",
        ),
        "encrypt_string",
    );
    f.write("inventory.ini", "localhost ansible_connection=local\n");
    f.write(
        "site.yml",
        &format!(
            "- hosts: all\n  gather_facts: false\n  vars:\n{}  tasks:\n    - debug: msg=first\n    - debug: msg=\"{{{{ unused }}}}\"\n      ignore_errors: true\n    - debug: var=unused\n      ignore_errors: true\n",
            inline.lines().map(|l| format!("    {l}\n")).collect::<String>()
        ),
    );
    for extra in [&[][..], &["--vault-password-file", "wrong-pw"][..]] {
        let mut args = vec!["-i", "inventory.ini", "site.yml"];
        args.extend(extra);
        let a = f.run(&f.ansible("ansible-playbook"), &args, "");
        let r = f.run(&rsible("rsible-playbook"), &args, "");
        let shown = String::from_utf8_lossy(&a.stdout);
        assert_eq!(a.status.code(), Some(0), "{shown}");
        assert_eq!(shown.matches("...ignoring").count(), 2, "{shown}");
        assert_eq!(
            String::from_utf8_lossy(&r.stdout),
            String::from_utf8_lossy(&a.stdout),
            "with {extra:?}"
        );
        assert_eq!(r.status.code(), a.status.code());
    }
}
