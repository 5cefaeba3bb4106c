#!/usr/bin/env bash
# Benchmark (not a test): the bundled example's cluster.yml, first run and
# second (no-change) run, rsible-playbook vs ansible-playbook 2.18, each on its
# own copy of the example; prints both times and the ratios.
set -euo pipefail
REPO_ROOT="$(cd "$(dirname "$0")/.." && pwd)"
REF_BIN="${RSIBLE_REF_BIN:-${RSIBLE_REF_VENV:-$HOME/.cache/rsible/ref-venv}/bin}"
(cd "$REPO_ROOT" && cargo build --release -q --bins)
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
for engine in ansible rsible; do
    mkdir -p "$work/$engine"
    (cd "$REPO_ROOT" && cp -r cluster.yml upgrade-cluster.yml ansible.cfg playbooks roles inventory "$work/$engine/")
done
seconds() { # wall time of "$@" in seconds, output discarded
    local start end
    start=$(date +%s.%N); "$@" >/dev/null; end=$(date +%s.%N)
    python3 -c "print(f'{$end - $start:.2f}')"
}
declare -A t
for engine in ansible rsible; do
    bin="$REF_BIN/ansible-playbook"; [ "$engine" = rsible ] && bin="$REPO_ROOT/target/release/rsible-playbook"
    cd "$work/$engine"
    t[$engine-first]=$(ANSIBLE_CONFIG="$PWD/ansible.cfg" seconds "$bin" cluster.yml)
    t[$engine-second]=$(ANSIBLE_CONFIG="$PWD/ansible.cfg" seconds "$bin" cluster.yml)
done
for run in first second; do
    ratio=$(python3 -c "print(f'{${t[ansible-$run]} / ${t[rsible-$run]}:.1f}')")
    echo "cluster.yml $run run: ansible-playbook ${t[ansible-$run]} s, rsible-playbook ${t[rsible-$run]} s, ratio ${ratio}x"
done
