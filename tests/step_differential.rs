//! `--step`: both engines run tests/compat/step_prompts.yml with the same
//! answers on stdin (Ansible reads them with `input()`, a pipe as well as a
//! terminal), and must print the same prompts, banners and results and end
//! with the same exit code; running out of answers stops the run.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

fn compat_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/compat")
}

fn reference_bin() -> Option<PathBuf> {
    rsible_testsupport::reference_bin_dir()
}

fn run(program: &Path, answers: &str) -> (String, Option<i32>) {
    let mut child = Command::new(program)
        .args([
            "-f",
            "1",
            "-i",
            "inventory.ini",
            "step_prompts.yml",
            "--step",
        ])
        .current_dir(compat_dir())
        .env("ANSIBLE_CONFIG", compat_dir().join("ansible.cfg"))
        .env("ANSIBLE_NOCOLOR", "1")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", program.display()));
    if let Some(mut stdin) = child.stdin.take() {
        // Everything at once: each engine reads one line per question.
        let _ = stdin.write_all(answers.as_bytes());
    }
    let out = child.wait_with_output().expect("the run ends");
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        out.status.code(),
    )
}

/// Answers (one line per question) and what they exercise.
const SCENARIOS: &[(&str, &str)] = &[
    // every task, the handler included; `n` skips the command for all hosts
    ("y\ny\ny\nn\ny\nyes\n", "yes and no"),
    // `c` stops the questions for the rest of the play only
    ("y\nn\nY\nc\ncontinue\n", "continue"),
    // no answer left after the first: the run stops, exit 2
    ("y\n", "end of input"),
];

#[test]
fn step_prompts_and_answers_match_ansible() {
    let Some(ref_bin) = reference_bin() else {
        return;
    };
    let ansible = ref_bin.join("ansible-playbook");
    let rsible = PathBuf::from(env!("CARGO_BIN_EXE_rsible-playbook"));
    for (answers, what) in SCENARIOS {
        let want = run(&ansible, answers);
        let got = run(&rsible, answers);
        assert!(
            want.0
                .contains("Perform task: TASK: Gathering Facts (N)o/(y)es/(c)ontinue: "),
            "{what}: {}",
            want.0
        );
        assert_eq!(
            got, want,
            "{what}: rsible (left) and ansible (right) differ"
        );
    }
}

/// Without the reference: `n` skips a task, and the prompt shows the
/// task's name before templating, as Ansible's `repr(task)` does.
#[test]
fn a_no_answer_skips_the_task() {
    let rsible = PathBuf::from(env!("CARGO_BIN_EXE_rsible-playbook"));
    let (stdout, code) = run(&rsible, "n\nn\nn\nn\nn\n");
    assert_eq!(code, Some(0), "{stdout}");
    assert!(
        stdout
            .contains("Perform task: TASK: greet {{ inventory_hostname }} (N)o/(y)es/(c)ontinue: "),
        "{stdout}"
    );
    assert!(!stdout.contains("TASK [a command]"), "{stdout}");
    assert!(!stdout.contains("ok: ["), "{stdout}");
}
