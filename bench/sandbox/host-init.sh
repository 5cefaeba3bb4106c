#!/usr/bin/env bash
# The first process of one sandbox host. sandbox.sh starts it through
# `unshare --mount --uts --pid --fork`, so it already runs in the host's own
# mount, UTS and PID namespaces (it is PID 1 there) while sharing the
# machine's network namespace. It builds the host's root filesystem view, makes
# it the root, and becomes the host's sshd.
#
# Usage (from sandbox.sh only): host-init.sh NAME ADDRESS HOST_DIR PRISTINE_DIR
set -euo pipefail
name="$1" address="$2" host_dir="$3" pristine="$4"
root="$host_dir/merged"

hostname "$name"

# The host's root: the pristine Debian tree, with every write going to this
# host's upper directory. The upper directory is the run's change set, which
# the end-to-end script snapshots; resetting the host is deleting it.
mount -t overlay "sandbox-$name" \
    -o "lowerdir=$pristine,upperdir=$host_dir/upper,workdir=$host_dir/work" "$root"

# A real host's /etc/hostname names it (the pristine copy holds the name of the
# machine debootstrap ran on).
echo "$name" > "$root/etc/hostname"

# A proc of this PID namespace, so the host sees only its own processes.
mount -t proc proc "$root/proc"
# Kubespray writes sysctls (ip_forward, bridge-nf-call, ...). The network
# namespace is the machine's, so the real /proc/sys/net would change the
# machine: give the host a private, writable copy of the whole tree instead.
mount -t tmpfs -o size=32m,mode=0555 sandbox-sysctl "$root/proc/sys"
cp -r /proc/sys/. "$root/proc/sys/" 2>/dev/null || true # write-only entries cannot be read

# A fresh read-only sysfs: facts read /sys/class/net and friends, nothing may
# write to the machine's devices or cgroups through it.
mount -t sysfs -o ro,nosuid,nodev,noexec sysfs "$root/sys"

# A minimal /dev: the usual character devices and a private pty instance, but
# no disks of the machine.
mount -t tmpfs -o mode=0755,nosuid sandbox-dev "$root/dev"
for dev in null:1:3 zero:1:5 full:1:7 random:1:8 urandom:1:9 tty:5:0; do
    IFS=: read -r node major minor <<<"$dev"
    mknod -m 0666 "$root/dev/$node" c "$major" "$minor"
done
mkdir -p "$root/dev/pts" "$root/dev/shm"
mount -t devpts -o newinstance,ptmxmode=0666,mode=0620,gid=5 devpts "$root/dev/pts"
ln -s pts/ptmx "$root/dev/ptmx"
mount -t tmpfs -o mode=1777,nosuid,nodev sandbox-shm "$root/dev/shm"
ln -s /proc/self/fd "$root/dev/fd"
ln -s /proc/self/fd/0 "$root/dev/stdin"
ln -s /proc/self/fd/1 "$root/dev/stdout"
ln -s /proc/self/fd/2 "$root/dev/stderr"

# /run is a tmpfs on a real Debian host too; sshd needs /run/sshd.
mount -t tmpfs -o mode=0755,nosuid,nodev sandbox-run "$root/run"
mkdir -p "$root/run/sshd" "$root/run/lock"

# Make the overlay the root (pivot_root rather than chroot, so that
# /proc/mounts inside reads like a machine's, not like a path on ours), and
# forget the machine's tree. /mnt is empty in the pristine tree.
cd "$root"
pivot_root . mnt
cd /
umount -l /mnt

# sshd, with the network-admin capability (iptables, routes, net sysctls) and
# module loading removed from the bounding set: every process of the host
# inherits that, so reset.yml's iptables flush cannot reach the machine.
exec /usr/bin/setpriv --bounding-set=-net_admin,-sys_module \
    /usr/sbin/sshd -D -e -o "ListenAddress=$address"
