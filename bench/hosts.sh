#!/usr/bin/env bash
# Benchmark (not a test): N hosts x a 10-task play (file, command, template,
# copy, lineinfile, stat, set_fact, a loop, shell, assert), rsible-playbook vs
# ansible-playbook 2.18 with pipelining and ControlPersist. The hosts are
# aliases of one private loopback sshd, each with its own directory.
# Prints both times, the ratio and rsible's peak RSS per N.
#
#   bench/hosts.sh [N ...]        default: 1 20 100
#   FORKS=20                      forks for both engines (default 20)
#   REFERENCE_MAX=100             above this N only rsible runs (time, RSS)
#   RSIBLE_BENCH_LOGIN_RC=skip    see bench/lib/loopback-sshd.sh
set -euo pipefail
REPO_ROOT="$(cd "$(dirname "$0")/.." && pwd)"
REF_BIN="${RSIBLE_REF_BIN:-${RSIBLE_REF_VENV:-$HOME/.cache/rsible/ref-venv}/bin}"
FORKS="${FORKS:-20}"
REFERENCE_MAX="${REFERENCE_MAX:-100}"
# shellcheck source=bench/lib/loopback-sshd.sh
. "$REPO_ROOT/bench/lib/loopback-sshd.sh"
# shellcheck source=bench/lib/loopback-hosts.sh
. "$REPO_ROOT/bench/lib/loopback-hosts.sh"
[ "$#" -gt 0 ] || set -- 1 20 100
(cd "$REPO_ROOT" && cargo build --release -q --bins)
RSIBLE_RELEASE="${CARGO_TARGET_DIR:-$REPO_ROOT/target}/release"

work="$(mktemp -d /tmp/rsible-bench-hosts.XXXXXX)"
trap 'sshd_stop "$work/sshd"; rm -rf "$work"' EXIT
sshd_start "$work/sshd"
# More hosts than the default open-files limit allows (a socket and pipes per host).
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true

write_project() { # DIR N ENGINE
    local dir="$1" n="$2" engine="$3" i
    mkdir -p "$dir/templates"
    cat > "$dir/ansible.cfg" <<CFG
[defaults]
host_key_checking = False
retry_files_enabled = False
interpreter_python = /usr/bin/python3
forks = $FORKS
[ssh_connection]
pipelining = True
ssh_args = -o ControlMaster=auto -o ControlPersist=60s -o UserKnownHostsFile=/dev/null
CFG
    write_loopback_inventory "$dir/inventory.ini" bench "$n" "$dir"
    cat > "$dir/templates/bench.conf.j2" <<'J2'
# {{ inventory_hostname }} ({{ engine }})
{% for k in ['alpha', 'beta', 'gamma'] %}
{{ k }} = {{ loop.index * 10 }}
{% endfor %}
J2
    cat > "$dir/play.yml" <<PLAY
- hosts: bench
  gather_facts: false
  vars:
    engine: $engine
  tasks:
    - name: directory
      file: path="{{ work_dir }}" state=directory mode="0755"
    - name: command
      command: echo hello {{ inventory_hostname }}
      register: echo_out
    - name: template
      template: src=bench.conf.j2 dest="{{ work_dir }}/bench.conf" mode="0644"
    - name: copy
      copy:
        content: "static {{ inventory_hostname }}\n"
        dest: "{{ work_dir }}/static.txt"
    - name: lineinfile
      lineinfile: path="{{ work_dir }}/static.txt" line="added line"
    - name: stat
      stat: path="{{ work_dir }}/bench.conf"
      register: conf
    - name: set_fact
      set_fact:
        conf_size: "{{ conf.stat.size }}"
    - name: loop
      file: path="{{ work_dir }}/item-{{ item }}" state=touch
      loop: [1, 2, 3]
    - name: shell
      shell: ls {{ work_dir }} | wc -l
      register: count
    - name: assert
      assert:
        that:
          - count.stdout | int == 5
          - conf_size | int > 0
          - echo_out.stdout == 'hello ' ~ inventory_hostname
PLAY
}

run_engine() { # ENGINE N [LABEL] -> prints "seconds peak_kib"
    local engine="$1" n="$2" dir="$work/$1-$2${3:+-$3}" bin
    write_project "$dir" "$n" "$engine"
    bin="$REF_BIN/ansible-playbook"
    [ "$engine" = rsible ] && bin="$RSIBLE_RELEASE/rsible-playbook"
    timed_playbook "$dir" "$bin"
    if [ "$TIMED_RC" -ne 0 ] || ! grep -q "failed=0" "$dir/out.log"; then
        echo "$engine failed on N=$n (exit $TIMED_RC); last lines:" >&2
        tail -20 "$dir/out.log" >&2
        exit 1
    fi
    # Every host must have run every task: 10 tasks, 1 ok-only recap line per host.
    local recaps
    recaps=$(grep -c '^h[0-9]* *: ok=10 ' "$dir/out.log" || true)
    if [ "$recaps" -ne "$n" ]; then
        echo "$engine: expected $n hosts with ok=10 in the recap, found $recaps" >&2
        exit 1
    fi
    python3 -c "print(f'{$TIMED_SECONDS:.2f} $TIMED_RSS_KIB')"
}

# Not timed: one 1-host run per engine first. After a new build rsible sends
# its agent (~14 MB) to the target once and keeps it there by content hash;
# both engines' ssh masters (ControlPersist) are then up, as in a session of
# several runs. The measured runs below each start from empty directories.
read -r warm_rs _ < <(run_engine rsible 1 warmup)
warm_an=skipped
[ "$REFERENCE_MAX" -ge 1 ] && read -r warm_an _ < <(run_engine ansible 1 warmup)
echo "warm-up, not counted (1 host): rsible-playbook $warm_rs s (with the agent upload when the build is new), ansible-playbook $warm_an s"

for n in "$@"; do
    read -r rs_t rs_rss < <(run_engine rsible "$n")
    if [ "$n" -le "$REFERENCE_MAX" ]; then
        read -r an_t _ < <(run_engine ansible "$n")
        ratio=$(python3 -c "print(f'{$an_t / $rs_t:.1f}')")
        echo "N=$n (login rc files: ${RSIBLE_BENCH_LOGIN_RC:-keep}; load $(cut -d" " -f1-3 /proc/loadavg)): ansible-playbook $an_t s, rsible-playbook $rs_t s, ratio ${ratio}x, rsible peak RSS $((rs_rss / 1024)) MiB"
    else
        echo "N=$n: rsible-playbook $rs_t s, peak RSS $((rs_rss / 1024)) MiB (reference skipped above N=$REFERENCE_MAX)"
    fi
done
