#!/usr/bin/env bash
# Compares rsible-playbook's listing modes with ansible-playbook 2.18's on a
# Kubespray checkout, and prints the number of differing lines per playbook
# and mode.  Usage: bench/kubespray-listing.sh KUBESPRAY_DIR
set -uo pipefail
KS="$(cd "${1:?usage: $0 KUBESPRAY_DIR}" && pwd)"
source "$(dirname "$0")/kubespray-common.sh"
ensure_reference_collections
[ -x "$RSIBLE_BIN/rsible-playbook" ] || (cd "$REPO_ROOT" && cargo build --release -q)

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
make_kubespray_inventory "$work/inv"

total=0
cd "$KS"
for pb in cluster upgrade-cluster scale reset remove-node; do
    extra=()
    [ "$pb" = remove-node ] && extra=(-e node=kube3)
    for mode in list-tasks list-tags list-hosts syntax-check; do
        "$REF_BIN/ansible-playbook" -i "$work/inv/inventory.ini" "$pb.yml" --"$mode" "${extra[@]}" \
            >"$work/ref.out" 2>"$work/ref.err"; ref_rc=$?
        VIRTUAL_ENV="$(dirname "$REF_BIN")" "$RSIBLE_BIN/rsible-playbook" -i "$work/inv/inventory.ini" "$pb.yml" --"$mode" "${extra[@]}" \
            >"$work/rs.out" 2>"$work/rs.err"; rs_rc=$?
        if [ "$mode" = list-hosts ]; then
            sort -o "$work/ref.out" "$work/ref.out"; sort -o "$work/rs.out" "$work/rs.out"
        fi
        n=$(diff "$work/ref.out" "$work/rs.out" | grep -c '^[<>]')
        [ "$ref_rc" = "$rs_rc" ] || n=$((n + 1))
        total=$((total + n))
        printf '%-16s %-13s %5d differing lines (exit %s vs %s)\n' "$pb" "$mode" "$n" "$ref_rc" "$rs_rc"
        if [ "$n" -gt 0 ] && [ -n "${VERBOSE:-}" ]; then diff "$work/ref.out" "$work/rs.out" | head -20; head -5 "$work/rs.err"; fi
    done
done
echo "total: $total differing lines"
[ "$total" -eq 0 ]
