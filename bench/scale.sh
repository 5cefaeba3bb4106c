#!/usr/bin/env bash
# Benchmark (not a test): one rsible-playbook run over N hosts, for N = 10,
# 100 and 1000 by default. The hosts are aliases of one private loopback sshd
# (bench/lib/loopback-sshd.sh), each with its own directory. Prints the wall
# time, the controller's peak RSS and the RSS per host for each N, and fails
# when a host did not run every task.
#
#   bench/scale.sh [N ...]        default: 10 100 1000
#   FORKS=50                      forks (default 50)
#   RSIBLE_BENCH_PROFILE=debug    use the debug build (checks the script quickly)
#   RSIBLE_BENCH_NO_BUILD=1       use the binary already built
#
# The binary is copied without its debug sections (objcopy --strip-debug):
# rsible ships its `rsible-agent` binary to the hosts, and every connection hashes the cached
# copy on the target before running it, so 58 MB with line tables against
# 12 MB stripped is most of a host's start-up on a loaded machine.
#
# ssh_args: ControlMaster=no. rsible keeps one session per host for the whole
# run, so a control master adds nothing, and a thousand masters lingering for
# ControlPersist's 60 s would weigh on the next N.
set -euo pipefail
REPO_ROOT="$(cd "$(dirname "$0")/.." && pwd)"
FORKS="${FORKS:-50}"
PROFILE="${RSIBLE_BENCH_PROFILE:-release}"
TARGET_DIR="${CARGO_TARGET_DIR:-$REPO_ROOT/target}"
# shellcheck source=bench/lib/loopback-sshd.sh
. "$REPO_ROOT/bench/lib/loopback-sshd.sh"
# shellcheck source=bench/lib/loopback-hosts.sh
. "$REPO_ROOT/bench/lib/loopback-hosts.sh"
[ "$#" -gt 0 ] || set -- 10 100 1000
if [ -n "${RSIBLE_BENCH_NO_BUILD:-}" ]; then
    :
elif [ "$PROFILE" = release ]; then
    (cd "$REPO_ROOT" && cargo build --release -q --bins)
else
    (cd "$REPO_ROOT" && cargo build -q --bins)
fi
work="$(mktemp -d /tmp/rsible-bench-scale.XXXXXX)"
trap 'sshd_stop "$work/sshd"; [ -n "${RSIBLE_BENCH_KEEP:-}" ] || rm -rf "$work"' EXIT
# rsible-playbook ships the `rsible-agent` binary beside it as the agent.
BIN="$work/rsible-playbook"
objcopy --strip-debug "$TARGET_DIR/$PROFILE/rsible-playbook" "$BIN"
objcopy --strip-debug "$TARGET_DIR/$PROFILE/rsible-agent" "$work/rsible-agent"
sshd_start "$work/sshd"
# rsible raises its own soft limit to the hard one; the shell's is for sshd's
# children here (a session and an agent per host).
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true

TASKS=7
write_project() { # DIR N
    local dir="$1" n="$2" i
    mkdir -p "$dir/templates" "$dir/hosts"
    cat > "$dir/ansible.cfg" <<CFG
[defaults]
host_key_checking = False
retry_files_enabled = False
forks = $FORKS
[ssh_connection]
ssh_args = -o ControlMaster=no -o UserKnownHostsFile=/dev/null
CFG
    write_loopback_inventory "$dir/inventory.ini" scale "$n" "$dir"
    cat > "$dir/templates/node.conf.j2" <<'J2'
# {{ inventory_hostname }}
{% for k in ['alpha', 'beta', 'gamma'] %}
{{ k }} = {{ loop.index * 10 }}
{% endfor %}
J2
    cat > "$dir/play.yml" <<'PLAY'
- hosts: scale
  gather_facts: false
  tasks:
    - name: directory
      file: path="{{ work_dir }}" state=directory mode="0755"
    - name: copy
      copy:
        content: "static {{ inventory_hostname }}\n"
        dest: "{{ work_dir }}/static.txt"
    - name: template
      template: src=node.conf.j2 dest="{{ work_dir }}/node.conf" mode="0644"
    - name: command
      command: cat {{ work_dir }}/static.txt
      register: cat_out
    - name: stat
      stat: path="{{ work_dir }}/node.conf"
      register: conf
    - name: set_fact
      set_fact:
        conf_size: "{{ conf.stat.size }}"
    - name: assert
      assert:
        that:
          - conf_size | int > 0
          - cat_out.stdout == 'static ' ~ inventory_hostname
PLAY
}

echo "rsible-playbook ($PROFILE), forks=$FORKS, $TASKS tasks per host"
for n in "$@"; do
    dir="$work/n$n"
    write_project "$dir" "$n"
    timed_playbook "$dir" "$BIN"
    recaps=$(grep -c "^h[0-9]* *: ok=$TASKS .*failed=0" "$dir/out.log" || true)
    if [ "$TIMED_RC" -ne 0 ] || [ "$recaps" -ne "$n" ]; then
        echo "N=$n failed (exit $TIMED_RC, $recaps of $n hosts completed); last lines:" >&2
        tail -20 "$dir/out.log" >&2
        exit 1
    fi
    rss_kib=$TIMED_RSS_KIB
    python3 -c "
t = $TIMED_SECONDS
print(f'N={$n}: {t:.1f} s ({t / $n * 1000:.0f} ms/host), peak RSS {$rss_kib / 1024:.1f} MiB ({$rss_kib / $n:.0f} KiB/host)')"
    rm -rf "$dir/hosts"
done
