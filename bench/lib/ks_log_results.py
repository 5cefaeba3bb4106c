"""Reading the engines' logs for the Kubespray comparisons
(ks_templates_compare.py, ks_values_compare.py): both run one generated
playbook under each engine and compare, per (item, host), what the debug
tasks printed.
"""

import json
import os

HOSTS = ["kube1", "kube2", "kube3"]


def read_log(path, missing_ok=False):
    """The text of an engine's log; "" for a missing one when missing_ok."""
    try:
        with open(path, errors="replace") as f:
            return f.read()
    except OSError:
        if missing_ok:
            return ""
        raise


def scan(text, line_re):
    """Walks a default-callback log: yields (match, None) for each match of
    line_re whose group 1 is set (a task banner), and (match, result) for the
    other matches that are followed by a JSON object (a host's result); a
    match followed by anything else is passed over."""
    decoder = json.JSONDecoder()
    pos = 0
    while True:
        m = line_re.search(text, pos)
        if not m:
            return
        pos = m.end()
        if m.group(1):
            yield m, None
            continue
        try:
            result, end = decoder.raw_decode(text, pos)
        except ValueError:
            continue
        pos = end
        if isinstance(result, dict):
            yield m, result


def both_engines(work, results, missing_ok=False):
    """results(text) of WORK/ref.log and of WORK/rsible.log."""
    return tuple(results(read_log(os.path.join(work, name + ".log"), missing_ok))
                 for name in ("ref", "rsible"))


def pairs(items, ref, ours):
    """For each item (a tuple: the key without its host) and host, in order:
    (item, host, ref's result, rsible's result); an engine without a result
    for it counts as failed."""
    for item in items:
        for host in HOSTS:
            key = tuple(item) + (host,)
            yield (item, host,
                   ref.get(key, ("failed", "no result in ref.log")),
                   ours.get(key, ("failed", "no result in rsible.log")))


def read_items(path):
    """The tab-separated lines of templates.txt / values.txt, as tuples."""
    with open(path) as f:
        return [tuple(l.rstrip("\n").split("\t")) for l in f if l.strip()]
