//! Differential test: lineinfile, blockinfile and replace against ansible-core 2.18.
//!
//! Every case starts from the same file in two directories; the reference modules run
//! on one (through one `ansible-playbook` run, a task per case, json callback) and
//! `rsible_modules::run_module` on the other. Compared: resulting file bytes (or
//! absence), and the result keys changed, failed, msg, rc, found, diff and whether a
//! backup was made. Paths in texts are normalised to `<DIR>`.
//!
//! Needs RSIBLE_REF_BIN (e.g. /tmp/ref/bin); without it the test fails unless
//! RSIBLE_SKIP_DIFFERENTIAL=1.

mod support;
use rsible_modules::{run_module, ModuleContext};
use serde_json::{json, Map, Value};
use std::fs;
use std::path::{Path, PathBuf};
use support::reference::{playbook_command, write_localhost_play};
use support::reference_bin;

struct Case {
    module: &'static str,
    /// Initial content of `<case dir>/f`, or None for no file.
    content: Option<&'static [u8]>,
    /// Module arguments; "path" is filled in (`<case dir>/f`) unless `path_is_dir`.
    args: Value,
    check_mode: bool,
    path_is_dir: bool,
}

fn case(module: &'static str, content: Option<&'static str>, args: Value) -> Case {
    Case {
        module,
        content: content.map(str::as_bytes),
        args,
        check_mode: false,
        path_is_dir: false,
    }
}

/// A resolv.conf with entries both sides of Kubespray's managed block.
const RESOLV_CONF: &str = "search old.example\nnameserver 10.0.0.1\n\
# Ansible entries BEGIN\nsearch cluster.local\nnameserver 169.254.25.10\n\
options ndots:2\n# Ansible entries END\nnameserver 8.8.8.8\noptions rotate\n\
nameserver 1.1.1.1\n";

/// Patterns neither native engine takes: the executor runs ansible-core's module.
const LEFT_TO_PYTHON: [&str; 2] = ["(?<=a+)x", "(a)?(?(1)b|c)"];

