#!/usr/bin/env bash
# Checks that an end-to-end run left this machine (outside the sandbox) as it
# was: its sysctls, mounts, network configuration, hostname, and the files of
# its system trees.
#
#   machine-guard.sh before DIR   record the machine's state into DIR
#   machine-guard.sh after DIR    compare with it; print what changed, exit 1
#                                 when anything did
#
# The file check lists files modified after `before` under the system trees a
# playbook could reach by mistake (a task that ran on the controller instead of
# a sandbox host). Home directories, /tmp and build trees are left out: other
# work on the machine writes there all the time.
set -euo pipefail

mode="${1:?usage: $0 before|after DIR}"
dir="${2:?usage: $0 before|after DIR}"
TREES=(/etc /usr /opt /var/lib /boot /srv /root/.ssh)

state() {
    # sysctls that can be read; values that move by themselves are dropped.
    sysctl -a 2>/dev/null | { grep -vE '^(fs\.(dentry-state|file-nr|inode-nr|inode-state|quota\.)|kernel\.(ns_last_pid|random\.|pty\.nr|sched_domain)|net\.netfilter\.nf_conntrack_count|vm\.stat_refresh)' || true; } |
        sort > "$1/sysctl.txt"
    # Mount points of the machine's namespace (this shell's), without the
    # sandbox's own overlay mounts, which belong to the hosts' namespaces.
    awk '{print $2, $3}' /proc/self/mounts | sort > "$1/mounts.txt"
    { ip -o addr show; ip route show table all; ip -6 route show table all; } 2>/dev/null |
        sed -E 's/ +(valid_lft|preferred_lft) [^ ]+//g' | sort > "$1/network.txt" || true
    { iptables-save 2>/dev/null || true; } | { grep -v '^#' || true; } |
        sed -E 's/\[[0-9]+:[0-9]+\]//' > "$1/iptables.txt"
    hostname > "$1/hostname.txt"
    lsmod 2>/dev/null | awk 'NR > 1 {print $1}' | sort > "$1/modules.txt" || true
}

case "$mode" in
    before)
        mkdir -p "$dir"
        state "$dir"
        touch "$dir/marker"
        ;;
    after)
        [ -f "$dir/marker" ] || { echo "machine-guard: no 'before' in $dir" >&2; exit 2; }
        mkdir -p "$dir/after"
        state "$dir/after"
        changed=0
        for f in sysctl mounts network iptables hostname modules; do
            if ! cmp -s "$dir/$f.txt" "$dir/after/$f.txt"; then
                echo "machine-guard: $f changed:"
                diff "$dir/$f.txt" "$dir/after/$f.txt" | sed -n '1,12p' | sed 's/^/    /'
                changed=1
            fi
        done
        find "${TREES[@]}" -xdev -newer "$dir/marker" \( -type f -o -type l \) 2>/dev/null |
            sort > "$dir/after/files.txt" || true
        if [ -s "$dir/after/files.txt" ]; then
            echo "machine-guard: files changed under ${TREES[*]}:"
            sed -n '1,20p' "$dir/after/files.txt" | sed 's/^/    /'
            changed=1
        fi
        [ "$changed" = 0 ] && echo "machine-guard: the machine outside the sandbox is unchanged"
        exit "$changed"
        ;;
    *) echo "usage: $0 before|after DIR" >&2; exit 2 ;;
esac
