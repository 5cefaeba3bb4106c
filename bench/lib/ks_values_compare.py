"""Compares the variable values both engines printed (bench/kubespray-values.sh).

Usage: ks_values_compare.py WORKDIR
Reads WORKDIR/values.txt and the engines' logs (ref.log, rsible.log: the
results of the debug tasks, one per variable), prints each difference (label,
variable, host, both values as JSON) and the totals; exit status 1 when
something differs. A value is compared as parsed JSON with its types (1 and
"1", true and "True", 1 and 1.0 differ). A failure is an item that failed or
printed "VARIABLE IS NOT DEFINED!"; failures in both engines are counted
apart, and written with both messages (JSON strings; "MESSAGE" marks those
whose messages differ) to WORKDIR/both-failed.txt.
"""

import json
import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from ks_log_results import both_engines, pairs, read_items, scan  # noqa: E402

LINE = re.compile(
    r"^(?:TASK \[(?:[^\]]* : )?value (\S+) @ ([^\]]*)\] \**$"
    r"|(ok|fatal): \[([^\]]+)\](?:: FAILED!)? => )",
    re.M,
)


def typed(value):
    """A key that tells apart what == does not (True == 1, 1 == 1.0)."""
    if isinstance(value, dict):
        return ("dict", tuple((k, typed(v)) for k, v in value.items()))
    if isinstance(value, list):
        return ("list", tuple(typed(v) for v in value))
    return (type(value).__name__, value)


def results(text):
    """(label, variable, host) -> ("ok", value) or ("failed", message)."""
    found = {}
    task = None
    for m, result in scan(text, LINE):
        if result is None:
            task = (m.group(2), m.group(1))
            continue
        if task is None:
            continue
        label, name = task
        key = (label, name, m.group(4))
        if m.group(3) == "ok" and name in result:
            value = result[name]
            if isinstance(value, str) and value.startswith("VARIABLE IS NOT DEFINED!"):
                found[key] = ("failed", value)
            else:
                found[key] = ("ok", value)
        else:
            found[key] = ("failed", str(result.get("msg", result)))
    return found


def show(value):
    text = json.dumps(value, sort_keys=True)
    return text if len(text) <= 400 else text[:400] + "..."


def main():
    work = sys.argv[1]
    ref, ours = both_engines(work, results, missing_ok=True)
    same = different = both_failed = same_message = 0
    entries = read_items(os.path.join(work, "values.txt"))
    failed_lines = []
    for (label, name), host, a, b in pairs(entries, ref, ours):
        if a[0] == "failed" and b[0] == "failed":
            both_failed += 1
            same_message += a[1] == b[1]
            failed_lines.append("%s%s [%s] %s\n  ref:    %s\n  rsible: %s\n"
                                % ("" if a[1] == b[1] else "MESSAGE ", name, label, host,
                                   json.dumps(a[1]), json.dumps(b[1])))
            continue
        if a[0] == b[0] and typed(a[1]) == typed(b[1]):
            same += 1
            continue
        different += 1
        print("DIFF %s [%s] %s" % (name, label, host))
        for engine, r in (("ref", a), ("rsible", b)):
            what = show(r[1]) if r[0] == "ok" else "FAILED: %s" % r[1][:400]
            print("  %-7s %s" % (engine + ":", what))
    with open(os.path.join(work, "both-failed.txt"), "w") as f:
        f.writelines(failed_lines)
    print("%d identical, %d different, %d both-failed (%d with the same message)"
          % (same, different, both_failed, same_message))
    sys.exit(1 if different else 0)


if __name__ == "__main__":
    main()
