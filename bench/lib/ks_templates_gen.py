"""Generates the workspace bench/kubespray-templates.sh runs both engines in.

Usage: ks_templates_gen.py KUBESPRAY_DIR WORKDIR FACTS_JSON

WORKDIR gets:
  ansible.cfg        jsonfile fact cache in facts/, roles in roles/
  facts/<host>       the facts fixture, with the host's name and address
  roles/ks_defaults  kubespray_defaults' defaults and vars (no tasks)
  roles/render__<r>  per Kubespray role with templates: its defaults, vars and
                     templates (symlinked), one task looping over its .j2 files,
                     printing each as the template lookup renders it, meta dependencies as defaults-only roles
  roles/deps__<r>    defaults-only copies of dependency roles
  render.yml         one play per role; the compare script reads the engines'
                     output
  templates.txt      role<TAB>template path, one line per template
Run by the reference Python (it has PyYAML); touches nothing in KUBESPRAY_DIR.
"""

import json
import os
import sys

import yaml


RENDER = "lookup('ansible.builtin.template', ks_template, convert_data=False, errors='warn') | string"


def wrapper_name(prefix, role):
    return prefix + "__" + role.replace("/", "__")


def link_role_dirs(src, dst, names):
    for name in names:
        if os.path.isdir(os.path.join(src, name)):
            os.symlink(os.path.join(src, name), os.path.join(dst, name))


def dependencies(ks, role):
    meta = os.path.join(ks, "roles", role, "meta", "main.yml")
    if not os.path.exists(meta):
        return []
    with open(meta) as f:
        data = yaml.safe_load(f) or {}
    deps = []
    for dep in data.get("dependencies") or []:
        if isinstance(dep, str):
            dep = {"role": dep}
        if isinstance(dep, dict) and (dep.get("role") or dep.get("name")):
            deps.append(dict(dep))
    return deps


def write_role(ks, work, role, prefix, made, tasks):
    """A wrapper role for `role`; its dependencies become deps__ wrappers."""
    name = wrapper_name(prefix, role)
    if name in made:
        return name
    made.add(name)
    dst = os.path.join(work, "roles", name)
    os.makedirs(os.path.join(dst, "tasks"))
    os.makedirs(os.path.join(dst, "meta"))
    src = os.path.join(ks, "roles", role)
    link_role_dirs(src, dst, ["defaults", "vars"] + (["templates", "files"] if prefix == "render" else []))
    deps = []
    for dep in dependencies(ks, role):
        dep_role = dep.pop("role", None) or dep.pop("name")
        dep["role"] = write_role(ks, work, dep_role, "deps", made, [])
        deps.append(dep)
    with open(os.path.join(dst, "meta", "main.yml"), "w") as f:
        yaml.safe_dump({"dependencies": deps}, f, sort_keys=False)
    with open(os.path.join(dst, "tasks", "main.yml"), "w") as f:
        yaml.safe_dump(tasks, f, sort_keys=False, width=1000)
    return name


def host_facts(base, host, address):
    facts = json.loads(json.dumps(base))
    facts["ansible_hostname"] = host
    facts["ansible_nodename"] = host
    facts["ansible_fqdn"] = host
    facts["ansible_default_ipv4"]["address"] = address
    facts["ansible_all_ipv4_addresses"] = [address]
    return facts


def write_facts_and_config(work, facts_path):
    """The fixture's facts for kube1..3 in a jsonfile fact cache, and the
    ansible.cfg (local roles, that cache, explicit gathering) both engines read."""
    with open(facts_path) as f:
        base = json.load(f)
    os.makedirs(os.path.join(work, "facts"))
    for i, host in enumerate(["kube1", "kube2", "kube3"]):
        with open(os.path.join(work, "facts", host), "w") as f:
            json.dump(host_facts(base, host, "127.0.0.%d" % (11 + i)), f, indent=4, sort_keys=True)
    with open(os.path.join(work, "ansible.cfg"), "w") as f:
        f.write(
            "[defaults]\n"
            "roles_path = ./roles\n"
            "gathering = explicit\n"
            "fact_caching = jsonfile\n"
            "fact_caching_connection = ./facts\n"
            "fact_caching_timeout = 0\n"
            "host_key_checking = False\n"
            "retry_files_enabled = False\n"
            "deprecation_warnings = False\n"
            "force_valid_group_names = ignore\n"
        )


def main():
    ks, work, facts_path = sys.argv[1:4]
    ks = os.path.abspath(ks)
    os.makedirs(os.path.join(work, "roles"))
    write_facts_and_config(work, facts_path)
    made = set()
    defaults = write_role(ks, work, "kubespray_defaults", "deps", made, [])
    plays = []
    listing = []
    roles_dir = os.path.join(ks, "roles")
    for root, dirs, files in sorted(os.walk(roles_dir)):
        dirs.sort()
        if os.path.basename(root) != "templates":
            continue
        role = os.path.relpath(os.path.dirname(root), roles_dir)
        rels = []
        for troot, tdirs, tfiles in sorted(os.walk(root)):
            tdirs.sort()
            for t in sorted(tfiles):
                if t.endswith(".j2"):
                    rels.append(os.path.relpath(os.path.join(troot, t), root))
        listing.extend("%s\t%s" % (role, rel) for rel in rels)
        # One looped task per role: the template lookup renders as the
        # template module does (trim_blocks, no backslash escaping, trailing
        # newlines kept) without the module's Python runs, and one task per
        # role keeps Ansible's per-task variable work small (a task per
        # template made a reference run last over an hour). debug's `var`
        # turns an undefined variable into a per-item "VARIABLE IS NOT
        # DEFINED!: <why>" (with -v) instead of failing the whole loop; other
        # lookup errors become a warning and None (errors='warn'). `string`
        # keeps the text from being turned back into data; the loop variable
        # is not `item`, which some templates use.
        tasks = [{
            "name": "render %s" % role,
            "ansible.builtin.debug": {"var": RENDER},
            "loop": rels,
            "loop_control": {"loop_var": "ks_template"},
            "ignore_errors": True,
        }] if rels else []
        if not tasks:
            continue
        name = write_role(ks, work, role, "render", made, tasks)
        plays.append({
            "name": role,
            "hosts": "k8s_cluster",
            "gather_facts": False,
            "roles": [defaults, name],
        })
    with open(os.path.join(work, "render.yml"), "w") as f:
        yaml.safe_dump(plays, f, sort_keys=False, width=1000)
    with open(os.path.join(work, "templates.txt"), "w") as f:
        f.write("\n".join(listing) + "\n")


if __name__ == "__main__":
    main()
