//! Ad hoc runs (`rsible HOSTS -m MODULE -a ARGS`) over real SSH, compared
//! with the reference `ansible` (ansible-core 2.18): two hosts served by a
//! loopback sshd (127.0.0.1-2) and one whose port refuses connections. Each
//! case runs under both engines with one fork; stdout (timings and the bed's
//! paths masked) and exit codes must be identical, and so must the files the
//! modules leave.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use rsible_testsupport::{SshdOptions, TestSshd};

fn reference() -> Option<PathBuf> {
    rsible_testsupport::reference_bin_dir().map(|dir| dir.join("ansible"))
}

struct Bed {
    _sshd: TestSshd,
    dir: tempfile::TempDir,
}

impl Bed {
    fn new(python: &Path) -> Bed {
        let sshd = TestSshd::start_with(&SshdOptions {
            extra_addresses: vec!["127.0.0.2".into()],
            ..SshdOptions::default()
        })
        .expect("a loopback sshd must start (scripts/test.sh installs openssh-server)");
        let dir = tempfile::tempdir().expect("temp dir");
        // A port nothing listens on: bind one, note it, release it.
        let closed_port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map(|a| a.port())
            .expect("a free port");
        let inventory = format!(
            "[nodes]\nnode1 ansible_host=127.0.0.1\nnode2 ansible_host=127.0.0.2\n\n\
             [down]\ngone ansible_host=127.0.0.1 ansible_port={closed_port}\n\n\
             [all:vars]\nansible_port={}\nansible_user={}\nansible_ssh_private_key_file={}\n\
             ansible_python_interpreter={}\n",
            sshd.port,
            sshd.user,
            sshd.client_key_path.display(),
            python.display()
        );
        fs::write(dir.path().join("inventory.ini"), inventory).unwrap();
        fs::write(
            dir.path().join("ansible.cfg"),
            "[defaults]\nhost_key_checking = False\n\
             [ssh_connection]\nssh_args = -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null\n",
        )
        .unwrap();
        Bed { _sshd: sshd, dir }
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    fn files(&self, engine: &str) -> PathBuf {
        self.path().join(format!("files-{engine}"))
    }

    /// Runs one case; `{files}` in an argument is this engine's own directory.
    fn run(&self, engine: &str, program: &Path, args: &[&str]) -> (String, Option<i32>) {
        let files = self.files(engine);
        fs::create_dir_all(&files).unwrap();
        let files_text = files.display().to_string();
        let args: Vec<String> = args
            .iter()
            .map(|a| a.replace("{files}", &files_text))
            .collect();
        let out = Command::new(program)
            .args(["-f", "1", "-i", "inventory.ini"])
            .args(&args)
            .current_dir(self.path())
            .env("ANSIBLE_CONFIG", self.path().join("ansible.cfg"))
            .env("ANSIBLE_NOCOLOR", "1")
            .output()
            .unwrap_or_else(|e| panic!("cannot run {}: {e}", program.display()));
        let text = String::from_utf8_lossy(&out.stdout).replace(&files_text, "<FILES>");
        let re = regex::Regex::new(r#""(delta|start|end)": "[0-9:. -]+""#).unwrap();
        let text = re.replace_all(&text, r#""$1": "<masked>""#);
        // Async job ids (`-B`) differ between any two runs.
        let jid = regex::Regex::new(r"\bj[0-9]{1,12}\.[0-9]+\b").unwrap();
        let text = jid.replace_all(&text, "<jid>");
        // Ansible's copy reports the temporary file it uploaded ("src");
        // rsible sends the content through the agent and has none.
        let tmp_src = regex::Regex::new(r#""src": "[^"]*/ansible-tmp-[^"]*",\s*"#).unwrap();
        (
            tmp_src.replace_all(&text, "").into_owned(),
            out.status.code(),
        )
    }
}

/// Every file and directory under `root` with its mode and content.
fn tree(root: &Path) -> Vec<String> {
    use std::os::unix::fs::PermissionsExt;
    let mut out = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for e in fs::read_dir(&dir).into_iter().flatten().flatten() {
            let p = e.path();
            let mode = e.metadata().map(|m| m.permissions().mode()).unwrap_or(0);
            let rel = p.strip_prefix(root).unwrap().display().to_string();
            if p.is_dir() {
                out.push(format!("{rel}/ {mode:o}"));
                stack.push(p);
            } else {
                let body = fs::read_to_string(&p).unwrap_or_default();
                out.push(format!("{rel} {mode:o} {body:?}"));
            }
        }
    }
    out.sort();
    out
}

#[test]
fn adhoc_matches_ansible_over_ssh() {
    let Some(ansible) = reference() else { return };
    let rsible = PathBuf::from(env!("CARGO_BIN_EXE_rsible"));
    let bed = Bed::new(&ansible.with_file_name("python"));
    // Each case costs the reference seconds: each one covers several things.
    let cases: &[(&str, &[&str])] = &[
        ("ping, and an unreachable host", &["all", "-m", "ping"]),
        ("command is the default module", &["nodes", "-a", "echo hi"]),
        (
            "a failing shell command with stderr",
            &[
                "node2",
                "-m",
                "shell",
                "-a",
                "echo out; echo why >&2; exit 3",
            ],
        ),
        (
            "one line, exclusion pattern, unreachable",
            &["all:!node2", "-o", "-a", "printf 'a\\nb'"],
        ),
        (
            "file creates a directory",
            &[
                "node1",
                "-m",
                "file",
                "-a",
                "path={files}/d state=directory mode=0750",
            ],
        ),
        (
            "a failing module",
            &[
                "node1",
                "-m",
                "file",
                "-a",
                "path={files}/missing state=file",
            ],
        ),
        (
            "copy with JSON arguments, limit",
            &[
                "all",
                "-l",
                "node2",
                "-m",
                "copy",
                "-o",
                "-a",
                r#"{"content": "hello\n", "dest": "{files}/greeting", "mode": "0640"}"#,
            ],
        ),
        (
            "extra vars reach the arguments",
            &[
                "node1",
                "-m",
                "debug",
                "-a",
                "msg={{ greeting }}",
                "-e",
                "greeting=hello",
            ],
        ),
        ("list hosts", &["nodes:down", "--list-hosts"]),
        (
            "in the background, polled (-B/-P)",
            &["node1", "-a", "echo later", "-B", "10", "-P", "1"],
        ),
        (
            "in the background, not waited for (-P 0)",
            &[
                "node1", "-m", "shell", "-a", "sleep 1", "-B", "10", "-P", "0",
            ],
        ),
    ];
    for (what, args) in cases {
        let want = bed.run("ansible", &ansible, args);
        let got = bed.run("rsible", &rsible, args);
        assert_eq!(want, got, "case '{what}': stdout and exit code differ");
    }
    assert_eq!(
        tree(&bed.files("ansible")),
        tree(&bed.files("rsible")),
        "the modules left different files"
    );
    // The cases did something: a directory and a file were made.
    let made = tree(&bed.files("rsible"));
    assert!(made.iter().any(|l| l.starts_with("d/ 40750")), "{made:?}");
    assert!(
        made.iter().any(|l| l.starts_with("greeting 100640")),
        "{made:?}"
    );
}

#[test]
fn adhoc_usage_errors() {
    let rsible = PathBuf::from(env!("CARGO_BIN_EXE_rsible"));
    let dir = tempfile::tempdir().unwrap();
    fs::write(dir.path().join("inv"), "h1 ansible_connection=local\n").unwrap();
    let run = |args: &[&str]| {
        let out = Command::new(&rsible)
            .args(["-i", "inv"])
            .args(args)
            .current_dir(dir.path())
            .env("ANSIBLE_NOCOLOR", "1")
            .output()
            .unwrap();
        (
            String::from_utf8_lossy(&out.stderr).into_owned(),
            out.status.code(),
        )
    };
    let (err, code) = run(&["h1"]);
    assert_eq!(code, Some(5), "{err}");
    assert!(
        err.contains("ERROR! No argument passed to command module"),
        "{err}"
    );
    let (err, code) = run(&["site.yml", "-m", "shell"]);
    assert_eq!(code, Some(5));
    assert!(
        err.contains("(did you mean to run ansible-playbook?)"),
        "{err}"
    );
    let (err, code) = run(&["h1", "-m", "ping", "-l", "nomatch"]);
    assert_eq!(code, Some(1));
    assert!(err.contains("no hosts to target"), "{err}");
}

#[test]
fn agent_subcommand_still_speaks_the_protocol() {
    // `rsible agent` is how targets run the agent: it must greet on stdout.
    let rsible = PathBuf::from(env!("CARGO_BIN_EXE_rsible"));
    let out = Command::new(&rsible)
        .arg("agent")
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap();
    assert!(out.stdout.len() > 4, "no hello frame: {out:?}");
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("hello"),
        "{:?}",
        String::from_utf8_lossy(&out.stdout)
    );
}
