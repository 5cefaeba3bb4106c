//! The `free` strategy gives each host its next task as soon as it finished
//! its previous one: while host `a` sleeps in task 1, host `b` (which skips
//! task 1) runs task 2. Each task appends a line to one log file, so the
//! order of the lines is the order in which the hosts got there; under a
//! lockstep walk `b`'s task-2 line would come after `a`'s task-1 line.
//! The same with a block's always section (an include), with the implicit
//! fact gathering (a slow local fact on one host) and with a handler.
//! Ansible 2.18 is run on the same playbook (it is its behaviour) and its
//! stdout compared, which is deterministic here: the slow host's step waits
//! until the other host's line is in the log (`await_line.sh`, a minute at
//! most: under a lockstep walk it waits in vain and the order fails), then
//! 3 s more, so that the other host's result is printed first however
//! loaded the machine (a fixed 5 s sleep raced slow module starts).

use std::fs;
use std::path::{Path, PathBuf};

use rsible_testsupport::{run_playbook, write_files, PlaybookRun};

const PLAYBOOK: &str = r#"---
- name: Free with a slow host
  hosts: nodes
  gather_facts: false
  strategy: free
  tasks:
    - name: Slow on a only
      ansible.builtin.shell: sh {{ await_line }} b-task2 {{ log }} && sleep 3 && echo a-task1-end >> {{ log }}
      when: inventory_hostname == 'a'

    - name: Marker
      ansible.builtin.shell: echo {{ inventory_hostname }}-task2 >> {{ log }}

- name: Free with a slow host inside a block and an include
  hosts: nodes
  gather_facts: false
  strategy: free
  tasks:
    - name: A block
      block:
        - name: Slow on b only, inside a block
          ansible.builtin.shell: sh {{ await_line }} a-included {{ log }} && sleep 3 && echo b-block-end >> {{ log }}
          when: inventory_hostname == 'b'
      always:
        - name: Included after the block
          ansible.builtin.include_tasks: marker.yml

- name: Free with slow fact gathering on a
  hosts: nodes
  strategy: free
  gather_subset: ["!all", "!min", "local"]
  fact_path: "{{ log | dirname }}/facts_{{ inventory_hostname }}"
  tasks:
    - name: After the facts
      ansible.builtin.shell: echo {{ inventory_hostname }}-after-facts >> {{ log }}

- name: Free with a slow handler on a
  hosts: nodes
  gather_facts: false
  strategy: free
  tasks:
    - name: Notify
      ansible.builtin.debug:
        msg: notify
      changed_when: true
      notify: Slow on a
  post_tasks:
    - name: After the handlers
      ansible.builtin.shell: echo {{ inventory_hostname }}-after-handlers >> {{ log }}
  handlers:
    - name: Slow on a
      ansible.builtin.shell: >-
        {{ ('sh ' + await_line + ' b-after-handlers ' + log + ' && sleep 3 &&') if inventory_hostname == 'a' else '' }}
        echo {{ inventory_hostname }}-handler >> {{ log }}
"#;

/// A local fact of host `a` that takes its time (run by `setup` from
/// `fact_path`): until `b` went on to its first task, and 3 s more.
const SLOW_FACT: &str = "#!/bin/sh\nd=\"$(dirname \"$0\")/..\"\n\
    sh \"$d/await_line.sh\" b-after-facts \"$d/order.log\" >&2 && sleep 3 && \
    echo a-facts-end >> \"$d/order.log\"\necho '{}'\n";

const INCLUDED: &str = r#"---
- name: Included marker
  ansible.builtin.shell: echo {{ inventory_hostname }}-included >> {{ log }}
"#;

struct Run {
    code: Option<i32>,
    stdout: String,
    stderr: String,
    log: Vec<String>,
}

/// Runs `site.yml` in `dir` with `forks`, `log` pointing at `dir/order.log`;
/// returns what it printed (the temporary directory masked: the include's
/// path is in it) and the lines the tasks appended to the log.
fn run_logging(program: &Path, dir: &Path, forks: &str) -> Run {
    let log = dir.join("order.log");
    let log_var = format!("log={}", log.display());
    let await_var = format!(
        "await_line={}",
        rsible_testsupport::write_await_line_script(dir).display()
    );
    let PlaybookRun {
        code,
        stdout,
        stderr,
        ..
    } = run_playbook(
        program,
        dir,
        [
            "-i",
            "inventory.ini",
            "site.yml",
            "-f",
            forks,
            "-e",
            &log_var,
            "-e",
            &await_var,
        ],
    );
    Run {
        code,
        stdout: stdout.replace(&dir.display().to_string(), "<dir>"),
        stderr,
        log: fs::read_to_string(&log)
            .unwrap_or_default()
            .lines()
            .map(str::to_string)
            .collect(),
    }
}

