# Sourced by the scale scenarios after lib.sh: server-groupd on the real
# cgcs.messaging port and guest-scaled on /sys (no helper, state in /tmp),
# started as in a guest; their pids in $sgd and $gsd, logs in /tmp.
start_scale_daemons() {
    printf 'LEGACY_DATAGRAMS=no\nSOCKET_GROUP=\n' > /tmp/server_group.conf
    printf 'SOCKET_GROUP=\nAPP_SCALE_HELPER=\n' > /tmp/guest_scale.conf
    server-groupd --device /dev/virtio-ports/cgcs.messaging --config /tmp/server_group.conf \
        --socket-dir /run/server-group --log-level info >/tmp/server-groupd.log 2>&1 3>&- &
    sgd=$!
    check "server-groupd listens for local services" wait_until 30 test -S /run/server-group/services.sock
    guest-scaled --config /tmp/guest_scale.conf --state-file /tmp/offline_cpus --log-level debug \
        >/tmp/guest-scaled.log 2>&1 3>&- &
    gsd=$!
    check "guest-scaled serves cgcs.scale" wait_until 30 grep -q "serves cgcs.scale" /tmp/server-groupd.log
}
