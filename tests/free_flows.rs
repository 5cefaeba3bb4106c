//! The `free` strategy walks each host on its own: handlers (with
//! `force_handlers`, `listen`, a handler notifying a later one,
//! `meta: flush_handlers`), an
//! include with a loop, block/rescue/always, a failure. How the hosts'
//! lines interleave depends on when results are processed (Ansible
//! processes them in passes over the hosts, rsible as they arrive), so
//! what is compared with ansible-playbook 2.18 is each host's own sequence
//! of task banners and result lines, and the PLAY RECAP.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use rsible_testsupport::{run_playbook, write_files, PlaybookRun};

const PLAYBOOK: &str = r#"---
- name: Free with handlers and includes
  hosts: nodes
  gather_facts: false
  strategy: free
  force_handlers: true
  tasks:
    - name: Notify on every host
      ansible.builtin.debug:
        msg: "{{ inventory_hostname }}"
      changed_when: true
      notify: First

    - name: Include per item
      ansible.builtin.include_tasks: item.yml
      loop: [one, two]
      when: inventory_hostname != 'n3'

    - name: Flush now
      ansible.builtin.meta: flush_handlers

    - name: A block
      block:
        - name: Fails on n2
          ansible.builtin.command: "false"
          when: inventory_hostname == 'n2'
      rescue:
        - name: Rescued
          ansible.builtin.debug:
            msg: "rescued {{ inventory_hostname }}"
      always:
        - name: Always
          ansible.builtin.command: echo always {{ inventory_hostname }}
          notify: First

    - name: Fails on n3 (its handlers still run, force_handlers)
      ansible.builtin.fail:
        msg: n3 fails
      when: inventory_hostname == 'n3'

    - name: After the failure
      ansible.builtin.command: echo after {{ inventory_hostname }}

  handlers:
    - name: First
      ansible.builtin.command: echo first {{ inventory_hostname }}
      notify: later topic

    - name: Second
      ansible.builtin.debug:
        msg: "second {{ inventory_hostname }}"
      listen: later topic
"#;

const INCLUDED: &str = r#"---
- name: Included task
  ansible.builtin.command: echo {{ inventory_hostname }} {{ item }}
"#;

/// Runs the playbook on three local hosts with `-f 3`; the temporary
/// directory is masked in stdout (the include's path is in it).
fn run(program: &Path) -> PlaybookRun {
    let dir = tempfile::tempdir().expect("temp dir");
    write_files(
        dir.path(),
        &[
            (
                "inventory.ini",
                "[nodes]\nn1\nn2\nn3\n\n[nodes:vars]\nansible_connection=local\n\
                 ansible_python_interpreter=\"{{ ansible_playbook_python }}\"\n",
            ),
            ("site.yml", PLAYBOOK),
            ("item.yml", INCLUDED),
            ("ansible.cfg", "[defaults]\nretry_files_enabled = False\n"),
        ],
    );
    let mut run = run_playbook(
        program,
        dir.path(),
        ["-i", "inventory.ini", "site.yml", "-f", "3"],
    );
    run.stdout = run
        .stdout
        .replace(&dir.path().display().to_string(), "<dir>");
    run
}

/// Each host's lines in order, each prefixed by the banner it came under;
/// a result's continuation lines (a debug message) belong to it. Times are
/// masked.
fn per_host(stdout: &str) -> BTreeMap<String, Vec<String>> {
    let times = regex::Regex::new(r#""(delta|start|end)": "[0-9:. -]+""#).expect("regex");
    let result =
        regex::Regex::new(r"^(ok|changed|skipping|fatal|failed): \[([^\]]+)\]").expect("regex");
    let included = regex::Regex::new(r"^included: (.*) for (.+?)( => .*)?$").expect("regex");
    let mut hosts: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut banner = String::new();
    let mut last: Option<String> = None;
    for line in stdout.lines() {
        let line = times.replace_all(line, "\"$1\": <masked>").into_owned();
        if line.starts_with("TASK [") || line.starts_with("RUNNING HANDLER [") {
            banner = line.trim_end_matches(['*', ' ']).to_string();
            last = None;
        } else if line.starts_with("PLAY") {
            banner.clear();
            last = None;
        } else if let Some(c) = result.captures(&line) {
            let host = c[2].split(" -> ").next().unwrap_or_default().to_string();
            hosts
                .entry(host.clone())
                .or_default()
                .push(format!("{banner} | {line}"));
            last = Some(host);
        } else if let Some(c) = included.captures(&line) {
            // Filed per host: Ansible's free strategy names the hosts that
            // reached the include in the same pass on one line, or on one
            // line each, as timing has it.
            let rest = c.get(3).map_or("", |m| m.as_str());
            for host in c[2].split(", ") {
                hosts
                    .entry(host.to_string())
                    .or_default()
                    .push(format!("{banner} | included: {} for {host}{rest}", &c[1]));
            }
            last = None;
        } else if line.is_empty() {
            last = None;
        } else if let Some(host) = &last {
            if let Some(entry) = hosts.get_mut(host).and_then(|l| l.last_mut()) {
                entry.push('\n');
                entry.push_str(&line);
            }
        }
    }
    hosts
}

fn recap(stdout: &str) -> &str {
    stdout
        .find("PLAY RECAP")
        .map(|i| &stdout[i..])
        .unwrap_or("")
}

fn rsible() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_rsible-playbook"))
}

#[test]
fn per_host_sequences_are_parsed_from_interleaved_output() {
    let out = "TASK [a] ***\nok: [n1] => {\n    \"msg\": \"x\"\n}\nchanged: [n2]\n\n\
               TASK [b] ***\nincluded: /d/f.yml for n1, n2 => (item=1)\nfatal: [n2 -> n1]: FAILED! => {\"delta\": \"0:00:01.5\"}\n";
    let hosts = per_host(out);
    assert_eq!(
        hosts["n1"],
        [
            "TASK [a] | ok: [n1] => {\n    \"msg\": \"x\"\n}",
            "TASK [b] | included: /d/f.yml for n1 => (item=1)"
        ]
    );
    assert_eq!(
        hosts["n2"],
        [
            "TASK [a] | changed: [n2]",
            "TASK [b] | included: /d/f.yml for n2 => (item=1)",
            "TASK [b] | fatal: [n2 -> n1]: FAILED! => {\"delta\": <masked>}"
        ]
    );
}

#[test]
fn each_host_goes_through_the_same_steps_as_under_ansible() {
    let got = run(&rsible());
    assert_eq!(got.code, Some(2), "{}", got.stdout);
    let hosts = per_host(&got.stdout);
    assert_eq!(hosts.len(), 3, "{}", got.stdout);
    // n3 failed, yet ran its handlers (force_handlers), the second
    // notified by the first.
    let n3 = hosts["n3"].join("\n");
    assert!(n3.contains("RUNNING HANDLER [Second] | ok: [n3]"), "{n3}");
    let Some(bin) = rsible_testsupport::reference_bin_dir() else {
        return;
    };
    let want = run(&bin.join("ansible-playbook"));
    assert_eq!(want.code, got.code);
    let expected = per_host(&want.stdout);
    for (host, lines) in &expected {
        assert_eq!(
            Some(lines),
            hosts.get(host),
            "host {host}\n--- ansible\n{}\n--- rsible\n{}",
            want.stdout,
            got.stdout
        );
    }
    assert_eq!(recap(&want.stdout), recap(&got.stdout));
}
