#!/usr/bin/env bash
# Benchmark (not a test): fact gathering on N hosts (default 20), an empty play
# with gather_facts: true, rsible-playbook vs ansible-playbook 2.18 (pipelining
# and ControlPersist on). The hosts are aliases of one sshd this script starts
# on 127.0.0.1 with generated keys. Prints both times and the ratio.
#
# RSIBLE_BENCH_LOGIN_RC=skip|keep: see bench/lib/loopback-sshd.sh.
set -euo pipefail
N="${1:-20}"
REPO_ROOT="$(cd "$(dirname "$0")/.." && pwd)"
# shellcheck source=bench/lib/loopback-sshd.sh
. "$REPO_ROOT/bench/lib/loopback-sshd.sh" # for sshd_login_rc_config
REF_BIN="${RSIBLE_REF_BIN:-${RSIBLE_REF_VENV:-$HOME/.cache/rsible/ref-venv}/bin}"
TARGET_DIR="${CARGO_TARGET_DIR:-$REPO_ROOT/target}"
# RSIBLE_BENCH_PROFILE=debug checks the script without a release build (times then mean little).
PROFILE="${RSIBLE_BENCH_PROFILE:-release}"
if [ "$PROFILE" = release ]; then
    (cd "$REPO_ROOT" && cargo build --release -q --bins)
else
    (cd "$REPO_ROOT" && cargo build -q --bins)
fi
work="$(mktemp -d)"
sshd_pid=""
cleanup() { [ -n "$sshd_pid" ] && kill "$sshd_pid" 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT

ssh-keygen -q -t ed25519 -N '' -f "$work/host_key"
ssh-keygen -q -t ed25519 -N '' -f "$work/client_key"
cp "$work/client_key.pub" "$work/authorized_keys"
mkdir -p /run/sshd 2>/dev/null || true
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
cat > "$work/sshd_config" <<CFG
Port $port
ListenAddress 127.0.0.1
HostKey $work/host_key
PidFile $work/sshd.pid
AuthorizedKeysFile $work/authorized_keys
StrictModes no
UsePAM no
PermitRootLogin yes
PasswordAuthentication no
PubkeyAuthentication yes
MaxStartups 200
MaxSessions 200
LogLevel ERROR
CFG
sshd_login_rc_config >> "$work/sshd_config"
"$(command -v sshd || echo /usr/sbin/sshd)" -D -e -f "$work/sshd_config" 2>"$work/sshd.log" &
sshd_pid=$!
for _ in $(seq 50); do (echo > /dev/tcp/127.0.0.1/$port) 2>/dev/null && break; sleep 0.1; done

{
    echo "[bench]"
    for i in $(seq 1 "$N"); do
        echo "host$i ansible_host=127.0.0.1 ansible_port=$port"
    done
    echo "[all:vars]"
    echo "ansible_user=$(id -un)"
    echo "ansible_ssh_private_key_file=$work/client_key"
    echo "ansible_python_interpreter=/usr/bin/python3"
} > "$work/inventory.ini"
cat > "$work/ansible.cfg" <<CFG
[defaults]
host_key_checking = False
retry_files_enabled = False
forks = $N
[ssh_connection]
pipelining = True
ssh_args = -o ControlMaster=auto -o ControlPersist=60s -o UserKnownHostsFile=/dev/null
CFG
cat > "$work/facts.yml" <<'PLAY'
- hosts: bench
  gather_facts: true
  tasks: []
PLAY

seconds() { # wall time of "$@" in seconds; output kept for a failed run
    local start end
    # A pause first: what the previous run left ending (its sessions, agents,
    # shells) is not timed as part of this one, as for a user running one at a time.
    sleep 0.3
    start=$(date +%s.%N)
    if ! "$@" > "$work/out.txt" 2>&1; then cat "$work/out.txt" >&2; exit 1; fi
    end=$(date +%s.%N)
    python3 -c "print(f'{$end - $start:.3f}')"
}
cd "$work"
export ANSIBLE_CONFIG="$work/ansible.cfg"
# Cold: each engine's first run against the new sshd sets up its ssh master
# (one key exchange: with OpenSSH 9.2's default sntrup761x25519 ~0.1 s of CPU on
# each side, ~0.5 s of wall time on a loaded machine). Warm: the same runs again
# while both masters persist (ControlPersist=60s), as in a session of several
# runs (bench/hosts.sh measures that way). Facts are gathered anew every run.
t_ansible=$(seconds "$REF_BIN/ansible-playbook" -i inventory.ini facts.yml)
t_rsible=$(seconds "$TARGET_DIR/$PROFILE/rsible-playbook" -i inventory.ini facts.yml)
# Warm: WARM_ROUNDS (default 5) rounds, each engine in turn, so that both see
# the same background load; the medians are compared. rsible runs three times
# per round: one run is a tenth of a second and moves with every other process
# (Ansible's run just before it among them), more samples steady its median.
median() { python3 -c "import statistics, sys; print(f'{statistics.median(map(float, sys.argv[1:])):.3f}')" "$@"; }
w_ansible_all=() w_rsible_all=()
for _ in $(seq "${WARM_ROUNDS:-5}"); do
    w_ansible_all+=("$(seconds "$REF_BIN/ansible-playbook" -i inventory.ini facts.yml)")
    for _ in 1 2 3; do
        w_rsible_all+=("$(seconds "$TARGET_DIR/$PROFILE/rsible-playbook" -i inventory.ini facts.yml)")
    done
done
w_ansible=$(median "${w_ansible_all[@]}")
w_rsible=$(median "${w_rsible_all[@]}")
ratio=$(python3 -c "print(f'{$t_ansible / $t_rsible:.1f}')")
w_ratio=$(python3 -c "print(f'{$w_ansible / $w_rsible:.1f}')")
echo "warm rounds: ansible-playbook ${w_ansible_all[*]} s; rsible-playbook ${w_rsible_all[*]} s"
echo "gather_facts on $N hosts (login rc files: ${RSIBLE_BENCH_LOGIN_RC:-keep}; load $(cut -d' ' -f1-3 /proc/loadavg)): cold: ansible-playbook ${t_ansible} s, rsible-playbook ${t_rsible} s, ratio ${ratio}x; warm ssh masters (medians): ansible-playbook ${w_ansible} s, rsible-playbook ${w_rsible} s, ratio ${w_ratio}x (target 50x)"
