//! Differential tests: every playbook under tests/compat/ is run by the
//! reference ansible-playbook (ansible-core 2.18, from RSIBLE_REF_BIN) and by
//! rsible-playbook against the same inventory, and their stdout and exit codes
//! must be identical. Both run with one fork so that results are printed in
//! inventory order (with more forks Ansible prints them as they arrive).

use std::path::{Path, PathBuf};
use std::process::Command;

fn compat_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/compat")
}

fn reference_bin() -> Option<PathBuf> {
    rsible_testsupport::reference_bin_dir()
}

struct Run {
    stdout: String,
    stderr: String,
    code: Option<i32>,
}

/// Timing values differ between any two runs: `"delta": "0:00:00.005972"`,
/// `"start": ...`, `"end": ...`, the whole seconds of `"elapsed": 0` (uri, get_url,
/// wait_for: 1 on a slow run) are replaced by a fixed text, and so are the
/// `profile_tasks` callback's timestamp lines and summary durations (the
/// summary, ordered by duration, is sorted by name).
fn mask_times(text: &str) -> String {
    let re = regex::Regex::new(r#""(delta|start|end)": "[0-9:. -]+""#).expect("valid regex");
    let text = re.replace_all(text, r#""$1": "<masked>""#);
    let elapsed = regex::Regex::new(r#""elapsed": [0-9]+\b"#).expect("valid regex");
    let text = elapsed
        .replace_all(&text, r#""elapsed": <masked>"#)
        .into_owned();
    group_async_results(&mask_profile_tasks(&mask_async_jobs(&sort_valid_booleans(
        &mask_rendered_files(&text),
    ))))
}

/// With async and poll, Ansible's worker reports `ASYNC OK/FAILED/POLL on h`
/// itself while the task's result goes through the strategy's result queue, so
/// on a loaded machine a host's result can come out after the next host's ASYNC
/// line (even with one fork). In a task block with ASYNC lines, each host's
/// lines are put together, hosts in the order they first appear; the order of
/// one host's own lines is kept.
fn group_async_results(text: &str) -> String {
    let ended = text.ends_with('\n');
    let mut out: Vec<&str> = Vec::new();
    let mut block: Vec<&str> = Vec::new();
    fn flush<'a>(block: &mut Vec<&'a str>, out: &mut Vec<&'a str>) {
        if block.iter().any(|l| l.starts_with("ASYNC ")) {
            let mut hosts: Vec<String> = Vec::new();
            let mut keyed: Vec<(usize, &str)> = Vec::new();
            let mut current = 0;
            for line in block.iter() {
                if let Some(host) = async_line_host(line) {
                    current = match hosts.iter().position(|h| *h == host) {
                        Some(i) => i,
                        None => {
                            hosts.push(host);
                            hosts.len() - 1
                        }
                    };
                }
                keyed.push((current, line));
            }
            keyed.sort_by_key(|(host, _)| *host);
            out.extend(keyed.into_iter().map(|(_, l)| l));
        } else {
            out.append(block);
        }
        block.clear();
    }
    for line in text.lines() {
        let header = line.starts_with("TASK [") || line.starts_with("RUNNING HANDLER [");
        if line.is_empty() || header {
            flush(&mut block, &mut out);
            out.push(line);
        } else {
            block.push(line);
        }
    }
    flush(&mut block, &mut out);
    let mut joined = out.join("\n");
    if ended {
        joined.push('\n');
    }
    joined
}

/// The host an ASYNC line or a result line names; None for other lines (the
/// lines of a multi-line result, `...ignoring`), which belong to the host before.
fn async_line_host(line: &str) -> Option<String> {
    if let Some(rest) = line.strip_prefix("ASYNC ") {
        let (_, after) = rest.split_once(" on ")?;
        return Some(after.split_once(':')?.0.to_string());
    }
    let (status, rest) = line.split_once(": [")?;
    if !["ok", "changed", "fatal", "failed", "skipping"].contains(&status) {
        return None;
    }
    let name = rest.split_once(']')?.0;
    Some(name.split(" -> ").next()?.to_string())
}

/// The template action renders into a fresh local directory per task
/// (`ansible-local-<pid><random>/tmp<random>/`), named in `--diff` headers.
fn mask_rendered_files(text: &str) -> String {
    let re = regex::Regex::new(r"/ansible-local-[0-9]+[a-z0-9_]{8}/tmp[a-z0-9_]{8}/")
        .expect("valid regex");
    re.replace_all(text, "/ansible-local-<masked>/tmp<masked>/")
        .into_owned()
}

/// Ansible lists the valid booleans of a conversion error from a Python set,
/// in an order that changes with every run: the items are sorted.
fn sort_valid_booleans(text: &str) -> String {
    let re = regex::Regex::new(
        r"Valid booleans include: ((?:'[a-z0-9]+'|[0-9])(?:, (?:'[a-z0-9]+'|[0-9]))*)",
    )
    .expect("valid regex");
    re.replace_all(text, |c: &regex::Captures| {
        let mut items: Vec<&str> = c[1].split(", ").collect();
        items.sort_unstable();
        format!("Valid booleans include: {}", items.join(", "))
    })
    .into_owned()
}

/// Async job ids (`j<random>.<pid>`, also inside `results_file` paths) and
/// the pid of a job killed at its time limit differ between any two runs.
fn mask_async_jobs(text: &str) -> String {
    let jid = regex::Regex::new(r"\bj[0-9]{1,12}\.[0-9]+\b").expect("valid regex");
    let text = jid.replace_all(text, "<jid>");
    let pid = regex::Regex::new(r#""child_pid": [0-9]+"#).expect("valid regex");
    pid.replace_all(&text, r#""child_pid": <pid>"#).into_owned()
}

fn mask_profile_tasks(text: &str) -> String {
    let stamp = regex::Regex::new(
        r"^[A-Z][a-z]+ \d{2} [A-Z][a-z]+ \d{4}  \d{2}:\d{2}:\d{2} [+-]\d{4} \(\d+:\d{2}:\d{2}\.\d{3}\) +\d+:\d{2}:\d{2}\.\d{3} \*+ $",
    )
    .expect("valid regex");
    let duration = regex::Regex::new(r"^(.*?) -*-? *\d+\.\d{2}s$").expect("valid regex");
    let rule = format!("{} ", "=".repeat(79));
    let mut out: Vec<String> = Vec::new();
    let mut summary: Vec<String> = Vec::new();
    let mut in_summary = false;
    for line in text.lines() {
        if stamp.is_match(line) {
            out.push("<profile_tasks timestamp>".into());
        } else if line == rule {
            in_summary = true;
            out.push(line.to_string());
        } else if in_summary && duration.is_match(line) {
            summary.push(duration.replace(line, "$1 <duration>").into_owned());
        } else {
            in_summary = false;
            summary.sort();
            out.append(&mut summary);
            out.push(line.to_string());
        }
    }
    summary.sort();
    out.append(&mut summary);
    let mut joined = out.join("\n");
    if text.ends_with('\n') {
        joined.push('\n');
    }
    joined
}

/// Settings a playbook asks for in its first lines, for the settings the
/// shared ansible.cfg cannot vary: `# compat-env: NAME=value NAME=value`.
fn playbook_env(playbook: &str) -> Vec<(String, String)> {
    let text = std::fs::read_to_string(compat_dir().join(playbook)).unwrap_or_default();
    text.lines()
        .take_while(|l| l.starts_with('#'))
        .filter_map(|l| l.strip_prefix("# compat-env:"))
        .flat_map(|rest| rest.split_whitespace())
        .filter_map(|pair| pair.split_once('='))
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

/// The venv holding the reference's bin directory.
fn reference_venv() -> PathBuf {
    let bin = std::env::var_os("RSIBLE_REF_BIN")
        .map(PathBuf::from)
        .unwrap_or_default();
    bin.parent().map(Path::to_path_buf).unwrap_or(bin)
}

/// `forks`: the reference runs with one fork, so that it prints results in
/// inventory order; rsible prints in that order whatever its forks, and runs
/// with several so that its parallel path (`play_exec/prefetch.rs`) is the one
/// compared.
fn run(program: &Path, playbook: &str, forks: &str, fixture_env: &[(String, String)]) -> Run {
    // Playbooks keep their files under .work/; each engine starts without it.
    let _ = std::fs::remove_dir_all(compat_dir().join(".work"));
    let out = Command::new(program)
        .args(["-f", forks, "-i", "inventory.ini", playbook])
        .args(extra_args(playbook))
        .current_dir(compat_dir())
        .env("ANSIBLE_CONFIG", compat_dir().join("ansible.cfg"))
        .env("ANSIBLE_NOCOLOR", "1")
        .env_remove("ANSIBLE_FORCE_COLOR")
        // rsible finds collections (community.general, ansible.posix) through the
        // reference venv, as the Kubespray scripts do.
        .env("VIRTUAL_ENV", reference_venv())
        .envs(playbook_env(playbook))
        .envs(fixture_env.iter().map(|(k, v)| (k, v)))
        .output()
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", program.display()));
    Run {
        stdout: mask_times(&String::from_utf8_lossy(&out.stdout)),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        code: out.status.code(),
    }
}

/// Fixtures a playbook asks for in its first lines (`# compat-fixture: http-server`),
/// started once for both engines' runs so that both see the same server, and the
/// environment that tells the playbook about them. `http-server`: a plain-HTTP
/// loopback server with fixed answers (`modules/tests/http/server.py`), its port in
/// `RSIBLE_COMPAT_HTTP_PORT`.
fn start_fixtures(
    playbook: &str,
) -> (
    Vec<rsible_testsupport::TestHttpServer>,
    Vec<(String, String)>,
) {
    let text = std::fs::read_to_string(compat_dir().join(playbook)).unwrap_or_default();
    let mut servers = Vec::new();
    let mut env = Vec::new();
    for name in text
        .lines()
        .take_while(|l| l.starts_with('#'))
        .filter_map(|l| l.strip_prefix("# compat-fixture:"))
        .flat_map(|rest| rest.split_whitespace())
    {
        match name {
            "http-server" => {
                let server = rsible_testsupport::TestHttpServer::start()
                    .unwrap_or_else(|e| panic!("{playbook}: {e}"));
                env.push(("RSIBLE_COMPAT_HTTP_PORT".into(), server.port().to_string()));
                servers.push(server);
            }
            other => panic!("{playbook}: unknown compat-fixture {other}"),
        }
    }
    (servers, env)
}

/// Options a playbook asks for in a first line `# compat-args: --diff -vv`,
/// for features only the command line turns on.
fn extra_args(playbook: &str) -> Vec<String> {
    let text = std::fs::read_to_string(compat_dir().join(playbook)).unwrap_or_default();
    text.lines()
        .next()
        .and_then(|l| l.strip_prefix("# compat-args:"))
        .map(|rest| rest.split_whitespace().map(str::to_string).collect())
        .unwrap_or_default()
}

fn first_difference(a: &str, b: &str) -> String {
    for (i, (la, lb)) in a.lines().zip(b.lines()).enumerate() {
        if la != lb {
            return format!("line {}:\n  ansible: {la}\n  rsible:  {lb}", i + 1);
        }
    }
    format!(
        "one output is a prefix of the other ({} vs {} lines)",
        a.lines().count(),
        b.lines().count()
    )
}

#[test]
fn compat_playbooks_match_ansible() {
    let Some(ref_bin) = reference_bin() else {
        return;
    };
    let ansible = ref_bin.join("ansible-playbook");
    let rsible = PathBuf::from(env!("CARGO_BIN_EXE_rsible-playbook"));
    let mut playbooks: Vec<String> = std::fs::read_dir(compat_dir())
        .expect("tests/compat exists")
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".yml"))
        .collect();
    playbooks.sort();
    assert!(!playbooks.is_empty(), "no playbooks under tests/compat");
    // For working on a few playbooks: RSIBLE_COMPAT_ONLY=handlers,wait_for
    // runs those whose name contains one of the words (CI never sets it).
    if let Ok(only) = std::env::var("RSIBLE_COMPAT_ONLY") {
        let words: Vec<&str> = only.split(',').filter(|w| !w.is_empty()).collect();
        playbooks.retain(|p| words.iter().any(|w| p.contains(w)));
        assert!(
            !playbooks.is_empty(),
            "RSIBLE_COMPAT_ONLY={only} matches no playbook"
        );
    }
    let mut different = Vec::new();
    for pb in &playbooks {
        let (_servers, fixture_env) = start_fixtures(pb);
        let want = run(&ansible, pb, "1", &fixture_env);
        let got = run(&rsible, pb, "5", &fixture_env);
        if want.stdout != got.stdout || want.code != got.code {
            different.push(format!(
                "{pb}: exit {:?} vs {:?}; {}\n  rsible stderr: {}",
                want.code,
                got.code,
                first_difference(&want.stdout, &got.stdout),
                got.stderr.trim()
            ));
        }
    }
    println!(
        "compat: {} same, {} different",
        playbooks.len() - different.len(),
        different.len()
    );
    assert!(different.is_empty(), "different:\n{}", different.join("\n"));
}

#[test]
fn rendered_template_paths_are_masked() {
    let text = "+++ after: /root/.ansible/tmp/ansible-local-3275wtr31fzk/tmpeu0gg1_8/a.j2\n";
    assert_eq!(
        mask_rendered_files(text),
        "+++ after: /root/.ansible/tmp/ansible-local-<masked>/tmp<masked>/a.j2\n"
    );
}

#[test]
fn valid_booleans_are_sorted() {
    let text = "not a valid boolean.  Valid booleans include: 'yes', 1, 0, 'n'\"}";
    assert_eq!(
        sort_valid_booleans(text),
        "not a valid boolean.  Valid booleans include: 'n', 'yes', 0, 1\"}"
    );
}

#[test]
fn async_job_ids_and_pids_are_masked() {
    let text = "ASYNC OK on web1: jid=j123456.789\n{\"child_pid\": 42, \"results_file\": \"/root/.ansible_async/j1.2\"} job1.2";
    assert_eq!(
        mask_async_jobs(text),
        "ASYNC OK on web1: jid=<jid>\n{\"child_pid\": <pid>, \"results_file\": \"/root/.ansible_async/<jid>\"} job1.2"
    );
}

#[test]
fn profile_tasks_times_are_masked_and_the_summary_sorted() {
    let text = "\nTASK [a] ***\nSunday 22 November 2026  03:52:17 +0000 (0:00:00.065)       0:00:00.065 ******* \nok: [h]\n\
                PLAY RECAP ***\n\nMonday 02 March 2026  13:02:17 -0130 (0:00:10.249)       1:00:00.314 ******* \n\
                =============================================================================== \n\
                zeta ------------------------------------------------------------------- 6.34s\n\
                alpha ------------------------------------------------------------------ 0.44s\n";
    let masked = mask_profile_tasks(text);
    assert_eq!(
        masked,
        "\nTASK [a] ***\n<profile_tasks timestamp>\nok: [h]\nPLAY RECAP ***\n\n<profile_tasks timestamp>\n\
         =============================================================================== \n\
         alpha <duration>\nzeta <duration>\n"
    );
}

#[test]
fn async_results_are_grouped_by_host_in_their_first_order() {
    let raced = "\nTASK [t] ***\nASYNC OK on web1: jid=1\nASYNC FAILED on web2: jid=2\nchanged: [web1]\n\
                 fatal: [web2]: FAILED! => {}\n...ignoring\nASYNC OK on db1: jid=3\nchanged: [db1]\n\nPLAY RECAP ***\n";
    let in_order = "\nTASK [t] ***\nASYNC OK on web1: jid=1\nchanged: [web1]\nASYNC FAILED on web2: jid=2\n\
                    fatal: [web2]: FAILED! => {}\n...ignoring\nASYNC OK on db1: jid=3\nchanged: [db1]\n\nPLAY RECAP ***\n";
    assert_eq!(group_async_results(raced), in_order);
    assert_eq!(group_async_results(in_order), in_order);
    // A host's own lines keep their order: a result before its ASYNC line stays a difference.
    let swapped = in_order.replace(
        "ASYNC OK on web1: jid=1\nchanged: [web1]",
        "changed: [web1]\nASYNC OK on web1: jid=1",
    );
    assert_ne!(group_async_results(&swapped), in_order);
    // Blocks without ASYNC lines are left as they are.
    let plain = "\nTASK [t] ***\nok: [b]\nok: [a]\n";
    assert_eq!(group_async_results(plain), plain);
}
