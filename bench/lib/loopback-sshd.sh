# Source it. A private sshd on 127.0.0.1 for benchmarks: its own host and
# client keys in a directory the caller owns, root login by key only, enough
# startups and sessions for many parallel connections. Never the machine's sshd.
#
#   sshd_start DIR   -> sets SSHD_PORT and SSHD_KEY (client private key)
#   sshd_stop DIR    -> stops the daemon started in DIR
#
# RSIBLE_BENCH_LOGIN_RC=skip keeps the remote user's shell rc files out of the
# sessions (both engines): bash sources ~/.bashrc for every ssh command, and on
# a machine whose .bashrc does real work (this one runs `pyenv init`, ~200 ms
# of CPU and ~55 processes per session) that cost, not either engine, sets the
# time. It works by starting the sessions at SHLVL=2 (sshd's SetEnv SHLVL=1,
# which bash increments), where bash does not source .bashrc for ssh commands.
# Default `keep`: the sessions are what a login on this machine gives.

# The sshd_config line for RSIBLE_BENCH_LOGIN_RC (empty for `keep`).
sshd_login_rc_config() {
    case "${RSIBLE_BENCH_LOGIN_RC:-keep}" in
        skip) echo "SetEnv SHLVL=1" ;;
        keep) ;;
        *) echo "RSIBLE_BENCH_LOGIN_RC must be keep or skip" >&2; return 2 ;;
    esac
}

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
    sshd_login_rc_config >> "$dir/sshd_config" || return 2
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
