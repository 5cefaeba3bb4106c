#!/usr/bin/env bash
# Real Kubespray on the sandbox hosts, ansible-playbook 2.18 and rsible-playbook
# side by side (see bench/sandbox/README.md).
#
#   bench/kubespray-e2e.sh KUBESPRAY_DIR PLAYBOOK [EXTRA ansible-playbook ARGS...]
#
# PLAYBOOK: cluster.yml, upgrade-cluster.yml, scale.yml, reset.yml or
# remove-node.yml. For each engine: reset the 3 sandbox hosts to pristine, run
# the playbook from a fresh copy of the checkout with its own ansible.cfg,
# record (task, host, status) lines, the PLAY RECAP, the wall time and what the
# run changed on each host's filesystem. Then print same/different for each and
# the time ratio, and the first differences. Results stay in $E2E_OUT
# (default /tmp/rsible-e2e/<playbook>). Exit status 0 only when all agree.
#
# E2E_ENGINES="ansible rsible" (default) picks the engines to run. With one,
# the other's last results in $E2E_OUT are compared if present: the reference
# run takes minutes, so E2E_ENGINES=rsible reuses it while working on rsible.
set -euo pipefail

KS="$(cd "${1:?usage: $0 KUBESPRAY_DIR PLAYBOOK [ARGS...]}" && pwd)"
PLAYBOOK="${2:?usage: $0 KUBESPRAY_DIR PLAYBOOK [ARGS...]}"
shift 2
PLAYBOOK="${PLAYBOOK%.yml}.yml"
[ -f "$KS/$PLAYBOOK" ] || { echo "no $PLAYBOOK in $KS" >&2; exit 1; }

BENCH="$(cd "$(dirname "$0")" && pwd)"
source "$BENCH/kubespray-common.sh"
SANDBOX="$BENCH/sandbox/sandbox.sh"
SANDBOX_DIR="${RSIBLE_SANDBOX_DIR:-$HOME/.cache/rsible/sandbox}"
OUT="${E2E_OUT:-/tmp/rsible-e2e/${PLAYBOOK%.yml}}"
ENGINES="${E2E_ENGINES:-ansible rsible}"

# The sandbox's answers to what a bed of loopback hosts without internet
# cannot give Kubespray (issue 5): loopback addresses are not "the host's own",
# no downloads, no container engine. JSON, so that false stays false.
EXTRA_VARS='{"ignore_assert_errors": true, "enable_nodelocaldns": false, "deploy_container_engine": false, "skip_downloads": true}'
PLAYBOOK_ARGS=()
case "$PLAYBOOK" in
    reset.yml) PLAYBOOK_ARGS=(-e reset_confirmation=yes) ;;
    # The confirmation pause reads a terminal this script does not have.
    remove-node.yml) PLAYBOOK_ARGS=(-e node=kube3 -e '{"skip_confirmation": true}') ;;
esac

# Kubespray's requirements.txt pins ansible 11 (ansible-core 2.18), jmespath and
# netaddr. The reference venv has them; otherwise build a venv from the file once.
pick_ansible_venv() {
    local probe='import ansible.release, jmespath, netaddr, ansible_collections.ansible.posix as p
assert ansible.release.__version__.startswith("2.18."), ansible.release.__version__'
    if "$REF_BIN/python" -c "$probe" 2>/dev/null; then
        ANSIBLE_VENV="$(dirname "$REF_BIN")"
        return
    fi
    ANSIBLE_VENV="$HOME/.cache/rsible/kubespray-venv"
    if ! "$ANSIBLE_VENV/bin/python" -c "$probe" 2>/dev/null; then
        echo "creating $ANSIBLE_VENV from $KS/requirements.txt" >&2
        python3 -m venv "$ANSIBLE_VENV"
        "$ANSIBLE_VENV/bin/pip" install -q --disable-pip-version-check -r "$KS/requirements.txt" >&2
    fi
}

