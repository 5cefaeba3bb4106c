#!/usr/bin/python
# A test module returning integers beyond 64 and 128 bits, as
# community.crypto's x509_certificate_info returns an RSA modulus.
from __future__ import annotations

from ansible.module_utils.basic import AnsibleModule


def main():
    module = AnsibleModule(argument_spec=dict(bits=dict(type='int', default=2048)))
    bits = module.params['bits']
    modulus = (1 << (bits - 1)) + 12345678901234567891
    module.exit_json(
        changed=False,
        u64_max=(1 << 64) - 1,
        beyond_64=(1 << 64) + 7,
        negative_beyond_64=-(1 << 70) - 3,
        beyond_128=(1 << 128) + 9,
        modulus=modulus,
        public_key_data=dict(size=bits, modulus=modulus, exponent=65537),
        in_list=[1, modulus, -modulus],
    )


if __name__ == '__main__':
    main()
