#!/usr/bin/env python3
"""What a run changed in the sandbox hosts' root filesystems.

    snapshot.py RULES_FILE HOSTS_DIR OUT
    snapshot.py --again RULES_FILE LISTING OUT [PRISTINE_DIR]

The second form applies the rules of today to a listing written earlier (a
recorded reference run), so that both sides of a comparison are read alike.

Each host keeps every write of the run in HOSTS_DIR/<host>/upper (the overlay's
upper layer over the pristine tree), so walking it lists exactly the paths the
run created, changed or deleted. One line per path, sorted:

    host<TAB>/path<TAB>kind<TAB>mode<TAB>uid:gid<TAB>content

kind is file, dir, link, deleted (an overlay whiteout) or other; content is the
sha256 of a file, the target of a link, empty otherwise. Paths matching a rule
of RULES_FILE (fnmatch globs on the path, '#' comments) are left out: their
content or existence depends on the clock or on the engine, not on the playbook.

A directory that exists in the pristine tree with the same mode and owner is in
the upper layer only because something beneath it was written (overlayfs copies
the parents up); when everything beneath it is left out by the rules, it says
nothing about the run and is left out too. (A directory deleted and made again
in the same mode, an opaque one in the overlay, was never told apart from a
copied-up one: the listing has no column for it.) Otherwise one engine's write of a left-out file
(apt's binary cache, say) would show as a difference in its parents. The
pristine tree is HOSTS_DIR/../pristine, or PRISTINE_DIR for --again.
"""
import fnmatch
import hashlib
import os
import re
import stat
import sys


BACKUP_NAME = re.compile(r"\.\d+\.\d{4}-\d\d-\d\d@\d\d:\d\d:\d\d~$")


def load_rules(path):
    """(paths left out, paths whose content is left out)"""
    rules, content_rules = [], []
    with open(path, encoding="utf-8") as f:
        for line in f:
            line = line.split("#", 1)[0].strip()
            if line.startswith("content:"):
                content_rules.append(line[len("content:"):].strip())
            elif line:
                rules.append(line)
    return rules, content_rules


def excluded(path, rules):
    return any(fnmatch.fnmatchcase(path, rule) for rule in rules)


def describe(full):
    st = os.lstat(full)
    mode = stat.S_IMODE(st.st_mode)
    owner = f"{st.st_uid}:{st.st_gid}"
    if stat.S_ISCHR(st.st_mode) and st.st_rdev == 0:
        return "deleted", "", "", ""
    if stat.S_ISREG(st.st_mode):
        digest = hashlib.sha256()
        with open(full, "rb") as f:
            for chunk in iter(lambda: f.read(1 << 20), b""):
                digest.update(chunk)
        return "file", f"{mode:04o}", owner, digest.hexdigest()
    if stat.S_ISDIR(st.st_mode):
        return "dir", f"{mode:04o}", owner, ""
    if stat.S_ISLNK(st.st_mode):
        return "link", "", owner, os.readlink(full)
    return "other", f"{mode:04o}", owner, ""


def main(rules_path, hosts_dir, out_path):
    rules, content_rules = load_rules(rules_path)
    lines, entries = [], []
    for host in sorted(os.listdir(hosts_dir)):
        upper = os.path.join(hosts_dir, host, "upper")
        if not os.path.isdir(upper):
            continue
        for dirpath, dirnames, filenames in os.walk(upper):
            rel_dir = "/" + os.path.relpath(dirpath, upper).lstrip(".")
            kept = []
            for name in sorted(dirnames):
                path = os.path.join(rel_dir, name)
                if excluded(path, rules) or excluded(path + "/", rules):
                    continue
                kept.append(name)
            dirnames[:] = kept
            for name in dirnames + sorted(filenames):
                path = os.path.join(rel_dir, name)
                if excluded(path, rules):
                    continue
                full = os.path.join(dirpath, name)
                kind, mode, owner, content = describe(full)
                entries.append((host, path, kind, mode, owner, content))
    pristine = os.path.join(os.path.dirname(os.path.abspath(hosts_dir)), "pristine")
    for entry in without_bare_parents(entries, pristine):
        lines.append(listing_line(*entry, content_rules))
    write_sorted(lines, out_path)


def without_bare_parents(entries, pristine):
    """entries minus the directories that are only parents of left-out paths
    (see the module's docstring), deepest first so that a chain of them goes."""
    if not pristine or not os.path.isdir(pristine):
        return entries
    children = {}
    for host, path, *_ in entries:
        key = (host, os.path.dirname(path))
        children[key] = children.get(key, 0) + 1
    dropped = set()
    dirs = [e for e in entries if e[2] == "dir"]
    for host, path, _, mode, owner, _ in sorted(dirs, key=lambda e: -e[1].count("/")):
        if (
            children.get((host, path), 0)
            or not same_in_pristine(pristine, path, mode, owner)
        ):
            continue
        dropped.add((host, path))
        key = (host, os.path.dirname(path))
        children[key] -= 1
    return [e for e in entries if (e[0], e[1]) not in dropped]


def same_in_pristine(pristine, path, mode, owner):
    try:
        st = os.lstat(os.path.join(pristine, path.lstrip("/")))
    except OSError:
        return False
    return (
        stat.S_ISDIR(st.st_mode)
        and f"{stat.S_IMODE(st.st_mode):04o}" == mode
        and f"{st.st_uid}:{st.st_gid}" == owner
    )


def listing_line(host, path, kind, mode, owner, content, content_rules):
    if excluded(path, content_rules):
        content = "(content not compared)"
    path = BACKUP_NAME.sub(".<backup>~", path)
    return "\t".join((host, path, kind, mode, owner, content))


def write_sorted(lines, out_path):
    lines.sort()
    with open(out_path, "w", encoding="utf-8") as f:
        f.writelines(line + "\n" for line in lines)


def again(rules_path, listing_path, out_path, pristine=None):
    rules, content_rules = load_rules(rules_path)
    entries = []
    with open(listing_path, encoding="utf-8") as f:
        for raw in f:
            host, path, kind, mode, owner, content = raw.rstrip("\n").split("\t")
            if not excluded(path, rules):
                entries.append((host, path, kind, mode, owner, content))
    lines = [listing_line(*e, content_rules) for e in without_bare_parents(entries, pristine)]
    write_sorted(lines, out_path)


if __name__ == "__main__":
    if len(sys.argv) in (5, 6) and sys.argv[1] == "--again":
        again(*sys.argv[2:])
    elif len(sys.argv) == 4:
        main(*sys.argv[1:])
    else:
        sys.exit("usage: snapshot.py RULES_FILE HOSTS_DIR OUT | --again RULES_FILE LISTING OUT [PRISTINE_DIR]")
