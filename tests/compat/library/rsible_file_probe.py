#!/usr/bin/python
# A test module in the shape of Kubespray's library/kube.py: AnsibleModule from
# ansible.module_utils.basic, a command run through run_command, check mode.
from __future__ import annotations

DOCUMENTATION = r'''
module: rsible_file_probe
short_description: writes a file and reads it back with cat (rsible tests)
'''

import os

from ansible.module_utils.basic import AnsibleModule


def main():
    module = AnsibleModule(
        argument_spec=dict(
            path=dict(type='path', required=True),
            content=dict(type='str', default=''),
            fail_with=dict(type='str'),
        ),
        supports_check_mode=True,
    )
    path = module.params['path']
    if module.params['fail_with']:
        module.fail_json(msg=module.params['fail_with'], path=path)
    content = module.params['content']
    current = None
    if os.path.exists(path):
        with open(path) as f:
            current = f.read()
    changed = current != content
    if changed and not module.check_mode:
        with open(path, 'w') as f:
            f.write(content)
    if module.check_mode and not os.path.exists(path):
        module.exit_json(changed=changed, path=path, stdout='', check=True)
    rc, out, err = module.run_command(['cat', path], check_rc=True)
    module.exit_json(changed=changed, path=path, stdout=out, rc=rc, check=module.check_mode)


if __name__ == '__main__':
    main()