fn cases() -> Vec<Case> {
    let li = "lineinfile";
    let bi = "blockinfile";
    let rp = "replace";
    let mut v = vec![
        case(li, Some("a\nb"), json!({"line": "c"})),
        case(li, Some("a\nc\n"), json!({"line": "c"})),
        case(li, Some(""), json!({"line": "c"})),
        case(
            li,
            Some("x=1\ny\nx=2\n"),
            json!({"regexp": "^x=", "line": "x=9"}),
        ),
        case(
            li,
            Some("x=1\ny\nx=2\n"),
            json!({"regexp": "^x=", "line": "x=9", "firstmatch": true}),
        ),
        case(
            li,
            Some("key = old\n"),
            json!({"regexp": "^key = .*$", "line": "key = new"}),
        ),
        case(
            li,
            Some("key = new\n"),
            json!({"regexp": "^key = .*$", "line": "key = new"}),
        ),
        case(
            li,
            Some("port: 80\n"),
            json!({"regexp": "^port: (\\d+)$", "line": "port: \\g<1>0 \\1", "backrefs": true}),
        ),
        case(
            li,
            Some("port: 80\n"),
            json!({"regexp": "^nope (.*)$", "line": "x \\1", "backrefs": true}),
        ),
        case(
            li,
            Some("[a]\nk=1\n[b]\n"),
            json!({"line": "n=2", "insertafter": "^\\[a\\]"}),
        ),
        case(
            li,
            Some("[a]\nn=2\n[b]\n"),
            json!({"line": "n=2", "insertafter": "^\\[a\\]"}),
        ),
        case(
            li,
            Some("[a]\nk=1\n[b]\n"),
            json!({"line": "z", "insertbefore": "^\\[b\\]"}),
        ),
        case(
            li,
            Some("[a]\nk=1\n[b]"),
            json!({"line": "z", "insertafter": "^\\[b\\]"}),
        ),
        case(
            li,
            Some("[a]\nk=1\n"),
            json!({"line": "top", "insertbefore": "BOF"}),
        ),
        case(
            li,
            Some("[a]\nk=1\n"),
            json!({"line": "top", "insertafter": "BOF"}),
        ),
        case(
            li,
            Some("[a]\nk=1\n"),
            json!({"line": "end", "insertafter": "^nothing"}),
        ),
        case(
            li,
            Some("[a]\nk=1\n"),
            json!({"line": "end", "insertbefore": "^nothing"}),
        ),
        case(
            li,
            Some("[a]\n[a]\n"),
            json!({"line": "m", "insertafter": "^\\[a\\]", "firstmatch": true}),
        ),
        case(
            li,
            Some("[a]\n[a]\n"),
            json!({"line": "m", "insertbefore": "^\\[a\\]"}),
        ),
        case(
            li,
            Some("a\nb\na\n"),
            json!({"line": "a", "state": "absent"}),
        ),
        case(
            li,
            Some("a\nb\na\n"),
            json!({"regexp": "^b", "state": "absent", "backup": true}),
        ),
        case(
            li,
            Some("foo bar\nbaz\n"),
            json!({"search_string": "bar", "state": "absent"}),
        ),
        case(
            li,
            Some("foo bar\nbaz\n"),
            json!({"search_string": "bar", "line": "X"}),
        ),
        case(li, None, json!({"line": "a", "state": "absent"})),
        case(li, None, json!({"line": "a"})),
        case(li, None, json!({"line": "a", "create": true})),
        case(li, Some("a\r\nb\r\n"), json!({"line": "b"})),
        case(li, Some("a\nb\n"), json!({"regexp": "", "line": "z"})),
        case(li, Some("a\n"), json!({"line": "b", "backup": true})),
        case(li, Some("a\n"), json!({"line": "a", "mode": "0600"})),
        case(
            li,
            Some("a\n"),
            json!({"line": "b", "validate": "false %s"}),
        ),
        case(
            li,
            Some("a\n"),
            json!({"line": "b", "validate": "grep -q b %s"}),
        ),
        case(
            li,
            Some("z\nanchor\n"),
            json!({"line": "z", "insertbefore": "^anchor"}),
        ),
        case(
            li,
            Some("a\n"),
            json!({"line": "b", "insertafter": "x", "insertbefore": "y"}),
        ),
        case(li, Some("a\n"), json!({"regexp": "a", "state": "present"})),
        case(
            li,
            Some("Key=1\n"),
            json!({"regexp": "(?i)^key=", "line": "key=2"}),
        ),
        case(li, Some("a{1}\n"), json!({"regexp": "^a{1}$", "line": "b"})),
        case(bi, Some("head\nno-newline"), json!({"block": "a\nb"})),
        case(
            bi,
            Some("h\n# BEGIN ANSIBLE MANAGED BLOCK\nold\n# END ANSIBLE MANAGED BLOCK\nt\n"),
            json!({"block": "new"}),
        ),
        case(
            bi,
            Some("h\n# BEGIN ANSIBLE MANAGED BLOCK\nold\n# END ANSIBLE MANAGED BLOCK\nt\n"),
            json!({"block": "old"}),
        ),
        case(
            bi,
            Some("h\n# BEGIN ANSIBLE MANAGED BLOCK\nold\n# END ANSIBLE MANAGED BLOCK\nt\n"),
            json!({"state": "absent", "backup": true}),
        ),
        case(
            bi,
            Some("one\ntwo\n"),
            json!({"block": "X", "insertbefore": "^two", "prepend_newline": true, "append_newline": true}),
        ),
        case(
            bi,
            Some("one\ntwo\nthree\n"),
            json!({"block": "X", "insertafter": "^one"}),
        ),
        case(
            bi,
            Some("one\ntwo\n"),
            json!({"block": "X", "insertbefore": "BOF", "marker": "<!-- {mark} -->", "marker_begin": "S", "marker_end": "E"}),
        ),
        case(
            bi,
            Some("one\r\ntwo\r\n"),
            json!({"block": "X", "insertafter": "(?m)^one"}),
        ),
        case(bi, None, json!({"block": "x"})),
        case(bi, None, json!({"block": "x", "create": true})),
        case(
            bi,
            None,
            json!({"block": "x", "create": true, "state": "absent"}),
        ),
        case(bi, Some("a\n"), json!({"block": "", "mode": "0640"})),
        case(
            rp,
            Some("a=1\nb=2\n[s]\na=3\n"),
            json!({"regexp": "^a=(\\d)$", "replace": "A=\\g<1>\\1", "after": "\\[s\\]"}),
        ),
        case(
            rp,
            Some("a=1\nb=2\n[s]\na=3\n"),
            json!({"regexp": "^(\\w)=", "replace": "\\1: ", "before": "\\[s\\]", "backup": true}),
        ),
        case(rp, Some("baac\n"), json!({"regexp": "a*", "replace": "-"})),
        case(
            rp,
            Some("x\n"),
            json!({"regexp": "zzz", "before": "nomatch"}),
        ),
        case(rp, Some("x\n"), json!({"regexp": "y"})),
        case(rp, Some("x\n"), json!({"regexp": "x", "replace": "\\q"})),
        case(rp, Some("x y\n"), json!({"regexp": "\\s+$", "replace": ""})),
        case(rp, None, json!({"regexp": "x"})),
        // Kubespray's resolv.conf clean-up (look-ahead, negative look-ahead): natively
        // through fancy-regex.
        case(
            rp,
            Some(RESOLV_CONF),
            json!({"regexp": "^search\\s[^#]*(?=# Ansible entries BEGIN)", "backup": true}),
        ),
        case(
            rp,
            Some(RESOLV_CONF),
            json!({"regexp": "(# Ansible entries END\\n(?:(?!^nameserver\\s).*\\n)*)(?:^nameserver\\s.*\\n?)+", "replace": "\\1", "backup": true}),
        ),
        case(
            rp,
            Some(RESOLV_CONF),
            json!({"regexp": "(# Ansible entries END\\n(?:(?!^options\\s).*\\n)*)(?:^options\\s.*\\n?)+", "replace": "\\1"}),
        ),
        case(
            rp,
            Some("ab ac\nna=1 nb=1\n"),
            json!({"regexp": "(?<=n)(?P<k>[ab])(?!b)=1", "replace": "\\g<k>=[\\g<0>]"}),
        ),
        case(
            rp,
            Some("ab ac\nna=1 nb=1\n"),
            json!({"regexp": "(?<!n)a", "replace": "A", "after": "(?<=b) ", "before": "(?=nb)"}),
        ),
        case(
            rp,
            Some("xx yz zz\nhh\n"),
            json!({"regexp": "(?P<c>\\w)(?P=c)|(\\w)\\2", "replace": "<\\g<0>>"}),
        ),
        case(
            rp,
            Some("aé\u{e9}b\n"),
            json!({"regexp": "(\\w)\\1(?=b)", "replace": "[\\1]"}),
        ),
        // A variable-width look-behind and a conditional group: still ansible-core's
        // module (LEFT_TO_PYTHON).
        case(rp, Some("x\n"), json!({"regexp": "(?<=a+)x"})),
        case(
            rp,
            Some("ab c\n"),
            json!({"regexp": "(a)?(?(1)b|c)", "replace": "-"}),
        ),
    ];
    let mut look_ahead_check = case(
        rp,
        Some(RESOLV_CONF),
        json!({"regexp": "^search\\s[^#]*(?=# Ansible entries BEGIN)"}),
    );
    look_ahead_check.check_mode = true;
    v.push(look_ahead_check);
    let mut check = case(li, Some("a\n"), json!({"line": "b"}));
    check.check_mode = true;
    v.push(check);
    let mut check = case(li, None, json!({"line": "b", "create": true}));
    check.check_mode = true;
    v.push(check);
    let mut check = case(bi, Some("a\n"), json!({"block": "b"}));
    check.check_mode = true;
    v.push(check);
    let mut dir = case(li, Some("a\n"), json!({"line": "b"}));
    dir.path_is_dir = true;
    v.push(dir);
    v
}

