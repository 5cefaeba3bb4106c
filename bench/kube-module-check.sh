#!/usr/bin/env bash
# Runs Kubespray's own library/kube.py (a Python module with no native twin in
# rsible) through rsible's Python fallback, locally, against a stand-in
# `kubectl` script, and compares with ansible-playbook 2.18 on the same play:
# same output, same kubectl command lines.
# Usage: bench/kube-module-check.sh KUBESPRAY_DIR
set -uo pipefail
KS="$(cd "${1:?usage: $0 KUBESPRAY_DIR}" && pwd)"
source "$(dirname "$0")/kubespray-common.sh"
[ -f "$KS/library/kube.py" ] || { echo "no library/kube.py in $KS" >&2; exit 1; }
[ -x "$RSIBLE_BIN/rsible-playbook" ] || (cd "$REPO_ROOT" && cargo build --release -q)

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/bin" "$work/manifests"
echo "kind: ConfigMap" > "$work/manifests/cm.yml"

# The stand-in kubectl logs its command line and answers like kubectl would.
cat > "$work/bin/kubectl" <<'KUBECTL'
#!/bin/sh
echo "kubectl $*" >> "$(dirname "$0")/../kubectl.log"
case "$*" in
  *"get "*missing*) echo 'Error from server (NotFound): pods "missing" not found' >&2; exit 1 ;;
  *"get "*) echo "coredns-1   1/1   Running   0   1d" ;;
  *apply*) echo "configmap/demo configured" ;;
  *delete*) echo 'configmap "demo" deleted' ;;
  *) echo "unexpected kubectl call: $*" >&2; exit 2 ;;
esac
KUBECTL
chmod +x "$work/bin/kubectl"

cat > "$work/ansible.cfg" <<CFG
[defaults]
library = $KS/library
retry_files_enabled = False
CFG
cat > "$work/inventory.ini" <<'INV'
node1 ansible_connection=local ansible_python_interpreter=/usr/bin/python3
INV
cat > "$work/kube.yml" <<'PLAY'
- name: Kubespray's kube module through the Python fallback
  hosts: node1
  gather_facts: false
  vars:
    kubectl: "{{ playbook_dir }}/bin/kubectl"
  tasks:
    - name: Apply a manifest (as kubernetes-apps roles do)
      kube:
        kubectl: "{{ kubectl }}"
        filename: "{{ playbook_dir }}/manifests/cm.yml"
        namespace: kube-system
        state: latest
      register: applied

    - name: Check a resource exists
      kube:
        kubectl: "{{ kubectl }}"
        resource: pod
        name: coredns-1
        namespace: kube-system
        state: exists
      register: exists

    - name: Delete it again
      kube:
        kubectl: "{{ kubectl }}"
        resource: configmap
        name: demo
        namespace: kube-system
        state: absent

    - name: Show what kube returned
      debug:
        msg: "{{ applied.msg }} | {{ exists.msg }}"

    - name: A failing kubectl call fails the task
      kube:
        kubectl: "{{ kubectl }}"
        resource: pod
        name: missing
        state: stopped
      ignore_errors: true
PLAY

run() {  # run NAME PROGRAM
    rm -f "$work/kubectl.log"
    local start end
    start=$(date +%s.%N)
    (cd "$work" && ANSIBLE_CONFIG="$work/ansible.cfg" ANSIBLE_NOCOLOR=1 \
        VIRTUAL_ENV="$(dirname "$REF_BIN")" "$2" -i inventory.ini kube.yml) >"$work/$1.out" 2>"$work/$1.err"
    echo $? > "$work/$1.rc"
    end=$(date +%s.%N)
    mv "$work/kubectl.log" "$work/$1.kubectl" 2>/dev/null || : > "$work/$1.kubectl"
    printf '%-18s %6.2fs  exit %s\n' "$1" "$(echo "$end - $start" | bc)" "$(cat "$work/$1.rc")"
}
run ansible-playbook "$REF_BIN/ansible-playbook"
run rsible-playbook "$RSIBLE_BIN/rsible-playbook"

status=0
if diff -u "$work/ansible-playbook.out" "$work/rsible-playbook.out"; then
    echo "output: identical ($(wc -l < "$work/rsible-playbook.out") lines)"
else
    echo "output: DIFFERENT"; status=1
fi
if diff -u "$work/ansible-playbook.kubectl" "$work/rsible-playbook.kubectl"; then
    echo "kubectl calls: identical ($(wc -l < "$work/rsible-playbook.kubectl") calls)"
else
    echo "kubectl calls: DIFFERENT"; status=1
fi
[ "$(cat "$work/ansible-playbook.rc")" = "$(cat "$work/rsible-playbook.rc")" ] || { echo "exit codes differ"; status=1; }
if [ "$status" != 0 ]; then
    echo "--- rsible stderr:"; cat "$work/rsible-playbook.err"
fi
exit $status
