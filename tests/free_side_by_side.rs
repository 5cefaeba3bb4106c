//! Under the `free` strategy the task kinds that used to hold the controller
//! run side by side on the hosts, as Ansible's workers run them: a Python
//! module (the fallback), an `until` task between its retries, an `async`
//! task between its polls, and a `throttle`d task at most `throttle` at a
//! time. Each task appends start and end markers to one log file, so the
//! order of the lines (not wall time, which is flaky under load) shows
//! whether the two hosts overlapped: both starts before either end. A host
//! writes its end marker only once both start markers are in the log
//! (`await_line.sh`, a minute at most): side by side, that order holds
//! however slowly each host starts; one host after the other, the first
//! waits in vain and the order (or the run) fails.
//! Ansible 2.18 runs the same playbook and must show the same orders.

use std::fs;
use std::path::{Path, PathBuf};

use std::process::Command;

use rsible_testsupport::write_files;

const PLAYBOOK: &str = r#"---
- name: Side by side under free
  hosts: nodes
  gather_facts: false
  strategy: free
  tasks:
    - name: A Python module from library/
      slow_marker:
        log: "{{ log }}"
        name: "{{ inventory_hostname }}-py"

    - name: Until, retried after a delay
      ansible.builtin.shell: >-
        try=$(cat {{ log }}.{{ inventory_hostname }} 2>/dev/null || echo 0);
        if [ "$try" = 1 ]; then sh {{ await_line }} a-until-0 {{ log }} && sh {{ await_line }} b-until-0 {{ log }} || exit 1; fi;
        echo {{ inventory_hostname }}-until-$try >> {{ log }};
        echo 1 > {{ log }}.{{ inventory_hostname }}
      register: tries
      until: tries.attempts >= 2
      retries: 3
      delay: 2

    - name: Async, polled
      ansible.builtin.shell: >-
        echo {{ inventory_hostname }}-async-start >> {{ log }};
        sh {{ await_line }} a-async-start {{ log }} && sh {{ await_line }} b-async-start {{ log }} &&
        echo {{ inventory_hostname }}-async-end >> {{ log }}
      async: 20
      poll: 1

    - name: Throttled to one host at a time
      ansible.builtin.shell: >-
        echo {{ inventory_hostname }}-throttle-start >> {{ log }};
        sleep 1;
        echo {{ inventory_hostname }}-throttle-end >> {{ log }}
      throttle: 1
"#;

/// A module for the test in the shape of real ones (AnsibleModule); it has
/// no native twin, so rsible runs it through Python.
const SLOW_MODULE: &str = r#"#!/usr/bin/python
import time
from ansible.module_utils.basic import AnsibleModule


def both_started(log):
    with open(log) as f:
        lines = f.read().splitlines()
    return 'a-py-start' in lines and 'b-py-start' in lines


def main():
    module = AnsibleModule(argument_spec=dict(log=dict(type='str', required=True),
                                              name=dict(type='str', required=True)))
    with open(module.params['log'], 'a') as f:
        f.write(module.params['name'] + '-start\n')
    # Ends once both hosts started (a minute at most), not after a fixed time.
    for _ in range(600):
        if both_started(module.params['log']):
            break
        time.sleep(0.1)
    else:
        module.fail_json(msg='the other host never started')
    with open(module.params['log'], 'a') as f:
        f.write(module.params['name'] + '-end\n')
    module.exit_json(changed=True)


if __name__ == '__main__':
    main()
"#;

struct Run {
    code: Option<i32>,
    stdout: String,
    stderr: String,
    log: Vec<String>,
}

fn run(program: &Path) -> Run {
    let dir = tempfile::tempdir().expect("temp dir");
    fs::create_dir(dir.path().join("library")).expect("library dir");
    write_files(
        dir.path(),
        &[
            (
                "inventory.ini",
                "[nodes]\na\nb\n\n[nodes:vars]\nansible_connection=local\n\
                 ansible_python_interpreter=\"{{ ansible_playbook_python }}\"\n",
            ),
            ("site.yml", PLAYBOOK),
            ("library/slow_marker.py", SLOW_MODULE),
            ("ansible.cfg", "[defaults]\nretry_files_enabled = False\n"),
        ],
    );
    let log = dir.path().join("order.log");
    let await_line = rsible_testsupport::write_await_line_script(dir.path());
    let mut cmd = Command::new(program);
    // rsible packs Python modules with the module_utils of the ansible-core
    // it finds through the virtualenv, as an operator's would be found.
    // Panics unless the reference is set or skipping was asked for.
    if let Some(venv) = rsible_testsupport::reference_bin_dir()
        .as_deref()
        .and_then(Path::parent)
    {
        cmd.env("VIRTUAL_ENV", venv);
    }
    let out = cmd
        .args(["-i", "inventory.ini", "site.yml", "-f", "2", "-e"])
        .arg(format!("log={}", log.display()))
        .arg("-e")
        .arg(format!("await_line={}", await_line.display()))
        .current_dir(dir.path())
        .env("ANSIBLE_CONFIG", dir.path().join("ansible.cfg"))
        .env("ANSIBLE_NOCOLOR", "1")
        .env_remove("ANSIBLE_FORCE_COLOR")
        .output()
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", program.display()));
    let (code, stdout, stderr) = (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    );
    Run {
        code,
        stdout,
        stderr,
        log: fs::read_to_string(&log)
            .unwrap_or_default()
            .lines()
            .map(str::to_string)
            .collect(),
    }
}

fn position(run: &Run, line: &str) -> usize {
    run.log
        .iter()
        .position(|l| l == line)
        .unwrap_or_else(|| panic!("{line} not in the log {:?}\n{}", run.log, run.stdout))
}

/// Both hosts started `kind` before either finished it.
fn overlapped(run: &Run, start: &str, end: &str) {
    for first in ["a", "b"] {
        for second in ["a", "b"] {
            let s = format!("{first}-{start}");
            let e = format!("{second}-{end}");
            assert!(
                position(run, &s) < position(run, &e),
                "{s} after {e}: the hosts did not run side by side\n{:?}",
                run.log
            );
        }
    }
}

fn assert_side_by_side(run: &Run) {
    assert_eq!(
        run.code,
        Some(0),
        "{}\n{}\n{:?}",
        run.stdout,
        run.stderr,
        run.log
    );
    overlapped(run, "py-start", "py-end");
    // Each host's first try is logged before either host's second: the
    // delay between them was spent by both at once.
    overlapped(run, "until-0", "until-1");
    overlapped(run, "async-start", "async-end");
    // throttle: 1 lets one host in at a time, forks 2 notwithstanding.
    let (a_start, a_end) = (
        position(run, "a-throttle-start"),
        position(run, "a-throttle-end"),
    );
    let (b_start, b_end) = (
        position(run, "b-throttle-start"),
        position(run, "b-throttle-end"),
    );
    assert!(
        a_end < b_start || b_end < a_start,
        "the throttled task ran on both hosts at once\n{:?}",
        run.log
    );
}

fn rsible() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_rsible-playbook"))
}

#[test]
fn python_until_async_run_side_by_side_and_throttle_holds() {
    assert_side_by_side(&run(&rsible()));
}

#[test]
fn ansible_runs_them_the_same_way() {
    // Panics unless the reference is set or skipping was asked for.
    let Some(bin) = rsible_testsupport::reference_bin_dir() else {
        return;
    };
    assert_side_by_side(&run(&bin.join("ansible-playbook")));
}
