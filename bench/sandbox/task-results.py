#!/usr/bin/env python3
"""Reduce ansible-playbook's default stdout to what the end-to-end comparison
compares, so that times and ordering noise do not count as differences.

    task-results.py STDOUT TASKS_OUT RECAP_OUT

TASKS_OUT gets one line per reported result: task<TAB>host<TAB>status[<TAB>item].
Hosts run in parallel (forks), so the lines of one task are sorted; the task
order is kept. Status is Ansible's word (ok, changed, fatal, failed, skipping,
included, ...), with "ignored" when "...ignoring" follows a failure.
RECAP_OUT gets the PLAY RECAP lines with runs of spaces squeezed.
"""
import re
import sys

BANNER = re.compile(r"^(TASK|RUNNING HANDLER) \[(?P<name>.*)\] \**$")
PLAY = re.compile(r"^PLAY \[(?P<name>.*)\] \**$")
# "ok: [kube1]", "changed: [kube1] => (item=x)", "fatal: [kube1]: FAILED! => {...}",
# "ok: [kube1 -> kube2(127.0.0.12)]", "failed: [kube1] (item=x) => {...}"
RESULT = re.compile(
    r"^(?P<status>ok|changed|fatal|failed|skipping|unreachable|rescued): "
    r"\[(?P<host>[^\]]+)\]"
    r"(?:(?::| =>)? ?\(item=(?P<item>.*?)\))?"
)
# "included: /path/file.yml for kube1, kube2" with " => (item=...)" after a loop
INCLUDED = re.compile(r"^included: (?P<file>\S+) for (?P<hosts>.*?)(?: => \(item=(?P<item>.*)\))?$")
RETRYING = re.compile(r"^FAILED - RETRYING: \[(?P<host>[^\]]+)\]")
# Paths into the checkout copy (in loop items) depend on where the copy was.
CHECKOUT_PATH = re.compile(r"[^\s'\"]*/kubespray/")


def item_text(item):
    return CHECKOUT_PATH.sub("KS/", item or "")[:120]


def main(stdout_path, tasks_path, recap_path):
    with open(stdout_path, encoding="utf-8", errors="replace") as f:
        lines = f.read().splitlines()
    task = "(no task)"
    pending = []  # the results of the current task, sorted when it ends
    out = []
    recap = []
    in_recap = False

    def flush():
        out.extend(sorted(pending))
        pending.clear()

    for line in lines:
        if in_recap:
            if not line.strip():
                in_recap = False
                continue
            recap.append(" ".join(line.split()))
            continue
        if line.startswith("PLAY RECAP"):
            flush()
            in_recap = True
            continue
        m = PLAY.match(line)
        if m:
            flush()
            task = "(play) " + m["name"]
            continue
        m = BANNER.match(line)
        if m:
            flush()
            task = m["name"]
            continue
        m = RESULT.match(line)
        if m:
            item = item_text(m["item"])
            pending.append("\t".join([task, m["host"], m["status"], item]).rstrip("\t"))
            continue
        if line.startswith("...ignoring") and pending:
            pending[-1] += "\tignored"
            continue
        m = INCLUDED.match(line)
        if m:
            for host in m["hosts"].split(", "):
                # The file's path differs per checkout copy: keep its last part.
                fields = [task, host, "included", m["file"].rsplit("/", 1)[-1]]
                if m["item"]:
                    fields.append(item_text(m["item"]))
                pending.append("\t".join(fields))
            continue
        m = RETRYING.match(line)
        if m:
            pending.append("\t".join([task, m["host"], "retrying"]))
    flush()
    with open(tasks_path, "w", encoding="utf-8") as f:
        f.writelines(l + "\n" for l in out)
    with open(recap_path, "w", encoding="utf-8") as f:
        f.writelines(l + "\n" for l in recap)


if __name__ == "__main__":
    if len(sys.argv) != 4:
        sys.exit("usage: task-results.py STDOUT TASKS_OUT RECAP_OUT")
    main(*sys.argv[1:])
