"""Generates the workspace bench/kubespray-values.sh runs both engines in.

Usage: ks_values_gen.py KUBESPRAY_DIR WORKDIR FACTS_JSON

Every variable of a Kubespray role's defaults/ and vars/ files whose value
holds a template (`{{` or `{%`, anywhere inside, also nested in lists and
dicts) is printed per host by a debug task in that role's scope, so that both
engines' values can be compared exactly.

WORKDIR gets the same ansible.cfg, fact cache and wrapper roles as the
templates harness (bench/lib/ks_templates_gen.py, whose helpers this reuses),
plus:
  roles/values__<r>  per role: its defaults and vars (symlinked), its meta
                     dependencies as deps__ wrappers, and the tasks below
  values.yml         first network_facts' tasks (the addresses Kubespray
                     computes before its roles run), then one play per role (kubespray_defaults' wrapper,
                     then the role's) with a debug task per templated
                     variable of defaults/ and vars/main; then one play per
                     role with other vars/ files (loaded by Kubespray's tasks
                     through include_vars), each file included and its
                     templated variables printed right after. These come
                     last because include_vars values stay with the host for
                     the rest of the run and would shadow later roles'.
  values.txt         label<TAB>variable, one line per (task, variable); the
                     label is the role, or "role vars/<file>"
Run by the reference Python (it has PyYAML); touches nothing in KUBESPRAY_DIR.
"""

import os
import sys

import yaml

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from ks_templates_gen import write_facts_and_config, write_role  # noqa: E402

MAIN_NAMES = ("main.yml", "main.yaml", "main.json", "main")


class AnyTagLoader(yaml.SafeLoader):
    """Reads Ansible's tags (!unsafe, !vault) as plain values: only whether a
    value holds a template matters here."""


AnyTagLoader.add_multi_constructor(
    "!", lambda loader, suffix, node: loader.construct_scalar(node)
    if isinstance(node, yaml.ScalarNode) else None)


def templated(value):
    if isinstance(value, str):
        return "{{" in value or "{%" in value
    if isinstance(value, dict):
        return any(templated(k) or templated(v) for k, v in value.items())
    if isinstance(value, list):
        return any(templated(v) for v in value)
    return False


def load(path):
    with open(path) as f:
        data = yaml.load(f, Loader=AnyTagLoader)
    return data if isinstance(data, dict) else {}


def main_files(directory):
    """The files Ansible reads as a role's defaults or vars: main.yml (or
    .yaml, .json, no extension), or every file under a main/ directory."""
    for name in MAIN_NAMES:
        path = os.path.join(directory, name)
        if os.path.isfile(path):
            return [path]
        if os.path.isdir(path):
            found = []
            for root, dirs, files in sorted(os.walk(path)):
                dirs.sort()
                found.extend(os.path.join(root, f) for f in sorted(files)
                             if f.endswith((".yml", ".yaml", ".json")))
            return found
    return []


def templated_names(paths):
    names = []
    for path in paths:
        for key, value in load(path).items():
            if isinstance(key, str) and templated(value) and key not in names:
                names.append(key)
    return names


def debug_tasks(label, names):
    # One task per variable: in a loop, an error other than an undefined
    # variable ends Ansible's loop and the later items would go unseen.
    # debug's `var` prints the value as JSON, keeping its type (1 and "1",
    # true and "True" differ); an undefined variable prints "VARIABLE IS NOT
    # DEFINED!: <why>" (with -v), other errors fail the task.
    return [{
        "name": "value %s @ %s" % (name, label),
        "ansible.builtin.debug": {"var": name},
        "ignore_errors": True,
    } for name in names]


def main():
    ks, work, facts_path = sys.argv[1:4]
    ks = os.path.abspath(ks)
    os.makedirs(os.path.join(work, "roles"))
    write_facts_and_config(work, facts_path)

    made = set()
    defaults = write_role(ks, work, "kubespray_defaults", "deps", made, [])
    main_plays, include_plays, listing = [], [], []
    # Kubespray computes the hosts' addresses (main_ip, main_access_ip, ...)
    # in network_facts' tasks before any role runs; many defaults use them.
    facts_tasks = os.path.join(ks, "roles", "network_facts", "tasks", "main.yaml")
    if os.path.exists(facts_tasks):
        name = write_role(ks, work, "network_facts", "facts", made, [{
            "name": "network facts",
            "ansible.builtin.import_tasks": facts_tasks,
        }])
        main_plays.append({"name": "network facts", "hosts": "k8s_cluster",
                           "gather_facts": False, "roles": [name]})
    roles_dir = os.path.join(ks, "roles")
    for root, dirs, files in sorted(os.walk(roles_dir)):
        dirs.sort()
        # a role is a directory with defaults/ or vars/ (roles nest:
        # kubernetes-apps/ansible)
        if os.path.basename(root) in ("defaults", "vars") \
                or not any(os.path.isdir(os.path.join(root, d)) for d in ("defaults", "vars")):
            continue
        role = os.path.relpath(root, roles_dir)
        mains = main_files(os.path.join(root, "defaults")) + main_files(os.path.join(root, "vars"))
        names = templated_names(mains)
        tasks = debug_tasks(role, names)
        extra_tasks = []
        vars_dir = os.path.join(root, "vars")
        if os.path.isdir(vars_dir):
            for name in sorted(os.listdir(vars_dir)):
                path = os.path.join(vars_dir, name)
                if name in MAIN_NAMES or not os.path.isfile(path) \
                        or not name.endswith((".yml", ".yaml", ".json")):
                    continue
                file_names = templated_names([path])
                if not file_names:
                    continue
                label = "%s vars/%s" % (role, name)
                extra_tasks.append({"name": "include %s" % label,
                                    "ansible.builtin.include_vars": {"file": path}})
                extra_tasks.extend(debug_tasks(label, file_names))
                listing.extend("%s\t%s" % (label, n) for n in file_names)
        if not tasks and not extra_tasks:
            continue
        listing.extend("%s\t%s" % (role, n) for n in names)
        wrapped = [defaults] if role != "kubespray_defaults" else []
        if tasks:
            name = write_role(ks, work, role, "values", made, tasks)
            main_plays.append({"name": role, "hosts": "k8s_cluster", "gather_facts": False,
                               "roles": wrapped + [name]})
        if extra_tasks:
            name = write_role(ks, work, role, "varsfiles", made, extra_tasks)
            include_plays.append({"name": role + " vars files", "hosts": "k8s_cluster",
                                  "gather_facts": False, "roles": wrapped + [name]})
    with open(os.path.join(work, "values.yml"), "w") as f:
        yaml.safe_dump(main_plays + include_plays, f, sort_keys=False, width=1000)
    with open(os.path.join(work, "values.txt"), "w") as f:
        f.write("\n".join(listing) + "\n")


if __name__ == "__main__":
    main()
