# Shared by the Kubespray scripts: the reference venv and a 3-node inventory.
# Source it; it defines REF_BIN, RSIBLE_BIN, make_kubespray_inventory DIR,
# run_reference_then_rsible and generate_run_and_compare (which read KS, the
# Kubespray checkout).

REF_VENV="${RSIBLE_REF_VENV:-$HOME/.cache/rsible/ref-venv}"
REF_BIN="${RSIBLE_REF_BIN:-$REF_VENV/bin}"
REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# cargo puts the binaries under CARGO_TARGET_DIR when that is set.
RSIBLE_BIN="${RSIBLE_BIN:-${CARGO_TARGET_DIR:-$REPO_ROOT/target}/release}"

# Kubespray's playbooks need the community collections of the `ansible`
# package (ansible.posix.mount, community.general.ini_file, ...).
ensure_reference_collections() {
    if ! "$REF_BIN/python" -c 'import ansible_collections.ansible.posix' 2>/dev/null; then
        echo "installing ansible==11.* (collections) into the reference venv" >&2
        "$REF_BIN/pip" install -q --disable-pip-version-check 'ansible==11.*' jmespath netaddr >&2
    fi
}

# The inventory the issues describe: kube1..3 in kube_control_plane and
# kube_node, etcd as etcd:children, k8s_cluster listed explicitly, group_vars
# copied from Kubespray's inventory/sample.
make_kubespray_inventory() {
    local dir="$1"
    mkdir -p "$dir"
    rm -rf "$dir/group_vars"
    cp -r "$KS/inventory/sample/group_vars" "$dir/"
    cat > "$dir/inventory.ini" <<'INV'
[kube_control_plane]
kube1 ansible_host=127.0.0.11
kube2 ansible_host=127.0.0.12
kube3 ansible_host=127.0.0.13

[etcd:children]
kube_control_plane

[kube_node]
kube1
kube2
kube3

[k8s_cluster:children]
kube_control_plane
kube_node
INV
}

# Runs PLAYBOOK in WORK (inventory/inventory.ini, connection local, -v) under
# the reference and then under rsible, each log in WORK/{ref,rsible}.log, and
# sets ref_time and rsible_time (seconds). With RSIBLE_BENCH_REUSE_REF=1 and a
# recording in WORK.ref, the reference's log, time and password-lookup files
# are reused instead of running it again (same Kubespray, same fixture).
run_reference_then_rsible() { # WORK PLAYBOOK
    local work="$1" playbook="$2"
    _timed_run() { # engine binary-dir
        local start end
        start=$(date +%s.%N)
        (cd "$work" && "$2/ansible-playbook" -i inventory/inventory.ini "$playbook" -c local -v \
            > "$work/$1.log" 2>&1) || true
        end=$(date +%s.%N)
        echo "$end - $start" | bc
    }
    if [ "${RSIBLE_BENCH_REUSE_REF:-0}" = 1 ] && [ -s "$work.ref/ref.log" ]; then
        cp "$work.ref/ref.log" "$work/ref.log"
        # the password lookup's files, so that rsible reads the same passwords
        [ -d "$work.ref/credentials" ] && cp -r "$work.ref/credentials" "$work/inventory/"
        ref_time=$(cat "$work.ref/time")
    else
        ref_time=$(_timed_run ref "$REF_BIN")
        rm -rf "$work.ref" && mkdir -p "$work.ref"
        cp "$work/ref.log" "$work.ref/ref.log" && echo "$ref_time" > "$work.ref/time"
        [ -d "$work/inventory/credentials" ] && cp -r "$work/inventory/credentials" "$work.ref/"
    fi
    ln -sf "$RSIBLE_BIN/rsible-playbook" "$work/ansible-playbook"
    rsible_time=$(_timed_run rsible "$work")
}

# The whole comparison both Kubespray scripts make: GEN (a bench/lib script)
# writes the workspace WORK from Kubespray and the facts fixture, both engines
# run PLAYBOOK there (run_reference_then_rsible), COMPARE (a bench/lib script)
# prints the differences, then the run times. Returns COMPARE's status.
generate_run_and_compare() { # WORK GEN PLAYBOOK COMPARE
    local work="$1" gen="$2" playbook="$3" compare="$4" lib="$REPO_ROOT/bench/lib"
    rm -rf "$work"
    "$REF_BIN/python" "$lib/$gen" "$KS" "$work" "$REPO_ROOT/bench/data/kubespray-facts.json"
    make_kubespray_inventory "$work/inventory"
    run_reference_then_rsible "$work" "$playbook"
    local status=0
    "$REF_BIN/python" "$lib/$compare" "$work" || status=$?
    printf 'time: ansible-playbook %.1f s, rsible-playbook %.2f s, ratio %.0fx\n' \
        "$ref_time" "$rsible_time" "$(echo "$ref_time / $rsible_time" | bc -l)"
    return $status
}
