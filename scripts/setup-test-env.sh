#!/usr/bin/env bash
# Installs what rsible's tests need on a fresh Debian machine and prints the
# environment variables the tests read. Idempotent: a second run only checks.
#
#   - openssh-server and sudo: integration tests start their own sshd on
#     loopback (never the machine's service) and become another user via sudo.
#   - a Python virtualenv with ansible-core 2.18: differential tests run the
#     reference ansible-playbook / ansible-inventory beside rsible.
set -euo pipefail

REF_VENV="${RSIBLE_REF_VENV:-$HOME/.cache/rsible/ref-venv}"
ANSIBLE_CORE_SPEC='ansible-core>=2.18,<2.19'
# The `ansible` package brings the collections (ansible.posix's json callback,
# community.general, ansible.utils) that tests and Kubespray use; 11.x pins core 2.18.
ANSIBLE_SPEC='ansible==11.*'

as_root() {
    if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

need_pkgs=()
[ -x /usr/sbin/sshd ] || need_pkgs+=(openssh-server)
command -v ssh >/dev/null || need_pkgs+=(openssh-client)
command -v sudo >/dev/null || need_pkgs+=(sudo)
# The become tests run the reference's modules as another user, with the system Python.
[ -x /usr/bin/python3 ] || need_pkgs+=(python3)
command -v ssh-keygen >/dev/null || need_pkgs+=(openssh-client)
# The uri/get_url differential test makes its certificates with openssl.
command -v openssl >/dev/null || need_pkgs+=(openssl)
# System-module differential tests: the reference's apt_repository needs python3-apt in
# the system Python (else it would install it itself); iptables runs in a private network
# namespace; apt_key needs apt-key, gpg and the Debian archive keys.
/usr/bin/python3 -c 'import apt' 2>/dev/null || need_pkgs+=(python3-apt)
[ -x /usr/sbin/iptables ] || need_pkgs+=(iptables)
# bin_path_task_env.yml: setup with a task PATH lacking lsb_release, beside one that
# has the real lsb_release (the agent's PATH must not be searched).
command -v lsb_release >/dev/null || need_pkgs+=(lsb-release)
command -v gpg >/dev/null || need_pkgs+=(gpg)
[ -e /usr/share/keyrings/debian-archive-bookworm-stable.gpg ] || need_pkgs+=(debian-archive-keyring)
# The reference's ansible.posix.selinux needs libselinux's Python binding (it respawns
# into the system Python to find it).
/usr/bin/python3 -c 'import selinux' 2>/dev/null || need_pkgs+=(python3-selinux)
# The dnf differential test builds test rpms (rpmbuild), a local repository
# (createrepo_c) and installs into a throwaway installroot with the dnf CLI (rsible)
# and dnf's Python bindings (the reference module, under /usr/bin/python3).
command -v rpmbuild >/dev/null || need_pkgs+=(rpm)
command -v createrepo_c >/dev/null || need_pkgs+=(createrepo-c)
command -v dnf >/dev/null || need_pkgs+=(dnf)
/usr/bin/python3 -c 'import dnf' 2>/dev/null || need_pkgs+=(python3-dnf)
# tests/service_differential.rs: the real update-rc.d and `service`, ps for `pattern`.
[ -x /usr/sbin/update-rc.d ] || need_pkgs+=(init-system-helpers)
command -v ps >/dev/null || need_pkgs+=(procps)
# tests/systemd_live_differential.rs runs a real systemd as PID 1 of a throwaway
# namespace (never as the machine's init); unshare/nsenter/pivot_root are util-linux.
[ -x /lib/systemd/systemd ] || need_pkgs+=(systemd)
command -v nsenter >/dev/null || need_pkgs+=(util-linux)
# tests/apt_differential.rs indexes its local apt repository of test packages with
# dpkg-scanpackages (dpkg-dev); the reference's apt module needs python3-apt (above).
command -v dpkg-scanpackages >/dev/null || need_pkgs+=(dpkg-dev)
# ansible.posix.synchronize runs rsync (tests/ssh_synchronize.rs).
[ -x /usr/bin/rsync ] || need_pkgs+=(rsync)
# tests/compat/unarchive_zip.yml makes its archive with zip; unarchive's zip handler
# (Ansible's and rsible's) runs unzip and zipinfo (both in the unzip package).
command -v zip >/dev/null || need_pkgs+=(zip)
command -v zipinfo >/dev/null || need_pkgs+=(unzip)
if [ "${#need_pkgs[@]}" -gt 0 ]; then
    echo "setup: installing ${need_pkgs[*]}" >&2
    as_root apt-get update -qq
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need_pkgs[@]}" >&2
fi
# sshd refuses to start without its privilege-separation directory.
as_root mkdir -p /run/sshd

if ! "$REF_VENV/bin/python" -c 'import ansible.release as r, sys, ansible_collections.ansible.posix; v = tuple(map(int, r.__version__.split(".")[:2])); sys.exit(0 if v == (2, 18) else 1)' 2>/dev/null; then
    echo "setup: creating the reference venv $REF_VENV (ansible-core 2.18 and ansible 11)" >&2
    rm -rf "$REF_VENV"
    # The default parent is rsible's own agent cache ($HOME/.cache/rsible), which
    # rsible creates private (0700) and tests/ssh_host_keys.rs checks: created
    # here first, it must not get the umask's 0755.
    mkdir -p "$(dirname "$(dirname "$REF_VENV")")"
    [ -d "$(dirname "$REF_VENV")" ] || mkdir -m 700 "$(dirname "$REF_VENV")"
    python3 -m venv "$REF_VENV"
    "$REF_VENV/bin/pip" install -q --disable-pip-version-check "$ANSIBLE_CORE_SPEC" "$ANSIBLE_SPEC" jmespath netaddr >&2
fi
# Kubespray's requirements.txt: passlib (password_hash) with a bcrypt it supports (passlib 1.7.4 breaks on bcrypt >= 4.1).
if ! "$REF_VENV/bin/python" -c 'import passlib, jmespath, netaddr, bcrypt, sys; sys.exit(bcrypt.__version__ != "4.0.1")' 2>/dev/null; then
    echo "setup: adding passlib, bcrypt, jmespath and netaddr to $REF_VENV" >&2
    "$REF_VENV/bin/pip" install -q --disable-pip-version-check 'passlib==1.7.4' 'bcrypt==4.0.1' jmespath netaddr >&2
fi
"$REF_VENV/bin/ansible-playbook" --version >&2

echo "export RSIBLE_REF_BIN=$REF_VENV/bin"
echo "export RSIBLE_REF_PYTHON=$REF_VENV/bin/python"
