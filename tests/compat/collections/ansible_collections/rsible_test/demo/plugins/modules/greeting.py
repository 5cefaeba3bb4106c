#!/usr/bin/python
# A collection module whose module_utils import each other (absolute and relative).
from __future__ import annotations

from ansible.module_utils.basic import AnsibleModule
try:
    from ansible_collections.rsible_test.demo.plugins.module_utils.words import greeting
except ImportError:
    greeting = None


def main():
    module = AnsibleModule(
        argument_spec=dict(name=dict(type='str', required=True), excited=dict(type='bool', default=False)),
        supports_check_mode=True,
    )
    module.exit_json(changed=False, greeting=greeting(module.params['name'], module.params['excited']))


if __name__ == '__main__':
    main()
