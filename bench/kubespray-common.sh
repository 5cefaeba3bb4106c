# Shared by the Kubespray scripts: the reference venv and a 3-node inventory.
# Source it; it defines KS (the Kubespray checkout), REF_BIN, RSIBLE_BIN and
# make_kubespray_inventory DIR.

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