fn case_dir(root: &Path, i: usize) -> PathBuf {
    root.join(format!("case{i}"))
}

fn prepare(root: &Path, cases: &[Case]) {
    for (i, c) in cases.iter().enumerate() {
        let d = case_dir(root, i);
        fs::create_dir_all(&d).unwrap();
        if let Some(content) = c.content {
            fs::write(d.join("f"), content).unwrap();
        }
    }
}

fn args_for(root: &Path, i: usize, c: &Case) -> Map<String, Value> {
    let mut args = c.args.as_object().cloned().unwrap_or_default();
    let d = case_dir(root, i);
    let path = if c.path_is_dir { d } else { d.join("f") };
    args.insert("path".into(), json!(path.display().to_string()));
    args
}

/// Run every case through the reference in one playbook; results in case order.
fn run_reference(bin: &str, root: &Path, cases: &[Case]) -> Vec<Value> {
    let tasks: Vec<Value> = cases
        .iter()
        .enumerate()
        .map(|(i, c)| {
            let mut t = Map::new();
            t.insert("name".into(), json!(format!("case {i}")));
            t.insert(
                format!("ansible.builtin.{}", c.module),
                Value::Object(args_for(root, i, c)),
            );
            t.insert("ignore_errors".into(), json!(true));
            t.insert("check_mode".into(), json!(c.check_mode));
            Value::Object(t)
        })
        .collect();
    let playbook = write_localhost_play(root, tasks);
    let out = playbook_command(bin, &playbook, &[])
        .output()
        .expect("run reference ansible-playbook");
    support::localhost_results(&out, cases.len())
}

