#!/usr/bin/env bash
# N separate Debian hosts on this machine for end-to-end runs (see README.md).
#
#   sandbox.sh up [N]      build the pristine Debian tree once, start kube1..N
#   sandbox.sh down        stop the hosts this script started (recorded pids)
#   sandbox.sh reset [N]   down, throw away every host's changes, up
#   sandbox.sh status      one line per host
#   sandbox.sh ssh HOST [COMMAND...]   a root shell / command on a host
#
# Host i is named kube<i>, answers ssh as root on 127.0.0.<10+i>:22 with the key
# $SANDBOX_DIR/id_ed25519, and keeps its changes in $SANDBOX_DIR/hosts/kube<i>/upper.
set -euo pipefail

SANDBOX_DIR="${RSIBLE_SANDBOX_DIR:-$HOME/.cache/rsible/sandbox}"
SUITE="${RSIBLE_SANDBOX_SUITE:-bookworm}"
MIRROR="${RSIBLE_SANDBOX_MIRROR:-http://deb.debian.org/debian}"
SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
PRISTINE="$SANDBOX_DIR/pristine"
KEY="$SANDBOX_DIR/id_ed25519"
DEFAULT_HOSTS=3

# Bumped whenever customize_pristine changes, so an existing cache is brought
# up to date instead of silently used as it was.
PRISTINE_VERSION=2

# What debootstrap puts in: what Ansible needs to reach and drive a host.
BASE_PACKAGES=openssh-server,python3,sudo,iproute2,ca-certificates,systemd,systemd-sysv,procps
# What Kubespray's system_packages role installs on Debian 12 with the
# sample group_vars. Preinstalled so that each run does not download them
# twice (once per engine); the role still checks them through apt.
KUBESPRAY_PACKAGES=(apparmor apt-transport-https bash-completion conntrack curl e2fsprogs
    ebtables gnupg ipset iptables ipvsadm libseccomp2 mergerfs openssl python3-apt rsync socat
    software-properties-common tar unzip xfsprogs)

die() { echo "sandbox: $*" >&2; exit 1; }
log() { echo "sandbox: $*" >&2; }

host_name() { echo "kube$1"; }
host_address() { echo "127.0.0.$((10 + $1))"; }
host_dir() { echo "$SANDBOX_DIR/hosts/$(host_name "$1")"; }

# Runs "$@" chrooted into the tree being built, with its own proc, so package
# scripts work without seeing or touching the machine's processes and mounts.
in_build_root() {
    local tree="$1"; shift
    unshare --mount --pid --fork --propagation private -- bash -euo pipefail -c '
        tree="$1"; shift
        mount -t proc proc "$tree/proc"
        mount --bind /dev "$tree/dev"
        exec chroot "$tree" "$@"' build-root "$tree" "$@"
}

# debootstrap once; the result is kept and only ever read by the hosts.
bootstrap_pristine() {
    local partial="$SANDBOX_DIR/pristine.partial"
    command -v debootstrap >/dev/null || die "debootstrap is missing (apt-get install debootstrap)"
    if [ ! -e "$partial/.debootstrap-done" ]; then
        rm -rf "$partial"
        log "debootstrap $SUITE from $MIRROR into $partial (once; a few minutes)"
        debootstrap --variant=minbase --include="$BASE_PACKAGES" "$SUITE" "$partial" "$MIRROR" >&2
        touch "$partial/.debootstrap-done"
    fi
    mv "$partial" "$PRISTINE"
}

# Everything beyond debootstrap; safe to run again on an existing tree.
customize_pristine() {
    log "customizing the pristine tree (version $PRISTINE_VERSION)"
    # Package installs must not start daemons: the hosts have no init, and a
    # daemon started here would run on the machine.
    printf '#!/bin/sh\n# rsible sandbox: no daemon starts from package scripts\nexit 101\n' \
        > "$PRISTINE/usr/sbin/policy-rc.d"
    chmod 0755 "$PRISTINE/usr/sbin/policy-rc.d"
    cat > "$PRISTINE/etc/apt/sources.list" <<EOF
deb $MIRROR $SUITE main
deb $MIRROR $SUITE-updates main
deb http://deb.debian.org/debian-security $SUITE-security main
EOF
    cp /etc/resolv.conf "$PRISTINE/etc/resolv.conf"
    in_build_root "$PRISTINE" apt-get update -q >&2
    in_build_root "$PRISTINE" env DEBIAN_FRONTEND=noninteractive \
        apt-get install -y -q --no-install-recommends "${KUBESPRAY_PACKAGES[@]}" >&2
    in_build_root "$PRISTINE" apt-get clean >&2

    # Key-based root login only; sshd's own settings live in one drop-in.
    [ -f "$KEY" ] || ssh-keygen -q -t ed25519 -N '' -C rsible-sandbox -f "$KEY"
    install -d -m 0700 "$PRISTINE/root/.ssh"
    install -m 0600 "$KEY.pub" "$PRISTINE/root/.ssh/authorized_keys"
    in_build_root "$PRISTINE" ssh-keygen -A >&2
    cat > "$PRISTINE/etc/ssh/sshd_config.d/rsible-sandbox.conf" <<'EOF'
# rsible sandbox host: root with a key, no PAM (there is no login stack to
# speak of), no DNS lookups, room for many multiplexed sessions.
PermitRootLogin prohibit-password
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
UseDNS no
MaxSessions 100
MaxStartups 100
EOF
    printf '127.0.0.1\tlocalhost\n::1\t\tlocalhost ip6-localhost ip6-loopback\n' > "$PRISTINE/etc/hosts"
    # The hosts' /dev is a tmpfs and /mnt the pivot point: both must be empty.
    mkdir -p "$PRISTINE/mnt"
    echo "$PRISTINE_VERSION" > "$PRISTINE/.rsible-pristine-version"
}

