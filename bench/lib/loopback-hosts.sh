# Source it, after bench/lib/loopback-sshd.sh and `sshd_start`: what the
# many-hosts benchmarks share, an inventory of hosts that are aliases of the
# private loopback sshd, and a timed playbook run.
#
#   write_loopback_inventory FILE GROUP N DIR
#       N hosts h0001.. in GROUP, each with a `work_dir` of its own under DIR/hosts
#   timed_playbook DIR BIN
#       BIN -i inventory.ini play.yml in DIR (with DIR/ansible.cfg), output in
#       DIR/out.log; sets TIMED_RC (exit status), TIMED_SECONDS (wall clock) and
#       TIMED_RSS_KIB (the controller's peak RSS; empty when BIN did not start)

write_loopback_inventory() {
    local file="$1" group="$2" n="$3" dir="$4" i
    {
        echo "[$group]"
        for i in $(seq -f '%04g' 1 "$n"); do
            echo "h$i ansible_host=127.0.0.1 work_dir=$dir/hosts/h$i"
        done
        echo "[$group:vars]"
        echo "ansible_port=$SSHD_PORT"
        echo "ansible_user=root"
        echo "ansible_ssh_private_key_file=$SSHD_KEY"
    } > "$file"
}

timed_playbook() {
    local dir="$1" bin="$2" start end
    start=$(date +%s.%N)
    set +e
    (cd "$dir" && ANSIBLE_CONFIG="$dir/ansible.cfg" /usr/bin/time -f '%M' -o "$dir/rss" \
        "$bin" -i inventory.ini play.yml > "$dir/out.log" 2>&1)
    TIMED_RC=$?
    set -e
    end=$(date +%s.%N)
    TIMED_SECONDS=$(python3 -c "print($end - $start)")
    TIMED_RSS_KIB=$(tail -1 "$dir/rss" 2>/dev/null || true)
}
