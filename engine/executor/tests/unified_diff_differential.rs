//! rsible's port of `difflib.unified_diff` against Python's own, on a few
//! hundred generated pairs of line lists: small alphabets (many repeated
//! lines, where equally short diffs differ in their hunks), long inputs
//! (difflib's "autojunk" rule for 200+ lines), several context sizes, and
//! lines without a final newline. One Python process diffs them all.

use std::io::Write;
use std::process::{Command, Stdio};

use rsible_executor::output::unified_diff::{splitlines_keepends, unified_diff};
use serde_json::{json, Value};

fn reference_python() -> Option<String> {
    match std::env::var("RSIBLE_REF_PYTHON") {
        Ok(p) => Some(p),
        Err(_) if std::env::var_os("RSIBLE_SKIP_DIFFERENTIAL").is_some() => None,
        Err(_) => panic!(
            "RSIBLE_REF_PYTHON is not set: it must name the reference venv's python \
             (scripts/test.sh sets it); set RSIBLE_SKIP_DIFFERENTIAL=1 to skip differential tests knowingly"
        ),
    }
}

/// A small deterministic generator (no external crate, same cases every run).
struct Lcg(u64);

impl Lcg {
    fn next(&mut self, bound: u64) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (self.0 >> 33) % bound.max(1)
    }
}

fn text(rng: &mut Lcg, lines: u64, alphabet: u64) -> String {
    let mut out = String::new();
    for _ in 0..lines {
        out.push_str(&format!("line {}\n", rng.next(alphabet)));
    }
    if rng.next(4) == 0 {
        out.push_str("no newline");
    }
    out
}

/// An edited copy: some lines dropped, replaced or inserted.
fn edit(rng: &mut Lcg, base: &str, alphabet: u64) -> String {
    let mut out = String::new();
    for line in splitlines_keepends(base) {
        match rng.next(10) {
            0 => {}
            1 => out.push_str(&format!("line {}\n", rng.next(alphabet))),
            2 => {
                out.push_str(line);
                out.push_str(&format!("new {}\n", rng.next(alphabet)));
            }
            _ => out.push_str(line),
        }
    }
    out
}

fn cases() -> Vec<(String, String, usize)> {
    let mut rng = Lcg(20240518);
    let mut cases = Vec::new();
    for i in 0..400u64 {
        let alphabet = [2, 3, 5, 20][(i % 4) as usize];
        let len = if i % 25 == 0 {
            200 + rng.next(150)
        } else {
            rng.next(30)
        };
        let a = text(&mut rng, len, alphabet);
        let b = if i % 3 == 0 {
            let len = rng.next(30);
            text(&mut rng, len, alphabet)
        } else {
            edit(&mut rng, &a, alphabet)
        };
        let context = [3, 0, 1, 5][(i % 4) as usize];
        cases.push((a, b, context));
    }
    cases
}

const PYTHON: &str = r#"
import difflib, json, sys
out = []
for a, b, n in json.load(sys.stdin):
    out.append(''.join(difflib.unified_diff(a.splitlines(True), b.splitlines(True),
                                            fromfile='before', tofile='after', n=n)))
json.dump(out, sys.stdout)
"#;

#[test]
fn unified_diff_matches_python_difflib() {
    let Some(python) = reference_python() else {
        return;
    };
    let cases = cases();
    let input: Vec<Value> = cases.iter().map(|(a, b, n)| json!([a, b, n])).collect();
    let mut child = Command::new(&python)
        .args(["-c", PYTHON])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run {python}: {e}"));
    child
        .stdin
        .take()
        .expect("piped stdin")
        .write_all(Value::Array(input).to_string().as_bytes())
        .expect("write cases");
    let out = child.wait_with_output().expect("python runs");
    assert!(out.status.success(), "python failed");
    let want: Vec<String> = serde_json::from_slice(&out.stdout).expect("python prints JSON");
    assert_eq!(want.len(), cases.len());
    let mut different = 0;
    for ((a, b, n), want) in cases.iter().zip(&want) {
        let a = splitlines_keepends(a);
        let b = splitlines_keepends(b);
        let got = unified_diff(&a, &b, "before", "after", *n).concat();
        if &got != want {
            different += 1;
            if different == 1 {
                eprintln!("first difference (n={n}):\n--- python\n{want}\n--- rsible\n{got}");
            }
        }
    }
    assert_eq!(
        different,
        0,
        "{different} of {} diffs differ from difflib",
        cases.len()
    );
}
