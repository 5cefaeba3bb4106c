"""Compares the files both engines rendered (bench/kubespray-templates.sh).

Usage: ks_templates_compare.py WORKDIR
Reads WORKDIR/templates.txt and the engines' logs (ref.log, rsible.log: the
debug output of each render task), writes what each engine rendered to
out/{ref,rsible}/<host>/<role>/<file> for inspection, prints each difference
(the first differing line, or the error of the engine that failed) and the
totals; exit status 1 when something differs.
"""

import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from ks_log_results import both_engines, pairs, read_items, scan  # noqa: E402
from ks_templates_gen import RENDER  # noqa: E402

LINE = re.compile(
    r"^(?:TASK \[(?:[^\]]* : )?render ([^\]]*)\] \**$|(ok|failed): \[([^\]]+)\](?: => )?\(item=([^\n]*?)\) => )",
    re.M,
)


def results(text):
    """(role, template, host) -> ("ok", rendered text) or ("failed", message),
    from the per-item results of a default-callback log."""
    found = {}
    role = None
    for m, value in scan(text, LINE):
        if value is None:
            role = m.group(1)
            continue
        if role is None:
            continue
        key = (role, m.group(4), m.group(3))
        rendered = value.get(RENDER)
        if m.group(2) == "ok" and isinstance(rendered, str):
            if rendered.startswith("VARIABLE IS NOT DEFINED!"):
                found[key] = ("failed", rendered)
            elif rendered == "None":
                found[key] = ("failed", "lookup error (see the warnings in the log)")
            else:
                found[key] = ("ok", rendered)
        else:
            found[key] = ("failed", str(value.get("msg", value)))
    return found


def first_difference(a, b):
    la, lb = a.split("\n"), b.split("\n")
    for i, (x, y) in enumerate(zip(la, lb)):
        if x != y:
            return "line %d:\n      ref:    %r\n      rsible: %r" % (i + 1, x, y)
    i = min(len(la), len(lb))
    extra = la[i:] if len(la) > len(lb) else lb[i:]
    who = "ref" if len(la) > len(lb) else "rsible"
    return "line %d: only %s has %r" % (i + 1, who, "\n".join(extra)[:200])


def save(work, engine, out, text):
    path = os.path.join(work, "out", engine, out)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        f.write(text)


def main():
    work = sys.argv[1]
    ref, ours = both_engines(work, results)
    same = different = both_failed = 0
    templates = read_items(os.path.join(work, "templates.txt"))
    for (role, rel), host, a, b in pairs(templates, ref, ours):
        out = os.path.join(host, role, rel[:-3])
        for engine, r in (("ref", a), ("rsible", b)):
            if r[0] == "ok":
                save(work, engine, out, r[1])
        if a[0] == "failed" and b[0] == "failed":
            both_failed += 1
            continue
        if a == b:
            same += 1
            continue
        different += 1
        if a[0] == "failed":
            what = "ref failed: %s" % a[1][:300]
        elif b[0] == "failed":
            what = "rsible failed: %s" % b[1][:300]
        else:
            what = first_difference(a[1], b[1])
        print("DIFF %s: %s" % (out, what))
    print("%d same, %d different, %d failed in both" % (same, different, both_failed))
    sys.exit(1 if different else 0)


if __name__ == "__main__":
    main()
