#!/bin/sh
# Regenerates the archives tests/compat/unarchive_controller_src.yml unpacks from the
# controller (committed, so that both engines find the same bytes in files/): fixed
# names, modes, owners and times, gzip without a name or time stamp.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/pkg-1.0/bin" "$tmp/doc"
printf '#!/bin/sh\necho tool\n' >"$tmp/pkg-1.0/bin/tool"
printf 'readme\n' >"$tmp/pkg-1.0/README"
printf 'from the role\n' >"$tmp/doc/role.txt"
chmod 0755 "$tmp/pkg-1.0/bin/tool" "$tmp/pkg-1.0" "$tmp/pkg-1.0/bin" "$tmp/doc"
chmod 0644 "$tmp/pkg-1.0/README" "$tmp/doc/role.txt"
opts="--sort=name --mtime=2020-01-01 --owner=0 --group=0 --numeric-owner"
# shellcheck disable=SC2086
tar $opts -cf - -C "$tmp" pkg-1.0 | gzip -n9 >"$here/pkg.tgz"
# shellcheck disable=SC2086
tar $opts -b1 -cf "$here/../../roles/unarchive_role/files/role.tar" -C "$tmp" doc
# The same archive vault-encrypted (password in vault-pass.txt beside it).
cp "$here/pkg.tgz" "$tmp/vaulted.tgz"
"${RSIBLE_REF_BIN:-/root/.cache/rsible/ref-venv/bin}/ansible-vault" encrypt \
    --vault-password-file "$here/vault-pass.txt" --output "$here/vaulted.tgz" "$tmp/vaulted.tgz"
