# guest-heartbeatd on the real cgcs.heartbeat port with the legacy example VNF
# registered, supervised by vmhostd on the host (hosts/heartbeat_in_guest.py).
. /scenarios/lib.sh

cat > /tmp/guest_heartbeat.conf <<CONF
HB_INTERVAL=1000
CORRECTIVE_ACTION=reboot
VOTE=5
SHUTDOWN_NOTICE=5
SUSPEND_NOTICE=5
RESUME_NOTICE=5
RESTART=60
CONF

# CPU time (user + system, in clock ticks of 1/100 s) of process $1.
cpu_ticks() {
    # The comm field (2) may hold spaces: count from the closing parenthesis.
    sed 's/.*) //' "/proc/$1/stat" | awk '{ print $12 + $13 }'
}

# A process that exited stays a zombie until reaped: kill -0 alone would pass.
alive() {
    [ -r "/proc/$1/stat" ] && [ "$(sed 's/.*) //' "/proc/$1/stat" | cut -d' ' -f1)" != Z ]
}

show_logs() {
    echo "--- guest-heartbeatd log"; cat /tmp/guest-heartbeatd.log
    echo "--- vnf_legacy log"; cat /tmp/vnf_legacy.log
    echo "--- legacy_binary_app log"; cat /tmp/legacy_binary_app.log 2>/dev/null
}

mkdir -p /var/run  # the original library's socket lives there

guest-heartbeatd --device /dev/virtio-ports/cgcs.heartbeat --config /tmp/guest_heartbeat.conf \
    --name gsdk-guest --log-level info >/tmp/guest-heartbeatd.log 2>&1 3>&- &
hbd=$!
check "guest-heartbeatd listens for applications" wait_until 20 test -S /run/guest-heartbeat/heartbeat.sock

# The example VNF, its reject flag set so that the host's stop is vetoed.
mkdir -p /tmp/vnf-state
echo "active calls" > /tmp/vnf-state/reject-stop
vnf_legacy --name vnf-a --action stop --state-dir /tmp/vnf-state >/tmp/vnf_legacy.log 2>&1 3>&- &
app=$!
# A binary speaking the original library's framing on its fixed socket path.
if command -v legacy_binary_app >/dev/null; then
    legacy_binary_app --socket /var/run/.guest_heartbeat_api --name legacy-bin --interval 1000 --action 1 \
        --lifetime 600 >/tmp/legacy_binary_app.log 2>&1 3>&- &
    legacy=$!
    check "a binary bundling the original library registers on /var/run/.guest_heartbeat_api" \
        wait_until 20 grep -q "legacy-bin: registered" /tmp/legacy_binary_app.log
fi

# vmhostd connects; the host side waits until it sees the VM healthy with vnf-a.
host_step start-host || { show_logs; exit 1; }
# The guest kernel gives the sealed memfd: vnf-a answers through its slot.
check "vnf-a answers through an answer slot" grep -q "vnf-a (pid [0-9]*) registered.*answers by answer slot" \
    /tmp/guest-heartbeatd.log
host_step vote-stop || failures=$((failures + 1))

before=$(cpu_ticks $hbd)
host_step stop-host || failures=$((failures + 1))
sleep 2
after=$(cpu_ticks $hbd)
echo "guest-heartbeatd CPU time while the host was away: $before -> $after ticks"
check "guest-heartbeatd does not spin while the host is away (CPU ticks $before -> $after)" \
    test $((after - before)) -lt 20
check "guest-heartbeatd still runs after the host went away" alive $hbd
host_step restart-host || failures=$((failures + 1))

kill -9 $app
wait $app 2>/dev/null
host_step expect-corrective-action || failures=$((failures + 1))

[ "$failures" = 0 ] || show_logs
if [ -n "${legacy:-}" ]; then kill $legacy; fi
kill $hbd
exit "$failures"
