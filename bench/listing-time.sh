#!/usr/bin/env bash
# Benchmark (not a test): time of `--list-tasks` on Kubespray's cluster.yml,
# rsible-playbook vs ansible-playbook 2.18, and their ratio.
# Usage: bench/listing-time.sh KUBESPRAY_DIR [RUNS]
set -euo pipefail
KS="$(cd "${1:?usage: $0 KUBESPRAY_DIR [RUNS]}" && pwd)"
RUNS="${2:-5}"
source "$(dirname "$0")/kubespray-common.sh"
ensure_reference_collections
(cd "$REPO_ROOT" && cargo build --release -q)
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
make_kubespray_inventory "$work/inv"
cd "$KS"

best_of() { # prints the best wall time in seconds of RUNS runs of "$@"
    local best=999999 t
    for _ in $(seq "$RUNS"); do
        local start end
        start=$(date +%s.%N); "$@" >/dev/null 2>&1 || true; end=$(date +%s.%N)
        t=$(echo "$end - $start" | bc -l)
        if (( $(echo "$t < $best" | bc -l) )); then best=$t; fi
    done
    echo "$best"
}
# rsible finds the collections through the reference venv, as Ansible does.
export VIRTUAL_ENV="$(dirname "$REF_BIN")"
# A timing only counts when both produce the same listing.
"$REF_BIN/ansible-playbook" -i "$work/inv/inventory.ini" cluster.yml --list-tasks >"$work/ref.out" 2>/dev/null
"$RSIBLE_BIN/rsible-playbook" -i "$work/inv/inventory.ini" cluster.yml --list-tasks >"$work/rs.out"
if ! cmp -s "$work/ref.out" "$work/rs.out"; then
    echo "the listings differ; not timing" >&2
    exit 1
fi
ref=$(best_of "$REF_BIN/ansible-playbook" -i "$work/inv/inventory.ini" cluster.yml --list-tasks)
rs=$(best_of "$RSIBLE_BIN/rsible-playbook" -i "$work/inv/inventory.ini" cluster.yml --list-tasks)
printf 'ansible-playbook --list-tasks cluster.yml: %.3f s\n' "$ref"
printf 'rsible-playbook  --list-tasks cluster.yml: %.3f s\n' "$rs"
printf 'ratio: %.1fx\n' "$(echo "$ref / $rs" | bc -l)"
