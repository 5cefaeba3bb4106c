#!/usr/bin/python
# A test module that does not support check mode, and one that crashes
# before printing any JSON when asked to.
from __future__ import annotations

import sys

from ansible.module_utils.basic import AnsibleModule


def main():
    module = AnsibleModule(argument_spec=dict(crash=dict(type='bool', default=False)))
    if module.params['crash']:
        print("not json at all")
        sys.exit(3)
    module.exit_json(changed=True, msg='ran')


if __name__ == '__main__':
    main()
