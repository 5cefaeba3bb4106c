# rsible payload entry point (written for rsible, not taken from Ansible).
# The zip this file heads holds one Ansible module and the module_utils it
# imports. The module arguments arrive on stdin as {"ANSIBLE_MODULE_ARGS": ...};
# they are handed to ansible.module_utils.basic the way ansible-core 2.18 reads
# them, then the module runs as __main__.
import json
import os
import runpy
import sys

MODULE = "@MODULE@"


def _run():
    document = json.loads(sys.stdin.buffer.read().decode("utf-8"))
    args = document.setdefault("ANSIBLE_MODULE_ARGS", {})
    # The agent gives every run a private scratch directory.
    scratch = os.environ.pop("RSIBLE_MODULE_TMPDIR", None)
    if scratch and not args.get("_ansible_tmpdir"):
        args["_ansible_tmpdir"] = scratch
    encoded = json.dumps(document).encode("utf-8")
    try:
        from ansible.module_utils import basic
    except ImportError:
        basic = None
    if basic is not None:
        basic._ANSIBLE_ARGS = encoded
    sys.argv = [MODULE]
    # respawn_module (apt, dnf, selinux, ...) re-runs the module under another
    # interpreter and reads these two names from the module's globals.
    modlib_path = os.path.dirname(os.path.abspath(__file__))
    runpy.run_module(
        MODULE,
        init_globals=dict(_module_fqn=MODULE, _modlib_path=modlib_path),
        run_name="__main__",
        alter_sys=True,
    )


if __name__ == "__main__":
    _run()
