//! `async` with `poll: 0`: the job outlives the run that started it (the
//! agent ends with the run; the job is in a session of its own), writes
//! Ansible's job file, and a later run's `async_status` reads it. Local
//! connection; no reference needed (the compat playbooks `async_*.yml`
//! compare the output with Ansible's).

use std::fs;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

fn write_project(dir: &Path, playbook: &str) {
    fs::write(
        dir.join("inventory.ini"),
        "[nodes]\nn1\n\n[nodes:vars]\nansible_connection=local\n",
    )
    .unwrap();
    fs::write(dir.join("site.yml"), playbook).unwrap();
    fs::write(
        dir.join("ansible.cfg"),
        "[defaults]\nretry_files_enabled = False\n",
    )
    .unwrap();
}

fn run(dir: &Path, extra: &[&str]) -> (Option<i32>, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_rsible-playbook"))
        .args(["-i", "inventory.ini", "site.yml"])
        .args(extra)
        .current_dir(dir)
        .env("ANSIBLE_CONFIG", dir.join("ansible.cfg"))
        .env("ANSIBLE_NOCOLOR", "1")
        .output()
        .expect("rsible-playbook runs");
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr),
    )
}

/// The job waits for the test to create `go` (a minute at most) before it
/// writes `marker`: it cannot end before the run, however slow the machine,
/// and a run that waited for it would not end within the test's bound.
const START: &str = r#"---
- hosts: nodes
  gather_facts: false
  tasks:
    - name: Start a job that ends after this run
      ansible.builtin.shell: >-
        i=0; until [ -e {{ go }} ] || [ $i -ge 600 ]; do sleep 0.1; i=$((i+1)); done;
        echo later > {{ marker }}
      async: 60
      poll: 0
      register: job

    - name: Keep its id
      ansible.builtin.copy:
        content: "{{ job.ansible_job_id }}"
        dest: "{{ jid_file }}"
"#;

const READ: &str = r#"---
- hosts: nodes
  gather_facts: false
  tasks:
    - name: Read the job of the earlier run
      ansible.builtin.async_status:
        jid: "{{ lookup('file', jid_file) }}"
      register: job

    - name: Show it
      ansible.builtin.debug:
        msg: "finished={{ job.finished }} rc={{ job.rc }} cmd={{ job.cmd }}"
"#;