ensure_pristine() {
    mkdir -p "$SANDBOX_DIR"
    [ -d "$PRISTINE" ] || bootstrap_pristine
    if [ "$(cat "$PRISTINE/.rsible-pristine-version" 2>/dev/null)" != "$PRISTINE_VERSION" ]; then
        any_running && die "hosts are running on the pristine tree; run '$0 down' first"
        customize_pristine
    fi
}

# The recorded pid, if it is still the unshare this script started for that
# host (checked by its command line, so a recycled pid is never signalled).
running_pid() {
    local dir pid
    dir="$(host_dir "$1")"
    [ -f "$dir/pid" ] || return 1
    pid="$(cat "$dir/pid")"
    [ -r "/proc/$pid/cmdline" ] || return 1
    tr '\0' ' ' < "/proc/$pid/cmdline" | grep -qF "host-init.sh $(host_name "$1") " || return 1
    echo "$pid"
}

known_hosts() { # indices of host directories that exist
    local d
    for d in "$SANDBOX_DIR"/hosts/kube*; do
        [ -d "$d" ] && echo "${d##*/kube}"
    done | sort -n
}

any_running() {
    local i
    for i in $(known_hosts); do running_pid "$i" >/dev/null && return 0; done
    return 1
}

ssh_opts() {
    echo "-i $KEY -o BatchMode=yes -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o LogLevel=ERROR -o ConnectTimeout=2"
}

start_host() {
    local i="$1" dir name address
    dir="$(host_dir "$i")" name="$(host_name "$i")" address="$(host_address "$i")"
    if running_pid "$i" >/dev/null; then
        log "$name already running"
        return
    fi
    mkdir -p "$dir/upper" "$dir/work" "$dir/merged"
    # setsid: the host outlives this shell; --kill-child: when the recorded
    # unshare process is killed, the host's PID 1 dies and the kernel ends
    # every process of its PID namespace and drops its mounts with it.
    setsid unshare --mount --uts --pid --fork --kill-child=SIGKILL --propagation private -- \
        bash "$SCRIPT_DIR/host-init.sh" "$name" "$address" "$dir" "$PRISTINE" \
        > "$dir/host.log" 2>&1 < /dev/null &
    echo $! > "$dir/pid"
}

wait_for_ssh() {
    local i="$1" name address tries
    name="$(host_name "$i")" address="$(host_address "$i")"
    for tries in $(seq 1 100); do
        # shellcheck disable=SC2046
        if ssh $(ssh_opts) "root@$address" true 2>/dev/null; then return 0; fi
        running_pid "$i" >/dev/null || die "$name exited during start: $(tail -5 "$(host_dir "$i")/host.log")"
        sleep 0.1
    done
    die "$name: no ssh on $address:22 after 10s: $(tail -5 "$(host_dir "$i")/host.log")"
}

cmd_up() {
    local n="${1:-$DEFAULT_HOSTS}" i
    [[ "$n" =~ ^[1-9][0-9]?$ ]] || die "host count must be 1..99, not '$n'"
    [ "$(id -u)" = 0 ] || die "needs root (namespaces, mounts)"
    ensure_pristine
    for i in $(seq 1 "$n"); do start_host "$i"; done
    for i in $(seq 1 "$n"); do wait_for_ssh "$i"; done
    cmd_status
}

cmd_down() {
    local i pid name
    for i in $(known_hosts); do
        name="$(host_name "$i")"
        if pid="$(running_pid "$i")"; then
            kill -TERM "$pid"
            for _ in $(seq 1 50); do [ -d "/proc/$pid" ] || break; sleep 0.1; done
            [ -d "/proc/$pid" ] && kill -KILL "$pid"
            log "$name stopped"
        fi
        rm -f "$(host_dir "$i")/pid"
    done
}

cmd_reset() {
    local i
    cmd_down
    for i in $(known_hosts); do
        rm -rf "$(host_dir "$i")/upper" "$(host_dir "$i")/work"
    done
    cmd_up "$@"
}

cmd_status() {
    local i name address state
    for i in $(known_hosts); do
        name="$(host_name "$i")" address="$(host_address "$i")"
        if pid="$(running_pid "$i")"; then
            # shellcheck disable=SC2046
            if ssh $(ssh_opts) "root@$address" true 2>/dev/null; then state="up (ssh ok)"; else state="running, ssh not answering"; fi
            echo "$name $address pid $pid: $state"
        else
            echo "$name $address: down"
        fi
    done
}

cmd_ssh() {
    local name="${1:?usage: $0 ssh HOST [COMMAND...]}"; shift
    [[ "$name" =~ ^kube([1-9][0-9]?)$ ]] || die "unknown host '$name' (kube1, kube2, ...)"
    # shellcheck disable=SC2046
    exec ssh $(ssh_opts) "root@$(host_address "${BASH_REMATCH[1]}")" "$@"
}

case "${1:-}" in
    up) shift; cmd_up "$@" ;;
    down) cmd_down ;;
    reset) shift; cmd_reset "$@" ;;
    status) cmd_status ;;
    ssh) shift; cmd_ssh "$@" ;;
    *) die "usage: $0 up|down|reset|status [N] | ssh HOST [COMMAND...]" ;;
esac