fn run(program: &Path) -> Run {
    let dir = tempfile::tempdir().expect("temp dir");
    write_files(
        dir.path(),
        &[
            (
                "inventory.ini",
                "[nodes]\na\nb\n\n[nodes:vars]\nansible_connection=local\n\
                 ansible_python_interpreter=\"{{ ansible_playbook_python }}\"\n",
            ),
            ("site.yml", PLAYBOOK),
            ("marker.yml", INCLUDED),
            ("ansible.cfg", "[defaults]\nretry_files_enabled = False\n"),
        ],
    );
    fs::create_dir(dir.path().join("facts_a")).expect("fact dir");
    fs::create_dir(dir.path().join("facts_b")).expect("fact dir");
    let fact = dir.path().join("facts_a/slow.fact");
    fs::write(&fact, SLOW_FACT).expect("write fact");
    let mode = std::os::unix::fs::PermissionsExt::from_mode(0o755);
    fs::set_permissions(&fact, mode).expect("chmod fact");
    run_logging(program, dir.path(), "2")
}

/// Where `line` is in the log; panics with the whole log when absent.
fn position(run: &Run, line: &str) -> usize {
    run.log
        .iter()
        .position(|l| l == line)
        .unwrap_or_else(|| panic!("{line} not in the log {:?}\n{}", run.log, run.stdout))
}

/// The order the test is about, for either engine.
fn assert_hosts_went_ahead(run: &Run) {
    assert_eq!(run.code, Some(0), "{}\n{}", run.stdout, run.stderr);
    assert_eq!(run.log.len(), 13, "{:?}", run.log);
    // Play 1: b's task 2 while a still sleeps in task 1.
    assert!(
        position(run, "b-task2") < position(run, "a-task1-end"),
        "{:?}",
        run.log
    );
    assert!(position(run, "a-task1-end") < position(run, "a-task2"));
    // Play 2: a's always section (an include) while b sleeps in the block.
    assert!(
        position(run, "a-included") < position(run, "b-block-end"),
        "{:?}",
        run.log
    );
    assert!(position(run, "b-block-end") < position(run, "b-included"));
    // Play 3: b's first task while a still gathers facts.
    assert!(
        position(run, "b-after-facts") < position(run, "a-facts-end"),
        "{:?}",
        run.log
    );
    assert!(position(run, "a-facts-end") < position(run, "a-after-facts"));
    // Play 4: b's post_tasks while a still runs its handler.
    assert!(
        position(run, "b-after-handlers") < position(run, "a-handler"),
        "{:?}",
        run.log
    );
    assert!(position(run, "a-handler") < position(run, "a-after-handlers"));
}

fn rsible() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_rsible-playbook"))
}

#[test]
fn a_slow_host_does_not_hold_the_others_back() {
    assert_hosts_went_ahead(&run(&rsible()));
}

#[test]
fn ansible_lets_hosts_go_ahead_the_same_way_and_prints_the_same() {
    let Some(bin) = rsible_testsupport::reference_bin_dir() else {
        return;
    };
    let want = run(&bin.join("ansible-playbook"));
    assert_hosts_went_ahead(&want);
    let got = run(&rsible());
    assert_eq!(
        want.stdout, got.stdout,
        "stdout differs\n--- ansible\n{}\n--- rsible\n{}",
        want.stdout, got.stdout
    );
}

const UNREACHABLE_PLAYBOOK: &str = r#"---
- name: Free with an unreachable host
  hosts: nodes
  gather_facts: false
  strategy: free
  tasks:
    - name: First
      ansible.builtin.shell: echo {{ inventory_hostname }}-first >> {{ log }}

    - name: Second
      ansible.builtin.shell: echo {{ inventory_hostname }}-second >> {{ log }}
"#;

/// A host whose connection cannot be opened (in the background call's
/// thread) is unreachable; the other goes through the play.
fn run_with_unreachable(program: &Path) -> Run {
    let dir = tempfile::tempdir().expect("temp dir");
    write_files(
        dir.path(),
        &[
            (
                "inventory.ini",
                "[nodes]\na ansible_connection=local\n\
                 bad ansible_connection=ssh ansible_host=127.0.0.1 ansible_port=1\n\n\
                 [nodes:vars]\nansible_python_interpreter=\"{{ ansible_playbook_python }}\"\n",
            ),
            ("site.yml", UNREACHABLE_PLAYBOOK),
            (
                "ansible.cfg",
                "[defaults]\nretry_files_enabled = False\nhost_key_checking = False\n",
            ),
        ],
    );
    run_logging(program, dir.path(), "1")
}

#[test]
fn an_unreachable_host_leaves_the_others_going() {
    let run = run_with_unreachable(&rsible());
    assert_eq!(run.code, Some(4), "{}\n{}", run.stdout, run.stderr);
    assert_eq!(run.log, ["a-first", "a-second"], "{}", run.stdout);
    assert!(
        run.stdout.contains("fatal: [bad]: UNREACHABLE!"),
        "{}",
        run.stdout
    );
    if let Some(bin) = rsible_testsupport::reference_bin_dir() {
        let want = run_with_unreachable(&bin.join("ansible-playbook"));
        assert_eq!(want.code, run.code);
        assert_eq!(want.log, run.log);
        assert_eq!(want.stdout, run.stdout);
    }
}