#[test]
fn a_fire_and_forget_job_outlives_the_run() {
    let dir = tempfile::tempdir().expect("temp dir");
    let marker = dir.path().join("marker");
    let go = dir.path().join("go");
    let jid_file = dir.path().join("jid");
    let async_dir = dir.path().join("jobs");
    let vars = [
        "-e".to_string(),
        format!("marker={}", marker.display()),
        "-e".to_string(),
        format!("go={}", go.display()),
        "-e".to_string(),
        format!("jid_file={}", jid_file.display()),
        "-e".to_string(),
        format!("ansible_async_dir={}", async_dir.display()),
    ];
    let vars: Vec<&str> = vars.iter().map(String::as_str).collect();
    write_project(dir.path(), START);
    let (code, out) = run(dir.path(), &vars);
    assert_eq!(code, Some(0), "{out}");
    // Had the run waited for the job, the marker would be there.
    assert!(!marker.exists(), "poll: 0 must not wait for the job: {out}");
    let jid = fs::read_to_string(&jid_file).expect("the job id was written");
    let job_file = async_dir.join(&jid);
    let first: serde_json::Value =
        serde_json::from_str(&fs::read_to_string(&job_file).expect("job file")).unwrap();
    assert_eq!(
        first,
        serde_json::json!({"started": 1, "finished": 0, "ansible_job_id": jid})
    );
    // The run (and its agent) ended; the job goes on once told to.
    fs::write(&go, "").expect("write the go file");
    let deadline = Instant::now() + Duration::from_secs(30);
    while !marker.exists() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(100));
    }
    assert_eq!(fs::read_to_string(&marker).unwrap_or_default(), "later\n");
    // The job file now holds the module's result, as Ansible's wrapper writes it.
    let deadline = Instant::now() + Duration::from_secs(10);
    let done = loop {
        let text = fs::read_to_string(&job_file).unwrap_or_default();
        let value: serde_json::Value = serde_json::from_str(&text).unwrap_or_default();
        if value.get("rc").is_some() || Instant::now() > deadline {
            break value;
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    assert_eq!(done["rc"], 0, "{done}");
    assert_eq!(done["changed"], true, "{done}");
    assert!(done.get("started").is_none(), "{done}");
    write_project(dir.path(), READ);
    let (code, out) = run(dir.path(), &vars);
    assert_eq!(code, Some(0), "{out}");
    assert!(
        out.contains("\"msg\": \"finished=1 rc=0 cmd=i=0; until [ -e "),
        "{out}"
    );
}

#[test]
fn a_job_past_its_time_limit_is_killed() {
    let dir = tempfile::tempdir().expect("temp dir");
    let marker = dir.path().join("marker");
    write_project(
        dir.path(),
        r#"---
- hosts: nodes
  gather_facts: false
  tasks:
    - name: Too slow
      ansible.builtin.shell: sleep 4; touch {{ marker }}
      async: 1
      poll: 5
"#,
    );
    let (code, out) = run(dir.path(), &["-e", &format!("marker={}", marker.display())]);
    assert_eq!(code, Some(2), "{out}");
    assert!(out.contains("\"msg\": \"Timeout exceeded\""), "{out}");
    assert!(out.contains("ASYNC FAILED on n1: jid=j"), "{out}");
    // The job is killed at 1 s and its result written a second later: the
    // poll at 5 s reads it with room to spare on a loaded machine (at 3 s a
    // late result read as "did not complete within the requested time").
    // The command would have touched the marker 4 s after it started, before
    // the run ended; a little more for its shell on a loaded machine.
    std::thread::sleep(Duration::from_secs(2));
    assert!(!marker.exists(), "the killed job's command went on");
}

#[test]
fn polling_gives_up_at_the_time_limit() {
    // The job is stopped at its limit and records that a second later, as
    // Ansible's wrapper does; the controller's last poll comes before that.
    let dir = tempfile::tempdir().expect("temp dir");
    write_project(
        dir.path(),
        r#"---
- hosts: nodes
  gather_facts: false
  tasks:
    - name: Too slow for the controller
      ansible.builtin.command: sleep 12
      async: 6
      poll: 3
"#,
    );
    // The wrapper's schedule stops a 6 s job at 10 s: polls at 3 and 6 s find it running.
    let jobs = format!("ansible_async_dir={}", dir.path().join("jobs").display());
    let (code, out) = run(dir.path(), &["-e", &jobs]);
    assert_eq!(code, Some(2), "{out}");
    assert_eq!(out.matches("ASYNC POLL on n1: jid=j").count(), 2, "{out}");
    assert!(out.contains("ASYNC FAILED on n1: jid=j"), "{out}");
    assert!(
        out.contains("\"msg\": \"async task did not complete within the requested time - 6s\""),
        "{out}"
    );
    assert!(out.contains("\"async_result\": {"), "{out}");
}

#[test]
fn jobs_of_several_hosts_are_polled_side_by_side() {
    // Each host's job writes when it started and when it ended (nanoseconds
    // of the controller's clock: the hosts are local). Polled host after host,
    // a job would only start once the previous host's job had ended; side by
    // side, every job starts before any ends. Each job waits for the others
    // to start (so a slow start on a loaded machine cannot end one job before
    // the last starts; host after host, the first job would wait past its
    // 20 s limit and fail), then runs 3 s, so that the poll at 1 s finds it
    // running. The output stays that of a
    // host-by-host run: each host's POLL and OK lines just before its result.
    let dir = tempfile::tempdir().expect("temp dir");
    fs::write(
        dir.path().join("inventory.ini"),
        "[nodes]\nn1\nn2\nn3\n\n[nodes:vars]\nansible_connection=local\n",
    )
    .unwrap();
    fs::write(
        dir.path().join("ansible.cfg"),
        "[defaults]\nretry_files_enabled = False\nforks = 5\n",
    )
    .unwrap();
    fs::write(
        dir.path().join("site.yml"),
        r#"---
- hosts: nodes
  gather_facts: false
  tasks:
    - name: Jobs that wait for each other, then take three seconds
      ansible.builtin.shell: >-
        date +%s%N > {{ log }}/{{ inventory_hostname }}.start;
        i=0; until [ -e {{ log }}/n1.start ] && [ -e {{ log }}/n2.start ] && [ -e {{ log }}/n3.start ] || [ $i -ge 600 ];
        do sleep 0.1; i=$((i+1)); done;
        sleep 3; date +%s%N > {{ log }}/{{ inventory_hostname }}.end
      async: 20
      poll: 1
"#,
    )
    .unwrap();
    let log = dir.path().join("log");
    fs::create_dir(&log).unwrap();
    let jobs = format!("ansible_async_dir={}", dir.path().join("jobs").display());
    let (code, out) = run(
        dir.path(),
        &["-e", &format!("log={}", log.display()), "-e", &jobs],
    );
    assert_eq!(code, Some(0), "{out}");
    let stamp = |name: String| -> u128 {
        fs::read_to_string(log.join(&name))
            .unwrap_or_else(|e| panic!("{name}: {e}\n{out}"))
            .trim()
            .parse()
            .unwrap_or_else(|e| panic!("{name}: {e}"))
    };
    let starts: Vec<u128> = (1..=3).map(|i| stamp(format!("n{i}.start"))).collect();
    let ends: Vec<u128> = (1..=3).map(|i| stamp(format!("n{i}.end"))).collect();
    let last_start = starts.iter().max().unwrap();
    let first_end = ends.iter().min().unwrap();
    assert!(
        last_start < first_end,
        "the jobs ran one after the other: starts {starts:?}, ends {ends:?}"
    );
    // Output in host order, each host's lines together.
    let mut at = 0;
    for host in ["n1", "n2", "n3"] {
        let poll = out[at..]
            .find(&format!("ASYNC POLL on {host}: jid="))
            .unwrap_or_else(|| panic!("no poll line for {host} after byte {at}:\n{out}"));
        let ok = out[at..]
            .find(&format!("ASYNC OK on {host}: jid="))
            .unwrap_or_else(|| panic!("no ASYNC OK for {host}:\n{out}"));
        let changed = out[at..]
            .find(&format!("changed: [{host}]"))
            .unwrap_or_else(|| panic!("no result for {host}:\n{out}"));
        assert!(
            poll < ok && ok < changed,
            "{host} lines out of order:\n{out}"
        );
        at += changed;
    }
}