# One engine's run on freshly reset hosts; everything lands in $OUT/$engine.
run_engine() {
    local engine="$1" dir="$OUT/$1" bin start end rc
    shift
    rm -rf "$dir"
    mkdir -p "$dir/facts" "$dir/cp"
    # A fresh copy of the checkout per run, so nothing one run writes into it
    # can steer the next; at the same path for both engines, so the paths in
    # their output (included files, loop items) are the same.
    local ks="$OUT/kubespray"
    rm -rf "$ks"
    cp -a "$KS/." "$ks"
    rm -rf "$ks/.git"
    bin="$ANSIBLE_VENV/bin/ansible-playbook"
    [ "$engine" = rsible ] && bin="$RSIBLE_BIN/rsible-playbook"

    "$SANDBOX" reset 3 >/dev/null
    echo "== $engine: $PLAYBOOK" >&2
    "$BENCH/sandbox/machine-guard.sh" before "$dir/machine"
    start=$(date +%s.%N)
    set +e
    # Kubespray's ansible.cfg caches facts in /tmp for a day and keeps ssh
    # masters for 30 minutes: both are redirected into this run's directory so
    # that neither engine sees what the other (or an earlier run) left.
    (cd "$ks" && env \
        PATH="$ANSIBLE_VENV/bin:$PATH" VIRTUAL_ENV="$ANSIBLE_VENV" \
        ANSIBLE_CONFIG="$ks/ansible.cfg" \
        ANSIBLE_CACHE_PLUGIN_CONNECTION="$dir/facts" \
        ANSIBLE_SSH_CONTROL_PATH_DIR="$dir/cp" \
        ANSIBLE_NOCOLOR=1 ANSIBLE_FORCE_COLOR=0 \
        "$bin" -i "$OUT/inventory/inventory.ini" "$PLAYBOOK" \
        -e "$EXTRA_VARS" "${PLAYBOOK_ARGS[@]}" "$@" \
        >"$dir/stdout" 2>"$dir/stderr" </dev/null)
    rc=$?
    set -e
    end=$(date +%s.%N)
    python3 -c "print(f'{$end - $start:.1f}')" > "$dir/seconds"
    echo "$rc" > "$dir/exit"
    # The run must not have reached the machine outside the sandbox.
    "$BENCH/sandbox/machine-guard.sh" after "$dir/machine" > "$dir/machine-guard.txt" || true
    sed 's/^/   /' "$dir/machine-guard.txt" >&2
    python3 "$BENCH/sandbox/task-results.py" "$dir/stdout" "$dir/tasks.tsv" "$dir/recap.txt"
    python3 "$BENCH/sandbox/snapshot.py" "$BENCH/sandbox/volatile-paths.txt" \
        "$SANDBOX_DIR/hosts" "$dir/files.tsv"
    echo "   exit $rc in $(cat "$dir/seconds") s; $(wc -l < "$dir/tasks.tsv") results, $(wc -l < "$dir/files.tsv") changed paths" >&2
    sed 's/^/   /' "$dir/recap.txt" >&2
}

# "same X" or "different X" and, when different, the start of the diff.
compare() {
    local what="$1" file="$2"
    if cmp -s "$OUT/ansible/$file" "$OUT/rsible/$file"; then
        echo "same $what"
        return 0
    fi
    echo "different $what (first differences, - ansible-playbook + rsible-playbook):"
    diff -U1 "$OUT/ansible/$file" "$OUT/rsible/$file" | sed -n '3,16p' | sed 's/^/    /'
    return 1
}

main() {
    local engine status=0
    mkdir -p "$OUT"
    make_kubespray_inventory "$OUT/inventory"
    cat >> "$OUT/inventory/inventory.ini" <<EOF

[all:vars]
ansible_user=root
ansible_ssh_private_key_file=$SANDBOX_DIR/id_ed25519
EOF
    pick_ansible_venv
    if [[ " $ENGINES " == *" rsible "* ]]; then
        (cd "$REPO_ROOT" && cargo build --release -q --bins)
    fi
    for engine in $ENGINES; do run_engine "$engine" "$@"; done
    "$SANDBOX" down >/dev/null

    [ -f "$OUT/ansible/stdout" ] && [ -f "$OUT/rsible/stdout" ] || return 0
    # Derived again from each stdout, so that a reused reference run is read
    # by the same version of the parser as the fresh one.
    for engine in ansible rsible; do
        python3 "$BENCH/sandbox/task-results.py" "$OUT/$engine/stdout" \
            "$OUT/$engine/tasks.tsv" "$OUT/$engine/recap.txt"
        python3 "$BENCH/sandbox/snapshot.py" --again "$BENCH/sandbox/volatile-paths.txt" \
            "$OUT/$engine/files.tsv" "$OUT/$engine/files.tsv" "$SANDBOX_DIR/pristine"
    done
    echo "== $PLAYBOOK: ansible-playbook vs rsible-playbook"
    compare "task results" tasks.tsv || status=1
    compare "recap" recap.txt || status=1
    compare "files" files.tsv || status=1
    [ "$(cat "$OUT/ansible/exit")" = "$(cat "$OUT/rsible/exit")" ] ||
        { echo "different exit codes: $(cat "$OUT/ansible/exit") vs $(cat "$OUT/rsible/exit")"; status=1; }
    python3 -c "a, r = $(cat "$OUT/ansible/seconds"), $(cat "$OUT/rsible/seconds"); print(f'time: ansible-playbook {a:.1f} s, rsible-playbook {r:.1f} s, ratio {a / max(r, 0.01):.1f}x')"
    return "$status"
}

main "$@"
