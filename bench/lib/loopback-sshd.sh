# Source it. A private sshd on 127.0.0.1 for benchmarks: its own host and
# client keys in a directory the caller owns, root login by key only, enough
# startups and sessions for many parallel connections. Never the machine's sshd.
#
#   sshd_start DIR   -> sets SSHD_PORT and SSHD_KEY (client private key)
#   sshd_stop DIR    -> stops the daemon started in DIR

sshd_start() {
    local dir="$1"
    mkdir -p "$dir" /run/sshd
    [ -f "$dir/host_key" ] || ssh-keygen -q -t ed25519 -N '' -f "$dir/host_key"
    [ -f "$dir/client_key" ] || ssh-keygen -q -t ed25519 -N '' -f "$dir/client_key"
    cp "$dir/client_key.pub" "$dir/authorized_keys"
    SSHD_PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
    SSHD_KEY="$dir/client_key"
    cat > "$dir/sshd_config" <<CFG
Port $SSHD_PORT
ListenAddress 127.0.0.1
HostKey $dir/host_key
PidFile $dir/sshd.pid
AuthorizedKeysFile $dir/authorized_keys
StrictModes no
UsePAM no
PermitRootLogin yes
PasswordAuthentication no
KbdInteractiveAuthentication no
# Many hosts connect at once (forks, ControlMaster sockets per host alias).
MaxStartups 2000
MaxSessions 2000
LogLevel ERROR
CFG
    /usr/sbin/sshd -f "$dir/sshd_config" -E "$dir/sshd.log"
    local i
    for i in $(seq 1 100); do
        [ -s "$dir/sshd.pid" ] && python3 -c "import socket; socket.create_connection(('127.0.0.1', $SSHD_PORT), 1)" 2>/dev/null && return 0
        sleep 0.1
    done
    echo "sshd did not start; log: $(cat "$dir/sshd.log" 2>/dev/null)" >&2
    return 1
}

sshd_stop() {
    local dir="$1"
    [ -s "$dir/sshd.pid" ] && kill "$(cat "$dir/sshd.pid")" 2>/dev/null || true
    rm -f "$dir/sshd.pid"
}