/// The compared view of a result, with the case directory written as `<DIR>`.
fn view(result: &Value, root: &Path, file: Option<Vec<u8>>) -> Value {
    let norm = |v: &Value| -> Value {
        let text = v.to_string().replace(&root.display().to_string(), "<DIR>");
        serde_json::from_str(&text).unwrap_or(Value::Null)
    };
    let backup_made = ["backup", "backup_file"]
        .iter()
        .any(|k| result[*k].as_str().is_some_and(|s| !s.is_empty()));
    let mut msg = norm(&result["msg"]);
    // Stderr wording of a failing validator is not ours to match; the prefix is.
    if let Some(m) = msg.as_str() {
        if m.starts_with("failed to validate: ") {
            msg = json!(m.split(" error:").next().unwrap_or(m));
        }
    }
    json!({
        "changed": result["changed"],
        "failed": result.get("failed").cloned().unwrap_or(json!(false)),
        "msg": msg,
        "rc": result["rc"],
        "found": result["found"],
        "diff": norm(&result["diff"]),
        "backup_made": backup_made,
        "file": file.map(|b| String::from_utf8_lossy(&b).into_owned()),
    })
}

#[test]
fn file_editing_modules_match_reference() {
    let Some(bin) = reference_bin() else { return };
    let cases = cases();
    let ref_root = tempfile::tempdir().unwrap();
    let our_root = tempfile::tempdir().unwrap();
    prepare(ref_root.path(), &cases);
    prepare(our_root.path(), &cases);
    let reference = run_reference(&bin, ref_root.path(), &cases);

    let mut mismatches = Vec::new();
    for (i, c) in cases.iter().enumerate() {
        let ctx = ModuleContext {
            check_mode: c.check_mode,
            ..Default::default()
        };
        let args = args_for(our_root.path(), i, c);
        if !rsible_modules::modules::runs_natively(c.module, &args) {
            // Left to ansible-core's module by the executor: only patterns that need it.
            let pattern = c.args["regexp"].as_str().unwrap_or_default();
            if !LEFT_TO_PYTHON.contains(&pattern) {
                mismatches.push(format!("case {i} ({}): not run natively", c.args));
            }
            continue;
        }
        let ours = run_module(c.module, &args, &ctx);
        let read = |root: &Path| fs::read(case_dir(root, i).join("f")).ok();
        let want = view(&reference[i], ref_root.path(), read(ref_root.path()));
        let got = view(&ours, our_root.path(), read(our_root.path()));
        if want != got {
            mismatches.push(format!(
                "case {i} ({} {}):\n  reference: {want}\n  rsible:    {got}",
                c.module, c.args
            ));
        }
    }
    assert!(
        mismatches.is_empty(),
        "{} of {} cases differ:\n{}",
        mismatches.len(),
        cases.len(),
        mismatches.join("\n")
    );
}
